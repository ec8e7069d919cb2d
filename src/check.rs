//! `litecore-ws check URL`: connects to a Sync Gateway the way a replicator using litecore-ws
//! would, and reports every step — DNS, TCP, TLS with the peer's certificates, the upgrade
//! request and answer (credentials masked), the negotiated subprotocol — with a plain verdict.
//!
//! The steps run the library's own code: `handshake::build_request`, `tls::client_config`,
//! `tls::handshake`, `handshake::read_response`, `handshake::validate_upgrade`,
//! `handshake::failure_message`, the connection's DNS and TCP connect. The command-line flags
//! become an `Options` exactly as a replicator's options dict would. Getting a connected TCP
//! stream is `connect_stream`, the one place where proxy tunnelling will plug in.
//!
//! Nothing here prints secrets: the request is shown through `handshake::UpgradeRequest`'s
//! `masked` text, the answer through `handshake::Response::masked`, the options through a
//! summary that names credentials without their values.

use crate::address::Address;
use crate::client::request::{Attempt, UpgradeRequest};
use crate::client::response::Response;
use crate::client::{
    proxy, redirect, request as handshake_request, response as handshake_response, tcp,
    CONNECT_TIMEOUT,
};
use crate::error::{Domain, NetworkCode, TransportError};
use crate::http::is_token;
use crate::options::{Auth, AuthType, Options, Proxy, ProxyType, Secret};
use crate::socket::session;
use crate::stream::Stream as Transport;
use crate::tls;
use futures_util::StreamExt;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, SignatureScheme};
use serde_json::{json, Value};
use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::time::timeout_at;
use tokio_tungstenite::tungstenite::handshake::client::generate_key;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, Role};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

/// What the check offers in `Sec-WebSocket-Protocol` unless `--protocols` says otherwise:
/// LiteCore 3.0–3.2's `WS-Protocols`. Its first item is also all that LiteCore 3.3/4.x offers for
/// a (rev-tree) database, so SG 3.0+ picks the same protocol for either; a database using
/// version vectors (4.x) offers `BLIP_3+CBMobile_4` instead (`--protocols BLIP_3+CBMobile_4`).
pub const DEFAULT_PROTOCOLS: &str = "BLIP_3+CBMobile_3,BLIP_3+CBMobile_2";

/// How long to wait for the server's Close answer after sending ours.
const CLOSE_WAIT: Duration = Duration::from_secs(5);

pub const USAGE: &str = "\
usage: litecore-ws check URL [--user U --password P] [--session ID [--cookie-name NAME]]
                             [--bearer TOKEN] [--header 'Name: value']... [--protocols LIST]
                             [--client-cert FILE --client-key FILE] [--ca FILE]
                             [--pinned-cert FILE] [--only-self-signed] [--insecure]
                             [--proxy http[s]://[user:pass@]host:port | --no-proxy]
                             [--interface NAME|ADDRESS] [--timeout SECS] [--json]

URL is what a Couchbase Lite app is given: ws[s]://host[:port]/db (http[s]:// is taken as
ws[s]://); /_blipsync is appended as LiteCore does.
  --user U --password P   Basic authentication (auth type Basic)
  --session ID            an SG session id sent as a cookie (auth type Session)
  --cookie-name NAME      the session cookie's name (default SyncGatewaySession)
  --bearer TOKEN          Authorization: Bearer TOKEN (auth type OpenID Connect)
  --header 'Name: value'  an extra request header (replicator option headers), repeatable
  --protocols LIST        WS-Protocols (default BLIP_3+CBMobile_3,BLIP_3+CBMobile_2)
  --ca FILE               trusted root certificate(s), PEM or DER (rootCerts)
  --client-cert FILE      client certificate (chain), PEM or DER (auth type Client Cert)
  --client-key FILE       its private key, PEM or DER
  --pinned-cert FILE      accept only this certificate or public key (pinnedCert)
  --only-self-signed      accept only a self-signed server certificate (onlySelfSignedServer)
  --insecure              accept any certificate (acceptAllCerts)
  --proxy URL             the proxy option (without it: https_proxy/http_proxy/all_proxy/no_proxy)
  --no-proxy              proxy type none: connect directly, ignoring the environment
  --interface NAME|ADDR   networkInterface: the local interface or address to connect from
  --timeout SECS          give up after SECS seconds (default 15, like LiteCore)
  --json                  one JSON object on stdout instead of text
Exit status: 0 upgraded, 1 check failed, 2 bad usage.";

// ---------------------------------------------------------------------------------------------
// Command line
// ---------------------------------------------------------------------------------------------

/// A command line that cannot be run (exit status 2).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UsageError {
    /// No subcommand, or not `check`.
    NoCommand,
    MissingUrl,
    /// A flag this command does not know.
    UnknownFlag(String),
    /// A flag that needs a value came last.
    MissingValue(&'static str),
    /// A flag given twice where only one is allowed.
    Repeated(&'static str),
    /// A value that cannot be used: (what, why).
    Invalid(String, String),
    /// Flags that do not go together, or one that needs another.
    Conflict(String),
}

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UsageError::NoCommand => write!(f, "expected the command 'check'"),
            UsageError::MissingUrl => write!(f, "check needs a URL (ws[s]://host[:port]/db)"),
            UsageError::UnknownFlag(flag) => write!(f, "unknown option {flag}"),
            UsageError::MissingValue(flag) => write!(f, "{flag} needs a value"),
            UsageError::Repeated(flag) => write!(f, "{flag} may be given only once"),
            UsageError::Invalid(what, why) => write!(f, "{what}: {why}"),
            UsageError::Conflict(why) => write!(f, "{why}"),
        }
    }
}

impl std::error::Error for UsageError {}

fn invalid(what: impl Into<String>, why: impl Into<String>) -> UsageError {
    UsageError::Invalid(what.into(), why.into())
}

/// What the command line asks for.
#[derive(Debug)]
pub enum Command {
    Help,
    Check(Box<Config>),
}

/// A runnable check: the address, the replicator options and how to report.
#[derive(Clone, Debug)]
pub struct Config {
    /// The URL as given.
    pub url: String,
    /// Where LiteCore would connect (with `/_blipsync`).
    pub address: Address,
    /// The replicator options the flags stand for.
    pub options: Options,
    pub timeout: Duration,
    pub json: bool,
    /// Files the certificates came from, for the report.
    pub ca_file: Option<String>,
    pub pinned_file: Option<String>,
}

/// Parses the arguments after the program name (`check URL [flags]`).
pub fn parse_args<S: AsRef<str>>(args: &[S]) -> Result<Command, UsageError> {
    let mut args = args.iter().map(|a| a.as_ref().to_string()).peekable();
    match args.next().as_deref() {
        Some("check") => {}
        Some("-h" | "--help" | "help") => return Ok(Command::Help),
        _ => return Err(UsageError::NoCommand),
    }
    let mut url: Option<String> = None;
    let mut user = None;
    let mut password = None;
    let mut session = None;
    let mut cookie_name = None;
    let mut bearer = None;
    let mut headers: Vec<(String, String)> = Vec::new();
    let mut protocols = None;
    let mut pinned = None;
    let mut ca = None;
    let mut insecure = false;
    let mut only_self_signed = false;
    let mut no_proxy = false;
    let mut client_cert = None;
    let mut client_key = None;
    let mut interface = None;
    let mut proxy = None;
    let mut timeout = None;
    let mut json = false;

    while let Some(arg) = args.next() {
        if arg == "-h" {
            return Ok(Command::Help);
        }
        if !arg.starts_with('-') {
            if url.is_some() {
                return Err(invalid(
                    "arguments",
                    format!("only one URL may be checked (unexpected {arg:?})"),
                ));
            }
            url = Some(arg);
            continue;
        }
        if !arg.starts_with("--") || arg == "--" {
            return Err(UsageError::UnknownFlag(arg));
        }
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) => (f.to_string(), Some(v.to_string())),
            None => (arg.clone(), None),
        };
        // Flags without a value.
        match flag.as_str() {
            "--help" => return Ok(Command::Help),
            "--insecure" | "--json" | "--only-self-signed" | "--no-proxy" => {
                if inline.is_some() {
                    return Err(invalid(flag, "takes no value"));
                }
                match flag.as_str() {
                    "--insecure" => insecure = true,
                    "--only-self-signed" => only_self_signed = true,
                    "--no-proxy" => no_proxy = true,
                    _ => json = true,
                }
                continue;
            }
            _ => {}
        }
        let name: &'static str = match flag.as_str() {
            "--user" => "--user",
            "--password" => "--password",
            "--session" => "--session",
            "--cookie-name" => "--cookie-name",
            "--bearer" => "--bearer",
            "--header" => "--header",
            "--protocols" => "--protocols",
            "--pinned-cert" => "--pinned-cert",
            "--ca" => "--ca",
            "--proxy" => "--proxy",
            "--timeout" => "--timeout",
            "--client-cert" => "--client-cert",
            "--client-key" => "--client-key",
            "--interface" => "--interface",
            _ => return Err(UsageError::UnknownFlag(flag)),
        };
        let value = match inline {
            Some(v) => v,
            None => args.next().ok_or(UsageError::MissingValue(name))?,
        };
        let once = |slot: &mut Option<String>, v: String| -> Result<(), UsageError> {
            if slot.replace(v).is_some() {
                return Err(UsageError::Repeated(name));
            }
            Ok(())
        };
        match name {
            "--user" => once(&mut user, value)?,
            "--password" => once(&mut password, value)?,
            "--session" => once(&mut session, value)?,
            "--cookie-name" => once(&mut cookie_name, value)?,
            "--bearer" => once(&mut bearer, value)?,
            "--protocols" => once(&mut protocols, value)?,
            "--pinned-cert" => once(&mut pinned, value)?,
            "--ca" => once(&mut ca, value)?,
            "--proxy" => once(&mut proxy, value)?,
            "--timeout" => once(&mut timeout, value)?,
            "--client-cert" => once(&mut client_cert, value)?,
            "--client-key" => once(&mut client_key, value)?,
            "--interface" => once(&mut interface, value)?,
            _ => headers.push(parse_header(&value)?),
        }
    }

    let url = url.ok_or(UsageError::MissingUrl)?;
    let address = parse_check_url(&url)?;
    let mut options = Options::default();

    // Authentication: one kind, as a replicator's `auth` dict has one `type`.
    let kinds = [
        user.is_some(),
        session.is_some(),
        bearer.is_some(),
        client_cert.is_some(),
    ];
    if kinds.iter().filter(|k| **k).count() > 1 {
        return Err(UsageError::Conflict(
            "use only one of --user/--password, --session, --bearer and --client-cert".into(),
        ));
    }
    let auth = |kind: AuthType| Auth {
        kind,
        ..Auth::default()
    };
    match (user, password) {
        (Some(user), Some(password)) => {
            if user.is_empty() {
                return Err(invalid("--user", "is empty"));
            }
            if user.contains(':') {
                // Basic credentials are "name:password": a colon in the name cannot be sent.
                return Err(invalid("--user", "a user name may not contain ':'"));
            }
            let mut a = auth(AuthType::Basic);
            a.username = Some(user);
            a.password = Some(Secret(password.into_bytes()));
            options.auth = Some(a);
        }
        (Some(_), None) => {
            return Err(UsageError::Conflict("--user needs --password".into()));
        }
        (None, Some(_)) => {
            return Err(UsageError::Conflict("--password needs --user".into()));
        }
        (None, None) => {}
    }
    if let Some(id) = session {
        if id.is_empty() {
            return Err(invalid("--session", "is empty"));
        }
        let mut a = auth(AuthType::Session);
        a.token = Some(Secret(id.into_bytes()));
        if let Some(name) = cookie_name.take() {
            if !is_token(&name) {
                return Err(invalid("--cookie-name", "is not a valid cookie name"));
            }
            a.cookie_name = Some(name);
        }
        options.auth = Some(a);
    }
    if cookie_name.is_some() {
        return Err(UsageError::Conflict("--cookie-name needs --session".into()));
    }
    if let Some(token) = bearer {
        if token.is_empty() {
            return Err(invalid("--bearer", "is empty"));
        }
        let mut a = auth(AuthType::OpenIdConnect);
        a.token = Some(Secret(token.into_bytes()));
        options.auth = Some(a);
    }

    // `headers` is a Fleece dict: one value per name, in byte order of the names.
    headers.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    if let Some(w) = headers.windows(2).find(|w| w[0].0 == w[1].0) {
        return Err(invalid(
            "--header",
            format!(
                "{} is given twice (a header dict has one value per name)",
                w[0].0
            ),
        ));
    }
    options.headers = headers;

    // `WS-Protocols`, split as the options parser does.
    let protocols = protocols.unwrap_or_else(|| DEFAULT_PROTOCOLS.to_string());
    options.ws_protocols = protocols
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(str::to_owned)
        .collect();
    if options.ws_protocols.is_empty() {
        return Err(invalid("--protocols", "names no protocol"));
    }
    if let Some(p) = options
        .ws_protocols
        .iter()
        .find(|p| !is_token(p) || p.contains(','))
    {
        return Err(invalid(
            "--protocols",
            format!("{p:?} is not a valid token"),
        ));
    }

    if let Some(path) = &ca {
        let bytes = read_file("--ca", path)?;
        tls::parse_certificates("rootCerts", &bytes).map_err(|e| invalid("--ca", e.message))?;
        options.root_certs = Some(bytes);
    }
    if let Some(path) = &pinned {
        options.pinned_cert = Some(read_file("--pinned-cert", path)?);
    }
    options.accept_all_certs = insecure;
    options.only_self_signed_server = only_self_signed;
    match (client_cert, client_key) {
        (Some(cert), Some(key)) => {
            let mut a = auth(AuthType::ClientCert);
            a.client_cert = Some(read_file("--client-cert", &cert)?);
            a.client_cert_key = Some(Secret(read_file("--client-key", &key)?));
            options.auth = Some(a);
        }
        (Some(_), None) => {
            return Err(UsageError::Conflict(
                "--client-cert needs --client-key".into(),
            ))
        }
        (None, Some(_)) => {
            return Err(UsageError::Conflict(
                "--client-key needs --client-cert".into(),
            ))
        }
        (None, None) => {}
    }
    // Bad pins, keys or certificates are usage errors, found by the library's own parsers.
    tls::client::config(&options).map_err(|e| {
        let flag = [
            ("pinnedCert", "--pinned-cert"),
            ("rootCerts", "--ca"),
            ("clientCertKey", "--client-key"),
            ("clientCert", "--client-cert"),
        ]
        .iter()
        .find(|(key, _)| e.message.contains(key))
        .map_or("TLS options", |(_, flag)| flag);
        invalid(flag, e.message)
    })?;
    if interface.as_deref() == Some("") {
        return Err(invalid("--interface", "is empty"));
    }
    options.network_interface = interface;
    match (proxy, no_proxy) {
        (Some(_), true) => {
            return Err(UsageError::Conflict(
                "--proxy and --no-proxy do not go together".into(),
            ))
        }
        (Some(p), false) => options.proxy = Some(parse_proxy_url(&p)?),
        (None, true) => {
            options.proxy = Some(Proxy {
                kind: ProxyType::None,
                host: None,
                port: None,
                username: None,
                password: None,
            })
        }
        (None, false) => {}
    }
    let timeout = match timeout {
        None => CONNECT_TIMEOUT,
        Some(t) => {
            let secs: f64 = t
                .parse()
                .ok()
                .filter(|s: &f64| s.is_finite() && *s > 0.0 && *s <= 3600.0)
                .ok_or_else(|| invalid("--timeout", "must be a number of seconds, 0 < s ≤ 3600"))?;
            Duration::from_secs_f64(secs)
        }
    };

    // The library's own request builder refuses what a replicator could not send either
    // (reserved header names, CR/LF, ';' in a session id); say so now, as bad usage.
    handshake_request::build_request(&address, &options, &generate_key(), &Attempt::default())
        .map_err(|e| invalid("options", e.message))?;

    Ok(Command::Check(Box::new(Config {
        url,
        address,
        options,
        timeout,
        json,
        ca_file: ca,
        pinned_file: pinned,
    })))
}

