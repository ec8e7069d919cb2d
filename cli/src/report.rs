//! What a check found, read from the probe's record: the attempts (a redirect or a challenge
//! retry starts a new one), the step that failed and the library's error for it, the TLS chain
//! (also from the display-only probe when TLS was refused), the close, who SG took us for. The
//! verdict and both renderings read this.

use crate::args::Config;
use crate::probe::{Event, Record, TlsInfo};
use crate::whoami::WhoAmI;
use litecore_ws::internals::response::Response;
use litecore_ws::internals::{
    parse_certificates, Address, DefaultRoots, Domain, NetworkCode, Options, TransportError,
};
use std::net::SocketAddr;
use std::time::Duration;

/// The steps of one attempt, in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    Dns,
    Tcp,
    Tls,
    Request,
    Response,
    Upgrade,
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
        }
    }
}

/// One connection attempt: the first, or one after a redirect or a challenge.
#[derive(Clone, Debug)]
pub struct Attempt {
    pub target: Address,
    /// When it started (from the check's start).
    pub start: Duration,
    pub events: Vec<(Duration, Event)>,
}

/// How an attempt led to the next one.
#[derive(Clone, Debug)]
pub enum FollowUp {
    Redirect { status: u16, to: Address },
    Challenge,
}

impl Attempt {
    pub fn resolved(&self) -> Option<(&str, &[SocketAddr], Duration)> {
        self.events.iter().find_map(|(at, e)| match e {
            Event::Resolved { host, addrs, .. } => {
                Some((host.as_str(), addrs.as_slice(), *at - self.start))
            }
            _ => None,
        })
    }

    pub fn tls(&self) -> Option<(&TlsInfo, Duration)> {
        self.events.iter().find_map(|(at, e)| match e {
            Event::Tls(t) => Some((t, *at)),
            _ => None,
        })
    }

    pub fn request(&self) -> Option<&str> {
        self.events.iter().find_map(|(_, e)| match e {
            Event::RequestSent(r) => Some(r.as_str()),
            _ => None,
        })
    }

    pub fn response(&self) -> Option<(&Response, Duration)> {
        self.events.iter().find_map(|(at, e)| match e {
            Event::Response(r) => Some((r, *at)),
            _ => None,
        })
    }

    /// The time between an event and the one before it (or the attempt's start).
    pub fn took(&self, index: usize) -> Duration {
        let before = index
            .checked_sub(1)
            .map_or(self.start, |i| self.events[i].0);
        self.events[index].0.saturating_sub(before)
    }

    /// The step after the last one this attempt completed: where a failure happened.
    pub fn failed_step(&self, error: &TransportError) -> Step {
        let Some((_, last)) = self.events.last() else {
            let dns = error.domain == Domain::Network
                && [
                    NetworkCode::UnknownHost,
                    NetworkCode::DnsFailure,
                    NetworkCode::Timeout,
                ]
                .iter()
                .any(|c| *c as i32 == error.code);
            return if dns { Step::Dns } else { Step::Tcp };
        };
        let after_tcp = if self.target.is_tls() {
            Step::Tls
        } else {
            Step::Request
        };
        match last {
            Event::Resolved { .. } | Event::TcpFailed { .. } => Step::Tcp,
            Event::TcpConnected { proxy: Some(_), .. } => Step::Tcp,
            Event::TcpConnected { proxy: None, .. } => after_tcp,
            Event::ProxyTunnel { status, .. } if (200..300).contains(status) => after_tcp,
            Event::ProxyTunnel { .. } => Step::Tcp,
            Event::Tls(_) => Step::Request,
            Event::RequestSent(_) => Step::Response,
            Event::Response(r) if r.status == 101 => Step::Upgrade,
            Event::Response(_) | Event::Redirect { .. } | Event::ChallengeRetry => Step::Response,
        }
    }
}

/// Splits a record's events into attempts.
pub fn attempts(record: &Record, address: &Address) -> (Vec<Attempt>, Vec<FollowUp>) {
    let mut attempts = vec![Attempt {
        target: address.clone(),
        start: Duration::ZERO,
        events: Vec::new(),
    }];
    let mut follow_ups = Vec::new();
    for (at, event) in &record.events {
        let current = attempts.last_mut().expect("one attempt at least");
        let next_target = match event {
            Event::Redirect { status, to } => {
                follow_ups.push(FollowUp::Redirect {
                    status: *status,
                    to: to.clone(),
                });
                to.clone()
            }
            Event::ChallengeRetry => {
                follow_ups.push(FollowUp::Challenge);
                current.target.clone()
            }
            _ => {
                current.events.push((*at, event.clone()));
                continue;
            }
        };
        attempts.push(Attempt {
            target: next_target,
            start: *at,
            events: Vec::new(),
        });
    }
    (attempts, follow_ups)
}

