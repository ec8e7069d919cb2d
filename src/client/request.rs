//! The upgrade request a client sends: what LiteCore's built-in transport would send (Host,
//! User-Agent, credentials, cookies, the extra headers, the WebSocket handshake headers), in its
//! order, refusing anything that would inject a header, with a masked copy for logs.
//!
//! litecore-ws writes the request itself (rather than letting tungstenite do it) so that the
//! request carries exactly these headers and the answer can be read whole ([`super::response`]).

use super::cookies::{merge_cookies, SESSION_COOKIE};
use crate::address::Address;
use crate::error::TransportError;
use crate::options::{AuthType, Options};
use base64::Engine;

/// Request headers the caller may not set through the `headers` option: they belong to the
/// WebSocket handshake or to litecore-ws's own framing.
const RESERVED_HEADERS: &[&str] = &[
    "host",
    "connection",
    "upgrade",
    "content-length",
    "transfer-encoding",
    "sec-websocket-key",
    "sec-websocket-version",
    "sec-websocket-protocol",
    "sec-websocket-extensions",
    "sec-websocket-accept",
];

/// The default `User-Agent` (overridable through the `headers` option).
pub fn default_user_agent() -> String {
    format!("litecore-ws/{}", env!("CARGO_PKG_VERSION"))
}

/// The `User-Agent` to send: the `headers` option's, else [`default_user_agent`]. The same for
/// the upgrade request and a proxy's CONNECT.
pub fn user_agent(options: &Options) -> String {
    options
        .headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("user-agent"))
        .map(|(_, v)| v.clone())
        .unwrap_or_else(default_user_agent)
}

/// A ready upgrade request.
#[derive(Debug)]
pub struct UpgradeRequest {
    /// The bytes to write.
    pub bytes: Vec<u8>,
    /// `Sec-WebSocket-Key`, to check the answer's `Sec-WebSocket-Accept`.
    pub key: String,
    /// Subprotocols offered.
    pub protocols: Vec<String>,
    /// The request as text with credentials masked, for logs and diagnostics.
    pub masked: String,
}

/// The `Host` header value: the port is omitted when it is the scheme's default; IPv6 literals
/// (which LiteCore passes without brackets) get brackets.
pub fn host_header(address: &Address) -> String {
    let host = if address.host.contains(':') {
        format!("[{}]", address.host)
    } else {
        address.host.clone()
    };
    let default_port = if address.is_tls() { 443 } else { 80 };
    if address.port == default_port {
        host
    } else {
        format!("{host}:{}", address.port)
    }
}

/// What varies between the attempts of one connection (challenge, redirects, cookie store).
#[derive(Debug, Clone)]
pub struct Attempt {
    /// The URL is on the replicator's own origin (scheme, host, port). After a redirect to
    /// another origin, no credentials and no `cookies` option are sent there.
    pub same_origin: bool,
    /// `challengeAuth`'s first try: no credentials until the server asks for them.
    pub hold_credentials: bool,
    /// Cookies from the database's cookie store for this URL (`c4db_getCookies`), if any.
    pub stored_cookies: Option<Vec<u8>>,
}

impl Default for Attempt {
    fn default() -> Self {
        Attempt {
            same_origin: true,
            hold_credentials: false,
            stored_cookies: None,
        }
    }
}

impl Attempt {
    fn send_credentials(&self) -> bool {
        self.same_origin && !self.hold_credentials
    }
}