fn read_file(flag: &str, path: &str) -> Result<Vec<u8>, UsageError> {
    std::fs::read(path).map_err(|e| invalid(flag, format!("cannot read {path:?}: {e}")))
}

/// `Name: value` → (name, value); the value is trimmed of surrounding blanks (HTTP's OWS).
pub fn parse_header(text: &str) -> Result<(String, String), UsageError> {
    let (name, value) = text
        .split_once(':')
        .ok_or_else(|| invalid("--header", format!("expected 'Name: value', got {text:?}")))?;
    if !is_token(name) {
        return Err(invalid(
            "--header",
            format!("{name:?} is not a valid header name"),
        ));
    }
    let value = value.trim_matches(|c| c == ' ' || c == '\t');
    if value.bytes().any(|b| b == b'\r' || b == b'\n' || b == 0) {
        return Err(invalid("--header", "a value may not contain CR, LF or NUL"));
    }
    Ok((name.to_string(), value.to_string()))
}

/// The URL a Couchbase Lite app is given → the address LiteCore connects to: `http(s)` is taken
/// as `ws(s)`, and `/_blipsync` is appended unless the path already ends with it.
pub fn parse_check_url(url: &str) -> Result<Address, UsageError> {
    let bad = |why: &str| invalid("URL", why.to_string());
    let (scheme, rest) = url
        .split_once("://")
        .ok_or_else(|| bad("expected ws://, wss://, http:// or https://"))?;
    if !matches!(
        scheme.to_ascii_lowercase().as_str(),
        "ws" | "wss" | "http" | "https"
    ) {
        return Err(bad("the scheme must be ws, wss, http or https"));
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    if authority.contains('@') {
        return Err(bad(
            "credentials in the URL are not used by Couchbase Lite: use --user/--password",
        ));
    }
    let without_fragment = url.split('#').next().unwrap_or(url);
    let mut address =
        redirect::parse_url(without_fragment).ok_or_else(|| bad("cannot parse host and port"))?;
    let (path, query) = match address.path.split_once('?') {
        Some((p, q)) => (p.to_string(), Some(q.to_string())),
        None => (address.path.clone(), None),
    };
    let db_path = path.trim_end_matches('/');
    let db_path = db_path.strip_suffix("/_blipsync").unwrap_or(db_path);
    if db_path.trim_matches('/').is_empty() {
        return Err(bad(
            "the URL names no database (expected ws[s]://host[:port]/db)",
        ));
    }
    let mut full = format!("{db_path}/_blipsync");
    if let Some(q) = query {
        full.push('?');
        full.push_str(&q);
    }
    address.path = full;
    address.validate().map_err(|e| bad(&e.message))?;
    Ok(address)
}

/// `http://[user:pass@]host:port` (or https://) → the replicator's `proxy` option.
pub fn parse_proxy_url(url: &str) -> Result<Proxy, UsageError> {
    let bad = |why: &str| invalid("--proxy", why.to_string());
    let (scheme, rest) = url
        .split_once("://")
        .ok_or_else(|| bad("expected http://[user:pass@]host:port"))?;
    let kind = match scheme.to_ascii_lowercase().as_str() {
        "http" => ProxyType::Http,
        "https" => ProxyType::Https,
        _ => return Err(bad("the proxy scheme must be http or https")),
    };
    let authority = rest.trim_end_matches('/');
    if authority.contains('/') {
        return Err(bad("a proxy URL has no path"));
    }
    let (credentials, host_port) = match authority.rsplit_once('@') {
        Some((c, h)) => (Some(c), h),
        None => (None, authority),
    };
    let (username, password) = match credentials {
        None => (None, None),
        Some(c) => {
            let (u, p) = c
                .split_once(':')
                .ok_or_else(|| bad("proxy credentials must be user:password"))?;
            if u.is_empty() {
                return Err(bad("the proxy user name is empty"));
            }
            (Some(u.to_string()), Some(Secret(p.as_bytes().to_vec())))
        }
    };
    let default_port = if kind == ProxyType::Https { 443 } else { 80 };
    let (host, port) = if let Some(v6) = host_port.strip_prefix('[') {
        let (h, after) = v6
            .split_once(']')
            .ok_or_else(|| bad("unclosed '[' in the host"))?;
        let port = match after.strip_prefix(':') {
            Some(p) => p.parse().map_err(|_| bad("invalid port"))?,
            None if after.is_empty() => default_port,
            None => return Err(bad("invalid host")),
        };
        (h.to_string(), port)
    } else {
        match host_port.rsplit_once(':') {
            Some((h, p)) => (h.to_string(), p.parse().map_err(|_| bad("invalid port"))?),
            None => (host_port.to_string(), default_port),
        }
    };
    if host.is_empty() {
        return Err(bad("the proxy host is empty"));
    }
    if port == 0 {
        return Err(bad("port 0"));
    }
    Ok(Proxy {
        kind,
        host: Some(host),
        port: Some(port),
        username,
        password,
    })
}

/// The proxy as text with its password masked.
pub fn proxy_display(p: &Proxy) -> String {
    let scheme = match p.kind {
        ProxyType::Https => "https",
        ProxyType::Socks => "socks",
        ProxyType::None => "none",
        ProxyType::Http => "http",
    };
    let user = match (&p.username, &p.password) {
        (Some(u), Some(_)) => format!("{u}:***@"),
        (Some(u), None) => format!("{u}@"),
        _ => String::new(),
    };
    let host = p.host.as_deref().unwrap_or("");
    let host = if host.contains(':') {
        format!("[{host}]")
    } else {
        host.to_string()
    };
    format!("{scheme}://{user}{host}:{}", p.port.unwrap_or(0))
}

// ---------------------------------------------------------------------------------------------
// The report
// ---------------------------------------------------------------------------------------------

/// The steps of a check, in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    Dns,
    Tcp,
    Tls,
    Request,
    Response,
    Upgrade,
    Close,
}

impl Step {
    pub fn name(self) -> &'static str {
        match self {
            Step::Dns => "dns",
            Step::Tcp => "tcp",
            Step::Tls => "tls",
            Step::Request => "request",
            Step::Response => "response",
            Step::Upgrade => "upgrade",
            Step::Close => "close",
        }
    }
}

/// One TCP connect attempt.
#[derive(Clone, Debug)]
pub struct TcpAttempt {
    pub addr: SocketAddr,
    pub elapsed: Duration,
    pub error: Option<TransportError>,
}

