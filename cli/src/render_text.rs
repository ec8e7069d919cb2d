//! The report as text for a person: the options, each attempt's steps with their times, the
//! redirects and challenge retries between attempts, what LiteCore would have been told, the
//! close, who SG took us for, and the verdict as the last line. Secrets never appear: requests
//! are the library's masked text, answers go through `Response::masked`.

use crate::probe::Event;
use crate::report::{domain_name, ms, utc_text, Attempt, FollowUp, Report, Step};
use crate::whoami::{database_name, WhoAmI};
use litecore_ws::internals::cookies::SESSION_COOKIE;
use litecore_ws::internals::proxy::{ProxyServer, Route};
use litecore_ws::internals::request::mask_value;
use litecore_ws::internals::{AuthType, CertInfo, Options, Proxy, ProxyType};

pub fn auth_summary(o: &Options) -> String {
    match &o.auth {
        None => "none (guest)".to_string(),
        Some(a) => {
            let mut text = match a.kind {
                AuthType::Basic => format!(
                    "Basic, user {}, password ***",
                    a.username.as_deref().unwrap_or("?")
                ),
                AuthType::Session => format!(
                    "Session, cookie {}=***",
                    a.cookie_name.as_deref().unwrap_or(SESSION_COOKIE)
                ),
                AuthType::OpenIdConnect => "OpenID Connect, Authorization: Bearer ***".to_string(),
                AuthType::ClientCert => "Client Cert".to_string(),
            };
            if a.challenge_auth {
                text.push_str(", only after a challenge (challengeAuth)");
            }
            text
        }
    }
}

