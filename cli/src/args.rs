//! The command line: clap's parser (generated `--help`, `--version`, errors with suggestions) and
//! the conversion of the flags into the replicator options a replicator would pass.
//!
//! The conversion writes a real Fleece options dict (the keys of `c4ReplicatorTypes.h`) and
//! reads it back with the library's own options parser, so every flag means exactly what the
//! option means to a replicator using litecore-ws. `--proxy` goes through the library's proxy
//! URL parser (`proxy::parse_proxy_url_from`): %-decoded credentials, no scheme = http, default
//! port 1080 (http) or 443 (https), as for the `*_PROXY` environment variables.

use clap::{Args, Parser, Subcommand};
use litecore_ws::internals::proxy::{self, ProxyKind, ProxySource};
use litecore_ws::internals::request::{build_request, Attempt};
use litecore_ws::internals::{redirect, tls_client_config, Address, Encoder, Options};
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// What the check offers in `Sec-WebSocket-Protocol` unless `--protocols` says otherwise:
/// LiteCore 3.0–3.2's `WS-Protocols`. Its first item is also all that LiteCore 3.3/4.x offers for
/// a (rev-tree) database, so SG 3.0+ picks the same protocol for either; a database using
/// version vectors (4.x) offers `BLIP_3+CBMobile_4` instead (`--protocols BLIP_3+CBMobile_4`).
pub const DEFAULT_PROTOCOLS: &str = "BLIP_3+CBMobile_3,BLIP_3+CBMobile_2";

/// litecore-ws's command-line tool.
#[derive(Parser, Debug)]
#[command(
    name = "litecore-ws",
    version,
    about = "Diagnostics for litecore-ws, the WebSocket transport of Couchbase Lite Core",
    arg_required_else_help = true,
    propagate_version = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Cmd,
}

#[derive(Subcommand, Debug)]
pub enum Cmd {
    /// Connect to Sync Gateway as a replicator using litecore-ws would, and say what went wrong
    ///
    /// Runs litecore-ws's own connect path and reports every step it takes (DNS, TCP, proxy, TLS
    /// with the certificates, the upgrade request and answer with credentials masked, redirects,
    /// a challenge retry, the close), then one line: the verdict.
    #[command(after_help = "Exit status: 0 upgraded, 1 check failed, 2 bad usage.")]
    Check(Box<CheckArgs>),
}

