//! The report as one JSON object (`--json`). Field names and shapes are those documented in the
//! README: `ok`, `url`, `address`, `auth`, `protocols_offered`, `notes`, `steps` (of the attempt
//! that ended the connect path), `request`, `response`, `status`, `protocol`, `whoami`,
//! `verdict`, `c4error`; plus `redirects` and `challenge_retried`.

use crate::probe::Event;
use crate::render_text::{auth_summary, route};
use crate::report::{domain_name, utc_text, FollowUp, Report, Step};
use crate::whoami::WhoAmI;
use litecore_ws::internals::CertInfo;
use serde_json::{json, Value};
use std::time::Duration;

/// Milliseconds with microsecond precision.
fn json_ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 1_000_000.0).round() / 1000.0
}

/// Header lines of a masked head (`Name: value` after the first line) as pairs.
fn header_pairs(masked: &str) -> Vec<Value> {
    masked
        .lines()
        .skip(1)
        .filter(|l| !l.is_empty())
        .map(|l| match l.split_once(':') {
            Some((n, v)) => json!([n, v.trim_start()]),
            None => json!([l, ""]),
        })
        .collect()
}

fn chain_json(chain: &[Vec<u8>]) -> Vec<Value> {
    chain
        .iter()
        .map(|der| match CertInfo::parse(der) {
            Some(cert) => json!({
                "subject": cert.subject,
                "issuer": cert.issuer,
                "not_before": utc_text(cert.not_before_unix()),
                "not_after": utc_text(cert.not_after_unix()),
                "sans": cert.sans,
                "self_signed": cert.self_signed,
                "ca": cert.is_ca,
            }),
            None => json!({"error": "cannot be parsed"}),
        })
        .collect()
}

pub fn render(r: &Report) -> Value {
    let a = &r.address;
    let last = r.last();
    let failed_step = r.failed_step();
    let error_of = |s: Step| -> Value {
        match &r.failed {
            Some((f, e)) if *f == s => Value::String(e.message.clone()),
            _ => Value::Null,
        }
    };
    let mut steps = Vec::new();
    let resolved = last.resolved();
    if resolved.is_some() || failed_step == Some(Step::Dns) {
        let (addrs, took) = resolved
            .map(|(_, addrs, took)| {
                (
                    addrs.iter().map(|s| s.ip().to_string()).collect(),
                    Some(took),
                )
            })
            .unwrap_or((Vec::<String>::new(), None));
        let host = resolved.map_or(last.target.host.as_str(), |(h, _, _)| h);
        steps.push(json!({
            "step": "dns",
            "ok": resolved.is_some(),
            "host": host,
            "ip_literal": host.parse::<std::net::IpAddr>().is_ok(),
            "addresses": addrs,
            "ms": took.map(json_ms),
            "error": error_of(Step::Dns),
        }));
    }
    let mut attempts = Vec::new();
    let mut connected = None;
    for (i, (_, e)) in last.events.iter().enumerate() {
        match e {
            Event::TcpFailed { addr, error, .. } => attempts.push(json!({
                "address": addr.to_string(),
                "ms": json_ms(last.took(i)),
                "error": error.message,
            })),
            Event::TcpConnected { addr, .. } => {
                attempts.push(json!({
                    "address": addr.to_string(),
                    "ms": json_ms(last.took(i)),
                    "error": null,
                }));
                connected = Some(addr.to_string());
            }
            _ => {}
        }
    }
    if !attempts.is_empty() || failed_step == Some(Step::Tcp) {
        let tunnel = last.events.iter().find_map(|(_, e)| match e {
            Event::ProxyTunnel { status, reason, .. } => {
                Some(json!({"status": status, "reason": reason}))
            }
            _ => None,
        });
        steps.push(json!({
            "step": "tcp",
            "ok": connected.is_some() && failed_step != Some(Step::Tcp),
            "connected": connected,
            "route": route(last).unwrap_or_else(|| "direct".into()),
            "proxy_answer": tunnel,
            "attempts": attempts,
            "error": error_of(Step::Tcp),
        }));
    }
    if r.tls_attempted() {
        let (tls, display_only) = match r.tls() {
            Some((t, d)) => (Some(t), d),
            None => (None, false),
        };
        let trusted = last.tls().is_some();
        steps.push(json!({
            "step": "tls",
            "ok": trusted,
            "version": tls.and_then(|t| t.version.clone()),
            "cipher_suite": tls.and_then(|t| t.cipher.clone()),
            "alpn": tls.and_then(|t| t.alpn.clone()),
            "chain": tls.map(|t| chain_json(&t.chain)).unwrap_or_default(),
            "chain_display_only": display_only,
            "trusted": trusted,
            "trust_source": r.trust_source(),
            "pinned_cert_in_chain": r.pinned_in_chain(),
            "error": error_of(Step::Tls),
        }));
    }
    let request = last.request().map(|m| {
        json!({
            "line": m.lines().next().unwrap_or(""),
            "headers": header_pairs(m),
        })
    });
    if request.is_some() || failed_step == Some(Step::Request) {
        steps.push(json!({
            "step": "request",
            "ok": failed_step != Some(Step::Request),
            "error": error_of(Step::Request),
        }));
    }
    let response = r.response().map(|resp| {
        json!({
            "status": resp.status,
            "reason": resp.reason,
            "headers": header_pairs(&resp.masked()),
            "message": r.failure_message(),
        })
    });
    if response.is_some() || failed_step == Some(Step::Response) {
        steps.push(json!({
            "step": "response",
            "ok": r.response().is_some_and(|x| x.status == 101),
            "status": r.response().map(|x| x.status),
            "ms": last.response().map(|(_, at)| json_ms(at - last.start)),
            "error": error_of(Step::Response),
        }));
    }
    let close = r.close();
    if failed_step == Some(Step::Upgrade) || close.is_some() {
        steps.push(json!({
            "step": "upgrade",
            "ok": failed_step != Some(Step::Upgrade),
            "protocol": r.protocol(),
            "error": error_of(Step::Upgrade),
        }));
    }
    if let Some(close) = close {
        steps.push(json!({
            "step": "close",
            "ok": r.record.error.is_none() && !r.record.timed_out,
            "detail": close,
        }));
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
    let redirects: Vec<Value> = r
        .follow_ups
        .iter()
        .filter_map(|f| match f {
            FollowUp::Redirect { status, to } => Some(json!({
                "status": status,
                "to": format!("{}://{}:{}{}", to.scheme, to.host, to.port, to.path),
            })),
            FollowUp::Challenge => None,
        })
        .collect();
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
        "status": r.response().map(|x| x.status),
        "protocol": r.protocol(),
        "redirects": redirects,
        "challenge_retried": r.challenge_retried(),
        "whoami": whoami,
        "verdict": r.verdict.as_ref().map(|v| json!({"kind": v.kind, "text": v.text})),
        "c4error": c4error,
    })
}
