//! The server's answer to the upgrade: its head (headers in the server's spelling, every one
//! of them, for `gotHTTPResponse`), the checks a 101 must pass, and what a refusal means for
//! LiteCore (the status, and the reason from the body).

use super::request::UpgradeRequest;
use crate::error::{NetworkCode, TransportError};
use crate::http::{self, protocol_error, MAX_HEADERS, MAX_HEAD_BYTES};
use tokio::io::{AsyncRead, AsyncReadExt};

/// Largest error body read for its `reason`.
pub const MAX_ERROR_BODY: usize = 64 * 1024;

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

    pub fn header_str(&self, name: &str) -> Option<&str> {
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
    http::read_head(
        stream,
        MAX_HEAD_BYTES,
        "the HTTP response",
        parse_head,
        || {
            TransportError::network(
                NetworkCode::ConnectionReset,
                "the server closed the connection before answering the WebSocket upgrade",
            )
        },
    )
    .await
}

/// One httparse pass over the bytes read so far: the head and its length when complete, `None`
/// while it is incomplete (and within the size limit).
fn parse_head(buf: &[u8]) -> Result<Option<(Response, usize)>, TransportError> {
    let mut slots = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut parsed = httparse::Response::new(&mut slots);
    match parsed.parse(buf) {
        Ok(httparse::Status::Complete(head_len)) => {
            // A head may arrive whole in one read, past the limit: refused all the same.
            if let Some(e) = http::too_long("the HTTP response", head_len, MAX_HEAD_BYTES) {
                return Err(e);
            }
            let response = Response {
                status: parsed.code.unwrap_or(0),
                reason: parsed.reason.unwrap_or("").to_string(),
                headers: parsed
                    .headers
                    .iter()
                    .map(|h| (h.name.to_string(), h.value.to_vec()))
                    .collect(),
            };
            Ok(Some((response, head_len)))
        }
        Ok(httparse::Status::Partial) => {
            match http::too_long("the HTTP response", buf.len(), MAX_HEAD_BYTES) {
                Some(e) => Err(e),
                None => Ok(None),
            }
        }
        Err(httparse::Error::TooManyHeaders) => Err(protocol_error(format!(
            "the HTTP response has more than {MAX_HEADERS} headers"
        ))),
        Err(e) => Err(protocol_error(format!("malformed HTTP response: {e}"))),
    }
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

/// True when a 401 asks for Basic credentials (`WWW-Authenticate: Basic …`).
pub fn asks_for_basic(response: &Response) -> bool {
    response.headers.iter().any(|(n, v)| {
        n.eq_ignore_ascii_case("www-authenticate")
            && v.len() >= 5
            && v[..5].eq_ignore_ascii_case(b"basic")
    })
}

/// Reads the (small) body of an error answer after its head, for its `reason`: up to the declared
/// Content-Length (at most [`MAX_ERROR_BODY`]) appended to `body`, which holds what came with the
/// head. Gives up after `wait`: the status and headers matter most, a slow body is cut short.
pub async fn read_error_body<S: AsyncRead + Unpin>(
    stream: &mut S,
    response: &Response,
    body: &mut Vec<u8>,
    wait: std::time::Duration,
) {
    let Some(len) = content_length(response) else {
        return;
    };
    let want = len.min(MAX_ERROR_BODY);
    let _ = tokio::time::timeout(wait, async {
        let mut chunk = [0u8; 4096];
        while body.len() < want {
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => break,
                Ok(n) => body.extend_from_slice(&chunk[..n]),
            }
        }
    })
    .await;
}

/// How many body bytes an error answer declares (Content-Length), if any.
pub fn content_length(response: &Response) -> Option<usize> {
    response.header_str("content-length")?.trim().parse().ok()
}

/// The error `closed` reports for an answer other than 101 (and not followed: redirects and a
/// challenge retry are handled before): a 2xx is a peer that does not speak WebSocket (1002);
/// any other status goes to LiteCore as is, in the WebSocket domain, with the body's message.
pub fn upgrade_refused(response: &Response, body: &[u8]) -> TransportError {
    let status = response.status;
    if (200..300).contains(&status) {
        TransportError::websocket(
            crate::error::close_code::PROTOCOL_ERROR,
            format!("HTTP {status} instead of a WebSocket upgrade"),
        )
    } else {
        TransportError::websocket(i32::from(status), failure_message(response, body))
    }
}