/// The verdict: one sentence, and a stable identifier for scripts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verdict {
    pub ok: bool,
    /// e.g. `ok`, `login_required`, `invalid_login`, `session_invalid`, `no_database`,
    /// `protocol_mismatch`, `unavailable`, `redirect`, `tls_expired`, `tls_untrusted`,
    /// `connection_refused`, `unknown_host`, `timeout`.
    pub kind: &'static str,
    pub text: String,
}

/// Everything a check found.
#[derive(Clone, Debug)]
pub struct Report {
    pub url: String,
    pub address: Address,
    pub options: Options,
    pub timeout: Duration,
    pub ca_file: Option<String>,
    pub pinned_file: Option<String>,
    /// What the options weaken.
    pub notes: Vec<String>,
    pub record: Record,
    pub attempts: Vec<Attempt>,
    pub follow_ups: Vec<FollowUp>,
    /// The step that failed and the error a replicator gets; `None` once the socket opened.
    pub failed: Option<(Step, TransportError)>,
    /// The chain from the display-only connection, when TLS was refused.
    pub display_tls: Option<TlsInfo>,
    pub whoami: Option<WhoAmI>,
    pub verdict: Option<Verdict>,
}

impl Report {
    pub fn new(config: &Config, record: Record) -> Report {
        let (attempts, follow_ups) = attempts(&record, &config.address);
        let mut report = Report {
            url: config.url.clone(),
            address: config.address.clone(),
            options: config.options.clone(),
            timeout: config.timeout,
            ca_file: config.ca_file.clone(),
            pinned_file: config.pinned_file.clone(),
            notes: option_notes(&config.options),
            record,
            attempts,
            follow_ups,
            failed: None,
            display_tls: None,
            whoami: None,
            verdict: None,
        };
        if report.record.opened.is_none() {
            let last = report.last();
            let error = match &report.record.error {
                Some(e) if !report.record.timed_out => e.clone(),
                // The check's own limit (or a run that ended without an error before opening,
                // which the library never does).
                _ => TransportError::network(NetworkCode::Timeout, String::new()),
            };
            let step = last.failed_step(&error);
            let error = if report.record.timed_out {
                TransportError::network(
                    NetworkCode::Timeout,
                    format!(
                        "timed out after {:.1} s (during {})",
                        config.timeout.as_secs_f64(),
                        step.name()
                    ),
                )
            } else {
                error
            };
            report.failed = Some((step, error));
        }
        report
    }

    /// The attempt that ended the connect path.
    pub fn last(&self) -> &Attempt {
        self.attempts.last().expect("one attempt at least")
    }

    pub fn ok(&self) -> bool {
        self.verdict.as_ref().is_some_and(|v| v.ok)
    }

    pub fn failed_step(&self) -> Option<Step> {
        self.failed.as_ref().map(|(s, _)| *s)
    }

    /// Whether a 401 challenge made the library retry with credentials.
    pub fn challenge_retried(&self) -> bool {
        self.follow_ups
            .iter()
            .any(|f| matches!(f, FollowUp::Challenge))
    }

    /// The final answer's head.
    pub fn response(&self) -> Option<&Response> {
        self.last().response().map(|(r, _)| r)
    }

    /// The negotiated subprotocol.
    pub fn protocol(&self) -> Option<String> {
        self.response()
            .filter(|r| r.status == 101)
            .and_then(|r| r.header("sec-websocket-protocol"))
            .map(|v| String::from_utf8_lossy(v).trim().to_string())
    }

    /// The message the library took from an error answer (SG's JSON `reason`, or text).
    pub fn failure_message(&self) -> Option<&str> {
        let status = self.response()?.status;
        match &self.failed {
            Some((Step::Response, e))
                if e.domain == Domain::WebSocket && e.code == i32::from(status) =>
            {
                Some(&e.message)
            }
            _ => None,
        }
    }

    /// The TLS the final attempt established, or what the display-only connection saw; `true`
    /// for the latter.
    pub fn tls(&self) -> Option<(&TlsInfo, bool)> {
        match self.last().tls() {
            Some((t, _)) => Some((t, false)),
            None => self.display_tls.as_ref().map(|t| (t, true)),
        }
    }

    /// Whether the final attempt reached TLS (established or refused).
    pub fn tls_attempted(&self) -> bool {
        self.last().target.is_tls()
            && (self.last().tls().is_some() || self.failed_step() == Some(Step::Tls))
    }

