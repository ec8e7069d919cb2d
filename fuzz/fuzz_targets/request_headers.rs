//! Fuzzes `build_request` with arbitrary header names and values, cookies, tokens, subprotocols,
//! credentials and stored cookies. Each input goes two ways: through the options parser (a
//! Fleece dict made with the crate's encoder, as LiteCore would pass it) and straight into an
//! `Options` value (what a Rust caller could build; the stored cookies come from LiteCore's
//! cookie store either way). Property: no panic, and whatever request is built is one
//! well-formed head: no CR, LF or NUL inside any line, header names are tokens.

#![no_main]

#[path = "common.rs"]
mod common;

use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;
use litecore_ws::internals::Address;
use litecore_ws::internals::Encoder;
use litecore_ws::internals::request::{build_request, Attempt};
use litecore_ws::internals::{Auth, AuthType, Options, Secret};

#[derive(Arbitrary, Debug)]
struct Input {
    auth: Option<AuthInput>,
    cookies: Option<Vec<u8>>,
    headers: Vec<(String, String)>,
    protocols: Option<String>,
    stored_cookies: Option<Vec<u8>>,
    same_origin: bool,
    hold_credentials: bool,
    tls: bool,
    host: String,
    port: u16,
    path: String,
}

#[derive(Arbitrary, Debug)]
struct AuthInput {
    kind: u8,
    username: Option<String>,
    password: Option<Vec<u8>>,
    token: Option<Vec<u8>>,
    cookie_name: Option<String>,
    one_time_session: Option<Vec<u8>>,
}

const KINDS: [(&str, AuthType); 4] = [
    ("Basic", AuthType::Basic),
    ("Session", AuthType::Session),
    ("OpenID Connect", AuthType::OpenIdConnect),
    ("Client Cert", AuthType::ClientCert),
];

fn direct(input: &Input) -> Options {
    Options {
        auth: input.auth.as_ref().map(|a| Auth {
            kind: KINDS[usize::from(a.kind) % KINDS.len()].1,
            username: a.username.clone(),
            password: a.password.clone().map(Secret),
            token: a.token.clone().map(Secret),
            cookie_name: a.cookie_name.clone(),
            one_time_session: a.one_time_session.clone().map(Secret),
            ..Auth::default()
        }),
        cookies: input.cookies.clone().map(Secret),
        headers: input.headers.clone(),
        ws_protocols: input
            .protocols
            .as_deref()
            .unwrap_or("")
            .split(',')
            .filter(|p| !p.is_empty())
            .map(str::to_owned)
            .collect(),
        ..Options::default()
    }
}

fn fleece(input: &Input) -> Vec<u8> {
    let mut e = Encoder::new();
    e.begin_dict();
    if let Some(a) = &input.auth {
        e.write_key(b"auth");
        e.begin_dict();
        e.write_key(b"type");
        e.write_string(KINDS[usize::from(a.kind) % KINDS.len()].0.as_bytes());
        let fields: [(&[u8], Option<&[u8]>); 5] = [
            (b"username", a.username.as_deref().map(str::as_bytes)),
            (b"password", a.password.as_deref()),
            (b"token", a.token.as_deref()),
            (b"cookieName", a.cookie_name.as_deref().map(str::as_bytes)),
            (b"oneTimeSession", a.one_time_session.as_deref()),
        ];
        for (key, value) in fields {
            if let Some(value) = value {
                e.write_key(key);
                e.write_string(value);
            }
        }
        e.end_dict();
    }
    if let Some(c) = &input.cookies {
        e.write_key(b"cookies");
        e.write_string(c);
    }
    if !input.headers.is_empty() {
        e.write_key(b"headers");
        e.begin_dict();
        for (name, value) in &input.headers {
            e.write_key(name.as_bytes());
            e.write_string(value.as_bytes());
        }
        e.end_dict();
    }
    if let Some(p) = &input.protocols {
        e.write_key(b"WS-Protocols");
        e.write_string(p.as_bytes());
    }
    e.end_dict();
    e.finish().unwrap_or_default()
}

fn check(address: &Address, options: &Options, attempt: &Attempt) {
    if let Ok(request) = build_request(address, options, "dGhlIHNhbXBsZSBub25jZQ==", attempt) {
        common::assert_request_head(&request.bytes, "GET");
        for line in request.masked.split("\r\n") {
            assert!(
                !line.contains(['\r', '\n']),
                "line break inside a line of the masked request {:?}",
                request.masked
            );
        }
    }
}

fuzz_target!(|input: Input| {
    let address = Address {
        scheme: if input.tls { "wss" } else { "ws" }.into(),
        host: input.host.clone(),
        port: input.port,
        path: input.path.clone(),
    };
    // LiteCore's address is checked before any request is built (lcws_open, redirects).
    if address.validate().is_err() {
        return;
    }
    let attempt = Attempt {
        same_origin: input.same_origin,
        hold_credentials: input.hold_credentials,
        stored_cookies: input.stored_cookies.clone(),
    };
    if let Ok(options) = Options::from_fleece(&fleece(&input)) {
        check(&address, &options, &attempt);
    }
    check(&address, &direct(&input), &attempt);
});