/// The message for an HTTP failure: the JSON body's `reason` (or `error`) for
/// `application/json`, the trimmed text for `text/plain`, else the status line's reason.
pub fn failure_message(response: &Response, body: &[u8]) -> String {
    let content_type = response
        .header_str("content-type")
        .unwrap_or("")
        .to_ascii_lowercase();
    let from_body = if content_type.starts_with("application/json") {
        let field = |name| json_string_field(body, name).filter(|s| !s.trim().is_empty());
        field("reason").or_else(|| field("error"))
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

/// A top-level string member of a JSON object (`{"error":"…","reason":"…"}` from Sync Gateway
/// or a listener), `None` when the body is not an object or has no such string member. Members
/// nested inside other values are skipped, never matched.
fn json_string_field(body: &[u8], field: &str) -> Option<String> {
    let mut json = JsonScan { text: body, at: 0 };
    json.expect(b'{')?;
    if json.peek()? == b'}' {
        return None;
    }
    loop {
        let key = json.string()?;
        json.expect(b':')?;
        if key == field && json.peek()? == b'"' {
            return json.string();
        }
        json.skip_value(0)?;
        match json.next()? {
            b',' => continue,
            _ => return None,
        }
    }
}

/// Just enough of a JSON reader for [`json_string_field`]: every method skips whitespace first
/// and returns `None` on anything malformed.
struct JsonScan<'a> {
    text: &'a [u8],
    at: usize,
}

impl JsonScan<'_> {
    /// Deepest nesting skipped; a body nested deeper is not an SG answer.
    const MAX_DEPTH: usize = 32;

    fn peek(&mut self) -> Option<u8> {
        while self.text.get(self.at)?.is_ascii_whitespace() {
            self.at += 1;
        }
        self.text.get(self.at).copied()
    }

    fn next(&mut self) -> Option<u8> {
        let b = self.peek()?;
        self.at += 1;
        Some(b)
    }

    fn expect(&mut self, want: u8) -> Option<()> {
        (self.next()? == want).then_some(())
    }

    /// A string, escapes decoded (a lone surrogate becomes U+FFFD).
    fn string(&mut self) -> Option<String> {
        self.expect(b'"')?;
        let mut out: Vec<u16> = Vec::new();
        let mut plain = String::new();
        loop {
            let b = *self.text.get(self.at)?;
            self.at += 1;
            match b {
                b'"' => {
                    plain.push_str(&String::from_utf16_lossy(&out));
                    return Some(plain);
                }
                b'\\' => {
                    let e = *self.text.get(self.at)?;
                    self.at += 1;
                    let c = match e {
                        b'n' => '\n',
                        b't' => '\t',
                        b'r' => '\r',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'u' => {
                            let hex =
                                std::str::from_utf8(self.text.get(self.at..self.at + 4)?).ok()?;
                            self.at += 4;
                            out.push(u16::from_str_radix(hex, 16).ok()?);
                            continue;
                        }
                        b'"' | b'\\' | b'/' => e as char,
                        _ => return None,
                    };
                    plain.push_str(&String::from_utf16_lossy(&std::mem::take(&mut out)));
                    plain.push(c);
                }
                _ => {
                    plain.push_str(&String::from_utf16_lossy(&std::mem::take(&mut out)));
                    // Copy the whole UTF-8 sequence this byte starts.
                    let start = self.at - 1;
                    let len = match b {
                        0x00..=0x7f => 1,
                        0xc0..=0xdf => 2,
                        0xe0..=0xef => 3,
                        _ => 4,
                    };
                    let bytes = self.text.get(start..start + len)?;
                    plain.push_str(std::str::from_utf8(bytes).ok()?);
                    self.at = start + len;
                }
            }
        }
    }

    /// Skips one value of any kind.
    fn skip_value(&mut self, depth: usize) -> Option<()> {
        if depth > Self::MAX_DEPTH {
            return None;
        }
        match self.peek()? {
            b'"' => self.string().map(drop),
            open @ (b'{' | b'[') => {
                let close = if open == b'{' { b'}' } else { b']' };
                self.at += 1;
                if self.peek()? == close {
                    self.at += 1;
                    return Some(());
                }
                loop {
                    if open == b'{' {
                        self.string()?;
                        self.expect(b':')?;
                    }
                    self.skip_value(depth + 1)?;
                    match self.next()? {
                        b',' => continue,
                        c if c == close => return Some(()),
                        _ => return None,
                    }
                }
            }
            _ => {
                // A number, true, false or null: up to the next delimiter.
                let start = self.at;
                while let Some(&b) = self.text.get(self.at) {
                    if matches!(b, b',' | b'}' | b']') || b.is_ascii_whitespace() {
                        break;
                    }
                    self.at += 1;
                }
                (self.at > start).then_some(())
            }
        }
    }
}