/// How the TCP stream was obtained.
#[derive(Clone, Debug, Default)]
pub struct ConnectTrace {
    /// The addresses DNS gave (or the IP literal), and how long the lookup took.
    pub resolved: Option<(Vec<SocketAddr>, Duration)>,
    pub ip_literal: bool,
    pub attempts: Vec<TcpAttempt>,
    /// The route through a proxy, when one was used (then `resolved`/`attempts` stay empty).
    pub route_note: Option<String>,
}

/// One certificate of the peer's chain, for display.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CertInfo {
    pub subject: String,
    pub issuer: String,
    pub not_before: String,
    pub not_after: String,
    pub not_before_unix: i64,
    pub not_after_unix: i64,
    pub sans: Vec<String>,
    pub self_signed: bool,
    pub is_ca: bool,
}

impl CertInfo {
    /// Parses a DER certificate (x509-parser).
    pub fn from_der(der: &[u8]) -> Result<CertInfo, String> {
        use x509_parser::extensions::GeneralName;
        let (_, cert) = x509_parser::parse_x509_certificate(der)
            .map_err(|e| format!("unparseable certificate: {e}"))?;
        let validity = cert.validity();
        let sans = match cert.subject_alternative_name() {
            Ok(Some(ext)) => ext
                .value
                .general_names
                .iter()
                .map(|n| match n {
                    GeneralName::DNSName(d) => format!("DNS:{d}"),
                    GeneralName::IPAddress(ip) => match ip.len() {
                        4 => format!(
                            "IP:{}",
                            std::net::Ipv4Addr::from([ip[0], ip[1], ip[2], ip[3]])
                        ),
                        16 => {
                            let mut b = [0u8; 16];
                            b.copy_from_slice(ip);
                            format!("IP:{}", std::net::Ipv6Addr::from(b))
                        }
                        _ => "IP:?".to_string(),
                    },
                    GeneralName::RFC822Name(m) => format!("email:{m}"),
                    GeneralName::URI(u) => format!("URI:{u}"),
                    other => format!("{other:?}"),
                })
                .collect(),
            Ok(None) => Vec::new(),
            Err(e) => vec![format!("(invalid SAN extension: {e})")],
        };
        let subject = cert.subject().to_string();
        let issuer = cert.issuer().to_string();
        Ok(CertInfo {
            self_signed: cert.subject().as_raw() == cert.issuer().as_raw(),
            is_ca: cert.is_ca(),
            subject,
            issuer,
            not_before: utc_text(validity.not_before.timestamp()),
            not_after: utc_text(validity.not_after.timestamp()),
            not_before_unix: validity.not_before.timestamp(),
            not_after_unix: validity.not_after.timestamp(),
            sans,
        })
    }
}

/// A UNIX time as `YYYY-MM-DD hh:mm:ss UTC` (proleptic Gregorian calendar).
pub fn utc_text(unix: i64) -> String {
    let days = unix.div_euclid(86_400);
    let secs = unix.rem_euclid(86_400);
    // Howard Hinnant's days-to-civil algorithm.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02} UTC",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

/// What the TLS step found.
#[derive(Clone, Debug, Default)]
pub struct TlsReport {
    pub version: Option<String>,
    pub cipher: Option<String>,
    pub alpn: Option<String>,
    /// The peer's chain, leaf first.
    pub chain: Vec<CertInfo>,
    /// Certificates that could not be parsed for display.
    pub chain_errors: Vec<String>,
    /// The library's verification accepted the chain.
    pub trusted: bool,
    /// What the chain was verified against.
    pub trust_source: String,
    /// The chain shown was obtained by a second, display-only handshake that accepts anything,
    /// because the library's verification refused the first.
    pub display_only: bool,
    /// Whether the `pinnedCert` (if given) is one of the chain's certificates.
    pub pinned_in_chain: Option<bool>,
}

/// What a follow-up `GET /{db}/_session` said about who the credentials are.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WhoAmI {
    User(String),
    Guest,
    /// The follow-up failed or was not understood: why.
    Unknown(String),
}

/// The outcome in one sentence, with a stable identifier for scripts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verdict {
    pub ok: bool,
    /// e.g. `ok`, `login_required`, `invalid_login`, `session_invalid`, `no_database`,
    /// `protocol_mismatch`, `unavailable`, `tls_expired`, `tls_untrusted`, `connection_refused`,
    /// `unknown_host`, `timeout`.
    pub kind: &'static str,
    pub text: String,
}

/// Everything a check found; rendered as text or JSON.
#[derive(Clone, Debug)]
pub struct Report {
    pub url: String,
    pub address: Address,
    pub options: Options,
    pub timeout: Duration,
    pub ca_file: Option<String>,
    pub pinned_file: Option<String>,
    /// What the library does (and does not) do with the options given.
    pub notes: Vec<String>,
    pub connect: ConnectTrace,
    pub tls: Option<TlsReport>,
    /// The upgrade request, credentials masked (the library's `UpgradeRequest::masked`).
    pub request: Option<String>,
    /// The answer's head. Printed only through `Response::masked`.
    pub response: Option<Response>,
    /// The message the library takes from an error answer (SG's JSON `reason`, or text).
    pub failure_message: Option<String>,
    /// The negotiated subprotocol.
    pub protocol: Option<String>,
    pub close: Option<String>,
    pub whoami: Option<WhoAmI>,
    /// The step that failed and the library's error for it (the C4Error a replicator gets).
    pub failed: Option<(Step, TransportError)>,
    pub verdict: Option<Verdict>,
}

impl Report {
    pub fn new(config: &Config) -> Report {
        Report {
            url: config.url.clone(),
            address: config.address.clone(),
            options: config.options.clone(),
            timeout: config.timeout,
            ca_file: config.ca_file.clone(),
            pinned_file: config.pinned_file.clone(),
            notes: option_notes(&config.options),
            connect: ConnectTrace::default(),
            tls: None,
            request: None,
            response: None,
            failure_message: None,
            protocol: None,
            close: None,
            whoami: None,
            failed: None,
            verdict: None,
        }
    }

    pub fn ok(&self) -> bool {
        self.verdict.as_ref().is_some_and(|v| v.ok)
    }

    fn fail(&mut self, step: Step, error: TransportError) {
        self.failed = Some((step, error));
    }
}

/// What the server's certificate is judged against (the library's precedence, src/tls/verifier.rs).
fn trust_source(o: &Options, ca_file: Option<&str>) -> String {
    if o.accept_all_certs {
        return "nothing: acceptAllCerts accepts any certificate".into();
    }
    if o.pinned_cert.is_some() {
        return "the pinned certificate or public key (pinnedCert); no CA needed".into();
    }
    if o.only_self_signed_server {
        return "onlySelfSignedServer: a self-signed certificate only, host name not checked"
            .into();
    }
    match ca_file {
        Some(f) => format!("the certificate(s) in {f} (rootCerts)"),
        None => format!(
            "the default roots ({})",
            match tls::roots::DefaultRoots::from_env() {
                tls::roots::DefaultRoots::Webpki => "Mozilla's, LCWS_TLS_ROOTS=webpki",
                tls::roots::DefaultRoots::System => "the system CA bundle, LCWS_TLS_ROOTS=system",
                tls::roots::DefaultRoots::Both => "Mozilla's plus the system CA bundle",
            }
        ),
    }
}

/// Warnings about options that weaken the check.
fn option_notes(o: &Options) -> Vec<String> {
    let mut notes = Vec::new();
    if o.accept_all_certs {
        notes.push(
            "--insecure (acceptAllCerts): the server's certificate is NOT validated".to_string(),
        );
    }
    notes
}

// ---------------------------------------------------------------------------------------------
// Running the check
// ---------------------------------------------------------------------------------------------

/// Runs the check on a runtime of its own and returns the report (with its verdict).
pub fn execute(config: &Config) -> Report {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build();
    let mut report = Report::new(config);
    match runtime {
        Ok(rt) => rt.block_on(run(config, &mut report)),
        Err(e) => report.fail(
            Step::Dns,
            TransportError::network(NetworkCode::Unknown, format!("cannot start a runtime: {e}")),
        ),
    }
    report.verdict = Some(verdict(&report));
    report
}

fn timed_out(step: Step, timeout: Duration) -> TransportError {
    TransportError::network(
        NetworkCode::Timeout,
        format!(
            "timed out after {:.1} s (during {})",
            timeout.as_secs_f64(),
            step.name()
        ),
    )
}

/// The steps, recording into `report` as they go. Stops at the first failure.
pub async fn run(config: &Config, report: &mut Report) {
    let deadline = tokio::time::Instant::now() + config.timeout;
    let address = &config.address;
    let options = &config.options;

    // TLS configuration first, as the library does (bad rootCerts fail before connecting).
    let tls_config = if address.is_tls() {
        match tls::client::config(options) {
            Ok(c) => Some(c),
            Err(e) => return report.fail(Step::Tls, e),
        }
    } else {
        None
    };

    let tcp = match timeout_at(
        deadline,
        connect_stream(address, options, &mut report.connect),
    )
    .await
    {
        Ok(Ok(tcp)) => tcp,
        Ok(Err((step, e))) => return report.fail(step, e),
        Err(_) => {
            let step = if report.connect.resolved.is_some() {
                Step::Tcp
            } else {
                Step::Dns
            };
            return report.fail(step, timed_out(step, config.timeout));
        }
    };

    let mut stream: Transport = match tls_config {
        None => tcp,
        Some(tls_config) => {
            let mut tls_report = TlsReport {
                trust_source: trust_source(options, config.ca_file.as_deref()),
                ..TlsReport::default()
            };
            let result = timeout_at(
                deadline,
                tls::client::handshake(tcp, &address.host, tls_config),
            )
            .await;
            match result {
                Ok(Ok(tls_stream)) => {
                    let (_, conn) = tls_stream.get_ref();
                    describe_connection(conn, &mut tls_report);
                    tls_report.trusted = true;
                    tls_report.pinned_in_chain = pinned_in_chain(options, conn.peer_certificates());
                    report.tls = Some(tls_report);
                    Transport::Tls(Box::new(tls_stream))
                }
                Ok(Err(e)) => {
                    // Show the certificates anyway: a second handshake that only records them.
                    let mut scratch = ConnectTrace::default();
                    let peek = timeout_at(deadline, async {
                        let tcp = connect_stream(address, options, &mut scratch)
                            .await
                            .map_err(|(_, e)| e)?;
                        display_handshake(tcp, &address.host).await
                    })
                    .await;
                    if let Ok(Ok(conn)) = peek {
                        describe_connection(&conn, &mut tls_report);
                        tls_report.display_only = true;
                        tls_report.pinned_in_chain =
                            pinned_in_chain(options, conn.peer_certificates());
                    }
                    report.tls = Some(tls_report);
                    return report.fail(Step::Tls, e);
                }
                Err(_) => {
                    report.tls = Some(tls_report);
                    return report.fail(Step::Tls, timed_out(Step::Tls, config.timeout));
                }
            }
        }
    };

    // The request, exactly as a replicator with these options would send it.
    let request = match handshake_request::build_request(
        address,
        options,
        &generate_key(),
        &Attempt::default(),
    ) {
        Ok(r) => r,
        Err(e) => return report.fail(Step::Request, e),
    };
    report.request = Some(request.masked.clone());
    let exchange = async {
        stream.write_all(&request.bytes).await.map_err(|e| {
            (
                Step::Request,
                TransportError::from_io(
                    &e,
                    crate::error::Stage::Handshake,
                    "sending the upgrade request",
                ),
            )
        })?;
        handshake_response::read_response(&mut stream)
            .await
            .map_err(|e| (Step::Response, e))
    };
    let (response, mut rest) = match timeout_at(deadline, exchange).await {
        Ok(Ok(r)) => r,
        Ok(Err((step, e))) => return report.fail(step, e),
        Err(_) => return report.fail(Step::Response, timed_out(Step::Response, config.timeout)),
    };
    report.response = Some(response.clone());

    if response.status != 101 {
        // Read the (small) error body for its `reason`, as the library does.
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        handshake_response::read_error_body(&mut stream, &response, &mut rest, left).await;
        report.failure_message = Some(handshake_response::failure_message(&response, &rest));
        return report.fail(
            Step::Response,
            handshake_response::upgrade_refused(&response, &rest),
        );
    }

    if let Err(e) = handshake_response::validate_upgrade(&request, &response) {
        report.protocol = response_protocol(&response);
        return report.fail(Step::Upgrade, e);
    }
    report.protocol = response_protocol(&response);

    // Open: close cleanly with 1000, as a replicator that stops would.
    let mut ws = WebSocketStream::from_partially_read(
        stream,
        rest,
        Role::Client,
        Some(session::websocket_config()),
    )
    .await;
    report.close = Some(close_cleanly(&mut ws).await);

    // Who are we? SG tells on GET /{db}/_session with the same credentials.
    report.whoami = Some(
        match timeout_at(deadline, who_am_i(address, options)).await {
            Ok(w) => w,
            Err(_) => WhoAmI::Unknown("the follow-up request timed out".into()),
        },
    );
}

