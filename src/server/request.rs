//! A client's upgrade request, as the listener reads it: `GET /<db>/_blipsync` (origin-form, or
//! absolute-form as LiteCore's built-in transport sends it through a proxy) with the WebSocket
//! handshake headers (RFC 6455 section 4.2.1), the subprotocols offered and Basic credentials.
//! Everything a client sends is untrusted: each check ends in a [`Refusal`] with the HTTP status
//! to answer, never a panic.

use crate::error::TransportError;
use crate::http::{self, protocol_error, MAX_HEADERS};
use base64::Engine;

/// The part of the path after the database name (Sync Gateway's URL shape).
pub const BLIPSYNC: &str = "_blipsync";

/// A parsed request head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    pub method: String,
    /// The request target as sent.
    pub target: String,
    /// Headers in received order.
    pub headers: Vec<(String, Vec<u8>)>,
}

impl Head {
    /// Every value of a header (names compare case-insensitively), in order.
    fn values<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a [u8]> + 'a {
        self.headers
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_slice())
    }

    /// The one value of a header; `None` when absent.
    fn value<'a>(&'a self, name: &'a str) -> Option<&'a [u8]> {
        self.values(name).next()
    }

    /// Whether a comma-separated header contains `token` (case-insensitively).
    fn has_token(&self, name: &str, token: &str) -> bool {
        self.values(name).any(|v| {
            v.split(|&b| b == b',')
                .any(|t| t.trim_ascii().eq_ignore_ascii_case(token.as_bytes()))
        })
    }
}

/// One pass of httparse over the bytes read so far: the head and its length when complete,
/// `None` while incomplete within `limit`.
pub fn parse_head(buf: &[u8], limit: usize) -> Result<Option<(Head, usize)>, TransportError> {
    let mut slots = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut parsed = httparse::Request::new(&mut slots);
    match parsed.parse(buf) {
        Ok(httparse::Status::Complete(len)) => {
            // A head may arrive whole in one read, past the limit: refused all the same.
            if let Some(e) = http::too_long("the upgrade request", len, limit) {
                return Err(e);
            }
            if parsed.version != Some(1) {
                return Err(protocol_error(
                    "the upgrade request is not HTTP/1.1".to_string(),
                ));
            }
            let head = Head {
                method: parsed.method.unwrap_or_default().to_string(),
                target: parsed.path.unwrap_or_default().to_string(),
                headers: parsed
                    .headers
                    .iter()
                    .map(|h| (h.name.to_string(), h.value.to_vec()))
                    .collect(),
            };
            Ok(Some((head, len)))
        }
        Ok(httparse::Status::Partial) => {
            match http::too_long("the upgrade request", buf.len(), limit) {
                Some(e) => Err(e),
                None => Ok(None),
            }
        }
        Err(httparse::Error::TooManyHeaders) => Err(protocol_error(format!(
            "the upgrade request has more than {MAX_HEADERS} headers"
        ))),
        Err(e) => Err(protocol_error(format!("malformed upgrade request: {e}"))),
    }
}

/// Basic credentials from the `Authorization` header.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub user: String,
    pub password: Vec<u8>,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Credentials({:?}, ***)", self.user)
    }
}

/// A request the listener can upgrade.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upgrade {
    /// The database name (percent-decoded first path segment).
    pub database: String,
    /// The path as requested (origin-form, query included): what LiteCore hears as the
    /// socket's address path.
    pub path: String,
    /// `Sec-WebSocket-Key`, for `Sec-WebSocket-Accept`.
    pub key: String,
    /// Subprotocols offered, in the client's order of preference.
    pub protocols: Vec<String>,
    /// `Authorization: Basic …`, when sent and readable.
    pub credentials: Option<Credentials>,
    /// An `Authorization` header was sent but was not readable Basic credentials.
    pub bad_credentials: bool,
}

/// Why a request is refused, and what to answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub status: u16,
    pub reason: String,
    /// Extra response headers (`Allow`, `Sec-WebSocket-Version`, `WWW-Authenticate`, …).
    pub headers: Vec<(&'static str, String)>,
}

impl Refusal {
    pub fn new(status: u16, reason: impl Into<String>) -> Self {
        Refusal {
            status,
            reason: reason.into(),
            headers: Vec::new(),
        }
    }

    pub fn with_header(mut self, name: &'static str, value: &str) -> Self {
        self.headers.push((name, value.to_string()));
        self
    }

    /// What a client needs to try again as a WebSocket client.
    fn upgrade_required(reason: &str) -> Self {
        Refusal::new(426, reason)
            .with_header("Upgrade", "websocket")
            .with_header("Sec-WebSocket-Version", "13")
    }
}

