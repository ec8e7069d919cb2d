//! Fuzzes the listener's reading of a client's upgrade request, and everything it answers.
//!
//! Input: `[chunk, limit, request bytes...]`. The request bytes are handed out `chunk` bytes a
//! read (0: 4096, the listener's read size), so heads split at any point are covered, through
//! `read_head` with `server_request::parse_head` (as `connection::negotiate` reads them) under a
//! head-size limit of `32 × limit` bytes (0: the default, 64 KiB). Then `server_request::check`.
//!
//! Checks, beyond "no panic":
//! - bounded work: `parse_head` runs only when `ParseSchedule` says so — at most one parse per
//!   doubling of the buffer plus three (a blank line, the limit, the end of the stream) — and
//!   parses at most 5× the bytes read in total (linear for any split);
//! - an accepted head is within the limit and at most `MAX_HEADERS` headers;
//! - a refusal's status is one the listener documents (400/401/403/404/405/426/431/503), and
//!   the answer built from it (`server_response::refusal`) reads back with the client's own
//!   `read_response` as that status with its headers (`Allow`, `Upgrade`, …), a Content-Length
//!   that matches the body, no control bytes in the body, and the refusal's reason as the
//!   client's `failure_message` (the JSON round trip);
//! - an accepted upgrade has a non-empty database without '/', a path in origin-form, a
//!   16-byte key, protocols without commas, surrounding blanks or line breaks, a user without
//!   ':'; the 101 answer for each protocol offered reads back with `read_response` and passes
//!   the client's `validate_upgrade` for that key and those protocols.

#![no_main]

use base64::Engine;
use libfuzzer_sys::fuzz_target;
use litecore_ws::internals::request::UpgradeRequest;
use litecore_ws::internals::response::{failure_message, read_response, Response};
use litecore_ws::internals::server_request::{check, parse_head, Refusal};
use litecore_ws::internals::server_response::{refusal, switching_protocols};
use litecore_ws::internals::{protocol_error, read_head, MAX_HEADERS, MAX_HEAD_BYTES};
use std::cell::Cell;

mod common;
use common::{now, Chunked};

/// The statuses the listener answers a client with (README, "Listener"; the C header).
const DOCUMENTED: [u16; 8] = [400, 401, 403, 404, 405, 426, 431, 503];

/// An answer the listener writes, read back as the client reads it: the head and the body.
fn read_back(bytes: &[u8]) -> (Response, Vec<u8>) {
    let mut reader = Chunked {
        data: bytes,
        chunk: 4096,
    };
    let (response, mut body) = now(read_response(&mut reader))
        .unwrap_or_else(|e| panic!("the listener's answer does not read back: {e} {bytes:?}"));
    body.extend_from_slice(reader.data);
    (response, body)
}

fn header<'a>(r: &'a Response, name: &str) -> Option<&'a [u8]> {
    r.headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_slice())
}

/// The refusal as the client sees it.
fn check_refusal(r: &Refusal) {
    assert!(DOCUMENTED.contains(&r.status), "undocumented status {r:?}");
    let bytes = refusal(r, "litecore-ws/fuzz");
    let (response, body) = read_back(&bytes);
    assert_eq!(response.status, r.status);
    for (name, _) in &r.headers {
        assert!(header(&response, name).is_some(), "{name} lost: {r:?}");
    }
    let length = header(&response, "content-length").expect("Content-Length");
    assert_eq!(
        std::str::from_utf8(length)
            .ok()
            .and_then(|l| l.parse().ok()),
        Some(body.len()),
        "Content-Length does not match the body"
    );
    assert!(
        !body.iter().any(|&b| b < 0x20),
        "control byte in the JSON body: {:?}",
        String::from_utf8_lossy(&body)
    );
    if !r.reason.trim().is_empty() {
        assert_eq!(failure_message(&response, &body), r.reason);
    }
}