/// The one place where an address becomes a connected stream, with the library's own code:
/// through the proxy the options or the environment select (`proxy::connect`, which also tunnels
/// for an HTTPS proxy), or directly: DNS, then TCP to each address in turn from
/// `networkInterface` (`tcp::connect`), each attempt recorded for the report.
pub async fn connect_stream(
    address: &Address,
    options: &Options,
    trace: &mut ConnectTrace,
) -> Result<Transport, (Step, TransportError)> {
    trace.ip_literal = address.host.parse::<std::net::IpAddr>().is_ok();
    let selected = proxy::select(address, options).map_err(|e| (Step::Tcp, e))?;
    if selected.is_some() {
        let started = Instant::now();
        let (stream, route) = proxy::connect(0, address, options)
            .await
            .map_err(|e| (Step::Tcp, e))?;
        trace.route_note = Some(format!("{route} in {}", ms(started.elapsed())));
        return Ok(stream);
    }
    let started = Instant::now();
    let addrs = tcp::resolve(&address.host, address.port)
        .await
        .map_err(|e| (Step::Dns, e))?;
    trace.resolved = Some((addrs.clone(), started.elapsed()));
    let mut last = None;
    for addr in &addrs {
        let started = Instant::now();
        // Recorded before the attempt finishes, so a timeout still shows where it hung.
        trace.attempts.push(TcpAttempt {
            addr: *addr,
            elapsed: Duration::ZERO,
            error: None,
        });
        let result = tcp::connect(0, &addr.ip().to_string(), addr.port(), None, options).await;
        let attempt = trace.attempts.last_mut().expect("just pushed");
        attempt.elapsed = started.elapsed();
        match result {
            Ok((stream, _)) => return Ok(Transport::Tcp(stream)),
            Err(e) => {
                attempt.error = Some(e.clone());
                last = Some(e);
            }
        }
    }
    Err((
        Step::Tcp,
        last.expect("resolve returns at least one address"),
    ))
}

fn response_protocol(response: &Response) -> Option<String> {
    response
        .header("sec-websocket-protocol")
        .map(|v| String::from_utf8_lossy(v).trim().to_string())
}

fn describe_connection(conn: &rustls::ClientConnection, report: &mut TlsReport) {
    report.version = conn.protocol_version().map(|v| match v {
        rustls::ProtocolVersion::TLSv1_3 => "TLS 1.3".to_string(),
        rustls::ProtocolVersion::TLSv1_2 => "TLS 1.2".to_string(),
        other => format!("{other:?}"),
    });
    report.cipher = conn
        .negotiated_cipher_suite()
        .map(|s| format!("{:?}", s.suite()));
    report.alpn = conn
        .alpn_protocol()
        .map(|p| String::from_utf8_lossy(p).into_owned());
    report.chain.clear();
    report.chain_errors.clear();
    for der in conn.peer_certificates().unwrap_or_default() {
        match CertInfo::from_der(der.as_ref()) {
            Ok(info) => report.chain.push(info),
            Err(e) => report.chain_errors.push(e),
        }
    }
}

fn pinned_in_chain(options: &Options, chain: Option<&[CertificateDer<'_>]>) -> Option<bool> {
    let pinned = options.pinned_cert.as_ref()?;
    let pinned = tls::parse_certificates("pinnedCert", pinned).ok()?;
    let chain = chain.unwrap_or_default();
    Some(
        pinned
            .iter()
            .any(|p| chain.iter().any(|c| c.as_ref() == p.as_ref())),
    )
}

/// A verifier that accepts any certificate: used ONLY for the second, display-only handshake
/// after the library's verification failed, to show the chain. Nothing is sent over it.
#[derive(Debug)]
struct DisplayOnlyVerifier(Arc<rustls::crypto::CryptoProvider>);

impl ServerCertVerifier for DisplayOnlyVerifier {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// The display-only handshake: returns the connection state (chain, version, cipher); the
/// stream is dropped at once.
async fn display_handshake(
    tcp: Transport,
    host: &str,
) -> Result<rustls::ClientConnection, TransportError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| TransportError::network(NetworkCode::TlsHandshakeFailed, e.to_string()))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(DisplayOnlyVerifier(provider)))
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    let name = ServerName::try_from(host.to_string())
        .map_err(|_| TransportError::network(NetworkCode::InvalidUrl, "bad server name"))?;
    let stream = tokio_rustls::TlsConnector::from(Arc::new(config))
        .connect(name, tcp)
        .await
        .map_err(|e| tls::client::map_handshake_error(&e, host))?;
    let (_, conn) = stream.into_inner();
    Ok(conn)
}

/// Sends Close 1000 and waits briefly for the server's Close. Returns what happened.
async fn close_cleanly(ws: &mut WebSocketStream<Transport>) -> String {
    let frame = CloseFrame {
        code: CloseCode::Normal,
        reason: "".into(),
    };
    if let Err(e) = ws.close(Some(frame)).await {
        return format!("sending Close 1000 failed: {e}");
    }
    let answer = tokio::time::timeout(CLOSE_WAIT, async {
        while let Some(msg) = ws.next().await {
            match msg {
                Ok(Message::Close(Some(f))) => {
                    return format!(
                        "sent Close 1000; the server answered Close {}",
                        u16::from(f.code)
                    )
                }
                Ok(Message::Close(None)) => {
                    return "sent Close 1000; the server answered Close (no code)".to_string()
                }
                Ok(_) => continue,
                Err(e) => return format!("sent Close 1000; then: {e}"),
            }
        }
        "sent Close 1000; the server closed the connection".to_string()
    })
    .await;
    answer.unwrap_or_else(|_| {
        format!(
            "sent Close 1000; no Close answer within {} s",
            CLOSE_WAIT.as_secs()
        )
    })
}

/// Asks SG who the credentials belong to: `GET /{db}/_session` on a new connection, with the
/// credential headers the library builds for the upgrade (and no upgrade headers).
async fn who_am_i(address: &Address, options: &Options) -> WhoAmI {
    let db = database_name(address);
    let target = Address {
        path: format!("/{db}/_session"),
        ..address.clone()
    };
    let session_options = Options {
        ws_protocols: Vec::new(),
        ..options.clone()
    };
    let request = match handshake_request::build_request(
        &target,
        &session_options,
        &generate_key(),
        &Attempt::default(),
    ) {
        Ok(r) => r,
        Err(e) => return WhoAmI::Unknown(e.message),
    };
    let bytes = plain_get(&request);
    let mut trace = ConnectTrace::default();
    let tcp = match connect_stream(&target, options, &mut trace).await {
        Ok(t) => t,
        Err((_, e)) => return WhoAmI::Unknown(e.message),
    };
    let mut stream: Transport = if target.is_tls() {
        let config = match tls::client::config(options) {
            Ok(c) => c,
            Err(e) => return WhoAmI::Unknown(e.message),
        };
        match tls::client::handshake(tcp, &target.host, config).await {
            Ok(s) => Transport::Tls(Box::new(s)),
            Err(e) => return WhoAmI::Unknown(e.message),
        }
    } else {
        tcp
    };
    if let Err(e) = stream.write_all(&bytes).await {
        return WhoAmI::Unknown(e.to_string());
    }
    let (response, mut body) = match handshake_response::read_response(&mut stream).await {
        Ok(r) => r,
        Err(e) => return WhoAmI::Unknown(e.message),
    };
    if response.status != 200 {
        return WhoAmI::Unknown(format!(
            "GET /{db}/_session answered HTTP {}",
            response.status
        ));
    }
    let want = handshake_response::content_length(&response)
        .unwrap_or(handshake_response::MAX_ERROR_BODY)
        .min(handshake_response::MAX_ERROR_BODY);
    let mut chunk = [0u8; 4096];
    while body.len() < want {
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => break,
            Ok(n) => body.extend_from_slice(&chunk[..n]),
        }
    }
    session_user(&body)
}

/// The user named by a `_session` answer: `userCtx.name` (null = guest).
pub fn session_user(body: &[u8]) -> WhoAmI {
    let Ok(v) = serde_json::from_slice::<Value>(body) else {
        return WhoAmI::Unknown("the _session answer is not JSON".into());
    };
    match v.pointer("/userCtx/name") {
        Some(Value::String(name)) if !name.is_empty() => WhoAmI::User(name.clone()),
        Some(Value::Null) | Some(Value::String(_)) => WhoAmI::Guest,
        _ => WhoAmI::Unknown("the _session answer has no userCtx.name".into()),
    }
}

/// The upgrade request turned into a plain `GET`: the same request line and credential headers,
/// without the WebSocket headers, with `Connection: close`.
fn plain_get(request: &UpgradeRequest) -> Vec<u8> {
    let mut out = Vec::new();
    for line in request.bytes.split(|&b| b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            continue;
        }
        let name = line
            .split(|&b| b == b':')
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase();
        if name.starts_with(b"sec-websocket-") || name == b"connection" || name == b"upgrade" {
            continue;
        }
        out.extend_from_slice(line);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"Connection: close\r\n\r\n");
    out
}

/// The database name: the path's first segment (`/db/_blipsync` → `db`).
pub fn database_name(address: &Address) -> String {
    address
        .path
        .trim_start_matches('/')
        .split(['/', '?'])
        .next()
        .unwrap_or("")
        .to_string()
}

// ---------------------------------------------------------------------------------------------
// The verdict
// ---------------------------------------------------------------------------------------------

/// Which credentials the options send.
fn credentials(options: &Options) -> Option<&'static str> {
    let auth = options.auth.as_ref()?;
    match auth.kind {
        AuthType::Basic if auth.username.is_some() && auth.password.is_some() => {
            Some("Basic credentials")
        }
        AuthType::Session if auth.token.is_some() => Some("session cookie"),
        AuthType::OpenIdConnect if auth.token.is_some() => Some("bearer token"),
        _ => None,
    }
}

