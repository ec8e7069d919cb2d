//! The plain verdict: from the step that failed, the HTTP status with SG's `reason`, and the
//! C4Error the library reports (what a replicator would get), or from who SG took us for.

use crate::report::{utc_text, Report, Step, Verdict};
use crate::whoami::{database_name, WhoAmI};
use litecore_ws::internals::cookies::SESSION_COOKIE;
use litecore_ws::internals::response::Response;
use litecore_ws::internals::{AuthType, CertInfo, Domain, NetworkCode, Options};
use std::time::SystemTime;

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

/// The verdict for a report.
pub fn verdict(report: &Report) -> Verdict {
    let Some((step, error)) = &report.failed else {
        return success_verdict(report);
    };
    if let Some(response) = report.response() {
        if *step == Step::Response && response.status != 101 {
            return http_verdict(report, response, &error.message, error.code);
        }
    }
    let host = &report.last().target.host;
    if *step == Step::Upgrade {
        if error.domain == Domain::WebSocket && error.code == 403 {
            return v(
                false,
                "protocol_not_offered",
                format!(
                    "101, but the server chose the subprotocol {:?}, which was not offered ({}): \
                     LiteCore refuses this with {{WebSocket, 403}}",
                    report
                        .response()
                        .and_then(|r| r.header_str("sec-websocket-protocol"))
                        .unwrap_or("")
                        .trim(),
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
        let is = |c: NetworkCode| code == c as i32;
        let now = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        let chain: Vec<CertInfo> = report
            .tls()
            .map(|(t, _)| t.chain.iter().filter_map(|d| CertInfo::parse(d)).collect())
            .unwrap_or_default();
        let leaf = chain.first();
        let trust = report.trust_source();
        if is(NetworkCode::TlsCertExpired) {
            let expired = chain.iter().find(|c| c.not_after_unix() < now).or(leaf);
            return v(
                false,
                "tls_expired",
                match expired {
                    Some(c) => format!(
                        "TLS: certificate expired on {} ({})",
                        utc_text(c.not_after_unix()),
                        c.subject
                    ),
                    None => format!("TLS: certificate expired ({})", error.message),
                },
            );
        }
        if is(NetworkCode::TlsCertUnknownRoot) {
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
        if is(NetworkCode::TlsCertNameMismatch) {
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
        if is(NetworkCode::TlsCertUntrusted) {
            if let Some(c) = chain.iter().find(|c| c.not_before_unix() > now) {
                return v(
                    false,
                    "tls_untrusted",
                    format!(
                        "TLS: certificate not trusted: '{}' is not valid before {}",
                        c.subject,
                        utc_text(c.not_before_unix())
                    ),
                );
            }
            return v(
                false,
                "tls_untrusted",
                format!("TLS: certificate not trusted ({})", error.message),
            );
        }
        if is(NetworkCode::TlsCertRevoked) {
            return v(false, "tls_revoked", "TLS: the certificate is revoked");
        }
        if is(NetworkCode::TlsCertRequiredByPeer) {
            return v(
                false,
                "tls_client_cert_required",
                "TLS: the server requires a client certificate: pass --client-cert and \
                 --client-key (auth type Client Cert)",
            );
        }
        if is(NetworkCode::TlsCertRejectedByPeer) {
            return v(
                false,
                "tls_client_cert_rejected",
                format!(
                    "TLS: the server refused the client certificate ({})",
                    error.message
                ),
            );
        }
        if (6..=15).contains(&code) && *step == Step::Tls {
            return v(
                false,
                "tls_failed",
                format!("TLS: handshake failed: {}", error.message),
            );
        }
        if is(NetworkCode::ConnectionRefused) {
            let addrs: Vec<String> = report
                .last()
                .events
                .iter()
                .filter_map(|(_, e)| match e {
                    crate::probe::Event::TcpFailed { addr, .. } => Some(addr.to_string()),
                    _ => None,
                })
                .collect();
            let what = report.last().events.iter().find_map(|(_, e)| match e {
                crate::probe::Event::Resolved { proxy: Some(p), .. } => Some(p.clone()),
                _ => None,
            });
            return v(
                false,
                "connection_refused",
                match what {
                    Some(proxy) => format!(
                        "connection refused: nothing listens on {} (the {proxy}: is it running, \
                         is the port right?)",
                        addrs.join(", ")
                    ),
                    None => format!(
                        "connection refused: nothing listens on {} (is SG running, is the port \
                         right?)",
                        addrs.join(", ")
                    ),
                },
            );
        }
        if is(NetworkCode::UnknownHost) {
            return v(
                false,
                "unknown_host",
                format!(
                    "unknown host '{host}': DNS has no address for it ({})",
                    error.message
                ),
            );
        }
        if is(NetworkCode::DnsFailure) {
            return v(
                false,
                "dns_failure",
                format!("DNS lookup of '{host}' failed: {}", error.message),
            );
        }
        if is(NetworkCode::Timeout) {
            return v(false, "timeout", error.message.clone());
        }
        if is(NetworkCode::TooManyRedirects) || is(NetworkCode::InvalidRedirect) {
            return v(
                false,
                "redirect",
                format!("redirect not followed: {}", error.message),
            );
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
    let protocol = report.protocol();
    let protocol = protocol.as_deref().unwrap_or("no subprotocol");
    let held = report
        .options
        .auth
        .as_ref()
        .is_some_and(|a| a.challenge_auth)
        && !report.challenge_retried();
    let sent = credentials(&report.options).filter(|_| !held);
    let mut text = match (&report.whoami, sent) {
        (Some(WhoAmI::User(name)), _) => {
            format!("OK: upgraded ({protocol}); authenticated as user {name}")
        }
        (Some(WhoAmI::Guest), None) | (Some(WhoAmI::Unknown(_)) | None, None) => {
            if held {
                format!(
                    "OK: upgraded ({protocol}); accepted as guest: SG sent no challenge, so \
                     with challengeAuth the credentials were not sent"
                )
            } else {
                format!("OK: upgraded ({protocol}); no credentials sent: accepted as guest")
            }
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
    if report.protocol().as_deref() == Some("BLIP_3+CBMobile_2") {
        text.push_str(
            "; note: SG chose BLIP_3+CBMobile_2 (SG 2.8): LiteCore 3.3+ offers only CBMobile_3/4 \
             and would be refused",
        );
    }
    v(true, "ok", text)
}

fn http_verdict(report: &Report, response: &Response, message: &str, code: i32) -> Verdict {
    let status = response.status;
    // The library's message: SG's `reason` for an error answer.
    let reason = if code == i32::from(status) {
        message.to_string()
    } else {
        String::new()
    };
    let db = database_name(&report.last().target);
    let held = report
        .options
        .auth
        .as_ref()
        .is_some_and(|a| a.challenge_auth)
        && !report.challenge_retried();
    let sent = credentials(&report.options).filter(|_| !held);
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
                    .unwrap_or(SESSION_COOKIE);
                let text = match sent {
                    _ if held => format!(
                        "401: with challengeAuth the credentials wait for a Basic challenge, and \
                         SG sent none (Login required){no_db_hint}"
                    ),
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
                    Some("bearer token") => {
                        format!("401: the bearer token was refused (Invalid login){no_db_hint}")
                    }
                    Some("session cookie") => {
                        format!("401: the session was refused (Invalid login){no_db_hint}")
                    }
                    _ => format!("401: wrong user name or password (Invalid login){no_db_hint}"),
                };
                return v(false, "invalid_login", text);
            }
            v(
                false,
                "unauthorized",
                format!("401: unauthorized ({reason}){no_db_hint}"),
            )
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
                    format!(
                        "404: not found ({reason}); is this a Sync Gateway public port and is \
                         the URL path right?"
                    ),
                )
            }
        }
        500 if reason.contains("only speak") => v(
            false,
            "protocol_mismatch",
            format!(
                "500: SG speaks none of the offered protocols (offered {offered}; SG: {reason})"
            ),
        ),
        403 if reason == response.reason || reason.is_empty() => v(
            false,
            "protocol_mismatch",
            format!(
                "403: SG refused the upgrade without a reason: SG 2.8/3.0 answer this way when \
                 they speak none of the offered protocols (offered {offered})"
            ),
        ),
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
            let location = response.header_str("location").unwrap_or("").trim();
            v(
                false,
                "redirect",
                format!("{status}: the redirect to {location:?} was not followed: {message}"),
            )
        }
        200..=299 => v(
            false,
            "not_websocket",
            format!(
                "HTTP {status} instead of a WebSocket upgrade: this is not a Sync Gateway \
                 _blipsync endpoint"
            ),
        ),
        _ => v(false, "http_error", format!("HTTP {status}: {reason}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::args::{Cli, Cmd, Config};
    use crate::probe::{Event, Record, TlsInfo};
    use clap::Parser;
    use litecore_ws::internals::TransportError;
    use std::net::SocketAddr;
    use std::time::Duration;

    fn config(args: &[&str]) -> Config {
        let cli = Cli::try_parse_from(["litecore-ws", "check"].iter().chain(args)).unwrap();
        let Cmd::Check(check) = cli.command;
        check.config().unwrap()
    }

    fn at(ms: u64) -> Duration {
        Duration::from_millis(ms)
    }

    const ADDR: &str = "127.0.0.1:1";

    /// The events of a connection that got as far as `response` (or TLS, or TCP).
    fn connected(tls: Option<TlsInfo>) -> Vec<(Duration, Event)> {
        let addr: SocketAddr = ADDR.parse().unwrap();
        let mut events = vec![
            (
                at(1),
                Event::Resolved {
                    host: "h".into(),
                    addrs: vec![addr],
                    proxy: None,
                },
            ),
            (at(2), Event::TcpConnected { addr, proxy: None }),
        ];
        if let Some(t) = tls {
            events.push((at(3), Event::Tls(t)));
        }
        events
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

    /// A check whose answer was `response`, refused by the library with `message` (SG's reason).
    fn http_failure(args: &[&str], response: Response, message: &str) -> Verdict {
        let mut events = connected(None);
        events.push((at(4), Event::RequestSent("GET".into())));
        let code = i32::from(response.status);
        events.push((at(5), Event::Response(response)));
        let record = Record {
            events,
            error: Some(TransportError::websocket(code, message)),
            ended: Some(at(6)),
            ..Record::default()
        };
        verdict(&Report::new(&config(args), record))
    }

    const GUEST: &[&str] = &["ws://h:1/db"];
    const BASIC: &[&str] = &["ws://h:1/db", "--user", "a", "--password", "p"];
    const SESSION: &[&str] = &["ws://h:1/db", "--session", "s"];
    const BEARER: &[&str] = &["ws://h:1/db", "--bearer", "t"];
    const CHALLENGE: (&str, &str) = ("Www-Authenticate", "Basic realm=\"Couchbase Sync Gateway\"");

    #[test]
    fn http_verdicts() {
        let v = http_failure(GUEST, answer(401, &[CHALLENGE]), "Login required");
        assert_eq!(
            (v.ok, v.kind, v.text.as_str()),
            (
                false,
                "login_required",
                "401: SG wants Basic credentials or a session cookie (Login required)"
            )
        );
        // Without a challenge: SG 3.1+'s answer for an unknown database.
        let v = http_failure(GUEST, answer(401, &[]), "Login required");
        assert!(v.text.contains("no database named 'db'"), "{}", v.text);
        // challengeAuth against an SG that sends no challenge: the credentials never went out.
        let mut args = BASIC.to_vec();
        args.push("--challenge-auth");
        let v = http_failure(&args, answer(401, &[]), "Login required");
        assert_eq!(v.kind, "login_required");
        assert!(
            v.text
                .starts_with("401: with challengeAuth the credentials wait"),
            "{}",
            v.text
        );

        let v = http_failure(BASIC, answer(401, &[CHALLENGE]), "Invalid login");
        assert_eq!(
            (v.kind, v.text.as_str()),
            (
                "invalid_login",
                "401: wrong user name or password (Invalid login)"
            )
        );
        let v = http_failure(BEARER, answer(401, &[]), "Invalid login");
        assert!(
            v.text.starts_with("401: the bearer token was refused"),
            "{}",
            v.text
        );
        let v = http_failure(SESSION, answer(401, &[CHALLENGE]), "Session Invalid");
        assert_eq!(
            (v.kind, v.text.as_str()),
            (
                "session_invalid",
                "401: session unknown or expired (Session Invalid)"
            )
        );
        let v = http_failure(
            SESSION,
            answer(401, &[]),
            "Session no longer valid for user",
        );
        assert_eq!(v.kind, "session_revoked");
        let v = http_failure(SESSION, answer(401, &[CHALLENGE]), "Login required");
        assert!(
            v.text.contains("session cookie 'SyncGatewaySession'"),
            "{}",
            v.text
        );

        let v = http_failure(GUEST, answer(404, &[]), "no such database \"db\"");
        assert_eq!(
            (v.kind, v.text.as_str()),
            (
                "no_database",
                "404: no database named 'db' (no such database \"db\")"
            )
        );
        assert_eq!(
            http_failure(GUEST, answer(404, &[]), "unknown URL").kind,
            "not_found"
        );
        let v = http_failure(
            GUEST,
            answer(500, &[]),
            "I only speak BLIP_3+CBMobile_3,BLIP_3+CBMobile_2 protocols",
        );
        assert_eq!(v.kind, "protocol_mismatch");
        assert!(v.text.starts_with("500: SG speaks none of the offered protocols (offered BLIP_3+CBMobile_3,BLIP_3+CBMobile_2;"), "{}", v.text);
        // SG 2.8/3.0: 403 with no body (the message falls back to the status line's reason).
        let v = http_failure(GUEST, answer(403, &[]), "Forbidden");
        assert_eq!(v.kind, "protocol_mismatch");
        let v = http_failure(
            GUEST,
            answer(403, &[]),
            "websocket: request Origin \"x\" is not authorized",
        );
        assert_eq!(v.kind, "forbidden");
        let v = http_failure(GUEST, answer(503, &[]), "DB is currently under maintenance");
        assert_eq!(v.kind, "unavailable");
        let v = http_failure(GUEST, answer(418, &[]), "teapot");
        assert_eq!(
            (v.kind, v.text.as_str()),
            ("http_error", "HTTP 418: teapot")
        );
    }

    /// A redirect the library would not follow ends at the 3xx with the library's error.
    #[test]
    fn redirect_not_followed() {
        let mut events = connected(None);
        events.push((at(4), Event::RequestSent("GET".into())));
        events.push((
            at(5),
            Event::Response(answer(302, &[("Location", "ftp://b/db")])),
        ));
        let record = Record {
            events,
            error: Some(TransportError::network(
                NetworkCode::InvalidRedirect,
                "cannot follow the redirect to \"ftp://b/db\"",
            )),
            ..Record::default()
        };
        let v = verdict(&Report::new(&config(GUEST), record));
        assert_eq!(v.kind, "redirect");
        assert!(v.text.contains("ftp://b/db"), "{}", v.text);
    }

    fn cert_der(cn: &str, not_before: (i32, u8, u8), not_after: (i32, u8, u8)) -> Vec<u8> {
        let key = rcgen::KeyPair::generate().unwrap();
        let mut params = rcgen::CertificateParams::new(vec!["localhost".to_string()]).unwrap();
        params.not_before = rcgen::date_time_ymd(not_before.0, not_before.1, not_before.2);
        params.not_after = rcgen::date_time_ymd(not_after.0, not_after.1, not_after.2);
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, cn);
        params.self_signed(&key).unwrap().der().to_vec()
    }

    /// TLS refused: the chain comes from the display-only connection.
    fn tls_failure(chain: Vec<Vec<u8>>, code: NetworkCode) -> Verdict {
        let record = Record {
            events: connected(None),
            error: Some(TransportError::network(code, "TLS handshake with h: x")),
            ..Record::default()
        };
        let mut report = Report::new(&config(&["wss://h:1/db"]), record);
        assert_eq!(report.failed_step(), Some(Step::Tls));
        report.display_tls = Some(TlsInfo {
            chain,
            ..TlsInfo::default()
        });
        verdict(&report)
    }

    #[test]
    fn tls_and_network_verdicts() {
        let expired = cert_der("expired.test", (2020, 1, 1), (2021, 1, 1));
        let v = tls_failure(vec![expired], NetworkCode::TlsCertExpired);
        assert_eq!(
            (v.kind, v.text.as_str()),
            (
                "tls_expired",
                "TLS: certificate expired on 2021-01-01 00:00:00 UTC (CN=expired.test)"
            )
        );
        // rcgen's certificate is self-signed by the library's judgement (the signature
        // verifies with its own key).
        let me = cert_der("me", (2020, 1, 1), (2099, 1, 1));
        let v = tls_failure(vec![me.clone()], NetworkCode::TlsCertUnknownRoot);
        assert_eq!(v.kind, "tls_untrusted");
        assert!(
            v.text.contains("'CN=me' is self-signed") && v.text.contains("--ca"),
            "{}",
            v.text
        );
        let v = tls_failure(vec![me], NetworkCode::TlsCertNameMismatch);
        assert_eq!(v.kind, "tls_name_mismatch");
        assert!(
            v.text.contains("'h'") && v.text.contains("DNS:localhost"),
            "{}",
            v.text
        );
        let future = cert_der("later", (2090, 1, 1), (2099, 1, 1));
        let v = tls_failure(vec![future], NetworkCode::TlsCertUntrusted);
        assert!(v.text.contains("not valid before 2090-01-01"), "{}", v.text);
        assert_eq!(
            tls_failure(vec![], NetworkCode::TlsHandshakeFailed).kind,
            "tls_failed"
        );

        let addr: SocketAddr = ADDR.parse().unwrap();
        let refused = TransportError::network(NetworkCode::ConnectionRefused, "refused");
        let record = Record {
            events: vec![
                (
                    at(1),
                    Event::Resolved {
                        host: "127.0.0.1".into(),
                        addrs: vec![addr],
                        proxy: None,
                    },
                ),
                (
                    at(2),
                    Event::TcpFailed {
                        addr,
                        error: refused.clone(),
                        proxy: None,
                    },
                ),
            ],
            error: Some(refused),
            ..Record::default()
        };
        let v = verdict(&Report::new(&config(&["ws://127.0.0.1:1/db"]), record));
        assert_eq!(v.kind, "connection_refused");
        assert!(
            v.text
                .starts_with("connection refused: nothing listens on 127.0.0.1:1"),
            "{}",
            v.text
        );
        let record = Record {
            error: Some(TransportError::network(NetworkCode::UnknownHost, "x")),
            ..Record::default()
        };
        assert_eq!(
            verdict(&Report::new(&config(GUEST), record)).kind,
            "unknown_host"
        );
        // The check's own timeout names the step it stopped in.
        let record = Record {
            events: connected(None),
            timed_out: true,
            ..Record::default()
        };
        let v = verdict(&Report::new(
            &config(&["ws://h:1/db", "--timeout", "3"]),
            record,
        ));
        assert_eq!(
            (v.kind, v.text.as_str()),
            ("timeout", "timed out after 3.0 s (during request)")
        );
        // A 101 whose subprotocol was not offered.
        let mut events = connected(None);
        events.push((at(4), Event::RequestSent("GET".into())));
        events.push((
            at(5),
            Event::Response(answer(
                101,
                &[("Sec-WebSocket-Protocol", "BLIP_3+CBMobile_9")],
            )),
        ));
        let record = Record {
            events: events.clone(),
            error: Some(TransportError::websocket(
                403,
                "Server did not accept protocol",
            )),
            ..Record::default()
        };
        assert_eq!(
            verdict(&Report::new(&config(GUEST), record)).kind,
            "protocol_not_offered"
        );
        let record = Record {
            events,
            error: Some(TransportError::websocket(1002, "bad accept")),
            ..Record::default()
        };
        assert_eq!(
            verdict(&Report::new(&config(GUEST), record)).kind,
            "bad_upgrade"
        );
    }

    fn opened(args: &[&str], protocol: &str, whoami: Option<WhoAmI>) -> Verdict {
        let mut events = connected(None);
        events.push((at(4), Event::RequestSent("GET".into())));
        events.push((
            at(5),
            Event::Response(answer(101, &[("Sec-WebSocket-Protocol", protocol)])),
        ));
        let record = Record {
            events,
            opened: Some(at(6)),
            ended: Some(at(7)),
            ..Record::default()
        };
        let mut report = Report::new(&config(args), record);
        report.whoami = whoami;
        verdict(&report)
    }

    #[test]
    fn success_verdicts() {
        let basic = ["ws://h:1/db", "--user", "alice", "--password", "p"];
        let v = opened(
            &basic,
            "BLIP_3+CBMobile_3",
            Some(WhoAmI::User("alice".into())),
        );
        assert!(v.ok);
        assert_eq!(
            v.text,
            "OK: upgraded (BLIP_3+CBMobile_3); authenticated as user alice"
        );
        let v = opened(
            &basic,
            "BLIP_3+CBMobile_3",
            Some(WhoAmI::Unknown("x".into())),
        );
        assert_eq!(
            v.text,
            "OK: upgraded (BLIP_3+CBMobile_3); Basic credentials for user alice sent and accepted"
        );
        let v = opened(GUEST, "BLIP_3+CBMobile_3", Some(WhoAmI::Guest));
        assert_eq!(
            v.text,
            "OK: upgraded (BLIP_3+CBMobile_3); no credentials sent: accepted as guest"
        );
        let v = opened(BEARER, "BLIP_3+CBMobile_2", Some(WhoAmI::Guest));
        assert!(v.ok);
        assert!(
            v.text.contains("as GUEST") && v.text.contains("OpenID Connect"),
            "{}",
            v.text
        );
        assert!(v.text.contains("CBMobile_2 (SG 2.8)"), "{}", v.text);
        let mut challenge = basic.to_vec();
        challenge.push("--challenge-auth");
        let v = opened(&challenge, "BLIP_3+CBMobile_3", Some(WhoAmI::Guest));
        assert!(v.text.contains("SG sent no challenge"), "{}", v.text);
    }

    #[test]
    fn output_never_shows_secrets() {
        let args = [
            "ws://h:1/db",
            "--session",
            "SESSIONID42",
            "--header",
            "Authorization: Bearer HDRTOKEN",
            "--proxy",
            "http://u:PROXYPW@p:1",
        ];
        let c = config(&args);
        let request = litecore_ws::internals::request::build_request(
            &c.address,
            &c.options,
            "k",
            &litecore_ws::internals::request::Attempt::default(),
        )
        .unwrap();
        let mut events = connected(None);
        events.push((at(4), Event::RequestSent(request.masked)));
        events.push((
            at(5),
            Event::Response(answer(
                101,
                &[("Set-Cookie", "SyncGatewaySession=SESSIONID42; Path=/db")],
            )),
        ));
        let record = Record {
            events,
            opened: Some(at(6)),
            ended: Some(at(7)),
            ..Record::default()
        };
        let mut report = Report::new(&c, record);
        report.verdict = Some(verdict(&report));
        let text = crate::render_text::render(&report);
        let json = crate::render_json::render(&report).to_string();
        for out in [&text, &json] {
            for secret in ["SESSIONID42", "HDRTOKEN", "PROXYPW"] {
                assert!(!out.contains(secret), "{secret} in {out}");
            }
        }
        assert!(text.contains("Cookie: SyncGatewaySession=***"), "{text}");
        assert!(text.contains("u:***@p:1"), "{text}");
    }
}
