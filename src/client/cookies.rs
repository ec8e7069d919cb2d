//! The one `Cookie` header of a request: the session cookie, the `cookies` option and the
//! database's stored cookies, merged with LiteCore's cookie-store quirks in mind.

/// Sync Gateway's default session cookie name.
pub const SESSION_COOKIE: &str = "SyncGatewaySession";

/// The one `Cookie` header value: the session cookie first (it wins), then the `cookies` option,
/// then the database's stored cookies. Each cookie name appears once. The session cookie's name is
/// compared case-insensitively because LiteCore's cookie store lower-cases names when it stores them:
/// a stored `syncgatewaysession=…` is sent under the real name (`session_name`) when no session
/// token is given, and dropped when one is — never both spellings.
pub fn merge_cookies(
    session_name: &str,
    session: Option<&[u8]>,
    option: Option<&[u8]>,
    stored: Option<&[u8]>,
) -> Option<Vec<u8>> {
    let mut names: Vec<Vec<u8>> = Vec::new();
    let mut out: Vec<Vec<u8>> = Vec::new();
    let mut push = |name: &[u8], value: &[u8]| {
        let is_session = name.eq_ignore_ascii_case(session_name.as_bytes());
        let key = if is_session {
            b"\0session".to_vec()
        } else {
            name.to_vec()
        };
        if names.contains(&key) {
            return;
        }
        names.push(key);
        let mut c = if is_session {
            session_name.as_bytes().to_vec()
        } else {
            name.to_vec()
        };
        c.push(b'=');
        c.extend_from_slice(value);
        out.push(c);
    };
    if let Some(token) = session {
        push(session_name.as_bytes(), token);
    }
    for list in [option, stored].into_iter().flatten() {
        for pair in list.split(|&b| b == b';') {
            let pair = trim(pair);
            if pair.is_empty() {
                continue;
            }
            match pair.iter().position(|&b| b == b'=') {
                Some(eq) => push(trim(&pair[..eq]), trim(&pair[eq + 1..])),
                None => push(pair, b""),
            }
        }
    }
    (!out.is_empty()).then(|| out.join(&b"; "[..]))
}

fn trim(b: &[u8]) -> &[u8] {
    let start = b
        .iter()
        .position(|c| !c.is_ascii_whitespace())
        .unwrap_or(b.len());
    let end = b
        .iter()
        .rposition(|c| !c.is_ascii_whitespace())
        .map_or(start, |e| e + 1);
    &b[start..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookie_merging() {
        let m = |session: Option<&str>, option: Option<&str>, stored: Option<&str>| {
            merge_cookies(
                "SyncGatewaySession",
                session.map(str::as_bytes),
                option.map(str::as_bytes),
                stored.map(str::as_bytes),
            )
            .map(|v| String::from_utf8(v).unwrap())
        };
        assert_eq!(m(None, None, None), None);
        // The session wins over both other sources, whatever their spelling.
        assert_eq!(
            m(
                Some("tok"),
                Some("SyncGatewaySession=old; a=1"),
                Some("syncgatewaysession=older; b=2")
            )
            .as_deref(),
            Some("SyncGatewaySession=tok; a=1; b=2")
        );
        // LiteCore's store lower-cased the name: restored, and sent once.
        assert_eq!(
            m(None, None, Some("syncgatewaysession=abc; other=x")).as_deref(),
            Some("SyncGatewaySession=abc; other=x")
        );
        // The option beats the store; duplicates and blanks go.
        assert_eq!(
            m(None, Some(" a=1 ;; b=2"), Some("a=9; c=3")).as_deref(),
            Some("a=1; b=2; c=3")
        );
        // A configured name is restored the same way.
        assert_eq!(
            merge_cookies("MySession", None, None, Some(b"mysession=z")).as_deref(),
            Some(&b"MySession=z"[..])
        );
    }
}