/// A response head for unit tests: `status`, reason "R", these headers.
#[cfg(test)]
pub(crate) fn test_response(status: u16, headers: &[(&str, &str)]) -> Response {
    Response {
        status,
        reason: "R".into(),
        headers: headers
            .iter()
            .map(|(n, v)| (n.to_string(), v.as_bytes().to_vec()))
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use super::test_response as response;

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

    /// A server trickling its answer one byte per read.
    fn trickle(data: &[u8]) -> Chunks<'_> {
        Chunks { data, step: 1 }
    }

    #[tokio::test]
    async fn trickled_heads_parse_and_stay_bounded() {
        // Found by the http_response fuzz target (slow inputs): a head sent byte by byte was
        // parsed again after every byte. Long header lines now cost one parse per line.
        let long = "x".repeat(40_000);
        let raw =
            format!("HTTP/1.1 404 Not Found\r\nX-Long: {long}\r\nContent-Length: 2\r\n\r\n{{}}");
        let started = std::time::Instant::now();
        let (r, rest) = read_response(&mut trickle(raw.as_bytes())).await.unwrap();
        assert_eq!(r.status, 404);
        assert_eq!(r.header("x-long").map(<[u8]>::len), Some(40_000));
        assert!(
            rest.is_empty(),
            "one byte per read: the body is still unread"
        );
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
        // Garbage is still refused at once, and an endless line at the size limit.
        assert_eq!(
            read_response(&mut trickle(b"SSH-2.0-OpenSSH_9.6"))
                .await
                .unwrap_err()
                .code,
            1002
        );
        let endless = format!("HTTP/1.1 200 OK\r\nX: {}", "y".repeat(MAX_HEAD_BYTES));
        let e = read_response(&mut trickle(endless.as_bytes()))
            .await
            .unwrap_err();
        assert!(e.message.contains("exceeds"), "{}", e.message);
        // The same head, complete and in one read, is refused just the same.
        let whole = format!("{endless}\r\n\r\n");
        let e = read_response(&mut whole.as_bytes()).await.unwrap_err();
        assert!(e.message.contains("exceeds"), "{}", e.message);
    }

    #[tokio::test]
    async fn garbage_before_the_end_of_the_stream_is_named() {
        // Found in review: a bad second line that arrives between two parses, followed by the
        // server closing, was reported as "closed before answering" instead of malformed.
        let raw = b"HTTP/1.1 200 OK\r\nBad\x01\r\n";
        let e = read_response(&mut Chunks {
            data: raw,
            step: 17,
        })
        .await
        .unwrap_err();
        assert_eq!(e.code, 1002, "{e:?}");
        assert!(e.message.contains("malformed"), "{}", e.message);
        // A head that is merely cut short stays a reset.
        let cut = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n";
        let e = read_response(&mut Chunks { data: cut, step: 7 })
            .await
            .unwrap_err();
        assert_eq!(e.code, NetworkCode::ConnectionReset as i32, "{e:?}");
    }

    #[tokio::test]
    async fn heads_split_anywhere_parse_the_same() {
        let raw = b"HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"SG\"\r\nContent-Type: application/json\r\nContent-Length: 38\r\n\r\n{\"error\":\"x\",\"reason\":\"Login required\"}";
        for step in [1, 2, 3, 7, 16, 64, 4096] {
            let mut reader = Chunks { data: raw, step };
            let (r, rest) = read_response(&mut reader).await.unwrap();
            assert_eq!((r.status, r.headers.len()), (401, 3), "step {step}");
            let mut body = rest;
            body.extend_from_slice(reader.data);
            assert_eq!(failure_message(&r, &body), "Login required", "step {step}");
        }
    }

    #[test]
    fn empty_json_reason_falls_back_to_the_status_line() {
        // Found by the http_response fuzz target: `{"error":""}` gave an empty message.
        let r = Response {
            status: 401,
            reason: "Unauthorized".into(),
            headers: vec![("Content-Type".into(), b"application/json".to_vec())],
        };
        assert_eq!(failure_message(&r, br#"{"error":""}"#), "Unauthorized");
        assert_eq!(
            failure_message(&r, br#"{"reason":" ","error":"Bad"}"#),
            "Bad"
        );
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
    fn basic_challenges() {
        assert!(asks_for_basic(&response(
            401,
            &[("Www-Authenticate", "Basic realm=\"SG\"")]
        )));
        assert!(asks_for_basic(&response(
            401,
            &[("WWW-AUTHENTICATE", "basic")]
        )));
        assert!(!asks_for_basic(&response(
            401,
            &[("Www-Authenticate", "Bearer")]
        )));
        assert!(!asks_for_basic(&response(401, &[])));
    }

    #[test]
    fn json_reasons_come_from_the_top_level_only() {
        let f = |body: &str| json_string_field(body.as_bytes(), "reason");
        assert_eq!(f(r#"{"reason":"top"}"#).as_deref(), Some("top"));
        // A "reason" inside another member, or as a value, is not the answer's reason.
        assert_eq!(
            f(r#"{"error":{"reason":"nested"},"x":"\"reason\":\"v\"","reason":"real"}"#).as_deref(),
            Some("real")
        );
        assert_eq!(f(r#"{"error":{"reason":"nested"}}"#), None);
        assert_eq!(
            f(r#"{"list":["reason",{"reason":1}],"n":-1.5e3,"t":true}"#),
            None
        );
        // Escapes, surrogate pairs, UTF-8.
        assert_eq!(
            f(r#" { "reason" : "a\"b\\c\u00e9\ud83d\ude00 é" } "#).as_deref(),
            Some("a\"b\\cé\u{1f600} é")
        );
        // Not JSON objects, or cut short.
        for bad in [
            "",
            "[]",
            r#"{"reason":"#,
            r#"{"reason":"x"#,
            "reason",
            r#"{"reason":7}"#,
        ] {
            assert_eq!(f(bad), None, "{bad}");
        }
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

    #[test]
    fn refused_upgrades() {
        let json = response(401, &[("Content-Type", "application/json")]);
        let e = upgrade_refused(
            &json,
            br#"{"error":"Unauthorized","reason":"Login required"}"#,
        );
        assert_eq!((e.domain, e.code), (crate::error::Domain::WebSocket, 401));
        assert_eq!(e.message, "Login required");
        // A 200 is not LiteCore's HTTP-status business: the peer is not a WebSocket server.
        let ok = upgrade_refused(&response(200, &[]), b"<html>");
        assert_eq!(
            (ok.domain, ok.code),
            (crate::error::Domain::WebSocket, 1002)
        );
        assert!(ok.message.contains("HTTP 200"), "{}", ok.message);
    }

    /// Reads `step` bytes per call.
    struct Chunks<'a> {
        data: &'a [u8],
        step: usize,
    }

    impl AsyncRead for Chunks<'_> {
        fn poll_read(
            mut self: std::pin::Pin<&mut Self>,
            _cx: &mut std::task::Context<'_>,
            buf: &mut tokio::io::ReadBuf<'_>,
        ) -> std::task::Poll<std::io::Result<()>> {
            let n = self.step.min(self.data.len()).min(buf.remaining());
            buf.put_slice(&self.data[..n]);
            self.data = &self.data[n..];
            std::task::Poll::Ready(Ok(()))
        }
    }
}