    /// What the server's certificate is judged against (the library's precedence).
    pub fn trust_source(&self) -> String {
        let o = &self.options;
        if o.accept_all_certs {
            return "nothing: acceptAllCerts accepts any certificate".into();
        }
        if o.pinned_cert.is_some() {
            let file = self.pinned_file.as_deref().unwrap_or("?");
            return format!(
                "the pinned certificate or public key in {file} (pinnedCert); no CA needed"
            );
        }
        if o.only_self_signed_server {
            return "onlySelfSignedServer: a self-signed certificate only, host name not checked"
                .into();
        }
        match &self.ca_file {
            Some(f) => format!("the certificate(s) in {f} (rootCerts)"),
            None => format!(
                "the default roots ({})",
                match DefaultRoots::from_env() {
                    DefaultRoots::Webpki => "Mozilla's, LCWS_TLS_ROOTS=webpki",
                    DefaultRoots::System => "the system CA bundle, LCWS_TLS_ROOTS=system",
                    DefaultRoots::Both => "Mozilla's plus the system CA bundle",
                }
            ),
        }
    }

    /// Whether the `pinnedCert` (if given) is one of the chain's certificates.
    pub fn pinned_in_chain(&self) -> Option<bool> {
        let pinned = parse_certificates("pinnedCert", self.options.pinned_cert.as_ref()?).ok()?;
        let (tls, _) = self.tls()?;
        Some(
            pinned
                .iter()
                .any(|p| tls.chain.iter().any(|c| c.as_slice() == p.as_ref())),
        )
    }

    /// How the close handshake ended, once the socket was open.
    pub fn close(&self) -> Option<String> {
        let opened = self.record.opened?;
        let took = self
            .record
            .ended
            .map(|end| format!(" ({})", ms(end.saturating_sub(opened))))
            .unwrap_or_default();
        let mut text = match &self.record.peer_close {
            Some((status, _)) => format!("the server sent Close {status} first; answered"),
            None => "sent Close 1000".to_string(),
        };
        if self.record.timed_out {
            text.push_str(&format!(
                "; not finished within the check's {:.1} s",
                self.timeout.as_secs_f64()
            ));
            return Some(text);
        }
        match &self.record.error {
            None => text.push_str("; the close handshake completed"),
            Some(e) => text.push_str(&format!(
                "; then: {} (C4Error {{{}, {}}})",
                e.message,
                domain_name(e.domain),
                e.code
            )),
        }
        text.push_str(&took);
        Some(text)
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

pub fn domain_name(d: Domain) -> &'static str {
    match d {
        Domain::LiteCore => "LiteCore",
        Domain::Posix => "POSIX",
        Domain::Network => "Network",
        Domain::WebSocket => "WebSocket",
    }
}

pub fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_text_dates() {
        assert_eq!(utc_text(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(utc_text(951_782_400), "2000-02-29 00:00:00 UTC");
        assert_eq!(utc_text(4_102_444_799), "2099-12-31 23:59:59 UTC");
    }

    fn at(ms: u64) -> Duration {
        Duration::from_millis(ms)
    }

    #[test]
    fn attempts_and_failed_steps() {
        let a = crate::args::parse_check_url("wss://h:1/db").unwrap();
        let b = crate::args::parse_check_url("wss://other:2/db").unwrap();
        let addr: SocketAddr = "127.0.0.1:1".parse().unwrap();
        let response = |status| Response {
            status,
            reason: String::new(),
            headers: vec![],
        };
        let record = Record {
            events: vec![
                (
                    at(1),
                    Event::Resolved {
                        host: "h".into(),
                        addrs: vec![addr],
                        proxy: None,
                    },
                ),
                (at(2), Event::TcpConnected { addr, proxy: None }),
                (at(3), Event::Tls(TlsInfo::default())),
                (at(4), Event::RequestSent("GET".into())),
                (at(5), Event::Response(response(307))),
                (
                    at(6),
                    Event::Redirect {
                        status: 307,
                        to: b.clone(),
                    },
                ),
                (
                    at(7),
                    Event::Resolved {
                        host: "other".into(),
                        addrs: vec![addr],
                        proxy: None,
                    },
                ),
                (at(9), Event::TcpConnected { addr, proxy: None }),
            ],
            ..Record::default()
        };
        let (attempts, follow_ups) = attempts(&record, &a);
        assert_eq!(attempts.len(), 2);
        assert_eq!(attempts[0].events.len(), 5);
        assert!(matches!(
            &follow_ups[..],
            [FollowUp::Redirect { status: 307, .. }]
        ));
        let last = &attempts[1];
        assert_eq!(last.target, b);
        assert_eq!(last.resolved().unwrap().2, at(1));
        assert_eq!(last.took(1), at(2));
        let e = TransportError::network(NetworkCode::TlsCertUnknownRoot, "x");
        assert_eq!(last.failed_step(&e), Step::Tls);
        assert_eq!(attempts[0].failed_step(&e), Step::Response);
        let first = Attempt {
            target: a,
            start: Duration::ZERO,
            events: vec![],
        };
        let dns = TransportError::network(NetworkCode::UnknownHost, "x");
        assert_eq!(first.failed_step(&dns), Step::Dns);
        let iface = TransportError::network(NetworkCode::UnknownInterface, "x");
        assert_eq!(first.failed_step(&iface), Step::Tcp);
    }
}
