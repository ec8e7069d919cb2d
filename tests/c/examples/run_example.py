#!/usr/bin/env python3
"""Runs a C example (the fake-LiteCore build of examples-c/) against the SG stand-in and checks
its exit status, its output and the exact requests the stand-in's public port received.

    run_example.py SCENARIO --peers-dir tests/peers --bin EXAMPLE [-- LAUNCHER ARGS...]

SCENARIO: replicate | replicate_wrong_password | session_login | session_login_wss.
Everything after `--` is put in front of the example's command line (e.g. valgrind and its
options in the LCWS_VALGRIND build). --litecore: EXAMPLE is the build against a real LiteCore
(tests/c/real_litecore/run.sh), whose replicator runs instead of the harness; additionally checked:
the database was created and LiteCore's status callback reported the stop (replicate_wrong_password
only: the stand-in speaks no BLIP, so a real replication cannot succeed against it). Peers start on port 0 and are waited for by their READY
line; they stop when their stdin is closed. Exit status 0 when every check passed.
"""
import argparse
import base64
import json
import os
import re
import select
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

PROTOCOL = "BLIP_3+CBMobile_3"
FAILURES = []


def check(cond, what):
    print(("  ok    " if cond else "  FAIL  ") + what, flush=True)
    if not cond:
        FAILURES.append(what)
    return cond


class Peer:
    """A peer process from tests/peers, started and stopped as tests/peers/README.md says."""

    def __init__(self, argv, timeout=60):
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        deadline = time.monotonic() + timeout
        line = b""
        while not line.endswith(b"\n"):
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.proc.stdout], [], [], left)[0]:
                self.stop()
                raise RuntimeError(f"no READY line from {argv} within {timeout} s")
            chunk = os.read(self.proc.stdout.fileno(), 1)
            if not chunk:
                self.stop()
                raise RuntimeError(f"{argv} exited before READY")
            line += chunk
        text = line.decode()
        if not text.startswith("READY "):
            self.stop()
            raise RuntimeError(f"unexpected first line from {argv}: {text!r}")
        self.ready = json.loads(text[len("READY "):])

    def stop(self):
        if self.proc.stdin and not self.proc.stdin.closed:
            self.proc.stdin.close()  # EOF on stdin: the peer shuts down
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.terminate()
            self.proc.wait()


def admin(port, method, path):
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", method=method)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


def blipsync_requests(admin_port):
    status, log = admin(admin_port, "GET", "/_debug/requests")
    assert status == 200, status
    return [r for r in log if r["path"].split("?")[0].endswith("/_blipsync")]


def show_request(r):
    """Prints the request as the stand-in received it, credentials masked."""
    print(f"  request {r['method']} {r['path']} {r['version']} -> {r['status']}")
    for n, v in r["headers"]:
        if n.lower() in ("authorization", "cookie"):
            v = re.sub(r"(=|Basic |Bearer )[^;]*", lambda m: m.group(1) + f"<{len(m.group(0)) - len(m.group(1))} chars>", v)
        print(f"    {n}: {v}")


def headers_named(req, name):
    return [v for n, v in req["headers"] if n.lower() == name.lower()]


def run(launcher, argv, timeout):
    cmd = launcher + argv
    print("$ " + " ".join(cmd), flush=True)
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
    out, err = p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")
    sys.stdout.write("".join("  | " + line + "\n" for line in out.splitlines()))
    sys.stdout.write("".join("  ! " + line + "\n" for line in err.splitlines()))
    print(f"  exit status {p.returncode}", flush=True)
    return p.returncode, out, err


# ---- scenarios -------------------------------------------------------------------------------


def scenario_replicate(a, launcher, workdir, wrong_password=False):
    sg = Peer([sys.executable, os.path.join(a.peers_dir, "sg_standin.py"), "--quiet", "--user", "alice:pw"])
    try:
        url = f"ws://127.0.0.1:{sg.ready['public']}/db"
        password = "nope" if wrong_password else "pw"
        rc, out, err = run(launcher, [a.bin, os.path.join(workdir, "example.cblite2"), url, "alice", password],
                           a.timeout)
        reqs = blipsync_requests(sg.ready["admin"])
        check(len(reqs) == 1, f"the stand-in got one _blipsync request (got {len(reqs)})")
        if reqs:
            r = reqs[0]
            show_request(r)
            check(r["method"] == "GET" and r["path"] == "/db/_blipsync", f"request line GET /db/_blipsync ({r['method']} {r['path']})")
            expected = "Basic " + base64.b64encode(f"alice:{password}".encode()).decode()
            check(headers_named(r, "Authorization") == [expected], "exactly one Authorization: Basic base64(alice:<password>)")
            check(headers_named(r, "Cookie") == [], "no Cookie header")
            check(headers_named(r, "Sec-WebSocket-Protocol") == [PROTOCOL], f"Sec-WebSocket-Protocol: {PROTOCOL}")
        if a.litecore:
            check(os.path.isdir(os.path.join(workdir, "example.cblite2")), "LiteCore created the database example.cblite2")
            check("status: stopped" in out, "LiteCore's replicator reported kC4Stopped through the status callback")
        if wrong_password:
            check(rc == 1, f"exit status 1 (got {rc})")
            check("{WebSocket, 401}" in out, "the output shows the {WebSocket, 401} error")
            check("Invalid login" in out, "with SG's reason \"Invalid login\"")
            check(bool(reqs) and reqs[0]["status"] == 401, "the stand-in answered 401")
        else:
            check(rc == 0, f"exit status 0 (got {rc})")
            check("replication finished without error" in out, "the example reports success")
            check("message echoed byte-exact" in out, "the message came back through SG's echo")
            check(bool(reqs) and reqs[0]["status"] == 101, "the stand-in answered 101")
    finally:
        sg.stop()


