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
    let user_agent = options
        .headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("user-agent"))
        .map(|(_, v)| v.clone())
        .unwrap_or_else(default_user_agent);
    headers.push(("User-Agent".into(), user_agent.into_bytes(), false));

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
        if !crate::options::is_token(name) {
            return Err(TransportError::invalid_parameter(format!(
                "invalid header name {name:?} (not an HTTP token)"
            )));
        }
        if value.iter().any(|&b| b == b'\r' || b == b'\n' || b == 0) {
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

/// Sync Gateway's default session cookie name.
pub const SESSION_COOKIE: &str = "SyncGatewaySession";

/// The one `Cookie` header value: the session cookie first (it wins), then the `cookies` option,
/// then the database's stored cookies. Each cookie name appears once. The session cookie's name is
/// compared case-insensitively because LiteCore's cookie store lower-cases names (contract §8):
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

/// Decides when a growing response head is worth handing to httparse, which parses the whole
/// buffer each time: when the new bytes complete a blank line after some content (the end of
/// a head: `\n\n` or `\n\r\n`), when the buffer has doubled since the last parse (garbage
/// is reported after the first bytes) and past the size limit. However a peer splits its head
/// (byte by byte, even), the work stays linear in its size.
#[derive(Default)]
struct ParseSchedule {
    parsed_len: usize,
    searched: usize,
    /// Where the first byte that is not CR or LF is, once seen.
    content: Option<usize>,
}

impl ParseSchedule {
    /// Whether bytes arrived since the last parse (at the end of the stream: worth a last one).
    fn unparsed(&self, buf: &[u8]) -> bool {
        buf.len() > self.parsed_len
    }

    /// Called after each read with the whole buffer; true when it should be parsed now.
    fn due(&mut self, buf: &[u8]) -> bool {
        let from = self.searched;
        self.searched = buf.len();
        if self.content.is_none() {
            self.content = buf[from..]
                .iter()
                .position(|&b| b != b'\r' && b != b'\n')
                .map(|p| from + p);
        }
        let ends = self.content.is_some_and(|content| {
            let start = from.saturating_sub(2).max(content);
            buf[start..]
                .iter()
                .enumerate()
                .filter(|&(_, &b)| b == b'\n')
                .any(|(i, _)| {
                    let after = &buf[start + i + 1..];
                    after.starts_with(b"\n") || after.starts_with(b"\r\n")
                })
        });
        if ends || buf.len() >= 2 * self.parsed_len || buf.len() > MAX_HEAD_BYTES {
            self.parsed_len = buf.len();
            true
        } else {
            false
        }
    }
}

/// Reads a response head; returns it with the bytes read past it (the start of the body or of
/// the first WebSocket frames).
pub async fn read_response<S: AsyncRead + Unpin>(
    stream: &mut S,
) -> Result<(Response, Vec<u8>), TransportError> {
    let mut buf: Vec<u8> = Vec::with_capacity(1024);
    let mut chunk = [0u8; 4096];
    let mut schedule = ParseSchedule::default();
    loop {
        let n = stream.read(&mut chunk).await.map_err(|e| {
            TransportError::from_io(
                &e,
                crate::error::Stage::Handshake,
                "reading the HTTP response",
            )
        })?;
        if n == 0 {
            // What arrived since the last parse may already say what is wrong with it.
            if schedule.unparsed(&buf) {
                if let Some(head) = parse_head(&buf)? {
                    return Ok(head);
                }
            }
            return Err(TransportError::network(
                NetworkCode::ConnectionReset,
                "the server closed the connection before answering the WebSocket upgrade",
            ));
        }
        buf.extend_from_slice(&chunk[..n]);
        if schedule.due(&buf) {
            if let Some(head) = parse_head(&buf)? {
                return Ok(head);
            }
        }
    }
}

/// One httparse pass over the bytes read so far: the head and what follows it when complete,
/// `None` while it is incomplete (and within the size limit).
fn parse_head(buf: &[u8]) -> Result<Option<(Response, Vec<u8>)>, TransportError> {
    let mut slots = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut parsed = httparse::Response::new(&mut slots);
    match parsed.parse(buf) {
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
            Ok(Some((response, buf[head_len..].to_vec())))
        }
        Ok(httparse::Status::Partial) if buf.len() > MAX_HEAD_BYTES => Err(protocol_error(
            format!("the HTTP response head exceeds {MAX_HEAD_BYTES} bytes"),
        )),
        Ok(httparse::Status::Partial) => Ok(None),
        Err(httparse::Error::TooManyHeaders) => Err(protocol_error(format!(
            "the HTTP response has more than {MAX_HEADERS} headers"
        ))),
        Err(e) => Err(protocol_error(format!("malformed HTTP response: {e}"))),
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

/// True when a 401 asks for Basic credentials (`WWW-Authenticate: Basic …`).
pub fn asks_for_basic(response: &Response) -> bool {
    response.headers.iter().any(|(n, v)| {
        n.eq_ignore_ascii_case("www-authenticate")
            && v.len() >= 5
            && v[..5].eq_ignore_ascii_case(b"basic")
    })
}

/// Where a redirect answer points. `Location` may be a path on the same server or an absolute
/// `http(s)` / `ws(s)` URL (http maps to ws, https to wss). Going from wss to ws is refused:
/// `{Network, 12 InvalidRedirect}`, as is anything unparseable.
pub fn redirect_target(current: &Address, response: &Response) -> Result<Address, TransportError> {
    let invalid = |why: String| TransportError::network(NetworkCode::InvalidRedirect, why);
    let location = response
        .header_str("location")
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .ok_or_else(|| invalid(format!("HTTP {} without a Location", response.status)))?;
    let next = if location.starts_with('/') {
        Address {
            path: location.to_string(),
            ..current.clone()
        }
    } else {
        parse_url(location)
            .ok_or_else(|| invalid(format!("cannot follow the redirect to {location:?}")))?
    };
    if current.is_tls() && !next.is_tls() {
        return Err(invalid(format!(
            "refusing a redirect from wss to {location:?} (not encrypted)"
        )));
    }
    next.validate()
        .map_err(|e| invalid(format!("redirect to {location:?}: {}", e.message)))?;
    Ok(next)
}

/// Parses `scheme://host[:port]/path` for ws, wss, http and https (http → ws, https → wss).
pub fn parse_url(url: &str) -> Option<Address> {
    let (scheme, rest) = url.split_once("://")?;
    let scheme = match scheme.to_ascii_lowercase().as_str() {
        "ws" | "http" => "ws",
        "wss" | "https" => "wss",
        _ => return None,
    };
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    if authority.contains('@') {
        return None; // credentials in a redirect URL are not followed
    }
    let default_port = if scheme == "wss" { 443 } else { 80 };
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (host, after) = v6.split_once(']')?;
        let port = match after.strip_prefix(':') {
            Some(p) => p.parse().ok()?,
            None if after.is_empty() => default_port,
            None => return None,
        };
        (host.to_string(), port)
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h.to_string(), p.parse().ok()?),
            None => (authority.to_string(), default_port),
        }
    };
    Some(Address {
        scheme: scheme.into(),
        host,
        port,
        path: path.to_string(),
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

    use crate::connection::test_address as addr;

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
    }

    /// How many times `ParseSchedule` asks for a parse when `head` arrives `step` bytes a read.
    fn parses(head: &[u8], step: usize) -> usize {
        let mut schedule = ParseSchedule::default();
        (step..=head.len() + step - 1)
            .step_by(step)
            .filter(|&end| schedule.due(&head[..end.min(head.len())]))
            .count()
    }

    #[test]
    fn parse_schedule_stays_linear_for_any_split() {
        let answer = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n";
        // Byte by byte: the doublings (1, 2, 4, ... 64) and the blank line at the end.
        assert_eq!(parses(answer, 1), 8);
        assert_eq!(parses(answer, answer.len()), 1);
        // A head of 50 short header lines, trickled: a line end alone is not a reason to parse.
        let many: Vec<u8> = [
            &b"HTTP/1.1 404 Not Found\r\n"[..],
            &b"X-A: b\r\n".repeat(50),
            b"\r\n",
        ]
        .concat();
        assert!(parses(&many, 1) <= 11, "{}", parses(&many, 1));
        // Blank lines alone (or before the status line) never end a head: 64 KiB of CRLF costs
        // one parse per doubling, not one per line.
        let blank = b"\r\n".repeat(MAX_HEAD_BYTES / 2);
        assert!(parses(&blank, 1) <= 18, "{}", parses(&blank, 1));
        // Past the limit every read is a parse (which then fails the head at once).
        let mut schedule = ParseSchedule::default();
        let long = vec![b'x'; MAX_HEAD_BYTES + 2];
        schedule.due(&long[..MAX_HEAD_BYTES]);
        assert!(schedule.due(&long[..MAX_HEAD_BYTES + 1]));
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
    fn redirects() {
        let here = Address {
            scheme: "wss".into(),
            host: "sg".into(),
            port: 4984,
            path: "/db/_blipsync".into(),
        };
        let r = |status: u16, location: &str| {
            redirect_target(&here, &response(status, &[("Location", location)]))
        };
        let next = r(307, "/other/_blipsync").unwrap();
        assert_eq!(
            (next.host.as_str(), next.port, next.path.as_str()),
            ("sg", 4984, "/other/_blipsync")
        );
        let next = r(301, "https://b.example:8443/db/_blipsync?x=1").unwrap();
        assert_eq!(
            (next.scheme.as_str(), next.host.as_str(), next.port),
            ("wss", "b.example", 8443)
        );
        assert_eq!(next.path, "/db/_blipsync?x=1");
        let next = r(302, "wss://[::1]/db").unwrap();
        assert_eq!(
            (next.host.as_str(), next.port, next.path.as_str()),
            ("::1", 443, "/db")
        );
        for bad in [
            "ws://sg/db",
            "http://sg/db",
            "ftp://x/y",
            "relative/path",
            "https://u:p@h/db",
            "https://h:99999/",
        ] {
            assert_eq!(r(302, bad).unwrap_err().code, 12, "{bad}");
        }
        assert_eq!(
            redirect_target(&here, &response(302, &[]))
                .unwrap_err()
                .code,
            12
        );
        // From ws, going up to wss is fine.
        let plain = Address {
            scheme: "ws".into(),
            ..here.clone()
        };
        let up = redirect_target(&plain, &response(302, &[("Location", "https://sg/db")])).unwrap();
        assert!(up.is_tls());
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
}
