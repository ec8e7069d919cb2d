//! The connected byte stream for a target: direct TCP, or a tunnel through an HTTP(S) proxy.
//!
//! [`connect`] is the one entry point: the connection actor calls it for every attempt (first
//! try, `challengeAuth` retry, each redirect), and diagnostics (the `check` CLI) call it to learn
//! the [`Route`]. What it hands back is the stream to the *origin*: the WebSocket upgrade (and,
//! for wss, the origin's TLS) then runs over it exactly as over a direct connection.
//!
//! Which proxy ([`select`]):
//! 1. The `proxy` option, when present: `type` "none" → direct (environment ignored too);
//!    "HTTP"/"HTTPS" → that proxy (port default 80 / 443); "SOCKS" → `{LiteCore, 19}`.
//!    `NO_PROXY` does not apply to it: it is the replicator's explicit configuration.
//! 2. Else the environment, read at every open (never cached), lower-case name first as curl:
//!    wss → `https_proxy`, `HTTPS_PROXY`; ws → `http_proxy`, `HTTP_PROXY`; then `all_proxy`,
//!    `ALL_PROXY`. Empty values count as unset. Values are `[http|https]://[user[:pass]@]host[:port]`
//!    (no scheme = http; port default 1080 for http, 443 for https, as curl; user and password
//!    percent-decoded). `no_proxy`/`NO_PROXY` ([`no_proxy_matches`]) bypasses the proxy.
//!
//! Through a proxy: TCP to the proxy (TLS to the proxy first for an HTTPS proxy, checked against
//! Mozilla's roots plus `rootCerts`), `CONNECT host:port HTTP/1.1` with `Host: host:port` and,
//! when credentials are configured, `Proxy-Authorization: Basic …` (preemptively, as LiteCore's
//! built-in transport does; so a 407 is final, there is no second try). A 2xx answer opens the
//! tunnel; anything else fails the attempt *before* the upgrade, without `gotHTTPResponse`: the
//! proxy is not the server, and LiteCore must not take the proxy's headers for Sync Gateway's.
//! Inside the tunnel the upgrade request uses the origin-form path and never carries the proxy's
//! credentials (LiteCore 4.1's built-in transport sends them there too, so the origin server sees the
//! proxy password).

use super::{request, response, tcp};
use crate::address::Address;
use crate::error::{close_code, LiteCoreCode, NetworkCode, Stage, TransportError};
use crate::litecore::Progress;
use crate::options::{Options, ProxyType, Secret};
use crate::stream::Stream;
use crate::{lcws_log, log::Level, tls};
use std::fmt;
use std::net::{IpAddr, SocketAddr};
use tokio::io::AsyncWriteExt;

/// The kind of proxy (SOCKS is refused before a proxy is chosen).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProxyKind {
    /// Plain TCP to the proxy, then CONNECT.
    Http,
    /// TLS to the proxy, then CONNECT inside it.
    Https,
}

/// Where the proxy setting came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProxySource {
    /// The replicator's `proxy` option.
    Option,
    /// An environment variable (its name, e.g. `https_proxy`).
    Env(String),
}

/// A proxy to tunnel through.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProxyServer {
    pub kind: ProxyKind,
    pub host: String,
    pub port: u16,
    pub username: Option<String>,
    pub password: Option<Secret>,
    pub source: ProxySource,
}

impl ProxyServer {
    /// Credentials are sent when a username is configured (the password may be empty).
    pub fn has_credentials(&self) -> bool {
        self.username.is_some()
    }
}

/// "HTTP proxy host:port" — never the credentials.
impl fmt::Display for ProxyServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.kind {
            ProxyKind::Http => "HTTP",
            ProxyKind::Https => "HTTPS",
        };
        write!(f, "{kind} proxy {}", authority(&self.host, self.port))
    }
}

/// How a connection reached its target.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Route {
    /// Straight to the target, at this socket address.
    Direct { addr: SocketAddr },
    /// Through `proxy`, whose socket address was `addr`.
    Proxy {
        proxy: ProxyServer,
        addr: SocketAddr,
    },
}

