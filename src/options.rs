//! The replicator options LiteCore hands to `open`, as one typed struct.
//!
//! LiteCore only stores these options; turning them into headers, TLS settings and proxies is the
//! transport's job. Keys follow `c4ReplicatorTypes.h`; unknown keys (retry, filters, …) are not
//! for the transport and are ignored. A known key holding the wrong type fails the open with
//! `{LiteCore, InvalidParameter}` and a message naming the key.

use crate::fleece::{self, Value};
use std::fmt;
use std::time::Duration;

/// LiteCore's default heartbeat when the option is absent or 0 (seconds).
pub const DEFAULT_HEARTBEAT_SECS: u64 = 300;

/// A value that must never reach a log: passwords, tokens, session ids, private keys.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(pub Vec<u8>);

impl Secret {
    pub fn expose(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<secret, {} bytes>", self.0.len())
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum AuthType {
    #[default]
    Basic,
    Session,
    OpenIdConnect,
    ClientCert,
}

impl AuthType {
    fn parse(s: &str) -> Option<AuthType> {
        match s {
            "Basic" => Some(AuthType::Basic),
            "Session" => Some(AuthType::Session),
            "OpenID Connect" => Some(AuthType::OpenIdConnect),
            "Client Cert" => Some(AuthType::ClientCert),
            _ => None,
        }
    }
}

/// The `auth` dict.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Auth {
    /// `type`; Basic when absent.
    pub kind: AuthType,
    pub username: Option<String>,
    pub password: Option<Secret>,
    /// `token`: the session id (Session) or bearer token (OpenID Connect).
    pub token: Option<Secret>,
    /// `clientCert`, `clientCertKey`: PEM or DER.
    pub client_cert: Option<Vec<u8>>,
    pub client_cert_key: Option<Secret>,
    /// `challengeAuth`: send Basic credentials only after a 401 challenge.
    pub challenge_auth: bool,
    /// `cookieName` (litecore-ws extension): the SG session cookie's name.
    pub cookie_name: Option<String>,
    /// `oneTimeSession` (litecore-ws extension): SG 4.1 one-time session id.
    pub one_time_session: Option<Secret>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProxyType {
    None,
    Http,
    Https,
    Socks,
}

/// The `proxy` dict.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Proxy {
    pub kind: ProxyType,
    pub host: Option<String>,
    pub port: Option<u16>,
    pub username: Option<String>,
    pub password: Option<Secret>,
}

/// Everything the transport honours from the options dict.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Options {
    pub auth: Option<Auth>,
    /// `cookies`: a ready `Cookie` header value.
    pub cookies: Option<Secret>,
    /// `headers`: extra request headers, in stored (byte-sorted) order.
    pub headers: Vec<(String, String)>,
    /// `WS-Protocols`, split on commas and trimmed.
    pub ws_protocols: Vec<String>,
    /// `heartbeat` in seconds; `None` when absent or 0 (use [`DEFAULT_HEARTBEAT_SECS`]).
    pub heartbeat_secs: Option<u64>,
    pub root_certs: Option<Vec<u8>>,
    pub pinned_cert: Option<Vec<u8>>,
    pub only_self_signed_server: bool,
    pub accept_all_certs: bool,
    pub proxy: Option<Proxy>,
    pub network_interface: Option<String>,
    pub accept_parent_domain_cookies: bool,
    /// `lcwsMirrorMessageTypes` (testing aid, e.g. the Autobahn echo client): each write is sent
    /// as text when the oldest received, not yet echoed message was text. Replication never
    /// needs it (BLIP is binary).
    pub mirror_message_types: bool,
}

impl Options {
    /// The heartbeat interval to use.
    pub fn heartbeat(&self) -> Duration {
        Duration::from_secs(self.heartbeat_secs.unwrap_or(DEFAULT_HEARTBEAT_SECS))
    }
}

/// Why the options could not be used. Becomes `{LiteCore, 9 InvalidParameter}`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OptionsError {
    /// Dotted path of the offending key (`auth.username`), empty for the dict itself.
    pub key: String,
    pub message: String,
}