/// The flags of `check`; each becomes the replicator option named in its help.
#[derive(Args, Debug, Default)]
pub struct CheckArgs {
    /// The URL a Couchbase Lite app is given.
    #[arg(
        value_name = "URL",
        help = "What a Couchbase Lite app is given: ws[s]://host[:port]/db (http[s]:// is read \
                as ws[s]://); /_blipsync is appended as LiteCore does"
    )]
    pub url: String,

    /// Basic authentication: the user name (auth type Basic)
    #[arg(
        long,
        value_name = "U",
        requires = "password",
        help_heading = "Authentication"
    )]
    pub user: Option<String>,
    /// Basic authentication: the password
    #[arg(
        long,
        value_name = "P",
        requires = "user",
        help_heading = "Authentication"
    )]
    pub password: Option<String>,
    /// Send the Basic credentials only after a 401 challenge (auth.challengeAuth)
    #[arg(long, requires = "user", help_heading = "Authentication")]
    pub challenge_auth: bool,
    /// An SG session id, sent as a cookie (auth type Session)
    #[arg(
        long,
        value_name = "ID",
        conflicts_with_all = ["user", "bearer", "client_cert"],
        help_heading = "Authentication"
    )]
    pub session: Option<String>,
    /// The session cookie's name (auth.cookieName; default SyncGatewaySession)
    #[arg(
        long,
        value_name = "NAME",
        requires = "session",
        help_heading = "Authentication"
    )]
    pub cookie_name: Option<String>,
    /// Authorization: Bearer TOKEN (auth type OpenID Connect)
    #[arg(
        long,
        value_name = "TOKEN",
        conflicts_with_all = ["user", "client_cert"],
        help_heading = "Authentication"
    )]
    pub bearer: Option<String>,
    /// Client certificate (chain), PEM or DER (auth type Client Cert)
    #[arg(
        long,
        value_name = "FILE",
        requires = "client_key",
        conflicts_with = "user",
        help_heading = "Authentication"
    )]
    pub client_cert: Option<PathBuf>,
    /// The client certificate's private key, PEM or DER
    #[arg(
        long,
        value_name = "FILE",
        requires = "client_cert",
        help_heading = "Authentication"
    )]
    pub client_key: Option<PathBuf>,

    /// An extra request header (option headers), repeatable
    #[arg(long = "header", value_name = "'Name: value'")]
    pub headers: Vec<String>,
    /// The subprotocols offered (WS-Protocols)
    #[arg(long, value_name = "LIST", default_value = DEFAULT_PROTOCOLS)]
    pub protocols: String,

    /// Trusted root certificate(s), PEM or DER (rootCerts)
    #[arg(long, value_name = "FILE", help_heading = "TLS")]
    pub ca: Option<PathBuf>,
    /// Accept only this certificate or public key (pinnedCert)
    #[arg(long, value_name = "FILE", help_heading = "TLS")]
    pub pinned_cert: Option<PathBuf>,
    /// Accept only a self-signed server certificate (onlySelfSignedServer)
    #[arg(long, help_heading = "TLS")]
    pub only_self_signed: bool,
    /// Accept any certificate (acceptAllCerts)
    #[arg(long, help_heading = "TLS")]
    pub insecure: bool,

    /// The proxy option, as a URL.
    #[arg(
        long,
        value_name = "URL",
        conflicts_with = "no_proxy",
        help_heading = "Network",
        help = "The proxy option: http[s]://[user:pass@]host[:port], read as the library reads \
                https_proxy (%-escapes decoded, default port 1080 for http, 443 for https); \
                without it the https_proxy, http_proxy, all_proxy and no_proxy variables apply"
    )]
    pub proxy: Option<String>,
    /// Proxy type none: connect directly, ignoring the environment
    #[arg(long, help_heading = "Network")]
    pub no_proxy: bool,
    /// networkInterface: the local interface or address to connect from
    #[arg(long, value_name = "NAME|ADDRESS", help_heading = "Network")]
    pub interface: Option<String>,
    /// Give up after SECS seconds (0 < SECS ≤ 3600; the connect itself also stops at
    /// LiteCore's 15 s)
    #[arg(long, value_name = "SECS", default_value = "15", value_parser = parse_timeout, help_heading = "Network")]
    pub timeout: Duration,

    /// One JSON object on stdout instead of text
    #[arg(long)]
    pub json: bool,
}

fn parse_timeout(text: &str) -> Result<Duration, String> {
    text.parse::<f64>()
        .ok()
        .filter(|s| s.is_finite() && *s > 0.0 && *s <= 3600.0)
        .map(Duration::from_secs_f64)
        .ok_or_else(|| "must be a number of seconds, 0 < s ≤ 3600".to_string())
}

/// A command line that parses but cannot be run (exit status 2): what is wrong, and why. Never
/// holds a secret given on the command line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UsageError {
    pub what: String,
    pub why: String,
}

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.what, self.why)
    }
}

fn usage(what: impl Into<String>, why: impl Into<String>) -> UsageError {
    UsageError {
        what: what.into(),
        why: why.into(),
    }
}

/// A runnable check.
#[derive(Clone, Debug)]
pub struct Config {
    /// The URL as given.
    pub url: String,
    /// Where LiteCore would connect (with `/_blipsync`).
    pub address: Address,
    /// The replicator options the flags stand for, as the library parsed them.
    pub options: Options,
    pub timeout: Duration,
    pub json: bool,
    /// Files the certificates came from, for the report.
    pub ca_file: Option<String>,
    pub pinned_file: Option<String>,
}

impl CheckArgs {
    /// The check these flags ask for.
    pub fn config(&self) -> Result<Config, UsageError> {
        let address = parse_check_url(&self.url)?;
        let options = Options::from_fleece(&self.options_dict()?)
            .map_err(|e| usage("options", e.to_string()))?;
        if options.ws_protocols.is_empty() {
            return Err(usage("--protocols", "names no protocol"));
        }
        // Bad pins, keys or certificates are usage errors, found by the library's own parsers.
        tls_client_config(&options).map_err(|e| {
            let flag = [
                ("pinnedCert", "--pinned-cert"),
                ("rootCerts", "--ca"),
                ("clientCertKey", "--client-key"),
                ("clientCert", "--client-cert"),
            ]
            .iter()
            .find(|(key, _)| e.message.contains(key))
            .map_or("TLS options", |(_, flag)| flag);
            usage(flag, e.message)
        })?;
        // The library's request builder refuses what a replicator could not send either
        // (reserved header names, a ';' in a session id): say so now.
        build_request(
            &address,
            &options,
            "dGhlIHNhbXBsZSBub25jZQ==",
            &Attempt::default(),
        )
        .map_err(|e| usage("options", e.message))?;
        Ok(Config {
            url: self.url.clone(),
            address,
            options,
            timeout: self.timeout,
            json: self.json,
            ca_file: self.ca.as_deref().map(display_path),
            pinned_file: self.pinned_cert.as_deref().map(display_path),
        })
    }