fn v(ok: bool, kind: &'static str, text: impl Into<String>) -> Verdict {
    Verdict {
        ok,
        kind,
        text: text.into(),
    }
}

/// Chooses the verdict from what happened: the failed step, the HTTP status with SG's `reason`,
/// and the C4Error the library maps.
pub fn verdict(report: &Report) -> Verdict {
    let Some((step, error)) = &report.failed else {
        return success_verdict(report);
    };
    if let Some(response) = &report.response {
        if *step == Step::Response && response.status != 101 {
            return http_verdict(report, response);
        }
    }
    let host = &report.address.host;
    if *step == Step::Upgrade {
        if error.code == 403 {
            return v(
                false,
                "protocol_not_offered",
                format!(
                    "101, but the server chose the subprotocol {:?}, which was not offered ({}): \
                     LiteCore refuses this with {{WebSocket, 403}}",
                    report.protocol.as_deref().unwrap_or(""),
                    report.options.ws_protocols.join(",")
                ),
            );
        }
        return v(
            false,
            "bad_upgrade",
            format!(
                "the server's 101 is not a valid WebSocket upgrade: {}",
                error.message
            ),
        );
    }
    if error.domain == Domain::Network {
        let code = error.code;
        let tls = report.tls.as_ref();
        let now = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        let chain = tls.map(|t| t.chain.as_slice()).unwrap_or_default();
        let leaf = chain.first();
        let trust = tls
            .map(|t| t.trust_source.clone())
            .unwrap_or_else(|| "the trusted roots".into());
        if code == NetworkCode::TlsCertExpired as i32 {
            let expired = chain.iter().find(|c| c.not_after_unix < now).or(leaf);
            return v(
                false,
                "tls_expired",
                match expired {
                    Some(c) => format!(
                        "TLS: certificate expired on {} ({})",
                        c.not_after, c.subject
                    ),
                    None => format!("TLS: certificate expired ({})", error.message),
                },
            );
        }
        if code == NetworkCode::TlsCertUnknownRoot as i32 {
            let text = match chain.last() {
                Some(top) if top.self_signed && chain.len() == 1 => format!(
                    "TLS: certificate not trusted: '{}' is self-signed and not among {trust}; \
                     pass it with --ca FILE (rootCerts)",
                    top.subject
                ),
                Some(top) => format!(
                    "TLS: certificate not trusted: the chain ends at '{}' issued by '{}', which \
                     is not among {trust}; pass that CA with --ca FILE (rootCerts)",
                    top.subject, top.issuer
                ),
                None => format!(
                    "TLS: certificate not trusted: its issuer is not among {trust} ({})",
                    error.message
                ),
            };
            return v(false, "tls_untrusted", text);
        }
        if code == NetworkCode::TlsCertNameMismatch as i32 {
            let names = leaf.map(|c| c.sans.join(", ")).unwrap_or_default();
            return v(
                false,
                "tls_name_mismatch",
                format!(
                    "TLS: the certificate is not valid for '{host}' (it names: {})",
                    if names.is_empty() {
                        "no subject alternative names"
                    } else {
                        &names
                    }
                ),
            );
        }
        if code == NetworkCode::TlsCertUntrusted as i32 {
            if let Some(c) = chain.iter().find(|c| c.not_before_unix > now) {
                return v(
                    false,
                    "tls_untrusted",
                    format!(
                        "TLS: certificate not trusted: '{}' is not valid before {}",
                        c.subject, c.not_before
                    ),
                );
            }
            return v(
                false,
                "tls_untrusted",
                format!("TLS: certificate not trusted ({})", error.message),
            );
        }
        if code == NetworkCode::TlsCertRevoked as i32 {
            return v(false, "tls_revoked", "TLS: the certificate is revoked");
        }
        if code == NetworkCode::TlsCertRequiredByPeer as i32 {
            return v(
                false,
                "tls_client_cert_required",
                "TLS: the server requires a client certificate (not supported by check)",
            );
        }
        if (6..=15).contains(&code) {
            return v(
                false,
                "tls_failed",
                format!("TLS: handshake failed: {}", error.message),
            );
        }
        if code == NetworkCode::ConnectionRefused as i32 {
            let addrs: Vec<String> = report
                .connect
                .attempts
                .iter()
                .map(|a| a.addr.to_string())
                .collect();
            return v(
                false,
                "connection_refused",
                format!(
                    "connection refused: nothing listens on {} (is SG running, is the port right?)",
                    addrs.join(", ")
                ),
            );
        }
        if code == NetworkCode::UnknownHost as i32 {
            return v(
                false,
                "unknown_host",
                format!("unknown host '{host}': DNS has no address for it"),
            );
        }
        if code == NetworkCode::DnsFailure as i32 {
            return v(
                false,
                "dns_failure",
                format!("DNS lookup of '{host}' failed: {}", error.message),
            );
        }
        if code == NetworkCode::Timeout as i32 {
            return v(false, "timeout", error.message.clone());
        }
    }
    if error.domain == Domain::LiteCore {
        return v(false, "bad_options", error.message.clone());
    }
    v(
        false,
        "network_error",
        format!("{} failed: {}", step.name(), error.message),
    )
}

fn success_verdict(report: &Report) -> Verdict {
    let protocol = report.protocol.as_deref().unwrap_or("no subprotocol");
    let sent = credentials(&report.options);
    let mut text = match (&report.whoami, sent) {
        (Some(WhoAmI::User(name)), _) => {
            format!("OK: upgraded ({protocol}); authenticated as user {name}")
        }
        (Some(WhoAmI::Guest), None) | (Some(WhoAmI::Unknown(_)) | None, None) => {
            format!("OK: upgraded ({protocol}); no credentials sent: accepted as guest")
        }
        (Some(WhoAmI::Guest), Some(kind)) => format!(
            "OK: upgraded ({protocol}), but as GUEST: the {kind} was not used by SG{}",
            if kind == "bearer token" {
                " (is OpenID Connect or JWT configured for this database?)"
            } else {
                ""
            }
        ),
        (Some(WhoAmI::Unknown(_)) | None, Some(kind)) => {
            let user = report
                .options
                .auth
                .as_ref()
                .and_then(|a| a.username.as_deref())
                .filter(|_| kind == "Basic credentials")
                .map(|u| format!(" for user {u}"))
                .unwrap_or_default();
            format!("OK: upgraded ({protocol}); {kind}{user} sent and accepted")
        }
    };
    if report.protocol.as_deref() == Some("BLIP_3+CBMobile_2") {
        text.push_str(
            "; note: SG chose BLIP_3+CBMobile_2 (SG 2.8): LiteCore 3.3+ offers only CBMobile_3/4 \
             and would be refused",
        );
    }
    v(true, "ok", text)
}

fn http_verdict(report: &Report, response: &Response) -> Verdict {
    let status = response.status;
    let reason = report.failure_message.clone().unwrap_or_default();
    let db = database_name(&report.address);
    let sent = credentials(&report.options);
    let challenged = response.header("www-authenticate").is_some();
    let offered = report.options.ws_protocols.join(",");
    match status {
        401 => {
            if reason == "Session Invalid" {
                return v(
                    false,
                    "session_invalid",
                    "401: session unknown or expired (Session Invalid)",
                );
            }
            if reason == "Session no longer valid for user" {
                return v(
                    false,
                    "session_revoked",
                    "401: session no longer valid: the user's password changed or the user was \
                     disabled (Session no longer valid for user)",
                );
            }
            // SG 3.1+ answers an unknown database with 401 and no challenge (names do not leak).
            let no_db_hint = if challenged {
                String::new()
            } else {
                format!(
                    " — no WWW-Authenticate challenge, which is how SG 3.1+ answers when there \
                     is no database named '{db}'"
                )
            };
            if reason == "Login required" {
                let cookie_name = report
                    .options
                    .auth
                    .as_ref()
                    .and_then(|a| a.cookie_name.as_deref())
                    .unwrap_or(crate::client::cookies::SESSION_COOKIE);
                let text = match sent {
                    Some("session cookie") => format!(
                        "401: SG did not use the session cookie '{cookie_name}' and wants \
                         credentials (Login required): if the database sets another \
                         session_cookie_name, pass it with --cookie-name{no_db_hint}"
                    ),
                    None => format!(
                        "401: SG wants Basic credentials or a session cookie (Login required){no_db_hint}"
                    ),
                    Some(kind) => format!(
                        "401: SG did not use the {kind} and wants credentials (Login required){no_db_hint}"
                    ),
                };
                return v(false, "login_required", text);
            }
            if reason == "Invalid login" {
                let text = match sent {
                    Some("bearer token") => format!(
                        "401: the bearer token was refused (Invalid login){no_db_hint}"
                    ),
                    Some("session cookie") => format!(
                        "401: the session was refused (Invalid login){no_db_hint}"
                    ),
                    _ => format!("401: wrong user name or password (Invalid login){no_db_hint}"),
                };
                return v(false, "invalid_login", text);
            }
            v(false, "unauthorized", format!("401: unauthorized ({reason}){no_db_hint}"))
        }
        404 => {
            if reason.contains("no such database") {
                v(
                    false,
                    "no_database",
                    format!("404: no database named '{db}' ({reason})"),
                )
            } else {
                v(
                    false,
                    "not_found",
                    format!("404: not found ({reason}); is this a Sync Gateway public port and is the URL path right?"),
                )
            }
        }
        500 if reason.contains("only speak") => v(
            false,
            "protocol_mismatch",
            format!("500: SG speaks none of the offered protocols (offered {offered}; SG: {reason})"),
        ),
        403 if report.failure_message.as_deref() == Some(response.reason.as_str())
            || reason.is_empty() =>
        {
            v(
                false,
                "protocol_mismatch",
                format!(
                    "403: SG refused the upgrade without a reason: SG 2.8/3.0 answer this way when \
                     they speak none of the offered protocols (offered {offered})"
                ),
            )
        }
        403 => v(false, "forbidden", format!("403: forbidden ({reason})")),
        503 => v(
            false,
            "unavailable",
            format!("503: SG is unavailable ({reason}); LiteCore retries this"),
        ),
        426 => v(
            false,
            "upgrade_required",
            format!(
                "426: the WebSocket upgrade was not possible ({reason}): a proxy or load balancer \
                 may drop the Upgrade/Connection headers, or the server speaks HTTP/2 only"
            ),
        ),
        301 | 302 | 303 | 307 | 308 => {
            let location = response
                .header("location")
                .map(|l| String::from_utf8_lossy(l).into_owned())
                .unwrap_or_default();
            v(
                false,
                "redirect",
                format!(
                    "{status}: redirect to {location:?}; litecore-ws follows up to 10 redirects \
                     (credentials only to the same origin): check that URL instead"
                ),
            )
        }
        200..=299 => v(
            false,
            "not_websocket",
            format!("HTTP {status} instead of a WebSocket upgrade: this is not a Sync Gateway _blipsync endpoint"),
        ),
        _ => v(false, "http_error", format!("HTTP {status}: {reason}")),
    }
}

// ---------------------------------------------------------------------------------------------
// Output
// ---------------------------------------------------------------------------------------------

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

