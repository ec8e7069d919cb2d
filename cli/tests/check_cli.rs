//! End to end: the `litecore-ws check` binary against the Sync Gateway stand-in
//! (tests/peers/sg_standin.py, with nginx terminating TLS for wss, tinyproxy for the proxy case)
//! and in-process TLS servers. Every case asserts the exit status and the verdict, and that no
//! password, session id or token reaches stdout or stderr.
//!
//! The peer-driven cases need python3 with `websockets` (and nginx and openssl for wss, tinyproxy
//! for the proxy); scripts/setup.sh installs them. Without them such a case prints
//! `SKIPPED: <reason>` on stderr and returns: it is not counted as a proof.

use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_litecore-ws");
/// The repository (the workspace root: tests/peers lives there).
const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/..");

fn found(tool: &str) -> bool {
    Command::new("sh")
        .args([
            "-c",
            &format!("command -v {tool} || test -x /usr/sbin/{tool}"),
        ])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Why a peer-driven test cannot run here, if it cannot.
fn missing_prerequisite(tls: bool, proxy: bool) -> Option<String> {
    let py = Command::new("python3")
        .args(["-c", "import websockets"])
        .output();
    if !matches!(py, Ok(o) if o.status.success()) {
        return Some(
            "needs python3 with the 'websockets' package (python3 -m pip install \
             'websockets>=15,<18'; scripts/setup.sh installs it)"
                .into(),
        );
    }
    if tls && !(found("nginx") && found("openssl")) {
        return Some(
            "needs nginx and openssl for wss (apt-get install nginx-light openssl; \
             scripts/setup.sh installs them)"
                .into(),
        );
    }
    if proxy && !found("tinyproxy") {
        return Some(
            "needs tinyproxy (apt-get install tinyproxy; scripts/setup.sh installs it)".into(),
        );
    }
    None
}

/// Says why a test is skipped: `SKIPPED: ...` on stderr, written to the handle directly so that
/// the test harness's output capture does not swallow it.
fn skip(test: &str, why: &str) {
    let _ = writeln!(std::io::stderr(), "SKIPPED: {test}: {why}");
}

/// A launcher from tests/peers, running until dropped (its stdin is closed then).
struct Peers {
    child: Child,
    stdin: Option<ChildStdin>,
    ready: Value,
    log: PathBuf,
}

impl Peers {
    /// The stand-in (and nginx unless `tls` is false), or `None` (after saying why) when a
    /// prerequisite is missing.
    fn start(test: &str, tls: bool, sg_args: &[&str]) -> Option<Peers> {
        if let Some(why) = missing_prerequisite(tls, false) {
            skip(test, &why);
            return None;
        }
        let mut args = vec![format!("{ROOT}/tests/peers/peers.py")];
        if !tls {
            args.push("--no-tls".into());
        }
        args.push("--".into());
        args.extend(sg_args.iter().map(|a| a.to_string()));
        Some(Peers::launch(test, &args))
    }

    /// tinyproxy on a free port (tests/peers/proxy_front.py).
    fn proxy(test: &str, proxy_args: &[&str]) -> Option<Peers> {
        if let Some(why) = missing_prerequisite(false, true) {
            skip(test, &why);
            return None;
        }
        let mut args = vec![format!("{ROOT}/tests/peers/proxy_front.py")];
        args.extend(proxy_args.iter().map(|a| a.to_string()));
        Some(Peers::launch(test, &args))
    }

    fn launch(test: &str, args: &[String]) -> Peers {
        let log =
            std::env::temp_dir().join(format!("lcws-check-cli-{}-{test}.log", std::process::id()));
        let mut child = Command::new("python3")
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).expect("log file"))
            .spawn()
            .expect("cannot start python3");
        let stdin = child.stdin.take();
        // The one READY line; no sleeping.
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("read READY");
        let Some(json) = line.strip_prefix("READY ") else {
            let _ = child.wait();
            panic!(
                "{args:?} did not start (got {line:?}); its log:\n{}",
                std::fs::read_to_string(&log).unwrap_or_default()
            );
        };
        let ready: Value = serde_json::from_str(json.trim()).expect("READY json");
        Peers {
            child,
            stdin,
            ready,
            log,
        }
    }

    fn url(&self, key: &str) -> String {
        self.ready[key].as_str().expect(key).to_string()
    }

    fn port(&self, key: &str) -> u16 {
        self.ready[key].as_u64().expect(key) as u16
    }

    /// An admin-port request; returns (status, body).
    fn admin(&self, method: &str, path: &str, body: &str) -> (u16, String) {
        http(self.port("admin"), method, path, body)
    }

    fn new_session(&self, db: &str, user: &str) -> String {
        let (status, body) = self.admin(
            "POST",
            &format!("/{db}/_session"),
            &format!(r#"{{"name":"{user}"}}"#),
        );
        assert_eq!(status, 200, "creating a session: {body}");
        let v: Value = serde_json::from_str(&body).unwrap();
        v["session_id"].as_str().unwrap().to_string()
    }
}

