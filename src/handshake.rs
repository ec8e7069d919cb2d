//! The HTTP/1.1 upgrade: building the request and reading the server's answer.
//!
//! litecore-ws writes the request itself (rather than letting tungstenite do it) so that the
//! response headers reach LiteCore with the server's own spelling, every header of an error
//! answer (401, 404, 5xx) and its body's `reason` are available, and the request carries exactly
//! what LiteCore's built-in transport would send.

use crate::connection::Address;
use crate::error::{close_code, NetworkCode, TransportError};
use crate::options::{AuthType, Options};
use base64::Engine;
use tokio::io::{AsyncRead, AsyncReadExt};

/// Largest response head accepted (status line + headers).
pub const MAX_HEAD_BYTES: usize = 64 * 1024;
/// Most response headers accepted.
pub const MAX_HEADERS: usize = 128;
/// Largest error body read for its `reason`.
pub const MAX_ERROR_BODY: usize = 64 * 1024;

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

/// Builds the upgrade request for `address` with the replicator `options`.
pub fn build_request(
    address: &Address,
    options: &Options,
    key: &str,
) -> Result<UpgradeRequest, TransportError> {
    // (name, value, secret?) in the order LiteCore's built-in transport writes them.
    let mut headers: Vec<(String, Vec<u8>, bool)> = Vec::new();
    headers.push(("Host".into(), host_header(address).into_bytes(), false));
    let user_agent = options
        .headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("user-agent"))
        .map(|(_, v)| v.clone())
        .unwrap_or_else(default_user_agent);
    headers.push(("User-Agent".into(), user_agent.into_bytes(), false));

    let mut cookies: Vec<Vec<u8>> = Vec::new();
    if let Some(auth) = &options.auth {
        match auth.kind {
            AuthType::Basic if !auth.challenge_auth => {
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
                    let name = auth.cookie_name.as_deref().unwrap_or(SESSION_COOKIE);
                    let mut c = format!("{name}=").into_bytes();
                    c.extend_from_slice(token.expose());
                    check_header_value("auth.token", &c)?;
                    cookies.push(c);
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
            _ => {}
        }
    }
    if let Some(c) = &options.cookies {
        cookies.push(c.expose().to_vec());
    }
    if !cookies.is_empty() {
        headers.push(("Cookie".into(), cookies.join(&b"; "[..]), true));
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
    if !options.ws_protocols.is_empty() {
        headers.push((
            "Sec-WebSocket-Protocol".into(),
            options.ws_protocols.join(",").into_bytes(),
            false,
        ));
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

/// Sync Gateway's default session cookie name.
pub const SESSION_COOKIE: &str = "SyncGatewaySession";

fn basic_credentials(user: &str, password: &[u8]) -> Vec<u8> {
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
    if value.iter().any(|&b| b == b'\r' || b == b'\n' || b == 0) {
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

/// A parsed response head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub reason: String,
    /// Headers in received order, names as the server spelled them.
    pub headers: Vec<(String, Vec<u8>)>,
}

impl Response {
    /// The first value of a header (names compare case-insensitively).
    pub fn header(&self, name: &str) -> Option<&[u8]> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_slice())
    }

    fn header_str(&self, name: &str) -> Option<&str> {
        self.header(name).and_then(|v| std::str::from_utf8(v).ok())
    }

    /// The response head as text for logs: `Set-Cookie` values (session ids) masked.
    pub fn masked(&self) -> String {
        let mut out = format!("HTTP {} {}", self.status, self.reason);
        for (name, value) in &self.headers {
            let shown = if name.eq_ignore_ascii_case("set-cookie") {
                let text = String::from_utf8_lossy(value);
                let (cookie, attributes) = text.split_once(';').unwrap_or((&text, ""));
                let cookie_name = cookie.split_once('=').map_or("", |(n, _)| n.trim());
                format!("{cookie_name}=***;{attributes}")
            } else {
                String::from_utf8_lossy(value).into_owned()
            };
            out.push_str(&format!("\n{name}: {shown}"));
        }
        out
    }

    /// The headers as the Fleece dict `c4socket_gotHTTPResponse` takes.
    pub fn headers_fleece(&self) -> Vec<u8> {
        let pairs: Vec<(&str, &[u8])> = self
            .headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_slice()))
            .collect();
        crate::fleece::encode_headers(&pairs)
    }
}