impl fmt::Display for OptionsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.key.is_empty() {
            write!(f, "replicator options: {}", self.message)
        } else {
            write!(f, "replicator option '{}' {}", self.key, self.message)
        }
    }
}

impl std::error::Error for OptionsError {}

fn err(key: &str, message: impl Into<String>) -> OptionsError {
    OptionsError {
        key: key.to_string(),
        message: message.into(),
    }
}

fn wrong_type(key: &str, expected: &str, got: &Value<'_>) -> OptionsError {
    err(key, format!("must be {expected}, not {}", got.type_name()))
}

// Typed accessors. Each takes the dotted key path for its error message.

fn string(key: &str, v: &Value<'_>) -> Result<String, OptionsError> {
    match v {
        Value::String(bytes) => std::str::from_utf8(bytes)
            .map(str::to_owned)
            .map_err(|_| err(key, "is not valid UTF-8")),
        other => Err(wrong_type(key, "a string", other)),
    }
}

fn secret(key: &str, v: &Value<'_>) -> Result<Secret, OptionsError> {
    match v {
        Value::String(bytes) => Ok(Secret(bytes.to_vec())),
        other => Err(wrong_type(key, "a string", other)),
    }
}

/// Certificates and keys: LiteCore passes data; a string (PEM text) is accepted too.
fn blob(key: &str, v: &Value<'_>) -> Result<Vec<u8>, OptionsError> {
    match v {
        Value::Data(bytes) | Value::String(bytes) => Ok(bytes.to_vec()),
        other => Err(wrong_type(key, "data (DER or PEM)", other)),
    }
}

/// Booleans as LiteCore reads them (`asBool`): true/false, or a number (non-zero = true).
fn boolean(key: &str, v: &Value<'_>) -> Result<bool, OptionsError> {
    match v {
        Value::Bool(b) => Ok(*b),
        Value::Int(i) => Ok(*i != 0),
        Value::UInt(u) => Ok(*u != 0),
        Value::Null => Ok(false),
        other => Err(wrong_type(key, "a boolean", other)),
    }
}

fn integer(key: &str, v: &Value<'_>) -> Result<i64, OptionsError> {
    match v {
        Value::Int(i) => Ok(*i),
        Value::UInt(u) => i64::try_from(*u).map_err(|_| err(key, format!("is out of range ({u})"))),
        other => Err(wrong_type(key, "an integer", other)),
    }
}

fn dict<'v, 'a>(key: &str, v: &'v Value<'a>) -> Result<&'v [(&'a [u8], Value<'a>)], OptionsError> {
    v.as_dict().ok_or_else(|| wrong_type(key, "a dict", v))
}

/// The heartbeat may not exceed what LiteCore itself stores (an `int` of seconds).
const MAX_HEARTBEAT_SECS: i64 = i32::MAX as i64;

impl Options {
    /// Parses the Fleece-encoded options dict. An empty slice means "no options".
    pub fn from_fleece(data: &[u8]) -> Result<Options, OptionsError> {
        if data.is_empty() {
            return Ok(Options::default());
        }
        let root =
            fleece::decode(data).map_err(|e| err("", format!("are not valid Fleece: {e}")))?;
        Options::from_value(&root)
    }