/// The proxy option as text with its password masked.
pub fn proxy_display(p: &Proxy) -> String {
    let scheme = match p.kind {
        ProxyType::Https => "https",
        ProxyType::Socks => "socks",
        ProxyType::None => return "none (direct, environment ignored)".to_string(),
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

/// "through HTTP proxy p:3128 (addr, from …)" for an attempt that went through a proxy.
pub fn route(attempt: &Attempt) -> Option<String> {
    let addr = attempt.events.iter().find_map(|(_, e)| match e {
        Event::TcpConnected {
            addr,
            proxy: Some(_),
        } => Some(*addr),
        _ => None,
    })?;
    let proxy: Option<&ProxyServer> = attempt.events.iter().find_map(|(_, e)| match e {
        Event::ProxyTunnel { proxy, .. } => Some(proxy),
        _ => None,
    });
    Some(match proxy {
        Some(proxy) => Route::Proxy {
            proxy: proxy.clone(),
            addr,
        }
        .to_string(),
        None => format!("through a proxy at {addr}"),
    })
}

/// One certificate's lines.
fn certificate(line: &mut dyn FnMut(String), i: usize, der: &[u8]) {
    let Some(cert) = CertInfo::parse(der) else {
        line(format!(
            "   cert[{i}]   (cannot be parsed, {} bytes)",
            der.len()
        ));
        return;
    };
    line(format!("   cert[{i}]   subject  {}", cert.subject));
    line(format!("             issuer   {}", cert.issuer));
    line(format!(
        "             valid    {} .. {}",
        utc_text(cert.not_before_unix()),
        utc_text(cert.not_after_unix())
    ));
    if !cert.sans.is_empty() {
        line(format!("             SANs     {}", cert.sans.join(", ")));
    }
    if cert.self_signed {
        line("             (self-signed)".to_string());
    }
}

/// One attempt's steps.
fn attempt(r: &Report, a: &Attempt, is_last: bool, line: &mut dyn FnMut(String)) {
    let failed = if is_last { r.failed_step() } else { None };
    let mut dns_shown = false;
    for (i, (_, event)) in a.events.iter().enumerate() {
        let took = ms(a.took(i));
        match event {
            Event::Resolved { host, addrs, proxy } => {
                dns_shown = true;
                let of = proxy
                    .as_ref()
                    .map(|p| format!(" ({p})"))
                    .unwrap_or_default();
                if host.parse::<std::net::IpAddr>().is_ok() {
                    line(format!("1. DNS       {host}{of} (IP address, no lookup)"));
                } else {
                    let list: Vec<String> = addrs.iter().map(|s| s.ip().to_string()).collect();
                    line(format!(
                        "1. DNS       {host}{of} -> {} ({took})",
                        list.join(", ")
                    ));
                }
            }
            Event::TcpFailed { addr, error, proxy } => {
                let to = proxy
                    .as_ref()
                    .map(|p| format!(" ({p})"))
                    .unwrap_or_default();
                line(format!(
                    "   TCP       {addr}{to} failed after {took}: {}",
                    error.message
                ));
            }
            Event::TcpConnected { addr, proxy } => {
                let to = proxy
                    .as_ref()
                    .map(|p| format!(" ({p})"))
                    .unwrap_or_default();
                line(format!("   TCP       connected to {addr}{to} in {took}"));
            }
            Event::ProxyTunnel { status, reason, .. } => {
                line(format!(
                    "   proxy     CONNECT answered {status} {reason} ({took})"
                ));
                if let Some(route) = route(a) {
                    line(format!("   route     {route}"));
                }
            }
            Event::Tls(t) => {
                line(format!(
                    "2. TLS       {}, {}{} ({took})",
                    t.version.as_deref().unwrap_or("?"),
                    t.cipher.as_deref().unwrap_or("?"),
                    t.alpn
                        .as_deref()
                        .map(|p| format!(", ALPN {p}"))
                        .unwrap_or_default()
                ));
                for (i, der) in t.chain.iter().enumerate() {
                    certificate(line, i, der);
                }
                line(format!(
                    "   trust     trusted: verified against {}",
                    r.trust_source()
                ));
                if let Some(pinned) = r.pinned_in_chain().filter(|_| is_last) {
                    line(format!(
                        "   pinned    the pinned certificate is {}in the server's chain",
                        if pinned { "" } else { "NOT " }
                    ));
                }
            }
            Event::RequestSent(req) => {
                let mut lines = req.lines().filter(|l| !l.is_empty());
                if let Some(first) = lines.next() {
                    line(format!("3. Request   {first}"));
                }
                for l in lines {
                    line(format!("             {l}"));
                }
            }
            Event::Response(resp) => {
                let masked = resp.masked();
                let mut lines = masked.lines();
                if let Some(first) = lines.next() {
                    line(format!("4. Response  {first} ({took})"));
                }
                for l in lines {
                    line(format!("             {l}"));
                }
                if is_last && resp.status != 101 {
                    if let Some(m) = r.failure_message() {
                        line(format!("   reason    {m}"));
                    }
                }
            }
            Event::Redirect { .. } | Event::ChallengeRetry => {}
        }
    }
    if !dns_shown && failed == Some(Step::Dns) {
        line(format!("1. DNS       {} -> (failed)", a.target.host));
    }
    // TLS refused: the chain from the display-only connection.
    if failed == Some(Step::Tls) && a.target.is_tls() {
        match &r.display_tls {
            None => line("2. TLS       failed (no certificate could be shown)".to_string()),
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
                line(
                    "   (the certificates below come from a second connection that accepts \
                      any certificate ONLY to show them and sends nothing: litecore-ws refused \
                      this server)"
                        .to_string(),
                );
                for (i, der) in t.chain.iter().enumerate() {
                    certificate(line, i, der);
                }
            }
        }
        let why = r
            .failed
            .as_ref()
            .map(|(_, e)| e.message.clone())
            .unwrap_or_default();
        line(format!(
            "   trust     NOT trusted (verified against {}): {why}",
            r.trust_source()
        ));
        if let Some(pinned) = r.pinned_in_chain() {
            line(format!(
                "   pinned    the pinned certificate is {}in the server's chain",
                if pinned { "" } else { "NOT " }
            ));
        }
    }
}

/// The report as text.
pub fn render(r: &Report) -> String {
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
            mask_value(n, val.as_bytes())
        } else {
            val.clone()
        };
        line(format!("  header     {n}: {shown}"));
    }
    for note in &r.notes {
        line(format!("  note       {note}"));
    }

    let count = r.attempts.len();
    for (i, at) in r.attempts.iter().enumerate() {
        attempt(r, at, i + 1 == count, &mut line);
        match r.follow_ups.get(i) {
            Some(FollowUp::Redirect { status, to }) => line(format!(
                "   redirect  HTTP {status} to {}://{}:{}{}: followed",
                to.scheme, to.host, to.port, to.path
            )),
            Some(FollowUp::Challenge) => line(
                "   challenge 401 with a Basic challenge (challengeAuth): retrying with the \
                 credentials"
                    .to_string(),
            ),
            None => {}
        }
    }

    if let Some((status, headers)) = r.record.got_http_response {
        line(format!(
            "   LiteCore  gotHTTPResponse({status}, {headers} headers)"
        ));
    }
    if let Some(opened) = r.record.opened {
        line(format!(
            "5. Protocol  {}",
            r.protocol().as_deref().unwrap_or("(none chosen)")
        ));
        line(format!("   LiteCore  opened after {}", ms(opened)));
    }
    if let Some(close) = r.close() {
        line(format!("   close     {close}"));
    }
    match &r.whoami {
        Some(WhoAmI::User(u)) => line(format!(
            "   user      {u} (GET /{}/_session)",
            database_name(&r.last().target)
        )),
        Some(WhoAmI::Guest) => line(format!(
            "   user      GUEST (GET /{}/_session)",
            database_name(&r.last().target)
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