/// Checks a request head as a WebSocket upgrade for a database.
pub fn check(head: &Head) -> Result<Upgrade, Refusal> {
    if head.method != "GET" {
        return Err(Refusal::new(
            405,
            format!(
                "method {} is not allowed; the upgrade is a GET",
                head.method
            ),
        )
        .with_header("Allow", "GET"));
    }
    let path = origin_form(&head.target)
        .ok_or_else(|| Refusal::new(400, format!("bad request target {:?}", head.target)))?;
    let database = database_of(path).ok_or_else(|| {
        Refusal::new(
            404,
            format!("no such endpoint {path:?}: replication is at /<database>/{BLIPSYNC}"),
        )
    })?;
    if !head.has_token("upgrade", "websocket") || !head.has_token("connection", "upgrade") {
        return Err(Refusal::upgrade_required(
            "this endpoint speaks WebSocket only: the request lacks 'Upgrade: websocket' / 'Connection: Upgrade'",
        ));
    }
    if head.value("sec-websocket-version").map(<[u8]>::trim_ascii) != Some(b"13") {
        return Err(Refusal::upgrade_required(
            "unsupported Sec-WebSocket-Version (13 is supported)",
        ));
    }
    let key = head
        .value("sec-websocket-key")
        .map(<[u8]>::trim_ascii)
        .filter(|k| {
            base64::engine::general_purpose::STANDARD
                .decode(k)
                .is_ok_and(|raw| raw.len() == 16)
        })
        .and_then(|k| std::str::from_utf8(k).ok())
        .ok_or_else(|| Refusal::new(400, "missing or malformed Sec-WebSocket-Key"))?
        .to_string();
    let protocols = head
        .values("sec-websocket-protocol")
        .flat_map(|v| v.split(|&b| b == b','))
        .filter_map(|p| std::str::from_utf8(p.trim_ascii()).ok())
        .filter(|p| !p.is_empty())
        .map(str::to_string)
        .collect();
    let authorization = head.value("authorization");
    let credentials = authorization.and_then(basic_credentials);
    Ok(Upgrade {
        database,
        path: path.to_string(),
        key,
        protocols,
        bad_credentials: authorization.is_some() && credentials.is_none(),
        credentials,
    })
}

/// The origin-form of a request target: as is for `/…`, the path of an absolute-form
/// `http(s)://` or `ws(s)://` URL. `None` for anything else (`*`, authority-form, garbage).
fn origin_form(target: &str) -> Option<&str> {
    if target.starts_with('/') {
        return Some(target);
    }
    let (scheme, rest) = target.split_once("://")?;
    if !["http", "https", "ws", "wss"]
        .iter()
        .any(|s| s.eq_ignore_ascii_case(scheme))
    {
        return None;
    }
    let slash = rest.find('/')?;
    Some(&rest[slash..])
}

/// The database of `/<db>/_blipsync` (query ignored), percent-decoded; `None` for other paths.
fn database_of(path: &str) -> Option<String> {
    let path = path.split(['?', '#']).next().unwrap_or_default();
    let rest = path.strip_prefix('/')?;
    let (db, tail) = rest.split_once('/')?;
    if tail != BLIPSYNC || db.is_empty() {
        return None;
    }
    http::percent_decode(db)
        .and_then(|d| String::from_utf8(d).ok())
        .filter(|d| !d.is_empty() && !d.contains('/'))
}