fn auth_summary(o: &Options) -> String {
    match &o.auth {
        None => "none (guest)".to_string(),
        Some(a) => match a.kind {
            AuthType::Basic => format!(
                "Basic, user {}, password ***",
                a.username.as_deref().unwrap_or("?")
            ),
            AuthType::Session => format!(
                "Session, cookie {}=***",
                a.cookie_name
                    .as_deref()
                    .unwrap_or(crate::client::cookies::SESSION_COOKIE)
            ),
            AuthType::OpenIdConnect => "OpenID Connect, Authorization: Bearer ***".to_string(),
            AuthType::ClientCert => "Client Cert".to_string(),
        },
    }
}

fn domain_name(d: Domain) -> &'static str {
    match d {
        Domain::LiteCore => "LiteCore",
        Domain::Posix => "POSIX",
        Domain::Network => "Network",
        Domain::WebSocket => "WebSocket",
    }
}

/// Milliseconds with microsecond precision, for JSON.
fn json_ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 1_000_000.0).round() / 1000.0
}

/// Header lines of a masked head (`Name: value` after the first line) as pairs.
fn header_pairs(masked: &str) -> Vec<(String, String)> {
    masked
        .lines()
        .skip(1)
        .filter(|l| !l.is_empty())
        .map(|l| match l.split_once(':') {
            Some((n, v)) => (n.to_string(), v.trim_start().to_string()),
            None => (l.to_string(), String::new()),
        })
        .collect()
}

/// The report as text for a person.
pub fn render_text(r: &Report) -> String {
    let mut out = String::new();
    let mut line = |s: String| {
        out.push_str(&s);
        out.push('\n');
    };
    let a = &r.address;
    line(format!("litecore-ws check {}", r.url));
    line(format!(
        "  address    {}://{}:{}{}",
        a.scheme, a.host, a.port, a.path
    ));
    line(format!("  auth       {}", auth_summary(&r.options)));
    line(format!("  protocols  {}", r.options.ws_protocols.join(",")));
    if let Some(p) = &r.options.proxy {
        line(format!("  proxy      {}", proxy_display(p)));
    }
    for (n, val) in &r.options.headers {
        let shown = if n.eq_ignore_ascii_case("authorization")
            || n.eq_ignore_ascii_case("cookie")
            || n.eq_ignore_ascii_case("proxy-authorization")
        {
            handshake_request::mask_value(n, val.as_bytes())
        } else {
            val.clone()
        };
        line(format!("  header     {n}: {shown}"));
    }
    for note in &r.notes {
        line(format!("  note       {note}"));
    }

    // 1. DNS and TCP.
    let c = &r.connect;
    match &c.resolved {
        Some((addrs, took)) => {
            let list: Vec<String> = addrs.iter().map(|s| s.ip().to_string()).collect();
            if c.ip_literal {
                line(format!("1. DNS       {} (IP address, no lookup)", a.host));
            } else {
                line(format!(
                    "1. DNS       {} -> {} ({})",
                    a.host,
                    list.join(", "),
                    ms(*took)
                ));
            }
        }
        None => line(format!("1. DNS       {} -> (failed)", a.host)),
    }
    for attempt in &c.attempts {
        match &attempt.error {
            None => line(format!(
                "   TCP       connected to {} in {}",
                attempt.addr,
                ms(attempt.elapsed)
            )),
            Some(e) => line(format!(
                "   TCP       {} failed after {}: {}",
                attempt.addr,
                ms(attempt.elapsed),
                e.message
            )),
        }
    }
    if let Some(note) = &c.route_note {
        line(format!("   route     {note}"));
    }

    // 2. TLS.
    match &r.tls {
        None if !a.is_tls() => line("2. TLS       none (ws://)".to_string()),
        None => line("2. TLS       not reached".to_string()),
        Some(t) => {
            line(format!(
                "2. TLS       {}, {}{}",
                t.version.as_deref().unwrap_or("?"),
                t.cipher.as_deref().unwrap_or("?"),
                t.alpn
                    .as_deref()
                    .map(|p| format!(", ALPN {p}"))
                    .unwrap_or_default()
            ));
            if t.display_only {
                line("   (the certificates below come from a second handshake that accepts anything, ONLY to show them: litecore-ws refused this server)".to_string());
            }
            for (i, cert) in t.chain.iter().enumerate() {
                line(format!("   cert[{i}]   subject  {}", cert.subject));
                line(format!("             issuer   {}", cert.issuer));
                line(format!(
                    "             valid    {} .. {}",
                    cert.not_before, cert.not_after
                ));
                if !cert.sans.is_empty() {
                    line(format!("             SANs     {}", cert.sans.join(", ")));
                }
                if cert.self_signed {
                    line("             (self-signed)".to_string());
                }
            }
            for e in &t.chain_errors {
                line(format!("   cert      {e}"));
            }
            if t.trusted {
                line(format!(
                    "   trust     trusted: verified against {}",
                    t.trust_source
                ));
            } else {
                let why = match &r.failed {
                    Some((Step::Tls, e)) => e.message.clone(),
                    _ => "not verified".into(),
                };
                line(format!(
                    "   trust     NOT trusted (verified against {}): {why}",
                    t.trust_source
                ));
            }
            if let Some(pinned) = t.pinned_in_chain {
                line(format!(
                    "   pinned    the pinned certificate is {}in the server's chain (not enforced by this build)",
                    if pinned { "" } else { "NOT " }
                ));
            }
        }
    }

    // 3. Request.
    if let Some(req) = &r.request {
        let mut lines = req.lines().filter(|l| !l.is_empty());
        if let Some(first) = lines.next() {
            line(format!("3. Request   {first}"));
        }
        for l in lines {
            line(format!("             {l}"));
        }
    }
    // 4. Response.
    if let Some(resp) = &r.response {
        let masked = resp.masked();
        let mut lines = masked.lines();
        if let Some(first) = lines.next() {
            line(format!("4. Response  {first}"));
        }
        for l in lines {
            line(format!("             {l}"));
        }
        if resp.status != 101 {
            if let Some(m) = &r.failure_message {
                line(format!("   reason    {m}"));
            }
        }
    }
    // 5. Protocol.
    if r.response.as_ref().is_some_and(|x| x.status == 101) {
        line(format!(
            "5. Protocol  {}",
            r.protocol.as_deref().unwrap_or("(none chosen)")
        ));
    }
    if let Some(close) = &r.close {
        line(format!("   close     {close}"));
    }
    match &r.whoami {
        Some(WhoAmI::User(u)) => line(format!(
            "   user      {u} (GET /{}/_session)",
            database_name(a)
        )),
        Some(WhoAmI::Guest) => line(format!(
            "   user      GUEST (GET /{}/_session)",
            database_name(a)
        )),
        Some(WhoAmI::Unknown(why)) => line(format!("   user      unknown: {why}")),
        None => {}
    }
    if let Some((step, e)) = &r.failed {
        line(format!(
            "   error     at step {}: C4Error {{{}, {}}} {}",
            step.name(),
            domain_name(e.domain),
            e.code,
            e.message
        ));
    }
    if let Some(verdict) = &r.verdict {
        line(String::new());
        line(verdict.text.clone());
    }
    out
}

