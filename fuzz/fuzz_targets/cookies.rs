//! Fuzzes `merge_cookies` (session token, `cookies` option and the database's stored cookies
//! into one `Cookie` value). Property: each cookie name appears once in the output (the session
//! cookie's name case-insensitively), and a session token, if given, comes first under the
//! configured name.

#![no_main]

use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;
use litecore_ws::internals::cookies::{merge_cookies, SESSION_COOKIE};
use litecore_ws::internals::is_token;

#[derive(Arbitrary, Debug)]
struct Input<'a> {
    cookie_name: Option<&'a str>,
    session: Option<&'a [u8]>,
    option: Option<&'a [u8]>,
    stored: Option<&'a [u8]>,
}

fn trim(b: &[u8]) -> &[u8] {
    let start = b.iter().position(|c| !c.is_ascii_whitespace()).unwrap_or(b.len());
    let end = b.iter().rposition(|c| !c.is_ascii_whitespace()).map_or(start, |e| e + 1);
    &b[start..end]
}

fuzz_target!(|input: Input<'_>| {
    // What build_request lets through: a token as the name, a session without ';' (refused
    // there), no CR/LF/NUL in the option (refused by the options parser).
    let session_name = input.cookie_name.filter(|n| is_token(n)).unwrap_or(SESSION_COOKIE);
    let session = input
        .session
        .filter(|s| !s.contains(&b';'))
        .map(trim)
        .filter(|s| !s.contains(&b';'));
    let Some(out) = merge_cookies(session_name, session, input.option, input.stored) else {
        assert!(session.is_none());
        return;
    };
    if let Some(token) = session {
        let mut first = session_name.as_bytes().to_vec();
        first.push(b'=');
        first.extend_from_slice(token);
        assert!(out.starts_with(&first), "session cookie not first");
    }
    let mut seen: Vec<Vec<u8>> = Vec::new();
    for pair in out.split(|&b| b == b';') {
        let pair = trim(pair);
        let name = match pair.iter().position(|&b| b == b'=') {
            Some(eq) => trim(&pair[..eq]),
            None => pair,
        };
        let key = if name.eq_ignore_ascii_case(session_name.as_bytes()) {
            b"\0session".to_vec()
        } else {
            name.to_vec()
        };
        assert!(
            !seen.contains(&key),
            "cookie {:?} twice in {:?}",
            String::from_utf8_lossy(name),
            String::from_utf8_lossy(&out)
        );
        seen.push(key);
    }
});