    /// The replicator options dict (Fleece) these flags stand for.
    fn options_dict(&self) -> Result<Vec<u8>, UsageError> {
        let mut e = Encoder::new();
        e.begin_dict();
        let string = |e: &mut Encoder, key: &str, value: &[u8]| {
            e.write_key(key.as_bytes());
            e.write_string(value);
        };

        // `auth`: one kind, as the dict has one `type` (clap refuses combinations).
        let nonempty = |flag: &str, value: &Option<String>| match value.as_deref() {
            Some("") => Err(usage(flag, "is empty")),
            _ => Ok(()),
        };
        nonempty("--user", &self.user)?;
        nonempty("--session", &self.session)?;
        nonempty("--bearer", &self.bearer)?;
        if let (Some(user), Some(password)) = (&self.user, &self.password) {
            e.write_key(b"auth");
            e.begin_dict();
            string(&mut e, "type", b"Basic");
            string(&mut e, "username", user.as_bytes());
            string(&mut e, "password", password.as_bytes());
            if self.challenge_auth {
                e.write_key(b"challengeAuth");
                e.write_bool(true);
            }
            e.end_dict();
        } else if let Some(id) = &self.session {
            e.write_key(b"auth");
            e.begin_dict();
            string(&mut e, "type", b"Session");
            string(&mut e, "token", id.as_bytes());
            if let Some(name) = &self.cookie_name {
                string(&mut e, "cookieName", name.as_bytes());
            }
            e.end_dict();
        } else if let Some(token) = &self.bearer {
            e.write_key(b"auth");
            e.begin_dict();
            string(&mut e, "type", b"OpenID Connect");
            string(&mut e, "token", token.as_bytes());
            e.end_dict();
        } else if let (Some(cert), Some(key)) = (&self.client_cert, &self.client_key) {
            e.write_key(b"auth");
            e.begin_dict();
            string(&mut e, "type", b"Client Cert");
            e.write_key(b"clientCert");
            e.write_data(&read_file("--client-cert", cert)?);
            e.write_key(b"clientCertKey");
            e.write_data(&read_file("--client-key", key)?);
            e.end_dict();
        }

        // `headers`: a dict, so one value per name.
        let mut headers: Vec<(&str, &str)> = Vec::new();
        for text in &self.headers {
            let (name, value) = text.split_once(':').ok_or_else(|| {
                usage("--header", format!("expected 'Name: value', got {text:?}"))
            })?;
            if headers.iter().any(|(n, _)| *n == name) {
                return Err(usage(
                    "--header",
                    format!("{name} is given twice (a header dict has one value per name)"),
                ));
            }
            // HTTP's optional whitespace around the value.
            headers.push((name, value.trim_matches(|c| c == ' ' || c == '\t')));
        }
        if !headers.is_empty() {
            e.write_key(b"headers");
            e.begin_dict();
            for (name, value) in &headers {
                string(&mut e, name, value.as_bytes());
            }
            e.end_dict();
        }
        string(&mut e, "WS-Protocols", self.protocols.as_bytes());

        if let Some(path) = &self.ca {
            e.write_key(b"rootCerts");
            e.write_data(&read_file("--ca", path)?);
        }
        if let Some(path) = &self.pinned_cert {
            e.write_key(b"pinnedCert");
            e.write_data(&read_file("--pinned-cert", path)?);
        }
        if self.only_self_signed {
            e.write_key(b"onlySelfSignedServer");
            e.write_bool(true);
        }
        if self.insecure {
            e.write_key(b"acceptAllCerts");
            e.write_bool(true);
        }

        if let Some(url) = &self.proxy {
            let p = proxy::parse_proxy_url_from("--proxy", ProxySource::Option, url)
                .map_err(|e| usage("--proxy", e.message))?;
            e.write_key(b"proxy");
            e.begin_dict();
            let kind: &[u8] = match p.kind {
                ProxyKind::Http => b"HTTP",
                ProxyKind::Https => b"HTTPS",
            };
            string(&mut e, "type", kind);
            string(&mut e, "host", p.host.as_bytes());
            e.write_key(b"port");
            e.write_int(i64::from(p.port));
            if let Some(user) = &p.username {
                e.write_key(b"auth");
                e.begin_dict();
                string(&mut e, "username", user.as_bytes());
                if let Some(password) = &p.password {
                    string(&mut e, "password", password.expose());
                }
                e.end_dict();
            }
            e.end_dict();
        } else if self.no_proxy {
            e.write_key(b"proxy");
            e.begin_dict();
            string(&mut e, "type", b"none");
            e.end_dict();
        }
        if let Some(interface) = &self.interface {
            string(&mut e, "networkInterface", interface.as_bytes());
        }
        e.end_dict();
        e.finish()
            .map_err(|err| usage("options", format!("cannot encode them: {err:?}")))
    }
}