/// Builds the upgrade request for `address` with the replicator `options`.
pub fn build_request(
    address: &Address,
    options: &Options,
    key: &str,
    attempt: &Attempt,
) -> Result<UpgradeRequest, TransportError> {
    // (name, value, secret?) in the order LiteCore's built-in transport writes them.
    let mut headers: Vec<(String, Vec<u8>, bool)> = Vec::new();
    headers.push(("Host".into(), host_header(address).into_bytes(), false));
    headers.push(("User-Agent".into(), user_agent(options).into_bytes(), false));

    let auth = options.auth.as_ref();
    let session_name = auth
        .and_then(|a| a.cookie_name.as_deref())
        .unwrap_or(SESSION_COOKIE);
    let mut session: Option<Vec<u8>> = None;
    if let (Some(auth), true) = (auth, attempt.send_credentials()) {
        match auth.kind {
            AuthType::Basic => {
                if let (Some(user), Some(password)) = (&auth.username, &auth.password) {
                    headers.push((
                        "Authorization".into(),
                        basic_credentials(user, password.expose()),
                        true,
                    ));
                }
            }
            AuthType::Session => {
                if let Some(token) = &auth.token {
                    check_header_value("auth.token", token.expose())?;
                    if token.expose().contains(&b';') {
                        return Err(TransportError::invalid_parameter(
                            "replicator option 'auth.token' contains ';', which cannot be sent in a cookie",
                        ));
                    }
                    session = Some(token.expose().to_vec());
                }
            }
            AuthType::OpenIdConnect => {
                if let Some(token) = &auth.token {
                    let mut v = b"Bearer ".to_vec();
                    v.extend_from_slice(token.expose());
                    check_header_value("auth.token", &v)?;
                    headers.push(("Authorization".into(), v, true));
                }
            }
            AuthType::ClientCert => {}
        }
    }
    // The `cookies` option belongs to the replicator's origin; stored cookies were chosen for
    // this URL by the store itself.
    let option_cookies = options
        .cookies
        .as_ref()
        .map(|c| c.expose())
        .filter(|_| attempt.same_origin);
    let cookie = merge_cookies(
        session_name,
        session.as_deref(),
        option_cookies,
        attempt.stored_cookies.as_deref(),
    );
    if let Some(c) = cookie {
        headers.push(("Cookie".into(), c, true));
    }
    for (name, value) in &options.headers {
        let lower = name.to_ascii_lowercase();
        if lower == "user-agent" {
            continue;
        }
        if RESERVED_HEADERS.contains(&lower.as_str()) {
            return Err(TransportError::invalid_parameter(format!(
                "replicator option 'headers.{name}' may not be set: it belongs to the WebSocket handshake"
            )));
        }
        let secret =
            lower == "authorization" || lower == "cookie" || lower == "proxy-authorization";
        headers.push((name.clone(), value.clone().into_bytes(), secret));
    }
    headers.push(("Connection".into(), b"Upgrade".to_vec(), false));
    headers.push(("Upgrade".into(), b"websocket".to_vec(), false));
    headers.push(("Sec-WebSocket-Version".into(), b"13".to_vec(), false));
    headers.push(("Sec-WebSocket-Key".into(), key.as_bytes().to_vec(), false));
    // SG 4.1's one-time session travels as an extra subprotocol item, which SG removes before
    // negotiating; it is a credential, so it is masked in logs.
    let one_time = options
        .auth
        .as_ref()
        .and_then(|a| a.one_time_session.as_ref())
        .filter(|_| attempt.send_credentials());
    if !options.ws_protocols.is_empty() || one_time.is_some() {
        let mut value = options.ws_protocols.join(",").into_bytes();
        if let Some(id) = one_time {
            check_header_value("auth.oneTimeSession", id.expose())?;
            if !value.is_empty() {
                value.push(b',');
            }
            value.extend_from_slice(b"SyncGatewaySession_");
            value.extend_from_slice(id.expose());
        }
        headers.push(("Sec-WebSocket-Protocol".into(), value, one_time.is_some()));
    }

    // Last line of defence against header injection, whatever the caller built `options` from
    // and whatever the cookie store held: every name a token, no CR, LF or NUL in a value or in
    // the request target.
    if address.path.bytes().any(|b| b <= b' ' || b == 0x7f) {
        return Err(TransportError::invalid_parameter(format!(
            "invalid request path {:?}",
            address.path
        )));
    }
    for (name, value, _) in &headers {
        if !crate::http::is_token(name) {
            return Err(TransportError::invalid_parameter(format!(
                "invalid header name {name:?} (not an HTTP token)"
            )));
        }
        if !crate::http::is_clean_value(value) {
            return Err(TransportError::invalid_parameter(format!(
                "the {name} header would contain a line break or NUL (header injection refused)"
            )));
        }
    }
    let request_line = format!("GET {} HTTP/1.1\r\n", address.path);
    let mut bytes = request_line.clone().into_bytes();
    let mut masked = request_line;
    for (name, value, secret) in &headers {
        bytes.extend_from_slice(name.as_bytes());
        bytes.extend_from_slice(b": ");
        bytes.extend_from_slice(value);
        bytes.extend_from_slice(b"\r\n");
        if *secret {
            masked.push_str(&format!("{name}: {}\r\n", mask_value(name, value)));
        } else {
            masked.push_str(&format!("{name}: {}\r\n", String::from_utf8_lossy(value)));
        }
    }
    bytes.extend_from_slice(b"\r\n");
    masked.push_str("\r\n");
    Ok(UpgradeRequest {
        bytes,
        key: key.to_string(),
        protocols: options.ws_protocols.clone(),
        masked,
    })
}