/// The report as one JSON object.
pub fn render_json(r: &Report) -> Value {
    let a = &r.address;
    let c = &r.connect;
    let mut steps = Vec::new();
    let failed_step = r.failed.as_ref().map(|(s, _)| *s);
    let error_of = |s: Step| -> Value {
        match &r.failed {
            Some((f, e)) if *f == s => Value::String(e.message.clone()),
            _ => Value::Null,
        }
    };
    if c.resolved.is_some() || failed_step == Some(Step::Dns) {
        let (addrs, took) = c
            .resolved
            .as_ref()
            .map(|(a, t)| (a.iter().map(|s| s.ip().to_string()).collect(), Some(*t)))
            .unwrap_or((Vec::<String>::new(), None));
        steps.push(json!({
            "step": "dns",
            "ok": c.resolved.is_some(),
            "host": a.host,
            "ip_literal": c.ip_literal,
            "addresses": addrs,
            "ms": took.map(json_ms),
            "error": error_of(Step::Dns),
        }));
    }
    if !c.attempts.is_empty() {
        let attempts: Vec<Value> = c
            .attempts
            .iter()
            .map(|t| {
                json!({
                    "address": t.addr.to_string(),
                    "ms": json_ms(t.elapsed),
                    "error": t.error.as_ref().map(|e| e.message.clone()),
                })
            })
            .collect();
        let connected = c
            .attempts
            .iter()
            .find(|t| t.error.is_none() && failed_step != Some(Step::Tcp))
            .map(|t| t.addr.to_string());
        steps.push(json!({
            "step": "tcp",
            "ok": connected.is_some(),
            "connected": connected,
            "route": c.route_note.as_deref().unwrap_or("direct"),
            "attempts": attempts,
            "error": error_of(Step::Tcp),
        }));
    }
    if let Some(t) = &r.tls {
        let chain: Vec<Value> = t
            .chain
            .iter()
            .map(|cert| {
                json!({
                    "subject": cert.subject,
                    "issuer": cert.issuer,
                    "not_before": cert.not_before,
                    "not_after": cert.not_after,
                    "sans": cert.sans,
                    "self_signed": cert.self_signed,
                    "ca": cert.is_ca,
                })
            })
            .collect();
        steps.push(json!({
            "step": "tls",
            "ok": t.trusted,
            "version": t.version,
            "cipher_suite": t.cipher,
            "alpn": t.alpn,
            "chain": chain,
            "chain_display_only": t.display_only,
            "trusted": t.trusted,
            "trust_source": t.trust_source,
            "pinned_cert_in_chain": t.pinned_in_chain,
            "error": error_of(Step::Tls),
        }));
    }
    let request = r.request.as_ref().map(|m| {
        json!({
            "line": m.lines().next().unwrap_or(""),
            "headers": header_pairs(m).into_iter().map(|(n, v)| json!([n, v])).collect::<Vec<_>>(),
        })
    });
    if r.request.is_some() {
        steps.push(json!({"step": "request", "ok": failed_step != Some(Step::Request), "error": error_of(Step::Request)}));
    }
    let response = r.response.as_ref().map(|resp| {
        let masked = resp.masked();
        json!({
            "status": resp.status,
            "reason": resp.reason,
            "headers": header_pairs(&masked).into_iter().map(|(n, v)| json!([n, v])).collect::<Vec<_>>(),
            "message": r.failure_message,
        })
    });
    if r.response.is_some() || failed_step == Some(Step::Response) {
        steps.push(json!({
            "step": "response",
            "ok": r.response.as_ref().is_some_and(|x| x.status == 101),
            "status": r.response.as_ref().map(|x| x.status),
            "error": error_of(Step::Response),
        }));
    }
    if failed_step == Some(Step::Upgrade) || r.close.is_some() {
        steps.push(json!({"step": "upgrade", "ok": failed_step != Some(Step::Upgrade), "protocol": r.protocol, "error": error_of(Step::Upgrade)}));
    }
    if let Some(close) = &r.close {
        steps.push(json!({"step": "close", "ok": true, "detail": close}));
    }
    let whoami = match &r.whoami {
        Some(WhoAmI::User(u)) => json!({"user": u, "guest": false}),
        Some(WhoAmI::Guest) => json!({"user": null, "guest": true}),
        Some(WhoAmI::Unknown(why)) => json!({"user": null, "guest": null, "error": why}),
        None => Value::Null,
    };
    let c4error = r.failed.as_ref().map(|(_, e)| {
        json!({
            "domain": domain_name(e.domain),
            "domain_code": e.domain as u8,
            "code": e.code,
            "message": e.message,
        })
    });
    let verdict = r.verdict.as_ref();
    json!({
        "ok": r.ok(),
        "url": r.url,
        "address": {"scheme": a.scheme, "host": a.host, "port": a.port, "path": a.path},
        "auth": auth_summary(&r.options),
        "protocols_offered": r.options.ws_protocols,
        "notes": r.notes,
        "steps": steps,
        "request": request,
        "response": response,
        "status": r.response.as_ref().map(|x| x.status),
        "protocol": r.protocol,
        "whoami": whoami,
        "verdict": verdict.map(|v| json!({"kind": v.kind, "text": v.text})),
        "c4error": c4error,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Config, UsageError> {
        match parse_args(args)? {
            Command::Check(c) => Ok(*c),
            Command::Help => panic!("help"),
        }
    }

    #[test]
    fn url_mapping() {
        let a = parse_check_url("ws://sg.example:4984/db").unwrap();
        assert_eq!(
            (a.scheme.as_str(), a.host.as_str(), a.port, a.path.as_str()),
            ("ws", "sg.example", 4984, "/db/_blipsync")
        );
        let a = parse_check_url("https://sg.example/db/").unwrap();
        assert_eq!(
            (a.scheme.as_str(), a.port, a.path.as_str()),
            ("wss", 443, "/db/_blipsync")
        );
        let a = parse_check_url("wss://[::1]:4984/db/_blipsync").unwrap();
        assert_eq!((a.host.as_str(), a.path.as_str()), ("::1", "/db/_blipsync"));
        let a = parse_check_url("ws://h:1/db?x=1").unwrap();
        assert_eq!(a.path, "/db/_blipsync?x=1");
        for bad in [
            "sg:4984/db",
            "ftp://h/db",
            "ws://h:4984",
            "ws://h:4984/",
            "ws://u:p@h/db",
            "ws://h:0/db",
            "ws://h:99999/db",
            "ws://:80/db",
        ] {
            assert!(parse_check_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn basic_auth_and_defaults() {
        let c = parse(&[
            "check",
            "ws://h:4984/db",
            "--user",
            "alice",
            "--password",
            "s3cret",
        ])
        .unwrap();
        let auth = c.options.auth.as_ref().unwrap();
        assert_eq!(auth.kind, AuthType::Basic);
        assert_eq!(auth.username.as_deref(), Some("alice"));
        assert_eq!(auth.password.as_ref().unwrap().expose(), b"s3cret");
        assert_eq!(
            c.options.ws_protocols,
            vec!["BLIP_3+CBMobile_3", "BLIP_3+CBMobile_2"]
        );
        assert_eq!(c.timeout, CONNECT_TIMEOUT);
        assert!(!c.json);
        assert!(!c.options.accept_all_certs);
        assert_eq!(c.options.proxy, None);
        // The Debug form (what could end up in a log) masks the password.
        assert!(!format!("{:?}", c.options).contains("s3cret"));
    }

    #[test]
    fn session_bearer_headers_protocols() {
        let c = parse(&[
            "check",
            "ws://h:1/db",
            "--session",
            "abc",
            "--cookie-name",
            "MySess",
            "--json",
            "--timeout=2.5",
        ])
        .unwrap();
        let auth = c.options.auth.unwrap();
        assert_eq!(auth.kind, AuthType::Session);
        assert_eq!(auth.token.unwrap().expose(), b"abc");
        assert_eq!(auth.cookie_name.as_deref(), Some("MySess"));
        assert!(c.json);
        assert_eq!(c.timeout, Duration::from_millis(2500));

        let c = parse(&[
            "check",
            "ws://h:1/db",
            "--bearer",
            "tok",
            "--header",
            "X-Zed:  z value ",
            "--header",
            "User-Agent: MyApp/1",
            "--protocols",
            " BLIP_3+CBMobile_4 ,BLIP_3+CBMobile_3,",
            "--insecure",
            "--proxy",
            "http://bob:pw@proxy.local:3128",
        ])
        .unwrap();
        let auth = c.options.auth.unwrap();
        assert_eq!(auth.kind, AuthType::OpenIdConnect);
        assert_eq!(auth.token.unwrap().expose(), b"tok");
        // Byte order of names, as a Fleece dict stores them.
        assert_eq!(
            c.options.headers,
            vec![
                ("User-Agent".to_string(), "MyApp/1".to_string()),
                ("X-Zed".to_string(), "z value".to_string())
            ]
        );
        assert_eq!(
            c.options.ws_protocols,
            vec!["BLIP_3+CBMobile_4", "BLIP_3+CBMobile_3"]
        );
        assert!(c.options.accept_all_certs);
        let p = c.options.proxy.unwrap();
        assert_eq!(p.kind, ProxyType::Http);
        assert_eq!(
            (p.host.as_deref(), p.port, p.username.as_deref()),
            (Some("proxy.local"), Some(3128), Some("bob"))
        );
        assert_eq!(p.password.as_ref().unwrap().expose(), b"pw");
        assert_eq!(proxy_display(&p), "http://bob:***@proxy.local:3128");
        let p = parse_proxy_url("https://[::1]").unwrap();
        assert_eq!(
            (p.kind, p.host.as_deref(), p.port),
            (ProxyType::Https, Some("::1"), Some(443))
        );
    }

    #[test]
    fn certificates_from_files() {
        let dir = std::env::temp_dir().join(format!("lcws-check-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let garbage = dir.join("garbage.pem");
        std::fs::write(&garbage, b"not a certificate").unwrap();
        let g = garbage.to_str().unwrap();
        for flag in ["--ca", "--pinned-cert"] {
            let e = parse(&["check", "ws://h:1/db", flag, g]).unwrap_err();
            assert!(matches!(&e, UsageError::Invalid(w, _) if w == flag), "{e}");
        }
        let e = parse(&["check", "ws://h:1/db", "--ca", "/nonexistent/ca.pem"]).unwrap_err();
        assert!(e.to_string().contains("cannot read"), "{e}");
        // A DER sequence that is no certificate is refused by the library's own parser; a real
        // certificate is taken as it is.
        let junk = dir.join("junk.der");
        std::fs::write(&junk, [0x30, 0x03, 1, 2, 3]).unwrap();
        let e = parse(&[
            "check",
            "wss://h:1/db",
            "--pinned-cert",
            junk.to_str().unwrap(),
        ])
        .unwrap_err();
        assert!(e.to_string().contains("pinnedCert"), "{e}");
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = rcgen::CertificateParams::new(vec!["h".to_string()])
            .unwrap()
            .self_signed(&key)
            .unwrap();
        let der = dir.join("c.der");
        std::fs::write(&der, cert.der()).unwrap();
        let c = parse(&[
            "check",
            "wss://h:1/db",
            "--pinned-cert",
            der.to_str().unwrap(),
        ])
        .unwrap();
        assert_eq!(c.options.pinned_cert.as_deref(), Some(cert.der().as_ref()));
        assert!(c.options.root_certs.is_none());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn bad_usage() {
        let cases: &[&[&str]] = &[
            &[],
            &["chek", "ws://h/db"],
            &["check"],
            &["check", "ws://h:1/db", "--user", "a"],
            &["check", "ws://h:1/db", "--password", "a"],
            &["check", "ws://h:1/db", "--user", "a:b", "--password", "p"],
            &[
                "check",
                "ws://h:1/db",
                "--user",
                "a",
                "--password",
                "p",
                "--bearer",
                "t",
            ],
            &["check", "ws://h:1/db", "--session", "s", "--bearer", "t"],
            &["check", "ws://h:1/db", "--cookie-name", "X"],
            &[
                "check",
                "ws://h:1/db",
                "--session",
                "s",
                "--cookie-name",
                "bad name",
            ],
            &["check", "ws://h:1/db", "--session", "a;b"],
            &["check", "ws://h:1/db", "--header", "NoColon"],
            &["check", "ws://h:1/db", "--header", "Bad Name: x"],
            &["check", "ws://h:1/db", "--header", "Host: evil"],
            &[
                "check",
                "ws://h:1/db",
                "--header",
                "Sec-WebSocket-Protocol: x",
            ],
            &[
                "check",
                "ws://h:1/db",
                "--header",
                "X-A: 1",
                "--header",
                "X-A: 2",
            ],
            &["check", "ws://h:1/db", "--protocols", " , "],
            &["check", "ws://h:1/db", "--timeout", "0"],
            &["check", "ws://h:1/db", "--timeout", "soon"],
            &["check", "ws://h:1/db", "--timeout"],
            &["check", "ws://h:1/db", "--proxy", "socks5://p:1"],
            &["check", "ws://h:1/db", "--proxy", "http://p:0"],
            &["check", "ws://h:1/db", "--frobnicate"],
            &["check", "ws://h:1/db", "-x"],
            &["check", "--", "ws://h:1/db"],
            &["check", "ws://h:1/db", "ws://other/db"],
            &["check", "ws://h:1/db", "--json=yes"],
            &[
                "check",
                "ws://h:1/db",
                "--user",
                "a",
                "--user",
                "b",
                "--password",
                "p",
            ],
        ];
        for args in cases {
            assert!(parse(args).is_err(), "{args:?} should be refused");
        }
        // Usage errors never echo a secret given on the command line.
        let e = parse(&["check", "ws://h:1/db", "--session", "sekrit;x"]).unwrap_err();
        assert!(!e.to_string().contains("sekrit"), "{e}");
        assert!(matches!(parse_args(&["--help"]), Ok(Command::Help)));
        assert!(matches!(parse_args(&["check", "-h"]), Ok(Command::Help)));
    }

    fn report_for(args: &[&str]) -> Report {
        Report::new(&parse(args).unwrap())
    }

    fn answer(status: u16, headers: &[(&str, &str)]) -> Response {
        Response {
            status,
            reason: match status {
                401 => "Unauthorized",
                403 => "Forbidden",
                404 => "Not Found",
                500 => "Internal Server Error",
                503 => "Service Unavailable",
                _ => "X",
            }
            .into(),
            headers: headers
                .iter()
                .map(|(n, v)| (n.to_string(), v.as_bytes().to_vec()))
                .collect(),
        }
    }

    /// A report that failed with an HTTP answer whose body gave `message`, as `run` records it.
    fn http_failure(mut r: Report, response: Response, message: &str) -> Verdict {
        r.failure_message = Some(message.into());
        r.failed = Some((
            Step::Response,
            TransportError::websocket(response.status as i32, message),
        ));
        r.response = Some(response);
        verdict(&r)
    }

    const CHALLENGE: (&str, &str) = ("Www-Authenticate", "Basic realm=\"Couchbase Sync Gateway\"");

    #[test]
    fn http_verdicts() {
        let guest = || report_for(&["check", "ws://h:1/db"]);
        let basic = || report_for(&["check", "ws://h:1/db", "--user", "a", "--password", "p"]);
        let session = || report_for(&["check", "ws://h:1/db", "--session", "s"]);
        let bearer = || report_for(&["check", "ws://h:1/db", "--bearer", "t"]);

        let v = http_failure(guest(), answer(401, &[CHALLENGE]), "Login required");
        assert_eq!(v.kind, "login_required");
        assert_eq!(
            v.text,
            "401: SG wants Basic credentials or a session cookie (Login required)"
        );
        assert!(!v.ok);
        // Without a challenge: SG 3.1+'s answer for an unknown database.
        let v = http_failure(guest(), answer(401, &[]), "Login required");
        assert_eq!(v.kind, "login_required");
        assert!(v.text.contains("no database named 'db'"), "{}", v.text);

        let v = http_failure(basic(), answer(401, &[CHALLENGE]), "Invalid login");
        assert_eq!(
            (v.kind, v.text.as_str()),
            (
                "invalid_login",
                "401: wrong user name or password (Invalid login)"
            )
        );
        let v = http_failure(bearer(), answer(401, &[]), "Invalid login");
        assert_eq!(v.kind, "invalid_login");
        assert!(
            v.text.starts_with("401: the bearer token was refused"),
            "{}",
            v.text
        );

        let v = http_failure(session(), answer(401, &[CHALLENGE]), "Session Invalid");
        assert_eq!(
            (v.kind, v.text.as_str()),
            (
                "session_invalid",
                "401: session unknown or expired (Session Invalid)"
            )
        );
        let v = http_failure(
            session(),
            answer(401, &[]),
            "Session no longer valid for user",
        );
        assert_eq!(v.kind, "session_revoked");

        let v = http_failure(guest(), answer(404, &[]), "no such database \"db\"");
        assert_eq!(
            (v.kind, v.text.as_str()),
            (
                "no_database",
                "404: no database named 'db' (no such database \"db\")"
            )
        );
        let v = http_failure(guest(), answer(404, &[]), "unknown URL");
        assert_eq!(v.kind, "not_found");

        let v = http_failure(
            guest(),
            answer(500, &[]),
            "I only speak BLIP_3+CBMobile_3,BLIP_3+CBMobile_2 protocols",
        );
        assert_eq!(v.kind, "protocol_mismatch");
        assert!(v.text.starts_with("500: SG speaks none of the offered protocols (offered BLIP_3+CBMobile_3,BLIP_3+CBMobile_2;"), "{}", v.text);
        // SG 2.8/3.0: 403 with no body (the message falls back to the status line's reason).
        let v = http_failure(guest(), answer(403, &[]), "Forbidden");
        assert_eq!(v.kind, "protocol_mismatch");
        assert!(v.text.starts_with("403:"));
        let v = http_failure(
            guest(),
            answer(403, &[]),
            "websocket: request Origin \"x\" is not authorized",
        );
        assert_eq!(v.kind, "forbidden");

        let v = http_failure(
            guest(),
            answer(503, &[]),
            "DB is currently under maintenance",
        );
        assert_eq!(v.kind, "unavailable");
        assert!(v.text.contains("DB is currently under maintenance"));
        let v = http_failure(guest(), answer(302, &[("Location", "wss://b/db")]), "Found");
        assert_eq!(v.kind, "redirect");
        assert!(v.text.contains("wss://b/db"));
        let v = http_failure(guest(), answer(418, &[]), "teapot");
        assert_eq!(
            (v.kind, v.text.as_str()),
            ("http_error", "HTTP 418: teapot")
        );
    }

    fn cert(subject: &str, issuer: &str, not_before: i64, not_after: i64) -> CertInfo {
        CertInfo {
            subject: subject.into(),
            issuer: issuer.into(),
            not_before: utc_text(not_before),
            not_after: utc_text(not_after),
            not_before_unix: not_before,
            not_after_unix: not_after,
            sans: vec!["DNS:localhost".into()],
            self_signed: subject == issuer,
            is_ca: false,
        }
    }

    fn tls_failure(chain: Vec<CertInfo>, code: NetworkCode) -> Verdict {
        let mut r = report_for(&["check", "wss://sg.example/db"]);
        r.tls = Some(TlsReport {
            chain,
            trust_source: "Mozilla's root certificates (webpki-roots)".into(),
            display_only: true,
            ..TlsReport::default()
        });
        r.failed = Some((
            Step::Tls,
            TransportError::network(code, "TLS handshake with sg.example: x"),
        ));
        verdict(&r)
    }

    #[test]
    fn tls_and_network_verdicts() {
        let past = 1_600_000_000; // 2020-09-13
        let v = tls_failure(
            vec![cert("CN=sg", "CN=ca", 1_500_000_000, past)],
            NetworkCode::TlsCertExpired,
        );
        assert_eq!(
            (v.kind, v.text.as_str()),
            (
                "tls_expired",
                "TLS: certificate expired on 2020-09-13 12:26:40 UTC (CN=sg)"
            )
        );
        let future = 4_000_000_000;
        let v = tls_failure(
            vec![cert("CN=sg", "CN=Test CA", past, future)],
            NetworkCode::TlsCertUnknownRoot,
        );
        assert_eq!(v.kind, "tls_untrusted");
        assert!(
            v.text.starts_with("TLS: certificate not trusted:"),
            "{}",
            v.text
        );
        assert!(
            v.text.contains("CN=Test CA") && v.text.contains("--ca"),
            "{}",
            v.text
        );
        let v = tls_failure(
            vec![cert("CN=me", "CN=me", past, future)],
            NetworkCode::TlsCertUnknownRoot,
        );
        assert!(v.text.contains("self-signed"), "{}", v.text);
        let v = tls_failure(
            vec![cert("CN=sg", "CN=ca", past, future)],
            NetworkCode::TlsCertNameMismatch,
        );
        assert_eq!(v.kind, "tls_name_mismatch");
        assert!(
            v.text.contains("'sg.example'") && v.text.contains("DNS:localhost"),
            "{}",
            v.text
        );
        let v = tls_failure(
            vec![cert("CN=sg", "CN=ca", future, future + 1)],
            NetworkCode::TlsCertUntrusted,
        );
        assert!(v.text.contains("not valid before"), "{}", v.text);
        let v = tls_failure(vec![], NetworkCode::TlsHandshakeFailed);
        assert_eq!(v.kind, "tls_failed");

        let mut r = report_for(&["check", "ws://127.0.0.1:9/db"]);
        r.connect.attempts.push(TcpAttempt {
            addr: "127.0.0.1:9".parse().unwrap(),
            elapsed: Duration::ZERO,
            error: None,
        });
        r.failed = Some((
            Step::Tcp,
            TransportError::network(
                NetworkCode::ConnectionRefused,
                "connect to 127.0.0.1:9: refused",
            ),
        ));
        let v = verdict(&r);
        assert_eq!(v.kind, "connection_refused");
        assert!(
            v.text
                .starts_with("connection refused: nothing listens on 127.0.0.1:9"),
            "{}",
            v.text
        );
        r.failed = Some((
            Step::Dns,
            TransportError::network(NetworkCode::UnknownHost, "x"),
        ));
        assert_eq!(verdict(&r).kind, "unknown_host");
        r.failed = Some((Step::Tcp, timed_out(Step::Tcp, Duration::from_secs(3))));
        let v = verdict(&r);
        assert_eq!(
            (v.kind, v.text.as_str()),
            ("timeout", "timed out after 3.0 s (during tcp)")
        );
        r.failed = Some((
            Step::Upgrade,
            TransportError::websocket(403, "Server did not accept protocol"),
        ));
        r.protocol = Some("BLIP_3+CBMobile_9".into());
        assert_eq!(verdict(&r).kind, "protocol_not_offered");
        r.failed = Some((Step::Upgrade, TransportError::websocket(1002, "bad accept")));
        assert_eq!(verdict(&r).kind, "bad_upgrade");
    }

    #[test]
    fn success_verdicts() {
        let mut r = report_for(&["check", "ws://h:1/db", "--user", "alice", "--password", "p"]);
        r.protocol = Some("BLIP_3+CBMobile_3".into());
        r.whoami = Some(WhoAmI::User("alice".into()));
        let v = verdict(&r);
        assert!(v.ok);
        assert_eq!(
            v.text,
            "OK: upgraded (BLIP_3+CBMobile_3); authenticated as user alice"
        );
        r.whoami = Some(WhoAmI::Unknown("x".into()));
        assert_eq!(
            verdict(&r).text,
            "OK: upgraded (BLIP_3+CBMobile_3); Basic credentials for user alice sent and accepted"
        );
        let mut r = report_for(&["check", "ws://h:1/db"]);
        r.protocol = Some("BLIP_3+CBMobile_3".into());
        r.whoami = Some(WhoAmI::Guest);
        assert_eq!(
            verdict(&r).text,
            "OK: upgraded (BLIP_3+CBMobile_3); no credentials sent: accepted as guest"
        );
        let mut r = report_for(&["check", "ws://h:1/db", "--bearer", "t"]);
        r.protocol = Some("BLIP_3+CBMobile_2".into());
        r.whoami = Some(WhoAmI::Guest);
        let v = verdict(&r);
        assert!(v.ok);
        assert!(
            v.text.contains("as GUEST") && v.text.contains("OpenID Connect"),
            "{}",
            v.text
        );
        assert!(v.text.contains("CBMobile_2 (SG 2.8)"), "{}", v.text);
    }

    #[test]
    fn helpers() {
        assert_eq!(utc_text(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(utc_text(951_782_400), "2000-02-29 00:00:00 UTC");
        assert_eq!(utc_text(4_102_444_799), "2099-12-31 23:59:59 UTC");
        assert_eq!(
            session_user(br#"{"ok":true,"userCtx":{"channels":{},"name":"bob"}}"#),
            WhoAmI::User("bob".into())
        );
        assert_eq!(session_user(br#"{"userCtx":{"name":null}}"#), WhoAmI::Guest);
        assert!(matches!(session_user(b"<html>"), WhoAmI::Unknown(_)));
        let a = parse_check_url("ws://h:1/my-db").unwrap();
        assert_eq!(database_name(&a), "my-db");
        let req = UpgradeRequest {
            bytes: b"GET /db/_session HTTP/1.1\r\nHost: h\r\nAuthorization: Basic eA==\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: k\r\n\r\n".to_vec(),
            key: "k".into(),
            protocols: vec![],
            masked: String::new(),
        };
        assert_eq!(
            plain_get(&req),
            b"GET /db/_session HTTP/1.1\r\nHost: h\r\nAuthorization: Basic eA==\r\nConnection: close\r\n\r\n".to_vec()
        );
    }

    #[test]
    fn output_never_shows_secrets() {
        let mut r = report_for(&[
            "check",
            "ws://h:1/db",
            "--session",
            "SESSIONID42",
            "--header",
            "Authorization: Bearer HDRTOKEN",
            "--proxy",
            "http://u:PROXYPW@p:1",
        ]);
        let config = parse(&["check", "ws://h:1/db", "--session", "SESSIONID42"]).unwrap();
        let request =
            handshake_request::build_request(&config.address, &r.options, "k", &Attempt::default());
        // The session cookie and an Authorization header together are refused by nothing; masked.
        r.request = Some(request.unwrap().masked);
        r.response = Some(answer(
            101,
            &[("Set-Cookie", "SyncGatewaySession=SESSIONID42; Path=/db")],
        ));
        r.protocol = Some("BLIP_3+CBMobile_3".into());
        r.verdict = Some(verdict(&r));
        let text = render_text(&r);
        let json = render_json(&r).to_string();
        for out in [&text, &json] {
            for secret in ["SESSIONID42", "HDRTOKEN", "PROXYPW"] {
                assert!(!out.contains(secret), "{secret} in {out}");
            }
        }
        assert!(text.contains("Cookie: SyncGatewaySession=***"), "{text}");
        assert!(text.contains("u:***@p:1"), "{text}");
    }
}