/// How `connection::negotiate` answers a head that could not be read.
fn read_error_status(message: &str) -> u16 {
    if message.contains("exceeds") || message.contains("more than") {
        431
    } else {
        400
    }
}

fuzz_target!(|data: &[u8]| {
    let [chunk, limit, stream @ ..] = data else {
        return;
    };
    let chunk = if *chunk == 0 {
        4096
    } else {
        usize::from(*chunk)
    };
    let limit = if *limit == 0 {
        MAX_HEAD_BYTES
    } else {
        32 * usize::from(*limit)
    };
    let mut reader = Chunked {
        data: stream,
        chunk,
    };
    let (parses, parsed) = (Cell::new(0usize), Cell::new(0usize));
    let read = now(read_head(
        &mut reader,
        limit,
        "the upgrade request",
        |buf| {
            parses.set(parses.get() + 1);
            parsed.set(parsed.get() + buf.len());
            parse_head(buf, limit)
        },
        || protocol_error("closed before a whole request arrived".into()),
    ));
    let consumed = stream.len() - reader.data.len();

    // Linear work however the head is split.
    let bits = (usize::BITS - consumed.leading_zeros()) as usize;
    assert!(
        parses.get() <= bits + 3,
        "{} parses for {consumed} bytes in {chunk}-byte reads",
        parses.get()
    );
    assert!(
        parsed.get() <= 5 * consumed,
        "{} bytes parsed for {consumed} bytes in {chunk}-byte reads",
        parsed.get()
    );

    let (head, rest) = match read {
        Ok(h) => h,
        Err(e) => {
            let status = read_error_status(&e.message);
            if status == 431 && !e.message.contains("headers") {
                assert!(consumed > limit, "431 within the limit: {}", e.message);
            }
            check_refusal(&Refusal::new(status, e.message));
            return;
        }
    };
    let head_len = consumed - rest.len();
    assert!(
        head_len <= limit,
        "a {head_len}-byte head accepted under a {limit}-byte limit"
    );
    assert!(head.headers.len() <= MAX_HEADERS);
    assert!(litecore_ws::internals::is_token(&head.method));

    let upgrade = match check(&head) {
        Ok(u) => u,
        Err(r) => {
            check_refusal(&r);
            return;
        }
    };
    assert!(!upgrade.database.is_empty() && !upgrade.database.contains('/'));
    assert!(upgrade.path.starts_with('/'), "path {:?}", upgrade.path);
    let key = base64::engine::general_purpose::STANDARD
        .decode(&upgrade.key)
        .expect("the key is base64");
    assert_eq!(key.len(), 16);
    for p in &upgrade.protocols {
        assert!(!p.is_empty() && !p.contains(','), "protocol {p:?}");
        assert_eq!(p.trim(), p, "protocol {p:?} with blanks around it");
        assert!(!p.contains(['\r', '\n', '\0']), "protocol {p:?}");
    }
    if let Some(c) = &upgrade.credentials {
        assert!(!c.user.contains(':'));
        assert!(!upgrade.bad_credentials);
    }

    // The 101 answer for each protocol the listener could pick, as the client checks it.
    let request = UpgradeRequest {
        bytes: Vec::new(),
        key: upgrade.key.clone(),
        protocols: upgrade.protocols.clone(),
        masked: String::new(),
    };
    for p in upgrade.protocols.iter().take(4) {
        let (response, extra) =
            read_back(&switching_protocols(&upgrade.key, p, "litecore-ws/fuzz"));
        assert_eq!(response.status, 101);
        assert!(extra.is_empty());
        if let Err(e) = litecore_ws::internals::response::validate_upgrade(&request, &response) {
            panic!("the client refuses the listener's 101 for {p:?}: {e}");
        }
    }
    // Refusals that depend on the listener's state (the share, credentials, protocols, load).
    for status in [401, 403, 404, 503] {
        check_refusal(&Refusal::new(status, format!("{:?}", upgrade.database)));
    }
});