impl Drop for Peers {
    fn drop(&mut self) {
        drop(self.stdin.take()); // EOF: the launcher stops the stand-in and nginx
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.log);
    }
}

/// A tiny HTTP/1.1 client for the admin port.
fn http(port: u16, method: &str, path: &str, body: &str) -> (u16, String) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("admin port");
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut raw = String::new();
    s.read_to_string(&mut raw).unwrap();
    let (head, body) = raw.split_once("\r\n\r\n").expect("HTTP answer");
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    (status, body.to_string())
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

/// Runs the CLI; asserts that none of `secrets` appears in its output.
/// The proxy variables the library honours; the tests clear them (the machine's own proxy must
/// not stand between the check and the loopback peers) unless a test sets them.
const PROXY_VARS: [&str; 8] = [
    "http_proxy",
    "HTTP_PROXY",
    "https_proxy",
    "HTTPS_PROXY",
    "all_proxy",
    "ALL_PROXY",
    "no_proxy",
    "NO_PROXY",
];

fn check(args: &[&str], secrets: &[&str]) -> Run {
    check_env(args, secrets, &[])
}

fn check_env(args: &[&str], secrets: &[&str], env: &[(&str, &str)]) -> Run {
    let mut cmd = Command::new(BIN);
    for var in PROXY_VARS {
        cmd.env_remove(var);
    }
    let out = cmd
        .envs(env.iter().copied())
        .arg("check")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run litecore-ws");
    let run = Run {
        code: out.status.code().expect("exit code (not a signal)"),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    for secret in secrets {
        assert!(
            !run.stdout.contains(secret) && !run.stderr.contains(secret),
            "secret {secret:?} leaked by `check {args:?}`:\n{}\n{}",
            run.stdout,
            run.stderr
        );
    }
    run
}

/// The verdict: the last line of the text output.
fn verdict(run: &Run) -> &str {
    run.stdout.trim_end().lines().last().unwrap_or("")
}

fn expect(run: &Run, code: i32, verdict_start: &str) {
    assert!(
        run.code == code && verdict(run).starts_with(verdict_start),
        "expected exit {code} and a verdict starting {verdict_start:?}; got exit {}:\n{}\nstderr:\n{}",
        run.code,
        run.stdout,
        run.stderr
    );
}

#[test]
fn check_guest_accepted_and_json_output() {
    let Some(p) = Peers::start(
        "check_guest_accepted_and_json_output",
        false,
        &["--guest", "--quiet"],
    ) else {
        return;
    };
    let ws = p.url("ws");
    let run = check(&[&ws], &[]);
    expect(
        &run,
        0,
        "OK: upgraded (BLIP_3+CBMobile_3); no credentials sent: accepted as guest",
    );
    // The library's session closed with 1000 and saw the server's answer.
    assert!(
        run.stdout
            .contains("close     sent Close 1000; the close handshake completed"),
        "{}",
        run.stdout
    );
    for fragment in ["LiteCore  gotHTTPResponse(101, ", "LiteCore  opened after "] {
        assert!(run.stdout.contains(fragment), "{fragment}: {}", run.stdout);
    }

    let run = check(&[&ws, "--json"], &[]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    let v: Value = serde_json::from_str(&run.stdout).expect("one JSON object");
    assert_eq!(v["ok"], true);
    assert_eq!(v["status"], 101);
    assert_eq!(v["protocol"], "BLIP_3+CBMobile_3");
    assert_eq!(v["verdict"]["kind"], "ok");
    assert_eq!(v["c4error"], Value::Null);
    assert_eq!(v["whoami"]["guest"], true);
    let steps: Vec<&str> = v["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["step"].as_str().unwrap())
        .collect();
    assert_eq!(
        steps,
        ["dns", "tcp", "request", "response", "upgrade", "close"]
    );
    let headers = v["request"]["headers"].as_array().unwrap();
    assert!(
        headers
            .iter()
            .any(|h| h[0] == "Sec-WebSocket-Protocol"
                && h[1] == "BLIP_3+CBMobile_3,BLIP_3+CBMobile_2")
    );
    assert!(v["response"]["headers"]
        .as_array()
        .unwrap()
        .iter()
        .any(|h| h[0] == "Sec-Websocket-Protocol" && h[1] == "BLIP_3+CBMobile_3"));
}

#[test]
fn check_sync_gateway_answers() {
    let Some(p) = Peers::start(
        "check_sync_gateway_answers",
        true,
        &[
            "--user",
            "alice:Pw-Secret-1",
            "--bearer",
            "Tok-Secret-9:alice",
        ],
    ) else {
        return;
    };
    let ws = p.url("ws");
    let wss = p.url("wss");
    let ca = p.url("ca");
    let all = ["Pw-Secret-1", "wrong-Secret-2", "Tok-Secret-9"];

    // Basic OK (and the base64 of the credentials is masked too).
    let run = check(&[&ws, "--user", "alice", "--password", "Pw-Secret-1"], &all);
    expect(
        &run,
        0,
        "OK: upgraded (BLIP_3+CBMobile_3); authenticated as user alice",
    );
    assert!(
        run.stdout.contains("Authorization: Basic ***"),
        "{}",
        run.stdout
    );
    assert!(
        !run.stdout.contains("YWxpY2U6"),
        "base64 credentials leaked: {}",
        run.stdout
    );

    // Wrong password, in text and JSON.
    let run = check(
        &[&ws, "--user", "alice", "--password", "wrong-Secret-2"],
        &all,
    );
    expect(&run, 1, "401: wrong user name or password (Invalid login)");
    let run = check(
        &[
            &ws,
            "--user",
            "alice",
            "--password",
            "wrong-Secret-2",
            "--json",
        ],
        &all,
    );
    assert_eq!(run.code, 1);
    let v: Value = serde_json::from_str(&run.stdout).expect("JSON");
    assert_eq!(v["ok"], false);
    assert_eq!(v["status"], 401);
    assert_eq!(v["verdict"]["kind"], "invalid_login");
    assert_eq!(v["c4error"]["domain"], "WebSocket");
    assert_eq!(v["c4error"]["domain_code"], 6);
    assert_eq!(v["c4error"]["code"], 401);
    assert_eq!(v["c4error"]["message"], "Invalid login");

    // No credentials, no guest.
    let run = check(&[&ws], &all);
    expect(
        &run,
        1,
        "401: SG wants Basic credentials or a session cookie (Login required)",
    );

    // Session made on the admin port, then expired; and one SG never made.
    let sid = p.new_session("db", "alice");
    let mut secrets = all.to_vec();
    secrets.push(&sid);
    let run = check(&[&ws, "--session", &sid], &secrets);
    expect(
        &run,
        0,
        "OK: upgraded (BLIP_3+CBMobile_3); authenticated as user alice",
    );
    assert!(
        run.stdout.contains("Cookie: SyncGatewaySession=***"),
        "{}",
        run.stdout
    );
    let (status, _) = p.admin("POST", &format!("/db/_session/{sid}/_expire"), "");
    assert_eq!(status, 200);
    let run = check(&[&ws, "--session", &sid], &secrets);
    expect(&run, 1, "401: session unknown or expired (Session Invalid)");
    let run = check(
        &[&ws, "--session", "0123456789abcdef0123456789abcdef01234567"],
        &all,
    );
    expect(&run, 1, "401: session unknown or expired (Session Invalid)");

    // Bearer token accepted by the stand-in's OpenID Connect.
    let run = check(&[&ws, "--bearer", "Tok-Secret-9"], &all);
    expect(
        &run,
        0,
        "OK: upgraded (BLIP_3+CBMobile_3); authenticated as user alice",
    );
    assert!(
        run.stdout.contains("Authorization: Bearer ***"),
        "{}",
        run.stdout
    );

    // Unknown database: SG 3.1+ answers 401 (names do not leak), without a challenge.
    let other = ws.replace("/db", "/nodb");
    let run = check(&[&other], &all);
    expect(
        &run,
        1,
        "401: SG wants Basic credentials or a session cookie (Login required)",
    );
    assert!(
        verdict(&run).contains("no database named 'nodb'"),
        "{}",
        run.stdout
    );

    // No protocol in common.
    let run = check(
        &[
            &ws,
            "--user",
            "alice",
            "--password",
            "Pw-Secret-1",
            "--protocols",
            "BLIP_3+CBMobile_9",
        ],
        &all,
    );
    expect(&run, 1, "500: SG speaks none of the offered protocols (offered BLIP_3+CBMobile_9; SG: I only speak BLIP_3+CBMobile_3,BLIP_3+CBMobile_2 protocols)");

    // wss through nginx with the test CA, and without it.
    let run = check(
        &[
            &wss,
            "--ca",
            &ca,
            "--user",
            "alice",
            "--password",
            "Pw-Secret-1",
        ],
        &all,
    );
    expect(
        &run,
        0,
        "OK: upgraded (BLIP_3+CBMobile_3); authenticated as user alice",
    );
    for fragment in [
        "2. TLS       TLS 1.",
        "subject  CN=localhost",
        "SANs     DNS:localhost, IP:127.0.0.1",
        "trust     trusted: verified against the certificate(s) in",
    ] {
        assert!(
            run.stdout.contains(fragment),
            "{fragment:?} missing:\n{}",
            run.stdout
        );
    }
    let run = check(
        &[&wss, "--user", "alice", "--password", "Pw-Secret-1"],
        &all,
    );
    expect(&run, 1, "TLS: certificate not trusted:");
    assert!(
        run.stdout.contains("C4Error {Network, 11}"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("subject  CN=localhost"),
        "chain not shown:\n{}",
        run.stdout
    );
    // The display-only handshake sent nothing: the request never reached the server.
    assert!(!run.stdout.contains("3. Request"), "{}", run.stdout);
    let run = check(&[&wss, "--json"], &all);
    assert_eq!(run.code, 1);
    let v: Value = serde_json::from_str(&run.stdout).expect("JSON");
    assert_eq!(v["verdict"]["kind"], "tls_untrusted");
    assert_eq!(v["c4error"]["domain"], "Network");
    assert_eq!(v["c4error"]["code"], 11);
    let tls = v["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["step"] == "tls")
        .expect("a tls step");
    assert_eq!(tls["ok"], false);
    assert_eq!(tls["chain_display_only"], true);
    assert_eq!(tls["chain"][0]["subject"], "CN=localhost");
    assert_eq!(tls["chain"][0]["sans"][0], "DNS:localhost");
    assert_eq!(v["request"], Value::Null);

    // A header given with --header reaches SG byte-exact (the stand-in records what it got).
    let value = "v@l \"quoted\",\tx=1; y";
    let header = format!("X-Check-Trace: {value}");
    p.admin("DELETE", "/_debug/requests", "");
    let run = check(
        &[
            &ws,
            "--user",
            "alice",
            "--password",
            "Pw-Secret-1",
            "--header",
            &header,
        ],
        &all,
    );
    assert_eq!(run.code, 0, "{}", run.stdout);
    let (status, log) = p.admin("GET", "/_debug/requests", "");
    assert_eq!(status, 200);
    let log: Value = serde_json::from_str(&log).unwrap();
    let upgrade = log
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["path"] == "/db/_blipsync")
        .expect("the upgrade request was recorded");
    let got: Vec<(&str, &str)> = upgrade["headers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| (h[0].as_str().unwrap(), h[1].as_str().unwrap()))
        .collect();
    assert!(got.contains(&("X-Check-Trace", value)), "{got:?}");
}

#[test]
fn check_custom_session_cookie_name() {
    let Some(p) = Peers::start(
        "check_custom_session_cookie_name",
        false,
        &[
            "--user",
            "bob:pw-Bob-3",
            "--cookie-name",
            "MyAppSession",
            "--quiet",
        ],
    ) else {
        return;
    };
    let ws = p.url("ws");
    let sid = p.new_session("db", "bob");
    let run = check(
        &[&ws, "--session", &sid, "--cookie-name", "MyAppSession"],
        &[&sid, "pw-Bob-3"],
    );
    expect(
        &run,
        0,
        "OK: upgraded (BLIP_3+CBMobile_3); authenticated as user bob",
    );
    assert!(
        run.stdout.contains("Cookie: MyAppSession=***"),
        "{}",
        run.stdout
    );
    // Under the default name SG does not see a session at all.
    let run = check(&[&ws, "--session", &sid], &[&sid]);
    expect(
        &run,
        1,
        "401: SG did not use the session cookie 'SyncGatewaySession' and wants credentials (Login required): if the database sets another session_cookie_name, pass it with --cookie-name",
    );
}

#[test]
fn check_sg_3_0_unknown_database_and_protocol_mismatch() {
    let Some(p) = Peers::start(
        "check_sg_3_0_unknown_database_and_protocol_mismatch",
        false,
        &["--sg-version", "3.0", "--guest", "--quiet"],
    ) else {
        return;
    };
    let other = p.url("ws").replace("/db", "/nodb");
    let run = check(&[&other], &[]);
    expect(&run, 1, "404: no database named 'nodb'");
    assert!(
        run.stdout.contains("C4Error {WebSocket, 404}"),
        "{}",
        run.stdout
    );
    // SG 2.8/3.0 refuse a protocol mismatch with a bare 403.
    let run = check(&[&p.url("ws"), "--protocols", "BLIP_3+CBMobile_9"], &[]);
    expect(
        &run,
        1,
        "403: SG refused the upgrade without a reason: SG 2.8/3.0 answer this way when they speak none of the offered protocols (offered BLIP_3+CBMobile_9)",
    );
}

#[test]
fn check_connection_refused_and_bad_usage() {
    // A port that was just free: nothing listens there.
    let port = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let url = format!("ws://127.0.0.1:{port}/db");
    let run = check(
        &[&url, "--user", "u", "--password", "Refused-Secret-4"],
        &["Refused-Secret-4"],
    );
    expect(
        &run,
        1,
        &format!("connection refused: nothing listens on 127.0.0.1:{port}"),
    );
    assert!(
        run.stdout.contains("C4Error {Network, 19}"),
        "{}",
        run.stdout
    );

    let run = check(&[&url, "--json"], &[]);
    let v: Value = serde_json::from_str(&run.stdout).expect("JSON");
    assert_eq!(
        (
            v["ok"].clone(),
            v["c4error"]["domain"].clone(),
            v["c4error"]["code"].clone()
        ),
        (Value::Bool(false), Value::from("Network"), Value::from(19))
    );
    assert_eq!(v["verdict"]["kind"], "connection_refused");

    // A server that accepts TCP and never answers: the check gives up at --timeout.
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("ws://{}/db", silent.local_addr().unwrap());
    let started = std::time::Instant::now();
    let run = check(&[&url, "--timeout", "1"], &[]);
    expect(&run, 1, "timed out after 1.0 s (during response)");
    assert!(
        run.stdout.contains("C4Error {Network, 3}"),
        "{}",
        run.stdout
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
    drop(silent);

    // Usage errors: clap's format (ours too), exit status 2, nothing on stdout.
    for args in [
        &["ws://h/db", "--user", "alice"][..],
        &["ws://h"],
        &["ws://h/db", "--nope"],
        &["ws://h/db", "--header", "NoColon"],
        &[],
    ] {
        let run = check(args, &[]);
        assert_eq!(run.code, 2, "{args:?}: {}{}", run.stdout, run.stderr);
        assert!(run.stderr.starts_with("error: "), "{}", run.stderr);
        assert!(
            run.stderr.contains("Usage: litecore-ws check"),
            "{}",
            run.stderr
        );
        assert!(run.stdout.is_empty(), "{}", run.stdout);
        assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    }
    // A misspelt flag gets a suggestion.
    let run = check(&["ws://h/db", "--pasword", "x"], &[]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("'--password'"), "{}", run.stderr);
    // Help and version are generated, on stdout, exit status 0.
    let help = Command::new(BIN)
        .args(["check", "--help"])
        .output()
        .unwrap();
    assert_eq!(help.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&help.stdout).contains("--challenge-auth"));
    let version = Command::new(BIN).arg("--version").output().unwrap();
    assert_eq!(version.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&version.stdout).starts_with("litecore-ws 0."));
    // A secret in a refused command line is not echoed either.
    let run = check(
        &["ws://h/db", "--session", "Semi;Secret-5"],
        &["Semi;Secret-5", "Secret-5"],
    );
    assert_eq!(run.code, 2);
}

#[test]
fn check_goes_through_the_proxy_it_is_given() {
    let Some(p) = Peers::start(
        "check_goes_through_the_proxy_it_is_given",
        false,
        &["--guest", "--quiet"],
    ) else {
        return;
    };
    // A proxy on a closed port: the check reaches for it (and fails there), password masked.
    let run = check(
        &[
            &p.url("ws"),
            "--proxy",
            "http://pxuser:Proxy-Secret-6@127.0.0.1:9",
        ],
        &["Proxy-Secret-6"],
    );
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(run.stdout.contains("127.0.0.1:9"), "{}", run.stdout);
    assert!(run.stdout.contains("{Network, 19}"), "{}", run.stdout);
    // The same proxy from the environment; --no-proxy ignores it and goes direct.
    let env = [("http_proxy", "http://127.0.0.1:9")];
    let run = check_env(&[&p.url("ws")], &[], &env);
    assert_eq!(run.code, 1, "{}", run.stdout);
    let run = check_env(&[&p.url("ws"), "--no-proxy"], &[], &env);
    expect(&run, 0, "OK: upgraded");
}

/// A TLS server (rustls, std) that presents `cert` to the next `connections` clients.
fn tls_server(cert: &rcgen::Certificate, key: &rcgen::KeyPair, connections: usize) -> u16 {
    use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![cert.der().clone()],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
        )
        .unwrap();
    let config = std::sync::Arc::new(config);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for sock in listener.incoming().take(connections) {
            let Ok(mut sock) = sock else { continue };
            let mut conn = rustls::ServerConnection::new(config.clone()).unwrap();
            while conn.is_handshaking() {
                if conn.complete_io(&mut sock).is_err() {
                    break;
                }
            }
        }
    });
    port
}

#[test]
fn check_expired_certificate() {
    let mut params = rcgen::CertificateParams::new(vec!["localhost".to_string()]).unwrap();
    params.not_before = rcgen::date_time_ymd(2020, 1, 1);
    params.not_after = rcgen::date_time_ymd(2021, 1, 1);
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "expired.test");
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = params.self_signed(&key).unwrap();
    let ca = std::env::temp_dir().join(format!("lcws-check-expired-{}.pem", std::process::id()));
    std::fs::write(&ca, cert.pem()).unwrap();
    // Two connections: the library's handshake, then the display-only one.
    let port = tls_server(&cert, &key, 2);
    let url = format!("wss://localhost:{port}/db");
    let run = check(&[&url, "--ca", ca.to_str().unwrap()], &[]);
    let _ = std::fs::remove_file(&ca);
    expect(
        &run,
        1,
        "TLS: certificate expired on 2021-01-01 00:00:00 UTC (CN=expired.test)",
    );
    assert!(
        run.stdout.contains("C4Error {Network, 7}"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("valid    2020-01-01 00:00:00 UTC .. 2021-01-01 00:00:00 UTC"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("SANs     DNS:localhost"),
        "{}",
        run.stdout
    );
}

#[test]
fn check_trust_flags_are_applied() {
    let params = rcgen::CertificateParams::new(vec!["localhost".to_string()]).unwrap();
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = params.self_signed(&key).unwrap();
    let pin = std::env::temp_dir().join(format!("lcws-check-pin-{}.pem", std::process::id()));
    std::fs::write(&pin, cert.pem()).unwrap();
    // No flag: 2 connections (the refused one, the display-only one); each flag: 1.
    let port = tls_server(&cert, &key, 5);
    let url = format!("wss://localhost:{port}/db");
    let tls_ok = |run: &Run| {
        assert!(
            run.stdout.contains("2. TLS       TLS 1.") && !run.stdout.contains("{Network, 11}"),
            "{}",
            run.stdout
        );
    };
    let run = check(&[&url], &[]);
    assert_eq!(run.code, 1);
    assert!(
        run.stdout.contains("C4Error {Network, 11}"),
        "{}",
        run.stdout
    );
    tls_ok(&check(&[&url, "--pinned-cert", pin.to_str().unwrap()], &[]));
    tls_ok(&check(&[&url, "--only-self-signed"], &[]));
    let insecure = check(&[&url, "--insecure"], &[]);
    tls_ok(&insecure);
    assert!(
        insecure.stdout.contains("NOT validated"),
        "{}",
        insecure.stdout
    );
    let _ = std::fs::remove_file(&pin);
    // Flags that cannot work are usage errors.
    let run = check(&[&url, "--client-cert", "/nonexistent.pem"], &[]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    let run = check(&[&url, "--interface", "nosuchif0"], &[]);
    assert_eq!(run.code, 1);
    assert!(run.stdout.contains("{Network, 27}"), "{}", run.stdout);
}

#[test]
fn check_follows_redirects_as_the_library_does() {
    let Some(p) = Peers::start(
        "check_follows_redirects_as_the_library_does",
        false,
        &["--user", "alice:Pw-Secret-7", "--quiet"],
    ) else {
        return;
    };
    let port = p.port("public");
    let redirect = |path: &str, location: &str, status: u16| {
        let (code, body) = p.admin(
            "POST",
            "/_debug/redirect",
            &format!(r#"{{"path":"{path}","location":"{location}","status":{status}}}"#),
        );
        assert_eq!(code, 200, "{body}");
    };
    redirect("/old/_blipsync", "/db/_blipsync", 307);
    let old = p.url("ws").replace("/db", "/old");
    let secrets = ["Pw-Secret-7"];
    let run = check(
        &[&old, "--user", "alice", "--password", "Pw-Secret-7"],
        &secrets,
    );
    expect(
        &run,
        0,
        "OK: upgraded (BLIP_3+CBMobile_3); authenticated as user alice",
    );
    let followed = format!("redirect  HTTP 307 to ws://127.0.0.1:{port}/db/_blipsync: followed");
    assert!(run.stdout.contains(&followed), "{}", run.stdout);
    assert!(
        run.stdout
            .contains("4. Response  HTTP 307 Temporary Redirect"),
        "{}",
        run.stdout
    );

    let run = check(
        &[
            &old,
            "--user",
            "alice",
            "--password",
            "Pw-Secret-7",
            "--json",
        ],
        &secrets,
    );
    assert_eq!(run.code, 0, "{}", run.stdout);
    let v: Value = serde_json::from_str(&run.stdout).expect("JSON");
    assert_eq!(v["redirects"][0]["status"], 307);
    assert_eq!(
        v["redirects"][0]["to"],
        format!("ws://127.0.0.1:{port}/db/_blipsync")
    );
    assert_eq!(v["request"]["line"], "GET /db/_blipsync HTTP/1.1");
    assert_eq!(v["status"], 101);

    // A loop: the library gives up after 10 redirects, as LiteCore does.
    redirect("/loop/_blipsync", "/loop/_blipsync", 302);
    let run = check(&[&p.url("ws").replace("/db", "/loop"), "--json"], &[]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    let v: Value = serde_json::from_str(&run.stdout).expect("JSON");
    assert_eq!(v["redirects"].as_array().unwrap().len(), 10);
    assert_eq!(v["verdict"]["kind"], "redirect");
    assert_eq!(
        (
            v["c4error"]["domain"].as_str(),
            v["c4error"]["code"].as_i64()
        ),
        (Some("Network"), Some(5))
    );
}

#[test]
fn check_challenge_auth() {
    let Some(p) = Peers::start(
        "check_challenge_auth",
        false,
        &["--user", "alice:Pw-Secret-8", "--quiet"],
    ) else {
        return;
    };
    let secrets = ["Pw-Secret-8"];
    let args = [
        "--user",
        "alice",
        "--password",
        "Pw-Secret-8",
        "--challenge-auth",
    ];
    let ws = p.url("ws");
    let mut with_json: Vec<&str> = vec![&ws];
    with_json.extend(args);
    let run = check(&with_json, &secrets);
    expect(
        &run,
        0,
        "OK: upgraded (BLIP_3+CBMobile_3); authenticated as user alice",
    );
    assert!(
        run.stdout
            .contains("challenge 401 with a Basic challenge (challengeAuth): retrying"),
        "{}",
        run.stdout
    );
    // The first request held the credentials back, the second sent them.
    let requests: Vec<&str> = run
        .stdout
        .lines()
        .filter(|l| l.trim_start().starts_with("Authorization:"))
        .collect();
    assert_eq!(
        requests,
        ["             Authorization: Basic ***"],
        "{}",
        run.stdout
    );
    with_json.push("--json");
    let run = check(&with_json, &secrets);
    let v: Value = serde_json::from_str(&run.stdout).expect("JSON");
    assert_eq!(v["challenge_retried"], true);
    assert_eq!(v["whoami"]["user"], "alice");

    // An SG that sends no challenge never gets the credentials.
    let Some(quiet) = Peers::start(
        "check_challenge_auth (no challenge)",
        false,
        &[
            "--user",
            "alice:Pw-Secret-8",
            "--no-www-authenticate",
            "--quiet",
        ],
    ) else {
        return;
    };
    let ws = quiet.url("ws");
    let mut argv: Vec<&str> = vec![&ws];
    argv.extend(args);
    let run = check(&argv, &secrets);
    expect(
        &run,
        1,
        "401: with challengeAuth the credentials wait for a Basic challenge, and SG sent none",
    );
}

#[test]
fn check_proxy_url_is_read_by_the_library() {
    let Some(sg) = Peers::start(
        "check_proxy_url_is_read_by_the_library",
        false,
        &["--guest", "--quiet"],
    ) else {
        return;
    };
    // tinyproxy takes only plain letters and digits in its BasicAuth line, so the URL escapes
    // letters that need no escaping: only a parser that %-decodes sends the right password.
    let Some(proxy) = Peers::proxy(
        "check_proxy_url_is_read_by_the_library",
        &["--basic-auth", "px:PxSecret10", "--quiet"],
    ) else {
        return;
    };
    let port = proxy.port("port");
    let secrets = ["PxSecret10", "%50x%53ecret10"];
    // %-decoded by the library's proxy URL parser, as for https_proxy and friends.
    let url = format!("http://px:%50x%53ecret10@127.0.0.1:{port}");
    let run = check(&[&sg.url("ws"), "--proxy", &url], &secrets);
    expect(&run, 0, "OK: upgraded (BLIP_3+CBMobile_3)");
    let route = format!(
        "route     through HTTP proxy 127.0.0.1:{port} (127.0.0.1:{port}, from the proxy option, with credentials)"
    );
    assert!(run.stdout.contains(&route), "{}", run.stdout);
    assert!(
        run.stdout.contains("proxy     CONNECT answered 200"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("proxy      http://px:***@127.0.0.1:"),
        "{}",
        run.stdout
    );
    // Undecoded, the password is wrong: the proxy refuses with 407 before SG is reached.
    let wrong = format!("http://px:PxSecret11@127.0.0.1:{port}");
    let run = check(
        &[&sg.url("ws"), "--proxy", &wrong, "--json"],
        &["PxSecret11"],
    );
    assert_eq!(run.code, 1, "{}", run.stdout);
    let v: Value = serde_json::from_str(&run.stdout).expect("JSON");
    assert_eq!(v["c4error"]["code"], 407, "{}", run.stdout);
    assert_eq!(v["response"], Value::Null);
}