    /// Parses an already decoded options dict.
    pub fn from_value(root: &Value<'_>) -> Result<Options, OptionsError> {
        let entries = root
            .as_dict()
            .ok_or_else(|| err("", format!("must be a dict, not {}", root.type_name())))?;
        let mut o = Options::default();
        for (raw_key, v) in entries {
            // Keys that are not UTF-8 cannot be ours; `undefined` means "deleted" in Fleece.
            let Ok(key) = std::str::from_utf8(raw_key) else {
                continue;
            };
            if matches!(v, Value::Undefined) {
                continue;
            }
            match key {
                "auth" => o.auth = Some(parse_auth(v)?),
                "cookies" => {
                    let cookies = secret(key, v)?;
                    if !crate::http::is_clean_value(cookies.expose()) {
                        return Err(err(
                            key,
                            "contains a line break or NUL (header injection refused)",
                        ));
                    }
                    o.cookies = Some(cookies);
                }
                "headers" => o.headers = parse_headers(v)?,
                "WS-Protocols" => {
                    let protocols = string(key, v)?;
                    if !crate::http::is_clean_value(protocols.as_bytes()) {
                        return Err(err(
                            key,
                            "contains a line break or NUL (header injection refused)",
                        ));
                    }
                    o.ws_protocols = protocols
                        .split(',')
                        .map(str::trim)
                        .filter(|p| !p.is_empty())
                        .map(str::to_owned)
                        .collect()
                }
                "heartbeat" => {
                    let secs = integer(key, v)?;
                    if !(0..=MAX_HEARTBEAT_SECS).contains(&secs) {
                        return Err(err(
                            key,
                            format!(
                                "must be between 0 and {MAX_HEARTBEAT_SECS} seconds, not {secs}"
                            ),
                        ));
                    }
                    o.heartbeat_secs = (secs > 0).then_some(secs as u64);
                }
                "rootCerts" => o.root_certs = Some(blob(key, v)?),
                "pinnedCert" => o.pinned_cert = Some(blob(key, v)?),
                "onlySelfSignedServer" => o.only_self_signed_server = boolean(key, v)?,
                "acceptAllCerts" => o.accept_all_certs = boolean(key, v)?,
                "proxy" => o.proxy = Some(parse_proxy(v)?),
                "networkInterface" => {
                    let name = string(key, v)?;
                    o.network_interface = (!name.is_empty()).then_some(name);
                }
                "acceptParentDomainCookies" => o.accept_parent_domain_cookies = boolean(key, v)?,
                "lcwsMirrorMessageTypes" => o.mirror_message_types = boolean(key, v)?,
                _ => {}
            }
        }
        Ok(o)
    }
}

fn parse_auth(v: &Value<'_>) -> Result<Auth, OptionsError> {
    let entries = dict("auth", v)?;
    let mut auth = Auth::default();
    for (raw_key, v) in entries {
        // Keys that are not UTF-8 cannot be ours; an `undefined` value means "deleted" in Fleece.
        let Ok(key) = std::str::from_utf8(raw_key) else {
            continue;
        };
        if matches!(v, Value::Undefined) {
            continue;
        }
        let path = format!("auth.{key}");
        match key {
            "type" => {
                let t = string(&path, v)?;
                auth.kind = AuthType::parse(&t).ok_or_else(|| {
                    err(
                        &path,
                        format!(
                            "names an unsupported authentication type \"{t}\" \
                             (supported: Basic, Session, OpenID Connect, Client Cert)"
                        ),
                    )
                })?;
            }
            "username" => auth.username = Some(string(&path, v)?),
            "password" => auth.password = Some(secret(&path, v)?),
            "token" => auth.token = Some(secret(&path, v)?),
            "clientCert" => auth.client_cert = Some(blob(&path, v)?),
            "clientCertKey" => auth.client_cert_key = Some(Secret(blob(&path, v)?)),
            "challengeAuth" => auth.challenge_auth = boolean(&path, v)?,
            "cookieName" => {
                let name = string(&path, v)?;
                if !crate::http::is_token(&name) {
                    return Err(err(&path, format!("is not a valid cookie name: {name:?}")));
                }
                auth.cookie_name = Some(name);
            }
            "oneTimeSession" => auth.one_time_session = Some(secret(&path, v)?),
            _ => {}
        }
    }
    Ok(auth)
}