/// Reads a response head; returns it with the bytes read past it (the start of the body or of
/// the first WebSocket frames).
pub async fn read_response<S: AsyncRead + Unpin>(
    stream: &mut S,
) -> Result<(Response, Vec<u8>), TransportError> {
    let mut buf: Vec<u8> = Vec::with_capacity(1024);
    let mut chunk = [0u8; 4096];
    loop {
        let n = stream.read(&mut chunk).await.map_err(|e| {
            TransportError::from_io(
                &e,
                crate::error::Stage::Handshake,
                "reading the HTTP response",
            )
        })?;
        if n == 0 {
            return Err(TransportError::network(
                NetworkCode::ConnectionReset,
                "the server closed the connection before answering the WebSocket upgrade",
            ));
        }
        buf.extend_from_slice(&chunk[..n]);
        let mut slots = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let mut parsed = httparse::Response::new(&mut slots);
        match parsed.parse(&buf) {
            Ok(httparse::Status::Complete(head_len)) => {
                let response = Response {
                    status: parsed.code.unwrap_or(0),
                    reason: parsed.reason.unwrap_or("").to_string(),
                    headers: parsed
                        .headers
                        .iter()
                        .map(|h| (h.name.to_string(), h.value.to_vec()))
                        .collect(),
                };
                let rest = buf[head_len..].to_vec();
                return Ok((response, rest));
            }
            Ok(httparse::Status::Partial) => {
                if buf.len() > MAX_HEAD_BYTES {
                    return Err(protocol_error(format!(
                        "the HTTP response head exceeds {MAX_HEAD_BYTES} bytes"
                    )));
                }
            }
            Err(httparse::Error::TooManyHeaders) => {
                return Err(protocol_error(format!(
                    "the HTTP response has more than {MAX_HEADERS} headers"
                )))
            }
            Err(e) => return Err(protocol_error(format!("malformed HTTP response: {e}"))),
        }
    }
}

fn protocol_error(message: String) -> TransportError {
    TransportError::websocket(close_code::PROTOCOL_ERROR, message)
}

/// Checks a 101 answer against the request (RFC 6455 section 4.1 and LiteCore's checks).
pub fn validate_upgrade(
    request: &UpgradeRequest,
    response: &Response,
) -> Result<(), TransportError> {
    let upgrade_ok = response
        .header_str("upgrade")
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("websocket"));
    let connection_ok = response.header_str("connection").is_some_and(|v| {
        v.split(',')
            .any(|t| t.trim().eq_ignore_ascii_case("upgrade"))
    });
    if !upgrade_ok || !connection_ok {
        return Err(protocol_error(
            "the server's 101 answer lacks 'Upgrade: websocket' / 'Connection: Upgrade'".into(),
        ));
    }
    let expected =
        tokio_tungstenite::tungstenite::handshake::derive_accept_key(request.key.as_bytes());
    if response.header_str("sec-websocket-accept").map(str::trim) != Some(expected.as_str()) {
        return Err(protocol_error(
            "the server's Sec-WebSocket-Accept is wrong".into(),
        ));
    }
    if let Some(chosen) = response.header_str("sec-websocket-protocol") {
        let chosen = chosen.trim();
        if !request.protocols.iter().any(|p| p == chosen) {
            // What LiteCore's built-in transport reports.
            return Err(TransportError::websocket(
                403,
                format!("Server did not accept protocol ({chosen:?} was not offered)"),
            ));
        }
    }
    if let Some(ext) = response.header_str("sec-websocket-extensions") {
        if !ext.trim().is_empty() {
            return Err(protocol_error(format!(
                "the server chose extension {ext:?}, which was not offered"
            )));
        }
    }
    Ok(())
}