fn display_path(path: &Path) -> String {
    path.display().to_string()
}

fn read_file(flag: &str, path: &Path) -> Result<Vec<u8>, UsageError> {
    std::fs::read(path).map_err(|e| usage(flag, format!("cannot read {path:?}: {e}")))
}

/// The URL a Couchbase Lite app is given → the address LiteCore connects to: `http(s)` is taken
/// as `ws(s)` (the library's URL parser), and `/_blipsync` is appended unless the path already
/// ends with it.
pub fn parse_check_url(url: &str) -> Result<Address, UsageError> {
    let bad = |why: &str| usage("URL", why);
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

#[cfg(test)]
mod tests {
    use super::*;
    use clap::error::ErrorKind;
    use litecore_ws::internals::{AuthType, ProxyType, CONNECT_TIMEOUT};

    fn parse(args: &[&str]) -> Result<Config, String> {
        let cli = Cli::try_parse_from(["litecore-ws", "check"].iter().chain(args))
            .map_err(|e| e.to_string())?;
        let Cmd::Check(check) = cli.command;
        check.config().map_err(|e| e.to_string())
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
        let c = parse(&["ws://h:4984/db", "--user", "alice", "--password", "s3cret"]).unwrap();
        let auth = c.options.auth.as_ref().unwrap();
        assert_eq!(auth.kind, AuthType::Basic);
        assert_eq!(auth.username.as_deref(), Some("alice"));
        assert_eq!(auth.password.as_ref().unwrap().expose(), b"s3cret");
        assert!(!auth.challenge_auth);
        assert_eq!(
            c.options.ws_protocols,
            vec!["BLIP_3+CBMobile_3", "BLIP_3+CBMobile_2"]
        );
        // The default is LiteCore's own connect timeout.
        assert_eq!(c.timeout, CONNECT_TIMEOUT);
        assert!(!c.json);
        assert!(!c.options.accept_all_certs);
        assert_eq!(c.options.proxy, None);
        // The Debug form (what could end up in a log) masks the password.
        assert!(!format!("{:?}", c.options).contains("s3cret"));
        let c = parse(&[
            "ws://h:4984/db",
            "--user",
            "alice",
            "--password",
            "p",
            "--challenge-auth",
        ])
        .unwrap();
        assert!(c.options.auth.unwrap().challenge_auth);
    }

    #[test]
    fn session_bearer_headers_protocols_proxy() {
        let c = parse(&[
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
    }

    /// `--proxy` follows the library's proxy URL rules, not the old check's own parser.
    #[test]
    fn proxy_url_is_read_by_the_library() {
        let proxy = |url: &str| parse(&["ws://h:1/db", "--proxy", url]).map(|c| c.options.proxy);
        // %-decoded credentials.
        let p = proxy("http://al%40ice:p%3Ass%25@proxy.local:3128")
            .unwrap()
            .unwrap();
        assert_eq!(p.username.as_deref(), Some("al@ice"));
        assert_eq!(p.password.unwrap().expose(), b"p:ss%");
        // curl's defaults: no scheme = http, port 1080 for http, 443 for https.
        let p = proxy("proxy.local").unwrap().unwrap();
        assert_eq!((p.kind, p.port), (ProxyType::Http, Some(1080)));
        let p = proxy("https://[::1]").unwrap().unwrap();
        assert_eq!(
            (p.kind, p.host.as_deref(), p.port),
            (ProxyType::Https, Some("::1"), Some(443))
        );
        let p = parse(&["ws://h:1/db", "--no-proxy"])
            .unwrap()
            .options
            .proxy
            .unwrap();
        assert_eq!(p.kind, ProxyType::None);
        for bad in [
            "socks5://p:1",
            "http://p:0",
            "http://u:%zz@p:1",
            "ftp://p:1",
        ] {
            let e = proxy(bad).unwrap_err();
            assert!(e.starts_with("--proxy: "), "{bad}: {e}");
            assert!(!e.contains("%zz"), "{e}");
        }
    }

    #[test]
    fn certificates_from_files() {
        let dir = std::env::temp_dir().join(format!("lcws-check-args-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let garbage = dir.join("garbage.pem");
        std::fs::write(&garbage, b"not a certificate").unwrap();
        let g = garbage.to_str().unwrap();
        for flag in ["--ca", "--pinned-cert"] {
            let e = parse(&["ws://h:1/db", flag, g]).unwrap_err();
            assert!(e.starts_with(&format!("{flag}: ")), "{e}");
        }
        let e = parse(&["ws://h:1/db", "--ca", "/nonexistent/ca.pem"]).unwrap_err();
        assert!(e.contains("cannot read"), "{e}");
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = rcgen::CertificateParams::new(vec!["h".to_string()])
            .unwrap()
            .self_signed(&key)
            .unwrap();
        let der = dir.join("c.der");
        std::fs::write(&der, cert.der()).unwrap();
        let c = parse(&["wss://h:1/db", "--pinned-cert", der.to_str().unwrap()]).unwrap();
        assert_eq!(c.options.pinned_cert.as_deref(), Some(cert.der().as_ref()));
        assert!(c.options.root_certs.is_none());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn bad_usage() {
        let cases: &[&[&str]] = &[
            &[],
            &["ws://h:1/db", "--user", "a"],
            &["ws://h:1/db", "--password", "a"],
            &["ws://h:1/db", "--challenge-auth"],
            &["ws://h:1/db", "--user", "", "--password", "p"],
            &[
                "ws://h:1/db",
                "--user",
                "a",
                "--password",
                "p",
                "--bearer",
                "t",
            ],
            &["ws://h:1/db", "--session", "s", "--bearer", "t"],
            &["ws://h:1/db", "--cookie-name", "X"],
            &["ws://h:1/db", "--session", "s", "--cookie-name", "bad name"],
            &["ws://h:1/db", "--session", "a;b"],
            &["ws://h:1/db", "--header", "NoColon"],
            &["ws://h:1/db", "--header", "Bad Name: x"],
            &["ws://h:1/db", "--header", "Host: evil"],
            &["ws://h:1/db", "--header", "Sec-WebSocket-Protocol: x"],
            &["ws://h:1/db", "--header", "X-A: 1", "--header", "X-A: 2"],
            &["ws://h:1/db", "--protocols", " , "],
            &["ws://h:1/db", "--timeout", "0"],
            &["ws://h:1/db", "--timeout", "soon"],
            &["ws://h:1/db", "--timeout"],
            &["ws://h:1/db", "--proxy", "http://p:1", "--no-proxy"],
            &["ws://h:1/db", "--frobnicate"],
            &["ws://h:1/db", "-x"],
            &["ws://h:1/db", "ws://other/db"],
            &["ws://h:1/db", "--json=yes"],
            &[
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
        let e = parse(&["ws://h:1/db", "--session", "sekrit;x"]).unwrap_err();
        assert!(!e.contains("sekrit"), "{e}");
    }

    /// clap's own errors: exit status 2, and a suggestion for a misspelt flag or command.
    #[test]
    fn clap_errors_suggest_and_exit_2() {
        let e = Cli::try_parse_from(["litecore-ws", "check", "ws://h/db", "--pasword", "x"])
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::UnknownArgument);
        assert_eq!(e.exit_code(), 2);
        assert!(e.to_string().contains("--password"), "{e}");
        let e = Cli::try_parse_from(["litecore-ws", "chek", "ws://h/db"]).unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert!(e.to_string().contains("'check'"), "{e}");
        for (args, kind) in [
            (&["litecore-ws", "--help"][..], ErrorKind::DisplayHelp),
            (&["litecore-ws", "check", "--help"], ErrorKind::DisplayHelp),
            (&["litecore-ws", "--version"], ErrorKind::DisplayVersion),
        ] {
            let e = Cli::try_parse_from(args).unwrap_err();
            assert_eq!((e.kind(), e.exit_code()), (kind, 0), "{args:?}");
        }
        let help = Cli::try_parse_from(["litecore-ws", "check", "--help"])
            .unwrap_err()
            .to_string();
        for flag in ["--challenge-auth", "--proxy <URL>", "--pinned-cert <FILE>"] {
            assert!(help.contains(flag), "{flag} missing from:\n{help}");
        }
    }
}
