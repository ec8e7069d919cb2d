//! Fuzzes the URL-ish parsers: `parse_url` (redirect targets), `parse_proxy_url` (HTTP(S)_PROXY)
//! and the CONNECT request built from its result, `no_proxy_matches` (NO_PROXY), `mask_value`.

#![no_main]

#[path = "common.rs"]
mod common;

use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;
use litecore_ws::internals::Address;
use litecore_ws::internals::redirect::parse_url;
use litecore_ws::internals::request::{host_header, mask_value};
use litecore_ws::internals::proxy::{connect_request, no_proxy_matches, parse_proxy_url};

#[derive(Arbitrary, Debug)]
struct Input<'a> {
    a: &'a str,
    b: &'a str,
    port: u16,
    value: &'a [u8],
}

fuzz_target!(|input: Input<'_>| {
    if let Some(address) = parse_url(input.a) {
        assert!(address.scheme == "ws" || address.scheme == "wss");
        if address.validate().is_ok() {
            let _ = host_header(&address);
        }
    }

    if let Ok(proxy) = parse_proxy_url("HTTPS_PROXY", input.a) {
        assert_ne!(proxy.port, 0);
        assert!(!proxy.host.is_empty());
        let target = Address {
            scheme: "wss".into(),
            host: "sg.example.com".into(),
            port: 4984,
            path: "/db/_blipsync".into(),
        };
        let request = connect_request(&target, &proxy, "litecore-ws/fuzz");
        common::assert_request_head(&request.bytes, "CONNECT");
        if proxy.username.is_some() {
            assert!(request.masked.contains("Basic ***"));
        }
    }

    let matched = no_proxy_matches(input.a, input.b, input.port);
    assert!(no_proxy_matches("*", input.b, input.port));
    if input.a.bytes().all(|b| b == b',' || b.is_ascii_whitespace()) {
        assert!(!matched);
    }

    let _ = mask_value(input.b, input.value);
    let _ = mask_value("Cookie", input.value);
    let _ = mask_value("Sec-WebSocket-Protocol", input.value);
});