def check_session_request(r, cookie_name, admin_port, out, err):
    """The _blipsync request carried exactly `Cookie: <cookie_name>=<id>` for a live session of
    alice, no Authorization, and the example never printed the id."""
    cookies = [(n, v) for n, v in r["headers"] if n.lower() == "cookie"]
    check(len(cookies) == 1, f"exactly one Cookie header (got {len(cookies)})")
    if not cookies:
        return None
    name, value = cookies[0]
    check(name == "Cookie", f"header name spelled Cookie ({name!r})")
    m = re.fullmatch(re.escape(cookie_name) + r"=([0-9a-f]{40})", value)
    check(m is not None, f"value is exactly {cookie_name}=<40 hex session id> (got {len(value)} characters)")
    check(headers_named(r, "Authorization") == [], "no Authorization header")
    check(r["status"] == 101, f"the stand-in accepted the session (HTTP {r['status']})")
    if not m:
        return None
    sid = m.group(1)
    status, info = admin(admin_port, "GET", f"/db/_session/{sid}")
    check(status == 200 and info.get("userCtx", {}).get("name") == "alice",
          "admin GET /db/_session/<that id>: a live session of alice")
    check(sid not in out and sid not in err, "the example never printed the session id")
    check(f"{cookie_name}={sid[:4]}****" in out, "the example printed only a masked form of that id")
    return sid


def scenario_session(a, launcher, workdir, tls=False):
    cookie_name = "MySession"
    if tls:
        peer = Peer([sys.executable, os.path.join(a.peers_dir, "peers.py"), "--quiet", "--",
                     "--cookie-name", cookie_name], timeout=90)
        url = f"wss://localhost:{peer.ready['tls']}/db"
        extra = ["--ca", peer.ready["ca"]]
    else:
        peer = Peer([sys.executable, os.path.join(a.peers_dir, "sg_standin.py"), "--quiet",
                     "--cookie-name", cookie_name])
        url = f"ws://127.0.0.1:{peer.ready['public']}/db"
        extra = []
    try:
        admin_port = peer.ready["admin"]
        admin_url = f"http://127.0.0.1:{admin_port}"
        db = os.path.join(workdir, "example.cblite2")
        # First run: SG has no user alice yet, so the app server creates it; second run: it exists.
        runs = 1 if tls else 2
        ids = []
        for n in range(runs):
            rc, out, err = run(launcher, a.bin_args + extra + [db, url, admin_url, "alice"], a.timeout)
            check(rc == 0, f"run {n + 1}: exit status 0 (got {rc})")
            check("replication finished without error" in out, f"run {n + 1}: the example reports success")
            created = "PUT /db/_user/alice -> 201" in out
            check(created == (n == 0), f"run {n + 1}: user created {'(404 first)' if n == 0 else 'not again'}")
            check(f"session for alice: {cookie_name}=" in out, f"run {n + 1}: cookie name {cookie_name} taken from SG's answer")
            reqs = blipsync_requests(admin_port)
            check(len(reqs) == n + 1, f"run {n + 1}: {n + 1} _blipsync request(s) so far (got {len(reqs)})")
            if len(reqs) == n + 1:
                show_request(reqs[n])
                ids.append(check_session_request(reqs[n], cookie_name, admin_port, out, err))
        if runs == 2:
            check(None not in ids and ids[0] != ids[1], "each run got its own session")
    finally:
        peer.stop()


def main():
    argv = sys.argv[1:]
    launcher = []
    if "--" in argv:
        i = argv.index("--")
        argv, launcher = argv[:i], argv[i + 1:]
    p = argparse.ArgumentParser()
    p.add_argument("scenario", choices=["replicate", "replicate_wrong_password", "session_login", "session_login_wss"])
    p.add_argument("--peers-dir", required=True)
    p.add_argument("--bin", required=True)
    p.add_argument("--timeout", type=float, default=240)
    p.add_argument("--litecore", action="store_true", help="EXAMPLE is built against a real LiteCore")
    a = p.parse_args(argv)
    if a.litecore and a.scenario != "replicate_wrong_password":
        p.error("--litecore: only replicate_wrong_password can run against the stand-in (it speaks no BLIP)")
    a.bin_args = [a.bin]
    workdir = tempfile.mkdtemp(prefix="lcws-example-")
    try:
        if a.scenario == "replicate":
            scenario_replicate(a, launcher, workdir)
        elif a.scenario == "replicate_wrong_password":
            scenario_replicate(a, launcher, workdir, wrong_password=True)
        elif a.scenario == "session_login":
            scenario_session(a, launcher, workdir)
        else:
            scenario_session(a, launcher, workdir, tls=True)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    if FAILURES:
        print(f"{a.scenario}: {len(FAILURES)} check(s) failed")
        return 1
    print(f"{a.scenario} ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