/// How many body bytes an error answer declares (Content-Length), if any.
pub fn content_length(response: &Response) -> Option<usize> {
    response.header_str("content-length")?.trim().parse().ok()
}

/// The message for an HTTP failure: the JSON body's `reason` (or `error`) for
/// `application/json`, the trimmed text for `text/plain`, else the status line's reason.
pub fn failure_message(response: &Response, body: &[u8]) -> String {
    let content_type = response
        .header_str("content-type")
        .unwrap_or("")
        .to_ascii_lowercase();
    let from_body = if content_type.starts_with("application/json") {
        json_string_field(body, "reason").or_else(|| json_string_field(body, "error"))
    } else if content_type.starts_with("text/plain") {
        let text = String::from_utf8_lossy(body).trim().to_string();
        (!text.is_empty()).then_some(text)
    } else {
        None
    };
    from_body.unwrap_or_else(|| {
        if response.reason.is_empty() {
            format!("HTTP status {}", response.status)
        } else {
            response.reason.clone()
        }
    })
}

/// Extracts a top-level string field from a small JSON object without a JSON dependency:
/// enough for SG's `{"error":"…","reason":"…"}` answers (handles escapes).
fn json_string_field(body: &[u8], field: &str) -> Option<String> {
    let text = std::str::from_utf8(body).ok()?;
    let needle = format!("\"{field}\"");
    let start = text.find(&needle)? + needle.len();
    let rest = text[start..].trim_start().strip_prefix(':')?.trim_start();
    let mut chars = rest.strip_prefix('"')?.chars();
    let mut out = String::new();
    loop {
        match chars.next()? {
            '"' => return Some(out),
            '\\' => match chars.next()? {
                'n' => out.push('\n'),
                't' => out.push('\t'),
                'r' => out.push('\r'),
                'u' => {
                    let hex: String = chars.by_ref().take(4).collect();
                    out.push(
                        char::from_u32(u32::from_str_radix(&hex, 16).ok()?).unwrap_or('\u{fffd}'),
                    );
                }
                c => out.push(c),
            },
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::options::{Auth, Secret};

    fn addr(scheme: &str, host: &str, port: u16) -> Address {
        Address {
            scheme: scheme.into(),
            host: host.into(),
            port,
            path: "/db/_blipsync".into(),
        }
    }

    fn auth(kind: AuthType) -> Auth {
        Auth {
            kind,
            username: None,
            password: None,
            token: None,
            client_cert: None,
            client_cert_key: None,
            challenge_auth: false,
            cookie_name: None,
            one_time_session: None,
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
        let r = build_request(&addr("ws", "sg", 4984), &o, "dGhlIHNhbXBsZSBub25jZQ==").unwrap();
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
        let r = build_request(&addr("ws", "h", 80), &o, "k").unwrap();
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
        let text =
            String::from_utf8(build_request(&addr("ws", "h", 80), &o, "k").unwrap().bytes).unwrap();
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
            let e = build_request(&addr("ws", "h", 80), &o, "k").unwrap_err();
            assert_eq!(e.code, 9, "{name}");
            assert!(e.message.contains(name), "{}", e.message);
        }
    }

    #[test]
    fn challenge_auth_sends_no_credentials_first() {
        let mut o = Options::default();
        let mut a = auth(AuthType::Basic);
        a.username = Some("u".into());
        a.password = Some(Secret(b"p".to_vec()));
        a.challenge_auth = true;
        o.auth = Some(a);
        let text =
            String::from_utf8(build_request(&addr("ws", "h", 80), &o, "k").unwrap().bytes).unwrap();
        assert!(!text.contains("Authorization"));
    }

    fn response(status: u16, headers: &[(&str, &str)]) -> Response {
        Response {
            status,
            reason: "R".into(),
            headers: headers
                .iter()
                .map(|(n, v)| (n.to_string(), v.as_bytes().to_vec()))
                .collect(),
        }
    }

    #[test]
    fn upgrade_validation() {
        let req = UpgradeRequest {
            bytes: vec![],
            key: "dGhlIHNhbXBsZSBub25jZQ==".into(),
            protocols: vec!["BLIP_3+CBMobile_3".into()],
            masked: String::new(),
        };
        let good = [
            ("Upgrade", "websocket"),
            ("Connection", "Upgrade"),
            ("Sec-Websocket-Accept", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="),
            ("Sec-Websocket-Protocol", "BLIP_3+CBMobile_3"),
        ];
        assert!(validate_upgrade(&req, &response(101, &good)).is_ok());
        let mut bad_accept = good;
        bad_accept[2].1 = "AAAA";
        assert_eq!(
            validate_upgrade(&req, &response(101, &bad_accept))
                .unwrap_err()
                .code,
            1002
        );
        let mut other_proto = good;
        other_proto[3].1 = "BLIP_3+CBMobile_9";
        assert_eq!(
            validate_upgrade(&req, &response(101, &other_proto))
                .unwrap_err()
                .code,
            403
        );
        assert_eq!(
            validate_upgrade(&req, &response(101, &good[1..]))
                .unwrap_err()
                .code,
            1002
        );
    }

    #[tokio::test]
    async fn reads_head_and_keeps_the_rest() {
        let raw = b"HTTP/1.1 401 Unauthorized\r\nContent-Type: application/json\r\nWww-Authenticate: Basic realm=\"SG\"\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\nContent-Length: 50\r\n\r\n{\"error\":\"Unauthorized\",\"reason\":\"Login required\"}";
        let mut input: &[u8] = raw;
        let (r, rest) = read_response(&mut input).await.unwrap();
        assert_eq!(r.status, 401);
        assert_eq!(r.headers[1].0, "Www-Authenticate");
        assert_eq!(
            r.headers.iter().filter(|(n, _)| n == "Set-Cookie").count(),
            2
        );
        assert_eq!(failure_message(&r, &rest), "Login required");
        assert_eq!(content_length(&r), Some(50));
    }

    #[tokio::test]
    async fn truncated_and_garbage_answers() {
        let mut input: &[u8] = b"HTTP/1.1 101 Swi";
        assert_eq!(read_response(&mut input).await.unwrap_err().code, 18);
        let mut input: &[u8] = b"SSH-2.0-OpenSSH\r\n\r\n";
        assert_eq!(read_response(&mut input).await.unwrap_err().code, 1002);
    }

    #[test]
    fn masked_response_hides_cookie_values() {
        let r = response(
            101,
            &[
                (
                    "Set-Cookie",
                    "SyncGatewaySession=abc123; Path=/db; HttpOnly",
                ),
                ("Server", "SG"),
            ],
        );
        let m = r.masked();
        assert!(!m.contains("abc123"), "{m}");
        assert!(
            m.contains("Set-Cookie: SyncGatewaySession=***; Path=/db; HttpOnly"),
            "{m}"
        );
        assert!(m.contains("Server: SG"));
    }

    #[test]
    fn failure_messages() {
        let json = response(404, &[("Content-Type", "application/json")]);
        assert_eq!(
            failure_message(
                &json,
                br#"{"error":"not_found","reason":"no such database \"x\""}"#
            ),
            "no such database \"x\""
        );
        let text = response(500, &[("Content-Type", "text/plain; charset=utf-8")]);
        assert_eq!(
            failure_message(&text, b"  I only speak BLIP_3+CBMobile_4 \n"),
            "I only speak BLIP_3+CBMobile_4"
        );
        let none = response(503, &[]);
        assert_eq!(failure_message(&none, b""), "R");
    }
}