/// "direct to 127.0.0.1:4984" or "through HTTP proxy p:3128 (10.0.0.1:3128, from https_proxy,
/// with credentials)" — never the credentials themselves.
impl fmt::Display for Route {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Route::Direct { addr } => write!(f, "direct to {addr}"),
            Route::Proxy { proxy, addr } => {
                write!(f, "through {proxy} ({addr}, ")?;
                match &proxy.source {
                    ProxySource::Option => f.write_str("from the proxy option")?,
                    ProxySource::Env(var) => write!(f, "from {var}")?,
                }
                if proxy.has_credentials() {
                    f.write_str(", with credentials")?;
                }
                f.write_str(")")
            }
        }
    }
}

/// Connects to `target`: directly, or through the proxy [`select`] picks, and returns the stream
/// to the origin (before the origin's TLS and the upgrade) and the route taken.
///
/// Errors: the direct path maps like any connect (refused → `{Network, 19}`, unknown host →
/// `{Network, 2}`…); for a proxy the same codes name the proxy; the proxy's answer to CONNECT
/// maps by [`TransportError::from_proxy_status`]; a proxy that closes before answering is
/// `{Network, 18}`, one that answers garbage `{WebSocket, 1002}`; bad proxy settings are
/// `{LiteCore, 9}`, SOCKS `{LiteCore, 19}`.
///
/// Each step is reported to `progress` (DNS and TCP by [`tcp::connect`], then `ProxyTunnel`).
pub async fn connect(
    id: u64,
    target: &Address,
    options: &Options,
    progress: &mut (dyn FnMut(Progress<'_>) + Send),
) -> Result<(Stream, Route), TransportError> {
    let Some(proxy) = select(target, options)? else {
        let (tcp, addr) =
            tcp::connect(id, &target.host, target.port, None, options, progress).await?;
        return Ok((Stream::Tcp(tcp), Route::Direct { addr }));
    };
    let source = match &proxy.source {
        ProxySource::Option => "the proxy option".to_string(),
        ProxySource::Env(var) => var.clone(),
    };
    lcws_log!(
        Level::Info,
        Some(id),
        "connecting through {proxy} (from {source}{})",
        if proxy.has_credentials() {
            ", with credentials"
        } else {
            ""
        }
    );
    let what = proxy.to_string();
    let (tcp, addr) =
        tcp::connect(id, &proxy.host, proxy.port, Some(&what), options, progress).await?;
    let mut stream = Stream::Tcp(tcp);
    if proxy.kind == ProxyKind::Https {
        let config = tls::client::proxy_config(options)?;
        let tls = tls::client::handshake(stream, &proxy.host, config)
            .await
            .map_err(|e| TransportError::new(e.domain, e.code, format!("{what}: {}", e.message)))?;
        stream = Stream::Tls(Box::new(tls));
    }
    let request = connect_request(target, &proxy, &request::user_agent(options));
    lcws_log!(
        Level::Verbose,
        Some(id),
        "to {what}:\n{}",
        request.masked.trim_end()
    );
    stream.write_all(&request.bytes).await.map_err(|e| {
        TransportError::from_io(&e, Stage::Handshake, &format!("sending CONNECT to {what}"))
    })?;
    let (response, rest) = response::read_response(&mut stream)
        .await
        .map_err(|e| proxy_read_error(e, &what))?;
    lcws_log!(
        Level::Info,
        Some(id),
        "{what} answered CONNECT with {} {}",
        response.status,
        response.reason
    );
    progress(Progress::ProxyTunnel {
        proxy: &proxy,
        status: response.status,
        reason: &response.reason,
    });
    let target_text = authority(&target.host, target.port);
    if !(200..300).contains(&response.status) {
        return Err(TransportError::from_proxy_status(
            response.status,
            &response.reason,
            &what,
            &target_text,
            proxy.has_credentials(),
        ));
    }
    if !rest.is_empty() {
        // The origin speaks only after our request; bytes here came from the proxy.
        return Err(TransportError::websocket(
            close_code::PROTOCOL_ERROR,
            format!(
                "{what} sent {} unexpected bytes after its CONNECT answer",
                rest.len()
            ),
        ));
    }
    Ok((stream, Route::Proxy { proxy, addr }))
}

/// A proxy's answer could not be read: say so in the proxy's name. A close before any answer
/// stays `{Network, 18}` (transient: proxies drop connections when overloaded); a malformed
/// answer stays `{WebSocket, 1002}` (permanent: probably not a proxy at that address).
fn proxy_read_error(e: TransportError, what: &str) -> TransportError {
    if e.domain == crate::error::Domain::Network && e.code == NetworkCode::ConnectionReset as i32 {
        return TransportError::network(
            NetworkCode::ConnectionReset,
            format!("{what} closed the connection without answering CONNECT"),
        );
    }
    TransportError::new(
        e.domain,
        e.code,
        format!("{what} answered CONNECT badly: {}", e.message),
    )
}

/// `host:port`, with brackets around IPv6 literals.
pub fn authority(host: &str, port: u16) -> String {
    if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// A CONNECT request, as bytes and as text with the credentials masked.
#[derive(Debug)]
pub struct ConnectRequest {
    pub bytes: Vec<u8>,
    pub masked: String,
}

/// `CONNECT host:port HTTP/1.1`, `Host: host:port`, `User-Agent`, and `Proxy-Authorization:
/// Basic …` when the proxy has credentials.
pub fn connect_request(target: &Address, proxy: &ProxyServer, user_agent: &str) -> ConnectRequest {
    let authority = authority(&target.host, target.port);
    let head = format!(
        "CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\nUser-Agent: {user_agent}\r\n"
    );
    let mut bytes = head.clone().into_bytes();
    let mut masked = head;
    if let Some(user) = &proxy.username {
        let empty = Secret(Vec::new());
        let password = proxy.password.as_ref().unwrap_or(&empty);
        bytes.extend_from_slice(b"Proxy-Authorization: ");
        bytes.extend_from_slice(&request::basic_credentials(user, password.expose()));
        bytes.extend_from_slice(b"\r\n");
        masked.push_str("Proxy-Authorization: Basic ***\r\n");
    }
    bytes.extend_from_slice(b"\r\n");
    masked.push_str("\r\n");
    ConnectRequest { bytes, masked }
}

/// The proxy for `target`, reading the environment now (see the module documentation).
pub fn select(target: &Address, options: &Options) -> Result<Option<ProxyServer>, TransportError> {
    select_with(target, options, &|name| std::env::var_os(name))
}

/// [`select`] with the environment given as a lookup function.
pub fn select_with(
    target: &Address,
    options: &Options,
    env: &dyn Fn(&str) -> Option<std::ffi::OsString>,
) -> Result<Option<ProxyServer>, TransportError> {
    if let Some(option) = &options.proxy {
        let kind = match option.kind {
            ProxyType::None => return Ok(None),
            ProxyType::Http => ProxyKind::Http,
            ProxyType::Https => ProxyKind::Https,
            ProxyType::Socks => {
                return Err(TransportError::litecore(
                    LiteCoreCode::Unsupported,
                    "replicator option 'proxy.type' SOCKS is not supported by litecore-ws (use an HTTP or HTTPS proxy)",
                ))
            }
        };
        let host = option.host.clone().unwrap_or_default();
        let host = host
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .map_or(host.clone(), str::to_string);
        if host.is_empty() || host.bytes().any(|b| b <= b' ' || b == b'/' || b == 0x7f) {
            return Err(TransportError::invalid_parameter(format!(
                "replicator option 'proxy.host' is not a valid host name: {host:?}"
            )));
        }
        if option.password.is_some() && option.username.is_none() {
            // LiteCore's built-in transport refuses this too; sending nothing would hide the mistake.
            return Err(TransportError::invalid_parameter(
                "replicator option 'proxy.auth' has a password but no username",
            ));
        }
        return Ok(Some(ProxyServer {
            kind,
            port: option.port.unwrap_or(match kind {
                ProxyKind::Http => 80,
                ProxyKind::Https => 443,
            }),
            host,
            username: option.username.clone(),
            password: option.password.clone(),
            source: ProxySource::Option,
        }));
    }
    let names: &[&str] = if target.is_tls() {
        &["https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"]
    } else {
        &["http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"]
    };
    let Some((name, value)) = names.iter().find_map(|name| {
        let value = env(name)?;
        (!value.is_empty()).then_some((*name, value))
    }) else {
        return Ok(None);
    };
    for no_proxy_name in ["no_proxy", "NO_PROXY"] {
        if let Some(list) = env(no_proxy_name) {
            if list.is_empty() {
                continue;
            }
            // A NO_PROXY that is not UTF-8 cannot name our (ASCII) host: it bypasses nothing.
            if no_proxy_matches(&list.to_string_lossy(), &target.host, target.port) {
                return Ok(None);
            }
            break;
        }
    }
    let value = value.into_string().map_err(|_| {
        TransportError::invalid_parameter(format!("environment variable {name} is not valid UTF-8"))
    })?;
    parse_proxy_url(name, &value).map(Some)
}

/// Parses a proxy URL from the environment variable `var`. Errors name the variable and never
/// repeat the value (it may hold a password).
pub fn parse_proxy_url(var: &str, value: &str) -> Result<ProxyServer, TransportError> {
    parse_proxy_url_from(
        &format!("environment variable {var}"),
        ProxySource::Env(var.to_string()),
        value,
    )
}

/// [`parse_proxy_url`] for a proxy URL that comes from elsewhere (the `litecore-ws check --proxy`
/// flag): `what` names it in error messages, `source` is recorded in the result. The same rules:
/// no scheme = http, default ports 1080 / 443, user and password percent-decoded.
pub fn parse_proxy_url_from(
    what: &str,
    source: ProxySource,
    value: &str,
) -> Result<ProxyServer, TransportError> {
    let bad = |why: &str| {
        TransportError::invalid_parameter(format!("{what} is not a usable proxy URL: {why}"))
    };
    let value = value.trim();
    let (scheme, rest) = match value.split_once("://") {
        Some((s, r)) => (s.to_ascii_lowercase(), r),
        None => ("http".to_string(), value),
    };
    let kind = match scheme.as_str() {
        "http" => ProxyKind::Http,
        "https" => ProxyKind::Https,
        s if s.starts_with("socks") => {
            return Err(TransportError::litecore(
                LiteCoreCode::Unsupported,
                format!("{what} names a SOCKS proxy, which litecore-ws does not support"),
            ))
        }
        _ => return Err(bad("the scheme must be http or https")),
    };
    // The path (if any) means nothing for a proxy; curl ignores it too.
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let (userinfo, hostport) = match authority.rsplit_once('@') {
        Some((u, h)) => (Some(u), h),
        None => (None, authority),
    };
    let (username, password) = match userinfo {
        None => (None, None),
        Some(u) => {
            let (user, pass) = u.split_once(':').unwrap_or((u, ""));
            let user = crate::http::percent_decode(user)
                .ok_or_else(|| bad("bad %-escape in the user name"))?;
            let user =
                String::from_utf8(user).map_err(|_| bad("the user name is not valid UTF-8"))?;
            let pass = crate::http::percent_decode(pass)
                .ok_or_else(|| bad("bad %-escape in the password"))?;
            (Some(user), Some(Secret(pass)))
        }
    };
    let (host, port) = if let Some(v6) = hostport.strip_prefix('[') {
        let (host, after) = v6
            .split_once(']')
            .ok_or_else(|| bad("unclosed '[' in the host"))?;
        (host, after.strip_prefix(':'))
    } else {
        match hostport.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (hostport, None),
        }
    };
    if host.is_empty() || host.bytes().any(|b| b <= b' ' || b == 0x7f || b == b'@') {
        return Err(bad("no valid host name"));
    }
    let port = match port {
        None | Some("") => match kind {
            ProxyKind::Http => 1080,
            ProxyKind::Https => 443,
        },
        Some(p) => p
            .parse::<u16>()
            .ok()
            .filter(|p| *p != 0)
            .ok_or_else(|| bad("the port must be 1–65535"))?,
    };
    Ok(ProxyServer {
        kind,
        host: host.to_string(),
        port,
        username,
        password,
        source,
    })
}

/// Whether a `NO_PROXY` list exempts `host:port`, as curl reads it: entries separated by commas
/// (or spaces); `*` alone matches everything; a name matches itself and its subdomains, with or
/// without a leading dot (`example.com` and `.example.com` both match `sg.example.com`); an IP
/// address matches that address literally and a CIDR block (`10.0.0.0/8`, `fd00::/8`) matches IP
/// literals inside it (names are not resolved); `name:port` or `[v6]:port` match that port
/// only. Case-insensitive; a trailing dot is ignored.
pub fn no_proxy_matches(list: &str, host: &str, port: u16) -> bool {
    let host = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .trim_end_matches('.')
        .to_ascii_lowercase();
    let host_ip: Option<IpAddr> = host.parse().ok();
    list.split(|c: char| c == ',' || c.is_ascii_whitespace())
        .filter(|e| !e.is_empty())
        .any(|entry| {
            if entry == "*" {
                return true;
            }
            let (name, entry_port) = split_entry_port(entry);
            if entry_port.is_some_and(|p| p != port) {
                return false;
            }
            if let Some((net, bits)) = name.split_once('/') {
                return match (net.parse::<IpAddr>(), bits.parse::<u8>(), host_ip) {
                    (Ok(net), Ok(bits), Some(ip)) => in_cidr(ip, net, bits),
                    _ => false,
                };
            }
            if let Ok(ip) = name.parse::<IpAddr>() {
                return host_ip == Some(ip);
            }
            let name = name
                .trim_start_matches('.')
                .trim_end_matches('.')
                .to_ascii_lowercase();
            !name.is_empty()
                && host_ip.is_none()
                && (host == name
                    || (host.len() > name.len()
                        && host.ends_with(&name)
                        && host.as_bytes()[host.len() - name.len() - 1] == b'.'))
        })
}

/// Splits `name:port`, `[v6]` and `[v6]:port`; a bare IPv6 literal has no port.
fn split_entry_port(entry: &str) -> (&str, Option<u16>) {
    if let Some(rest) = entry.strip_prefix('[') {
        if let Some((ip, after)) = rest.split_once(']') {
            return (ip, after.strip_prefix(':').and_then(|p| p.parse().ok()));
        }
        return (entry, None);
    }
    match entry.rsplit_once(':') {
        Some((name, p)) if !name.contains(':') => match p.parse() {
            Ok(p) => (name, Some(p)),
            Err(_) => (entry, None),
        },
        _ => (entry, None),
    }
}

fn in_cidr(ip: IpAddr, net: IpAddr, bits: u8) -> bool {
    match (ip, net) {
        (IpAddr::V4(ip), IpAddr::V4(net)) if bits <= 32 => {
            let mask = if bits == 0 {
                0
            } else {
                u32::MAX << (32 - bits)
            };
            u32::from(ip) & mask == u32::from(net) & mask
        }
        (IpAddr::V6(ip), IpAddr::V6(net)) if bits <= 128 => {
            let mask = if bits == 0 {
                0
            } else {
                u128::MAX << (128 - bits)
            };
            u128::from(ip) & mask == u128::from(net) & mask
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Domain;
    use crate::options::Proxy;
    use std::collections::HashMap;
    use std::ffi::OsString;

    use crate::address::test_address as addr;

    fn proxy(user: Option<&str>, pass: Option<&str>) -> ProxyServer {
        ProxyServer {
            kind: ProxyKind::Http,
            host: "p".into(),
            port: 3128,
            username: user.map(Into::into),
            password: pass.map(|p| Secret(p.as_bytes().to_vec())),
            source: ProxySource::Option,
        }
    }

    #[test]
    fn connect_request_bytes() {
        let r = connect_request(
            &addr("ws", "sg.example.com", 4984),
            &proxy(None, None),
            "ua/1",
        );
        assert_eq!(
            String::from_utf8(r.bytes).unwrap(),
            "CONNECT sg.example.com:4984 HTTP/1.1\r\nHost: sg.example.com:4984\r\nUser-Agent: ua/1\r\n\r\n"
        );
        // IPv6 targets are bracketed; credentials go preemptively and are masked in the log text.
        let r = connect_request(
            &addr("wss", "::1", 443),
            &proxy(Some("alice"), Some("s3cret")),
            "ua/1",
        );
        assert_eq!(
            String::from_utf8(r.bytes).unwrap(),
            "CONNECT [::1]:443 HTTP/1.1\r\nHost: [::1]:443\r\nUser-Agent: ua/1\r\n\
             Proxy-Authorization: Basic YWxpY2U6czNjcmV0\r\n\r\n"
        );
        assert!(!r.masked.contains("YWxp") && r.masked.contains("Basic ***"));
        // A user without a password sends "user:".
        let r = connect_request(&addr("ws", "h", 80), &proxy(Some("bob"), None), "u");
        assert!(String::from_utf8(r.bytes)
            .unwrap()
            .contains("Proxy-Authorization: Basic Ym9iOg==\r\n"));
    }

    #[test]
    fn no_proxy_table() {
        let rows: &[(&str, &str, u16, bool)] = &[
            ("", "example.com", 80, false),
            ("*", "anything.org", 1, true),
            ("example.com", "example.com", 80, true),
            ("example.com", "sg.example.com", 80, true),
            (".example.com", "sg.example.com", 80, true),
            (".example.com", "example.com", 80, true),
            ("example.com", "badexample.com", 80, false),
            ("example.com", "example.com.evil.org", 80, false),
            ("EXAMPLE.com.", "Sg.Example.COM", 80, true),
            ("a.org, example.com", "x.example.com", 80, true),
            ("a.org example.com", "example.com", 80, true),
            ("a.org,,b.org", "example.com", 80, false),
            ("127.0.0.1", "127.0.0.1", 4984, true),
            ("127.0.0.1", "127.0.0.2", 4984, false),
            ("127.0.0.1", "localhost", 4984, false),
            ("localhost", "localhost", 4984, true),
            ("10.0.0.0/8", "10.1.2.3", 80, true),
            ("10.0.0.0/8", "11.1.2.3", 80, false),
            ("10.0.0.0/8", "ten.example", 80, false),
            ("0.0.0.0/0", "192.168.1.1", 80, true),
            ("::1", "::1", 80, true),
            ("[::1]", "::1", 80, true),
            ("fd00::/8", "fd12::5", 80, true),
            ("fd00::/8", "fe80::1", 80, false),
            ("fd00::/8", "10.0.0.1", 80, false),
            ("example.com:4984", "sg.example.com", 4984, true),
            ("example.com:4984", "sg.example.com", 443, false),
            ("127.0.0.1:4984", "127.0.0.1", 4984, true),
            ("[::1]:443", "::1", 80, false),
            ("[::1]:443", "::1", 443, true),
            ("1.2.3.0/33", "1.2.3.4", 80, false),
        ];
        for (list, host, port, want) in rows {
            assert_eq!(
                no_proxy_matches(list, host, *port),
                *want,
                "NO_PROXY={list:?} host={host} port={port}"
            );
        }
    }

    #[test]
    fn proxy_url_parsing() {
        let p = parse_proxy_url("http_proxy", "http://proxy.local:3128").unwrap();
        assert_eq!(
            (p.kind, p.host.as_str(), p.port, p.username.as_deref()),
            (ProxyKind::Http, "proxy.local", 3128, None)
        );
        assert_eq!(p.source, ProxySource::Env("http_proxy".into()));
        // curl's defaults: no scheme = http; port 1080 for http, 443 for https.
        assert_eq!(parse_proxy_url("v", "proxy.local").unwrap().port, 1080);
        assert_eq!(
            parse_proxy_url("v", "http://proxy.local/").unwrap().port,
            1080
        );
        let p = parse_proxy_url("v", "HTTPS://proxy.local").unwrap();
        assert_eq!((p.kind, p.port), (ProxyKind::Https, 443));
        let p = parse_proxy_url("v", " http://al%40ice:p%3Ass@[::1]:8080/ ").unwrap();
        assert_eq!(p.host, "::1");
        assert_eq!(p.port, 8080);
        assert_eq!(p.username.as_deref(), Some("al@ice"));
        assert_eq!(p.password.unwrap().expose(), b"p:ss");
        let p = parse_proxy_url("v", "http://user@p:1").unwrap();
        assert_eq!(p.password.unwrap().expose(), b"");
        for bad in [
            "ftp://p:1",
            "http://",
            "http://p:0",
            "http://p:99999",
            "http://p:x",
            "http://[::1",
            "http://u:%zz@p:1",
            "http://u:pw@:80",
        ] {
            let e = parse_proxy_url("HTTPS_PROXY", bad).unwrap_err();
            assert_eq!((e.domain, e.code), (Domain::LiteCore, 9), "{bad}");
            assert!(e.message.contains("HTTPS_PROXY"), "{}", e.message);
            assert!(!e.message.contains("pw"), "{}", e.message);
        }
        let e = parse_proxy_url("ALL_PROXY", "socks5://p:1080").unwrap_err();
        assert_eq!((e.domain, e.code), (Domain::LiteCore, 19));
        assert!(e.message.contains("ALL_PROXY"));
    }

    fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<OsString> {
        let map: HashMap<String, OsString> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), OsString::from(v)))
            .collect();
        move |name| map.get(name).cloned()
    }

    fn pick(target: &Address, options: &Options, env: &[(&str, &str)]) -> Option<String> {
        select_with(target, options, &env_of(env))
            .unwrap()
            .map(|p| match p.source {
                ProxySource::Env(var) => format!("{var} {}:{}", p.host, p.port),
                ProxySource::Option => format!("option {}:{}", p.host, p.port),
            })
    }

    #[test]
    fn environment_order_and_no_proxy() {
        let ws = addr("ws", "sg.example.com", 4984);
        let wss = addr("wss", "sg.example.com", 443);
        let o = Options::default();
        assert_eq!(pick(&ws, &o, &[]), None);
        let all = [
            ("http_proxy", "h1:1"),
            ("HTTP_PROXY", "h2:2"),
            ("https_proxy", "s1:3"),
            ("HTTPS_PROXY", "s2:4"),
            ("all_proxy", "a1:5"),
            ("ALL_PROXY", "a2:6"),
        ];
        assert_eq!(pick(&ws, &o, &all).as_deref(), Some("http_proxy h1:1"));
        assert_eq!(pick(&wss, &o, &all).as_deref(), Some("https_proxy s1:3"));
        assert_eq!(pick(&ws, &o, &all[1..]).as_deref(), Some("HTTP_PROXY h2:2"));
        assert_eq!(
            pick(&wss, &o, &all[3..]).as_deref(),
            Some("HTTPS_PROXY s2:4")
        );
        // ws never uses https_proxy, wss never http_proxy: both fall back to all_proxy.
        assert_eq!(pick(&ws, &o, &all[2..]).as_deref(), Some("all_proxy a1:5"));
        assert_eq!(
            pick(&wss, &o, &[all[0], all[1], all[5]]).as_deref(),
            Some("ALL_PROXY a2:6")
        );
        // Empty values count as unset.
        assert_eq!(
            pick(&ws, &o, &[("http_proxy", ""), ("HTTP_PROXY", "h2:2")]).as_deref(),
            Some("HTTP_PROXY h2:2")
        );
        // NO_PROXY: lower-case first; an empty one falls through to the upper-case one.
        let mut env = all.to_vec();
        env.push(("no_proxy", "example.com"));
        assert_eq!(pick(&ws, &o, &env), None);
        env.pop();
        env.push(("NO_PROXY", "other.org"));
        assert!(pick(&ws, &o, &env).is_some());
        env.push(("no_proxy", ""));
        env.push(("NO_PROXY", "*"));
        env.retain(|(k, v)| *k != "NO_PROXY" || *v == "*");
        assert_eq!(pick(&ws, &o, &env), None);
        // A malformed variable fails the open, naming it.
        let e = select_with(&ws, &o, &env_of(&[("HTTP_PROXY", "gopher://x")])).unwrap_err();
        assert!(e.message.contains("HTTP_PROXY"));
    }

    #[test]
    fn proxy_option_wins_over_environment() {
        let ws = addr("ws", "sg.example.com", 4984);
        let env = [("http_proxy", "h1:1"), ("no_proxy", "*")];
        let with = |kind, host: Option<&str>, port| Options {
            proxy: Some(Proxy {
                kind,
                host: host.map(Into::into),
                port,
                username: Some("u".into()),
                password: Some(Secret(b"pw".to_vec())),
            }),
            ..Options::default()
        };
        // type none: no proxy at all, the environment ignored.
        assert_eq!(pick(&ws, &with(ProxyType::None, None, None), &env), None);
        // An explicit proxy ignores NO_PROXY; ports default to 80 / 443.
        assert_eq!(
            pick(&ws, &with(ProxyType::Http, Some("p"), None), &env).as_deref(),
            Some("option p:80")
        );
        assert_eq!(
            pick(
                &ws,
                &with(ProxyType::Https, Some("[::1]"), Some(8443)),
                &env
            )
            .as_deref(),
            Some("option ::1:8443")
        );
        let mut no_user = with(ProxyType::Http, Some("p"), None);
        no_user.proxy.as_mut().unwrap().username = None;
        let e = select_with(&ws, &no_user, &env_of(&env)).unwrap_err();
        assert_eq!((e.domain, e.code), (Domain::LiteCore, 9));
        assert!(e.message.contains("proxy.auth"));
        let e =
            select_with(&ws, &with(ProxyType::Socks, Some("p"), None), &env_of(&env)).unwrap_err();
        assert_eq!((e.domain, e.code), (Domain::LiteCore, 19));
        assert!(e.message.contains("SOCKS"));
    }

    #[test]
    fn route_and_proxy_text_never_show_credentials() {
        let p = ProxyServer {
            source: ProxySource::Env("https_proxy".into()),
            ..proxy(Some("alice"), Some("s3cret"))
        };
        let route = Route::Proxy {
            proxy: p.clone(),
            addr: "10.0.0.1:3128".parse().unwrap(),
        };
        let text = format!("{route} {p} {p:?}");
        assert_eq!(
            route.to_string(),
            "through HTTP proxy p:3128 (10.0.0.1:3128, from https_proxy, with credentials)"
        );
        assert!(!text.contains("s3cret"), "{text}");
        let direct = Route::Direct {
            addr: "[::1]:80".parse().unwrap(),
        };
        assert_eq!(direct.to_string(), "direct to [::1]:80");
    }

    #[test]
    fn proxy_read_errors_name_the_proxy() {
        let e = proxy_read_error(
            TransportError::network(NetworkCode::ConnectionReset, "x"),
            "HTTP proxy p:1",
        );
        assert_eq!((e.domain, e.code), (Domain::Network, 18));
        assert!(e.message.contains("HTTP proxy p:1 closed"));
        let e = proxy_read_error(
            TransportError::websocket(1002, "malformed"),
            "HTTP proxy p:1",
        );
        assert_eq!((e.domain, e.code), (Domain::WebSocket, 1002));
        assert!(e.message.contains("HTTP proxy p:1") && e.message.contains("malformed"));
    }

    /// A CONNECT through a scripted proxy on loopback: the request arrives as built, and the
    /// answer maps as documented.
    #[tokio::test]
    async fn connect_through_scripted_proxy() {
        use tokio::io::AsyncReadExt;
        async fn run(answer: &'static [u8], user: Option<&str>) -> Result<Route, TransportError> {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let port = listener.local_addr().unwrap().port();
            let server = tokio::spawn(async move {
                let (mut s, _) = listener.accept().await.unwrap();
                let mut buf = Vec::new();
                let mut chunk = [0u8; 1024];
                while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                    let n = s.read(&mut chunk).await.unwrap();
                    if n == 0 {
                        break;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                }
                s.write_all(answer).await.unwrap();
                s.shutdown().await.ok();
                String::from_utf8(buf).unwrap()
            });
            let options = Options {
                proxy: Some(Proxy {
                    kind: ProxyType::Http,
                    host: Some("127.0.0.1".into()),
                    port: Some(port),
                    username: user.map(Into::into),
                    password: user.map(|_| Secret(b"pw".to_vec())),
                }),
                ..Options::default()
            };
            let result = connect(0, &addr("ws", "sg.test", 4984), &options, &mut |_| {}).await;
            let request = server.await.unwrap();
            assert!(request.starts_with("CONNECT sg.test:4984 HTTP/1.1\r\nHost: sg.test:4984\r\n"));
            assert_eq!(
                request.contains("Proxy-Authorization: Basic"),
                user.is_some()
            );
            result.map(|(_, route)| route)
        }
        let route = run(b"HTTP/1.1 200 Connection established\r\n\r\n", Some("u"))
            .await
            .unwrap();
        assert!(route.to_string().contains("with credentials"));
        let e = run(b"HTTP/1.0 407 Proxy Authentication Required\r\n\r\n", None)
            .await
            .unwrap_err();
        assert_eq!((e.domain, e.code), (Domain::WebSocket, 407));
        assert!(e.message.contains("required"), "{}", e.message);
        let e = run(b"HTTP/1.0 401 Unauthorized\r\n\r\n", Some("u"))
            .await
            .unwrap_err();
        assert_eq!((e.domain, e.code), (Domain::WebSocket, 407));
        assert!(e.message.contains("failed"), "{}", e.message);
        let e = run(b"HTTP/1.0 500 Unable to connect\r\n\r\n", None)
            .await
            .unwrap_err();
        assert_eq!((e.domain, e.code), (Domain::WebSocket, 502));
        let e = run(b"", None).await.unwrap_err();
        assert_eq!((e.domain, e.code), (Domain::Network, 18));
        let e = run(b"SSH-2.0-OpenSSH\r\n\r\n", None).await.unwrap_err();
        assert_eq!((e.domain, e.code), (Domain::WebSocket, 1002));
        let e = run(b"HTTP/1.1 200 OK\r\n\r\nextra", None)
            .await
            .unwrap_err();
        assert_eq!((e.domain, e.code), (Domain::WebSocket, 1002));
    }
}