/// `Basic base64(user:password)`: the user is UTF-8 without ':', the password any bytes.
fn basic_credentials(value: &[u8]) -> Option<Credentials> {
    let value = value.trim_ascii();
    let (scheme, encoded) = value.split_at(value.iter().position(|&b| b == b' ')?);
    if !scheme.eq_ignore_ascii_case(b"basic") {
        return None;
    }
    let raw = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim_ascii())
        .ok()?;
    let colon = raw.iter().position(|&b| b == b':')?;
    Some(Credentials {
        user: String::from_utf8(raw[..colon].to_vec()).ok()?,
        password: raw[colon + 1..].to_vec(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";

    fn head(method: &str, target: &str, headers: &[(&str, &str)]) -> Head {
        Head {
            method: method.into(),
            target: target.into(),
            headers: headers
                .iter()
                .map(|(n, v)| (n.to_string(), v.as_bytes().to_vec()))
                .collect(),
        }
    }

    fn upgrade_headers() -> Vec<(&'static str, &'static str)> {
        vec![
            ("Host", "peer:4984"),
            ("Connection", "keep-alive, Upgrade"),
            ("Upgrade", "WebSocket"),
            ("Sec-WebSocket-Version", "13"),
            ("Sec-WebSocket-Key", KEY),
            (
                "Sec-WebSocket-Protocol",
                "BLIP_3+CBMobile_4, BLIP_3+CBMobile_3",
            ),
        ]
    }

    #[test]
    fn a_litecore_upgrade_is_accepted() {
        let mut h = upgrade_headers();
        h.push(("Authorization", "Basic YWxpY2U6cMOkc3M6d29yZA=="));
        let u = check(&head("GET", "/my%20db/_blipsync?x=1", &h)).unwrap();
        assert_eq!(u.database, "my db");
        assert_eq!(u.path, "/my%20db/_blipsync?x=1");
        assert_eq!(u.key, KEY);
        assert_eq!(u.protocols, vec!["BLIP_3+CBMobile_4", "BLIP_3+CBMobile_3"]);
        let c = u.credentials.unwrap();
        assert_eq!(
            (c.user.as_str(), c.password.as_slice()),
            ("alice", "päss:word".as_bytes())
        );
        assert!(!u.bad_credentials);
        // Absolute-form, as LiteCore's built-in transport sends it through a proxy.
        let u = check(&head(
            "GET",
            "http://peer:4984/db/_blipsync",
            &upgrade_headers(),
        ))
        .unwrap();
        assert_eq!(
            (u.database.as_str(), u.path.as_str()),
            ("db", "/db/_blipsync")
        );
    }

    #[test]
    fn refusals_carry_the_right_status() {
        let status = |h: &Head| check(h).unwrap_err().status;
        let ok = upgrade_headers();
        assert_eq!(status(&head("POST", "/db/_blipsync", &ok)), 405);
        assert_eq!(status(&head("GET", "*", &ok)), 400);
        assert_eq!(status(&head("GET", "/db", &ok)), 404);
        assert_eq!(status(&head("GET", "/db/_changes", &ok)), 404);
        assert_eq!(status(&head("GET", "//_blipsync", &ok)), 404);
        assert_eq!(status(&head("GET", "/a/b/_blipsync", &ok)), 404);
        assert_eq!(status(&head("GET", "/%zz/_blipsync", &ok)), 404);
        let without = |name: &str| -> Vec<(&str, &str)> {
            ok.iter().filter(|(n, _)| *n != name).copied().collect()
        };
        assert_eq!(
            status(&head("GET", "/db/_blipsync", &without("Upgrade"))),
            426
        );
        assert_eq!(
            status(&head("GET", "/db/_blipsync", &without("Connection"))),
            426
        );
        let r = check(&head(
            "GET",
            "/db/_blipsync",
            &without("Sec-WebSocket-Version"),
        ))
        .unwrap_err();
        assert_eq!(r.status, 426);
        assert!(r
            .headers
            .contains(&("Sec-WebSocket-Version", "13".to_string())));
        assert_eq!(
            status(&head("GET", "/db/_blipsync", &without("Sec-WebSocket-Key"))),
            400
        );
        let mut short_key = without("Sec-WebSocket-Key");
        short_key.push(("Sec-WebSocket-Key", "c2hvcnQ="));
        assert_eq!(status(&head("GET", "/db/_blipsync", &short_key)), 400);
    }

    #[test]
    fn credentials_that_are_not_basic_are_flagged() {
        for auth in ["Bearer x.y.z", "Basic !!!", "Basic bm9jb2xvbg=="] {
            let mut h = upgrade_headers();
            h.push(("Authorization", auth));
            let u = check(&head("GET", "/db/_blipsync", &h)).unwrap();
            assert!(u.credentials.is_none() && u.bad_credentials, "{auth}");
        }
        let u = check(&head("GET", "/db/_blipsync", &upgrade_headers())).unwrap();
        assert!(u.credentials.is_none() && !u.bad_credentials);
    }

    #[test]
    fn heads_parse_within_limits() {
        let raw = b"GET /db/_blipsync HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\n\r\nrest";
        let (h, len) = parse_head(raw, 1024).unwrap().unwrap();
        assert_eq!(
            (h.method.as_str(), h.target.as_str()),
            ("GET", "/db/_blipsync")
        );
        assert_eq!(&raw[len..], b"rest");
        assert!(parse_head(&raw[..20], 1024).unwrap().is_none());
        assert!(parse_head(&raw[..20], 10).is_err());
        // Complete in one read but larger than the limit (found by the upgrade_request fuzz
        // target): refused with the 431 message, not accepted.
        let e = parse_head(raw, len - 1).unwrap_err();
        assert!(e.message.contains("exceeds"), "{}", e.message);
        assert!(parse_head(raw, len).unwrap().is_some());
        assert!(parse_head(b"GET / HTTP/1.0\r\n\r\n", 1024).is_err());
        assert!(parse_head(b"\x16\x03\x01\x02\x00\x01\x00", 1024).is_err());
    }
}
