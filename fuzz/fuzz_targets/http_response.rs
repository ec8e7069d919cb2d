//! Fuzzes the reading of the server's answer to the WebSocket upgrade, and everything done with
//! it: `read_response` from an in-memory stream handed out in chunks (the first input byte sets
//! the chunk size, so heads split across reads are covered), then `validate_upgrade` against a
//! fixed request, `failure_message` on the bytes after the head, the masked log text, the
//! headers' Fleece dict (decoded again with the crate's own reader and compared), and
//! `redirect_target` from a ws and a wss URL.

#![no_main]

use libfuzzer_sys::fuzz_target;
use litecore_ws::internals::Address;
use litecore_ws::internals::{decode, Value};
use litecore_ws::internals::redirect::target as redirect_target;
use litecore_ws::internals::request::{build_request, Attempt, UpgradeRequest};
use litecore_ws::internals::response::{
    asks_for_basic, content_length, failure_message, read_response, validate_upgrade,
};
use litecore_ws::internals::MAX_HEADERS;
use litecore_ws::internals::Options;
use std::sync::OnceLock;

mod common;
use common::{now, Chunked};

fn address(scheme: &str) -> Address {
    Address {
        scheme: scheme.into(),
        host: "sg.example.com".into(),
        port: 4984,
        path: "/db/_blipsync".into(),
    }
}

fn request() -> &'static UpgradeRequest {
    static REQUEST: OnceLock<UpgradeRequest> = OnceLock::new();
    REQUEST.get_or_init(|| {
        let options = Options {
            ws_protocols: vec!["BLIP_3+CBMobile_4".into(), "BLIP_3+CBMobile_3".into()],
            ..Options::default()
        };
        // The key of RFC 6455's example: its accept value is s3pPLMBiTxaQ9kYGzzhZRbK+xOo=.
        build_request(
            &address("wss"),
            &options,
            "dGhlIHNhbXBsZSBub25jZQ==",
            &Attempt::default(),
        )
        .expect("the fixed request")
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&first, stream)) = data.split_first() else {
        return;
    };
    let chunk = if first == 0 { 4096 } else { usize::from(first) };
    let mut reader = Chunked {
        data: stream,
        chunk,
    };
    let Ok((response, rest)) = now(read_response(&mut reader)) else {
        return;
    };
    assert!(response.headers.len() <= MAX_HEADERS);
    assert!(rest.len() <= stream.len());

    let _ = response.masked();
    let _ = asks_for_basic(&response);
    let _ = content_length(&response);
    let message = failure_message(&response, &rest);
    assert!(!message.is_empty() || response.reason.is_empty() || rest.is_empty());
    let _ = validate_upgrade(request(), &response);

    // The headers as LiteCore gets them: a dict our own reader accepts, one key per distinct
    // name (case-insensitively), holding every value in order.
    let fleece = response.headers_fleece();
    let dict = decode(&fleece).expect("headers_fleece output decodes");
    let pairs = dict.as_dict().expect("headers_fleece gives a dict");
    let mut total = 0;
    for (name, value) in pairs {
        let name = std::str::from_utf8(name).expect("header names are text");
        let expected: Vec<&[u8]> = response
            .headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_slice())
            .collect();
        let got: Vec<&[u8]> = match value {
            Value::String(s) => vec![s],
            Value::Array(items) => items
                .iter()
                .map(|v| match v {
                    Value::String(s) => *s,
                    other => panic!("header {name}: array item {other:?}"),
                })
                .collect(),
            other => panic!("header {name}: {other:?}"),
        };
        assert!(
            got.len() > 1 || matches!(value, Value::String(_)),
            "single value as an array"
        );
        assert_eq!(got, expected, "header {name}");
        total += got.len();
    }
    assert_eq!(total, response.headers.len(), "headers lost in the Fleece dict");

    for scheme in ["ws", "wss"] {
        let current = address(scheme);
        if let Ok(next) = redirect_target(&current, &response) {
            next.validate().expect("a followed redirect is a valid address");
            assert!(!current.is_tls() || next.is_tls(), "wss redirected to ws");
        }
    }
});