/// `Basic base64(user:password)`, as a header value.
pub(crate) fn basic_credentials(user: &str, password: &[u8]) -> Vec<u8> {
    let mut raw = user.as_bytes().to_vec();
    raw.push(b':');
    raw.extend_from_slice(password);
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(raw)
    )
    .into_bytes()
}

fn check_header_value(key: &str, value: &[u8]) -> Result<(), TransportError> {
    if !crate::http::is_clean_value(value) {
        return Err(TransportError::invalid_parameter(format!(
            "replicator option '{key}' contains a line break or NUL (header injection refused)"
        )));
    }
    Ok(())
}

/// Masks a credential header for logs: the scheme stays, the secret goes; cookie names stay,
/// their values go.
pub fn mask_value(name: &str, value: &[u8]) -> String {
    let text = String::from_utf8_lossy(value);
    if name.eq_ignore_ascii_case("sec-websocket-protocol") {
        return text
            .split(',')
            .map(|p| match p.trim().strip_prefix("SyncGatewaySession_") {
                Some(_) => "SyncGatewaySession_***".to_string(),
                None => p.trim().to_string(),
            })
            .collect::<Vec<_>>()
            .join(",");
    }
    if name.eq_ignore_ascii_case("cookie") {
        return text
            .split(';')
            .map(|c| match c.split_once('=') {
                Some((n, _)) => format!("{}=***", n.trim()),
                None => "***".to_string(),
            })
            .collect::<Vec<_>>()
            .join("; ");
    }
    match text.split_once(' ') {
        Some((scheme, _)) => format!("{scheme} ***"),
        None => "***".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::address::test_address as addr;
    use crate::options::{Auth, Secret};

    fn auth(kind: AuthType) -> Auth {
        Auth {
            kind,
            ..Auth::default()
        }
    }

    #[test]
    fn host_header_omits_default_ports_and_brackets_ipv6() {
        assert_eq!(host_header(&addr("ws", "h", 80)), "h");
        assert_eq!(host_header(&addr("wss", "h", 443)), "h");
        assert_eq!(host_header(&addr("ws", "h", 443)), "h:443");
        assert_eq!(host_header(&addr("ws", "::1", 4984)), "[::1]:4984");
    }

    #[test]
    fn request_has_litecores_headers_in_order() {
        let mut o = Options {
            ws_protocols: vec!["BLIP_3+CBMobile_3".into(), "BLIP_3+CBMobile_2".into()],
            headers: vec![("X-Test".into(), "1".into())],
            ..Options::default()
        };
        let mut a = auth(AuthType::Basic);
        a.username = Some("alice".into());
        a.password = Some(Secret(b"p@ss:w\xc3\xb6rd".to_vec()));
        o.auth = Some(a);
        let r = build_request(
            &addr("ws", "sg", 4984),
            &o,
            "dGhlIHNhbXBsZSBub25jZQ==",
            &Attempt::default(),
        )
        .unwrap();
        let text = String::from_utf8(r.bytes.clone()).unwrap();
        let expected_auth = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode("alice:p@ss:w\u{f6}rd")
        );
        let lines: Vec<&str> = text.split("\r\n").collect();
        assert_eq!(lines[0], "GET /db/_blipsync HTTP/1.1");
        assert_eq!(lines[1], "Host: sg:4984");
        assert_eq!(
            lines[2],
            format!("User-Agent: litecore-ws/{}", env!("CARGO_PKG_VERSION"))
        );
        assert_eq!(lines[3], format!("Authorization: {expected_auth}"));
        assert_eq!(lines[4], "X-Test: 1");
        assert_eq!(lines[5], "Connection: Upgrade");
        assert_eq!(lines[6], "Upgrade: websocket");
        assert_eq!(lines[7], "Sec-WebSocket-Version: 13");
        assert_eq!(lines[8], "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==");
        assert_eq!(
            lines[9],
            "Sec-WebSocket-Protocol: BLIP_3+CBMobile_3,BLIP_3+CBMobile_2"
        );
        assert!(text.ends_with("\r\n\r\n"));
        assert!(!r.masked.contains("YWxpY2"), "{}", r.masked);
        assert!(r.masked.contains("Authorization: Basic ***"));
    }

    #[test]
    fn session_and_cookies_share_one_header_and_are_masked() {
        let mut o = Options::default();
        let mut a = auth(AuthType::Session);
        a.token = Some(Secret(b"abc123".to_vec()));
        o.auth = Some(a);
        o.cookies = Some(Secret(b"other=1".to_vec()));
        let r = build_request(&addr("ws", "h", 80), &o, "k", &Attempt::default()).unwrap();
        let text = String::from_utf8(r.bytes).unwrap();
        assert!(
            text.contains("\r\nCookie: SyncGatewaySession=abc123; other=1\r\n"),
            "{text}"
        );
        assert!(
            r.masked
                .contains("Cookie: SyncGatewaySession=***; other=***"),
            "{}",
            r.masked
        );
        assert!(!r.masked.contains("abc123"));
    }

    #[test]
    fn bearer_token_and_user_agent_override() {
        let mut a = auth(AuthType::OpenIdConnect);
        a.token = Some(Secret(b"eyJ.x.y".to_vec()));
        let o = Options {
            auth: Some(a),
            headers: vec![("user-agent".into(), "MyApp/2".into())],
            ..Options::default()
        };
        let text = String::from_utf8(
            build_request(&addr("ws", "h", 80), &o, "k", &Attempt::default())
                .unwrap()
                .bytes,
        )
        .unwrap();
        assert!(text.contains("\r\nAuthorization: Bearer eyJ.x.y\r\n"));
        assert!(text.contains("\r\nUser-Agent: MyApp/2\r\n"));
        assert_eq!(
            text.matches("User-Agent").count() + text.matches("user-agent").count(),
            1
        );
    }

    #[test]
    fn reserved_headers_are_refused() {
        for name in [
            "Host",
            "connection",
            "Sec-WebSocket-Key",
            "Upgrade",
            "Sec-WebSocket-Protocol",
        ] {
            let o = Options {
                headers: vec![(name.into(), "x".into())],
                ..Options::default()
            };
            let e = build_request(&addr("ws", "h", 80), &o, "k", &Attempt::default()).unwrap_err();
            assert_eq!(e.code, 9, "{name}");
            assert!(e.message.contains(name), "{}", e.message);
        }
    }

    fn request_text(o: &Options, attempt: &Attempt) -> String {
        String::from_utf8(
            build_request(&addr("ws", "h", 80), o, "k", attempt)
                .unwrap()
                .bytes,
        )
        .unwrap()
    }

    #[test]
    fn credentials_are_held_back_for_a_challenge_and_across_origins() {
        let mut a = auth(AuthType::Basic);
        a.username = Some("u".into());
        a.password = Some(Secret(b"p".to_vec()));
        let o = Options {
            auth: Some(a),
            cookies: Some(Secret(b"app=1".to_vec())),
            ..Options::default()
        };
        assert!(request_text(&o, &Attempt::default()).contains("Authorization: Basic"));
        let challenge = Attempt {
            hold_credentials: true,
            ..Attempt::default()
        };
        let text = request_text(&o, &challenge);
        assert!(!text.contains("Authorization"), "{text}");
        assert!(text.contains("Cookie: app=1"), "{text}");
        let elsewhere = Attempt {
            same_origin: false,
            stored_cookies: Some(b"theirs=2".to_vec()),
            ..Attempt::default()
        };
        let text = request_text(&o, &elsewhere);
        assert!(
            !text.contains("Authorization") && !text.contains("app=1"),
            "{text}"
        );
        assert!(text.contains("Cookie: theirs=2"), "{text}");
    }

    #[test]
    fn one_time_session_rides_in_the_subprotocol_list_masked() {
        let mut a = auth(AuthType::Session);
        a.one_time_session = Some(Secret(b"ots123".to_vec()));
        let o = Options {
            auth: Some(a),
            ws_protocols: vec!["BLIP_3+CBMobile_3".into()],
            ..Options::default()
        };
        let r = build_request(&addr("ws", "h", 80), &o, "k", &Attempt::default()).unwrap();
        let text = String::from_utf8(r.bytes.clone()).unwrap();
        assert!(
            text.contains(
                "Sec-WebSocket-Protocol: BLIP_3+CBMobile_3,SyncGatewaySession_ots123\r\n"
            ),
            "{text}"
        );
        assert!(!r.masked.contains("ots123"), "{}", r.masked);
        assert!(r.masked.contains("SyncGatewaySession_***"));
        // Only the real protocols count when validating the answer.
        assert_eq!(r.protocols, vec!["BLIP_3+CBMobile_3"]);
    }

    #[test]
    fn build_request_refuses_injection_from_any_source() {
        // Found by the request_headers fuzz target: build_request trusted its inputs; stored
        // cookies (LiteCore's cookie store) and an `Options` built in Rust reached the wire
        // unchecked.
        let a = addr("ws", "h", 4984);
        let stored = Attempt {
            stored_cookies: Some(b"a=1\r\nX-Evil: 1".to_vec()),
            ..Attempt::default()
        };
        let e = build_request(&a, &Options::default(), "k", &stored).unwrap_err();
        assert!(e.message.contains("Cookie header"), "{}", e.message);
        for headers in [
            vec![("X-A".to_string(), "v\r\nX-Evil: 1".to_string())],
            vec![("X-A".to_string(), "v\0".to_string())],
            vec![("X A".to_string(), "v".to_string())],
            vec![("X-A\r\nX-Evil".to_string(), "v".to_string())],
            vec![("User-Agent".to_string(), "ua\nX-Evil: 1".to_string())],
        ] {
            let o = Options {
                headers,
                ..Options::default()
            };
            assert!(build_request(&a, &o, "k", &Attempt::default()).is_err());
        }
        let o = Options {
            ws_protocols: vec!["BLIP_3\r\nX-Evil: 1".into()],
            cookies: Some(Secret(b"b=\n".to_vec())),
            ..Options::default()
        };
        assert!(build_request(&a, &o, "k", &Attempt::default()).is_err());
        let bad_path = Address {
            path: "/db HTTP/1.1\r\nX-Evil: 1".into(),
            ..a.clone()
        };
        assert!(build_request(&bad_path, &Options::default(), "k", &Attempt::default()).is_err());
    }
}