fn parse_proxy(v: &Value<'_>) -> Result<Proxy, OptionsError> {
    let entries = dict("proxy", v)?;
    let mut proxy = Proxy {
        kind: ProxyType::Http,
        host: None,
        port: None,
        username: None,
        password: None,
    };
    let mut kind_given = false;
    for (raw_key, v) in entries {
        // Keys that are not UTF-8 cannot be ours; an `undefined` value means "deleted" in Fleece.
        let Ok(key) = std::str::from_utf8(raw_key) else {
            continue;
        };
        if matches!(v, Value::Undefined) {
            continue;
        }
        let path = format!("proxy.{key}");
        match key {
            "type" => {
                let t = string(&path, v)?;
                kind_given = true;
                proxy.kind = match t.to_ascii_uppercase().as_str() {
                    "NONE" => ProxyType::None,
                    "HTTP" => ProxyType::Http,
                    "HTTPS" => ProxyType::Https,
                    "SOCKS" => ProxyType::Socks,
                    _ => {
                        return Err(err(
                            &path,
                            format!(
                                "names an unknown proxy type \"{t}\" (none, HTTP, HTTPS, SOCKS)"
                            ),
                        ))
                    }
                };
            }
            "host" => proxy.host = Some(string(&path, v)?),
            "port" => {
                let port = integer(&path, v)?;
                proxy.port = Some(
                    u16::try_from(port)
                        .ok()
                        .filter(|p| *p != 0)
                        .ok_or_else(|| err(&path, format!("must be 1–65535, not {port}")))?,
                );
            }
            "auth" => {
                for (raw_key, v) in dict(&path, v)? {
                    match std::str::from_utf8(raw_key) {
                        Ok("username") => proxy.username = Some(string("proxy.auth.username", v)?),
                        Ok("password") => proxy.password = Some(secret("proxy.auth.password", v)?),
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
    if proxy.kind != ProxyType::None && proxy.host.as_deref().unwrap_or("").is_empty() {
        let hint = if kind_given {
            ""
        } else {
            " (or type \"none\")"
        };
        return Err(err("proxy.host", format!("is required for a proxy{hint}")));
    }
    Ok(proxy)
}

fn parse_headers(v: &Value<'_>) -> Result<Vec<(String, String)>, OptionsError> {
    let entries = dict("headers", v)?;
    let mut out = Vec::with_capacity(entries.len());
    for (raw_key, v) in entries {
        let name = std::str::from_utf8(raw_key)
            .ok()
            .filter(|n| crate::http::is_token(n))
            .ok_or_else(|| {
                err(
                    "headers",
                    format!(
                        "has an invalid header name {:?}",
                        String::from_utf8_lossy(raw_key)
                    ),
                )
            })?;
        let path = format!("headers.{name}");
        let value = string(&path, v)?;
        if !crate::http::is_clean_value(value.as_bytes()) {
            return Err(err(
                &path,
                "contains a line break or NUL (header injection refused)",
            ));
        }
        out.push((name.to_owned(), value));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fleece::Encoder;

    /// Builds a Fleece options dict from (key, writer) pairs.
    fn build(f: impl FnOnce(&mut Encoder)) -> Vec<u8> {
        let mut e = Encoder::new();
        e.begin_dict();
        f(&mut e);
        e.end_dict();
        e.finish().expect("encode")
    }

    fn parse(f: impl FnOnce(&mut Encoder)) -> Result<Options, OptionsError> {
        Options::from_fleece(&build(f))
    }

    #[test]
    fn empty_input_and_empty_dict_mean_defaults() {
        assert_eq!(Options::from_fleece(&[]).unwrap(), Options::default());
        assert_eq!(parse(|_| {}).unwrap(), Options::default());
        assert_eq!(Options::default().heartbeat(), Duration::from_secs(300));
    }

    #[test]
    fn every_key() {
        let o = parse(|e| {
            e.write_key(b"auth");
            e.begin_dict();
            for (k, v) in [
                ("type", "Session"),
                ("username", "alice"),
                ("password", "pw"),
                ("token", "tok"),
                ("cookieName", "MySession"),
                ("oneTimeSession", "ots"),
            ] {
                e.write_key(k.as_bytes());
                e.write_string(v.as_bytes());
            }
            e.write_key(b"clientCert");
            e.write_data(b"CERT");
            e.write_key(b"clientCertKey");
            e.write_data(b"KEY");
            e.write_key(b"challengeAuth");
            e.write_bool(true);
            e.end_dict();
            e.write_key(b"cookies");
            e.write_string(b"a=b; c=d");
            e.write_key(b"headers");
            e.begin_dict();
            e.write_key(b"User-Agent");
            e.write_string(b"app/1");
            e.write_key(b"X-Test");
            e.write_string(b"1");
            e.end_dict();
            e.write_key(b"WS-Protocols");
            e.write_string(b"BLIP_3+CBMobile_3, BLIP_3+CBMobile_2,");
            e.write_key(b"heartbeat");
            e.write_int(30);
            e.write_key(b"rootCerts");
            e.write_data(b"ROOTS");
            e.write_key(b"pinnedCert");
            e.write_data(b"PIN");
            e.write_key(b"onlySelfSignedServer");
            e.write_bool(true);
            e.write_key(b"acceptAllCerts");
            e.write_int(1);
            e.write_key(b"proxy");
            e.begin_dict();
            e.write_key(b"type");
            e.write_string(b"HTTPS");
            e.write_key(b"host");
            e.write_string(b"proxy.local");
            e.write_key(b"port");
            e.write_int(3128);
            e.write_key(b"auth");
            e.begin_dict();
            e.write_key(b"username");
            e.write_string(b"pu");
            e.write_key(b"password");
            e.write_string(b"pp");
            e.end_dict();
            e.end_dict();
            e.write_key(b"networkInterface");
            e.write_string(b"lo");
            e.write_key(b"acceptParentDomainCookies");
            e.write_bool(true);
            e.write_key(b"maxRetries");
            e.write_int(0);
        })
        .unwrap();
        let auth = o.auth.as_ref().unwrap();
        assert_eq!(auth.kind, AuthType::Session);
        assert_eq!(auth.username.as_deref(), Some("alice"));
        assert_eq!(auth.password.as_ref().unwrap().expose(), b"pw");
        assert_eq!(auth.token.as_ref().unwrap().expose(), b"tok");
        assert_eq!(auth.cookie_name.as_deref(), Some("MySession"));
        assert_eq!(auth.one_time_session.as_ref().unwrap().expose(), b"ots");
        assert_eq!(auth.client_cert.as_deref(), Some(&b"CERT"[..]));
        assert_eq!(auth.client_cert_key.as_ref().unwrap().expose(), b"KEY");
        assert!(auth.challenge_auth);
        assert_eq!(o.cookies.as_ref().unwrap().expose(), b"a=b; c=d");
        assert_eq!(
            o.headers,
            vec![
                ("User-Agent".to_string(), "app/1".to_string()),
                ("X-Test".to_string(), "1".to_string())
            ]
        );
        assert_eq!(
            o.ws_protocols,
            vec!["BLIP_3+CBMobile_3", "BLIP_3+CBMobile_2"]
        );
        assert_eq!(o.heartbeat(), Duration::from_secs(30));
        assert_eq!(o.root_certs.as_deref(), Some(&b"ROOTS"[..]));
        assert_eq!(o.pinned_cert.as_deref(), Some(&b"PIN"[..]));
        assert!(o.only_self_signed_server && o.accept_all_certs && o.accept_parent_domain_cookies);
        let p = o.proxy.as_ref().unwrap();
        assert_eq!(p.kind, ProxyType::Https);
        assert_eq!(p.host.as_deref(), Some("proxy.local"));
        assert_eq!(p.port, Some(3128));
        assert_eq!(p.username.as_deref(), Some("pu"));
        assert_eq!(p.password.as_ref().unwrap().expose(), b"pp");
        assert_eq!(o.network_interface.as_deref(), Some("lo"));
    }

    #[test]
    fn debug_output_masks_secrets() {
        let o = parse(|e| {
            e.write_key(b"auth");
            e.begin_dict();
            e.write_key(b"password");
            e.write_string(b"hunter2");
            e.write_key(b"token");
            e.write_string(b"sess-123456");
            e.end_dict();
            e.write_key(b"cookies");
            e.write_string(b"SyncGatewaySession=abcdef");
        })
        .unwrap();
        let dbg = format!("{o:?}");
        for secret in ["hunter2", "sess-123456", "abcdef"] {
            assert!(!dbg.contains(secret), "{secret} leaked in {dbg}");
        }
    }

    fn expect_err(f: impl FnOnce(&mut Encoder), key: &str, fragment: &str) {
        let e = parse(f).expect_err("should fail");
        assert_eq!(e.key, key, "{e}");
        assert!(
            e.to_string().contains(fragment),
            "{e} should contain {fragment}"
        );
        assert!(e.to_string().contains(key), "{e} should name {key}");
    }

    #[test]
    fn wrong_types_name_the_key() {
        expect_err(
            |e| {
                e.write_key(b"auth");
                e.write_string(b"x")
            },
            "auth",
            "must be a dict, not string",
        );
        expect_err(
            |e| {
                e.write_key(b"cookies");
                e.write_int(3)
            },
            "cookies",
            "must be a string",
        );
        expect_err(
            |e| {
                e.write_key(b"heartbeat");
                e.write_string(b"30")
            },
            "heartbeat",
            "must be an integer",
        );
        expect_err(
            |e| {
                e.write_key(b"heartbeat");
                e.write_double(1.5)
            },
            "heartbeat",
            "must be an integer",
        );
        expect_err(
            |e| {
                e.write_key(b"WS-Protocols");
                e.begin_array();
                e.end_array()
            },
            "WS-Protocols",
            "must be a string",
        );
        // Found by the options fuzz target: WS-Protocols went into Sec-WebSocket-Protocol
        // unchecked.
        expect_err(
            |e| {
                e.write_key(b"WS-Protocols");
                e.write_string(b"BLIP_3+CBMobile_4\r\nX-Evil: 1")
            },
            "WS-Protocols",
            "contains a line break or NUL",
        );
        expect_err(
            |e| {
                e.write_key(b"rootCerts");
                e.write_bool(true)
            },
            "rootCerts",
            "must be data",
        );
        expect_err(
            |e| {
                e.write_key(b"pinnedCert");
                e.write_int(1)
            },
            "pinnedCert",
            "must be data",
        );
        expect_err(
            |e| {
                e.write_key(b"acceptAllCerts");
                e.write_string(b"yes")
            },
            "acceptAllCerts",
            "must be a boolean",
        );
        expect_err(
            |e| {
                e.write_key(b"onlySelfSignedServer");
                e.write_string(b"1")
            },
            "onlySelfSignedServer",
            "must be a boolean",
        );
        expect_err(
            |e| {
                e.write_key(b"networkInterface");
                e.write_int(1)
            },
            "networkInterface",
            "must be a string",
        );
        expect_err(
            |e| {
                e.write_key(b"headers");
                e.write_string(b"X: y")
            },
            "headers",
            "must be a dict",
        );
        expect_err(
            |e| {
                e.write_key(b"headers");
                e.begin_dict();
                e.write_key(b"X-N");
                e.write_int(1);
                e.end_dict()
            },
            "headers.X-N",
            "must be a string",
        );
        expect_err(
            |e| {
                e.write_key(b"auth");
                e.begin_dict();
                e.write_key(b"username");
                e.write_int(7);
                e.end_dict()
            },
            "auth.username",
            "must be a string, not integer",
        );
        expect_err(
            |e| {
                e.write_key(b"auth");
                e.begin_dict();
                e.write_key(b"challengeAuth");
                e.write_string(b"t");
                e.end_dict()
            },
            "auth.challengeAuth",
            "must be a boolean",
        );
        expect_err(
            |e| {
                e.write_key(b"proxy");
                e.begin_dict();
                e.write_key(b"port");
                e.write_string(b"80");
                e.end_dict()
            },
            "proxy.port",
            "must be an integer",
        );
    }

    #[test]
    fn bad_values_are_refused() {
        expect_err(
            |e| {
                e.write_key(b"auth");
                e.begin_dict();
                e.write_key(b"type");
                e.write_string(b"Facebook");
                e.end_dict()
            },
            "auth.type",
            "unsupported authentication type \"Facebook\"",
        );
        expect_err(
            |e| {
                e.write_key(b"heartbeat");
                e.write_int(-1)
            },
            "heartbeat",
            "between 0 and",
        );
        expect_err(
            |e| {
                e.write_key(b"heartbeat");
                e.write_uint(u64::MAX)
            },
            "heartbeat",
            "out of range",
        );
        expect_err(
            |e| {
                e.write_key(b"heartbeat");
                e.write_int(i64::MAX)
            },
            "heartbeat",
            "between 0 and",
        );
        for port in [0i64, 65536, -1, i64::MAX] {
            expect_err(
                |e| {
                    e.write_key(b"proxy");
                    e.begin_dict();
                    e.write_key(b"host");
                    e.write_string(b"p");
                    e.write_key(b"port");
                    e.write_int(port);
                    e.end_dict()
                },
                "proxy.port",
                "must be 1–65535",
            );
        }
        expect_err(
            |e| {
                e.write_key(b"proxy");
                e.begin_dict();
                e.write_key(b"type");
                e.write_string(b"FTP");
                e.end_dict()
            },
            "proxy.type",
            "unknown proxy type",
        );
        expect_err(
            |e| {
                e.write_key(b"proxy");
                e.begin_dict();
                e.write_key(b"type");
                e.write_string(b"HTTP");
                e.end_dict()
            },
            "proxy.host",
            "is required",
        );
        expect_err(
            |e| {
                e.write_key(b"headers");
                e.begin_dict();
                e.write_key(b"X-A");
                e.write_string(b"v\r\nEvil: 1");
                e.end_dict()
            },
            "headers.X-A",
            "header injection",
        );
        expect_err(
            |e| {
                e.write_key(b"headers");
                e.begin_dict();
                e.write_key(b"Bad Name");
                e.write_string(b"v");
                e.end_dict()
            },
            "headers",
            "invalid header name",
        );
        expect_err(
            |e| {
                e.write_key(b"auth");
                e.begin_dict();
                e.write_key(b"cookieName");
                e.write_string(b"a;b");
                e.end_dict()
            },
            "auth.cookieName",
            "not a valid cookie name",
        );
        expect_err(
            |e| {
                e.write_key(b"cookies");
                e.write_string(b"a=b\r\nX-Evil: 1")
            },
            "cookies",
            "header injection",
        );
    }

    #[test]
    fn missing_values_take_defaults() {
        let o = parse(|e| {
            e.write_key(b"auth");
            e.begin_dict();
            e.end_dict();
            e.write_key(b"heartbeat");
            e.write_int(0);
            e.write_key(b"proxy");
            e.begin_dict();
            e.write_key(b"type");
            e.write_string(b"none");
            e.end_dict();
            e.write_key(b"networkInterface");
            e.write_string(b"");
        })
        .unwrap();
        let auth = o.auth.unwrap();
        assert_eq!(auth.kind, AuthType::Basic);
        assert!(auth.username.is_none() && auth.password.is_none() && !auth.challenge_auth);
        assert_eq!(o.heartbeat_secs, None);
        assert_eq!(o.proxy.unwrap().kind, ProxyType::None);
        assert_eq!(o.network_interface, None);
    }

    #[test]
    fn huge_values() {
        let big = vec![b'x'; 1 << 20];
        let o = parse(|e| {
            e.write_key(b"cookies");
            e.write_string(&big);
            e.write_key(b"rootCerts");
            e.write_data(&big);
            e.write_key(b"heartbeat");
            e.write_int(i32::MAX as i64);
        })
        .unwrap();
        assert_eq!(o.cookies.unwrap().expose().len(), 1 << 20);
        assert_eq!(o.root_certs.unwrap().len(), 1 << 20);
        assert_eq!(o.heartbeat_secs, Some(i32::MAX as u64));
    }

    #[test]
    fn root_must_be_a_dict_and_valid_fleece() {
        let mut e = Encoder::new();
        e.begin_array();
        e.end_array();
        let bytes = e.finish().unwrap();
        let err = Options::from_fleece(&bytes).unwrap_err();
        assert!(
            err.to_string().contains("must be a dict, not array"),
            "{err}"
        );
        let err = Options::from_fleece(&[0x80, 0x10]).unwrap_err();
        assert!(err.to_string().contains("not valid Fleece"), "{err}");
    }
}
