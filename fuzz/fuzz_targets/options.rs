//! Fuzzes the replicator options parser: arbitrary bytes as the Fleece options dict LiteCore
//! hands to the socket factory. Errors are fine; panics are not. Whatever is accepted must give
//! a well-formed upgrade request (or a clean error), and its certificates must parse or fail
//! cleanly.

#![no_main]

#[path = "common.rs"]
mod common;

use libfuzzer_sys::fuzz_target;
use litecore_ws::internals::Address;
use litecore_ws::internals::request::{build_request, Attempt};
use litecore_ws::internals::Options;
use litecore_ws::internals::parse_certificates;

fuzz_target!(|data: &[u8]| {
    let Ok(options) = Options::from_fleece(data) else {
        return;
    };
    let _ = options.heartbeat();
    let address = Address {
        scheme: "wss".into(),
        host: "sg.example.com".into(),
        port: 4984,
        path: "/db/_blipsync".into(),
    };
    for attempt in [
        Attempt::default(),
        Attempt {
            same_origin: false,
            hold_credentials: false,
            stored_cookies: Some(b"a=1; SyncGatewaySession=old".to_vec()),
        },
        Attempt {
            same_origin: true,
            hold_credentials: true,
            stored_cookies: None,
        },
    ] {
        if let Ok(request) = build_request(&address, &options, "dGhlIHNhbXBsZSBub25jZQ==", &attempt) {
            common::assert_request_head(&request.bytes, "GET");
        }
    }
    for (what, bytes) in [
        ("rootCerts", options.root_certs.as_deref()),
        ("pinnedCert", options.pinned_cert.as_deref()),
        ("auth.clientCert", options.auth.as_ref().and_then(|a| a.client_cert.as_deref())),
    ] {
        if let Some(bytes) = bytes {
            let _ = parse_certificates(what, bytes);
        }
    }
});
