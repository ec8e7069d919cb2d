#!/usr/bin/env python3
"""Runs the Qt example's fake-LiteCore build (example_qt_fake) against the SG stand-in and checks
its exit status, its output and the exact request the stand-in received.

    run_qt_example.py --peers-dir tests/peers --bin example_qt_fake [-- LAUNCHER ARGS...]

One peers.py (the stand-in with user alice, and nginx for TLS) serves three runs:
  1. ws://            alice / the right password   -> exit 0, message echoed, clean close
  2. wss:// --ca CA   the same through nginx (rootCerts) -> exit 0
  3. ws://            a wrong password             -> exit 1, {WebSocket, 401} Invalid login
In every run each event must be handled on the Qt thread, and on success at least one must have
come from litecore-ws's own thread (lcws-worker). Then the serve mode:
  4. --serve --interface 127.0.0.1 ./qt-serve.cblite2 -> prints its URL (wss://127.0.0.1:PORT/
     qt-serve) and the SHA-256 fingerprint of its generated certificate, which must be the
     certificate a TLS client gets on that port; an upgrade request for the shared database
     reaches the glue's accept (the fake LiteCore cannot run a replicator: 503), one for another
     database gets 404; SIGINT stops it: "stopped serving", exit 0.
Everything after `--` goes in front of the program (valgrind in the LCWS_VALGRIND build). Exit
status 0 when every check passed.
"""
import argparse
import base64
import hashlib
import os
import select
import signal
import socket
import ssl
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "c", "examples"))
import run_example as rx  # noqa: E402  Peer, run, check, blipsync_requests, show_request, headers_named

USER, PASSWORD = "alice", "qt-s3cret-pw"


def check_run(label, rc, out, err, reqs_before, admin_port, password, ok_expected):
    check = rx.check
    reqs = rx.blipsync_requests(admin_port)
    check(len(reqs) == reqs_before + 1, f"{label}: the stand-in got one more _blipsync request ({len(reqs) - reqs_before})")
    if len(reqs) == reqs_before + 1:
        r = reqs[-1]
        rx.show_request(r)
        check(r["method"] == "GET" and r["path"] == "/db/_blipsync", f"{label}: GET /db/_blipsync")
        expected = "Basic " + base64.b64encode(f"{USER}:{password}".encode()).decode()
        check(rx.headers_named(r, "Authorization") == [expected], f"{label}: exactly one Authorization: Basic base64({USER}:<password>)")
        check(rx.headers_named(r, "Sec-WebSocket-Protocol") == [rx.PROTOCOL], f"{label}: Sec-WebSocket-Protocol: {rx.PROTOCOL}")
        check(r["status"] == (101 if ok_expected else 401), f"{label}: the stand-in answered {r['status']}")
    check("registered as LiteCore's WebSocket transport" in out, f"{label}: lcws_register_with_litecore() succeeded")
    events = [line for line in out.splitlines() if line.startswith(("status:", "progress:"))]
    check(len(events) >= 3, f"{label}: events reached the Qt side ({len(events)})")
    check(all("handled on the Qt thread" in line for line in events), f"{label}: every event was handled on the Qt thread")
    check(any("from thread 'fake-repl'" in line for line in events), f"{label}: replicator events came from the replicator's thread")
    check("ticks of a 1 ms timer while replicating" in out, f"{label}: the app reports its timer ticks (count not checked: timing)")
    check(password not in out and password not in err, f"{label}: the password appears nowhere in the output")
    if ok_expected:
        check(rc == 0, f"{label}: exit status 0 (got {rc})")
        check(any("from thread 'lcws-worker'" in line for line in events),
              f"{label}: an event from litecore-ws's thread (c4socket_received) was marshalled to the Qt thread")
        check("progress: message echoed byte-exact" in out, f"{label}: the message came back through SG's echo")
        check("replication finished without error" in out, f"{label}: the app reports success")
    else:
        check(rc == 1, f"{label}: exit status 1 (got {rc})")
        check("replication failed: {WebSocket, 401}" in out, f"{label}: the output shows {{WebSocket, 401}}")
        check("Invalid login" in out, f"{label}: with SG's reason \"Invalid login\"")


def read_until(proc, marker, timeout):
    """Lines of `proc`'s stdout until one contains `marker` (or EOF / the timeout)."""
    lines, buf = [], b""
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([proc.stdout], [], [], left)[0]:
            return lines, False
        chunk = os.read(proc.stdout.fileno(), 4096)
        if not chunk:
            return lines, False
        buf += chunk
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            text = line.decode(errors="replace")
            print("  | " + text, flush=True)
            lines.append(text)
            if marker in text:
                return lines, True


def upgrade(port, path):
    """A WebSocket upgrade request for `path` over TLS (no certificate check): returns the
    response's status and the server's certificate (DER). The response is read before the
    connection closes (see check_serve)."""
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    with socket.create_connection(("127.0.0.1", port), timeout=30) as raw, ctx.wrap_socket(raw) as s:
        der = s.getpeercert(binary_form=True)
        s.sendall((f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
                   "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                   f"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: {rx.PROTOCOL}\r\n\r\n").encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = s.recv(4096)
            if not chunk:
                break
            head += chunk
    first = head.split(b"\r\n", 1)[0].decode(errors="replace")
    print(f"  {path}: {first}", flush=True)
    parts = first.split()
    return (int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0), der


def check_serve(launcher, binary, timeout):
    check = rx.check
    cmd = launcher + [binary, "--serve", "--interface", "127.0.0.1", "./qt-serve.cblite2"]
    print("$ " + " ".join(cmd), flush=True)
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        lines, ready = read_until(proc, "serving until interrupted", timeout)
        check(ready, "serve: the app says it is serving")
        if not ready:
            return
        urls = [line.split("URL: ", 1)[1] for line in lines if line.startswith("URL: ")]
        fingerprints = [line.split(": ", 1)[1] for line in lines if line.startswith("certificate SHA-256: ")]
        check(len(urls) == 1 and urls[0].startswith("wss://127.0.0.1:") and urls[0].endswith("/qt-serve"),
              f"serve: one URL, wss://127.0.0.1:PORT/qt-serve ({urls})")
        check(len(fingerprints) == 1, "serve: the certificate's SHA-256 fingerprint is printed")
        if len(urls) != 1 or len(fingerprints) != 1:
            return
        port = int(urls[0].split(":")[2].split("/")[0])
        # (Each connection sends a request and reads the answer before closing: a client that
        # closes right after the TLS handshake makes the server's write of its session tickets
        # fail with EPIPE, and litecore-ws then raises SIGPIPE in a host that does not ignore it.)
        status, der = upgrade(port, "/qt-serve/_blipsync")
        check(fingerprints[0].replace(":", "") == hashlib.sha256(der).hexdigest().upper(),
              "serve: the fingerprint is the certificate's a TLS client gets on that port")
        check(status == 503,
              "serve: the shared database's upgrade reached the glue's accept (fake LiteCore: no replicator, 503)")
        check(upgrade(port, "/other/_blipsync")[0] == 404, "serve: another database: 404")
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
        out, err = out.decode(errors="replace"), err.decode(errors="replace")
        sys.stdout.write("".join("  | " + line + "\n" for line in out.splitlines()))
        sys.stdout.write("".join("  ! " + line + "\n" for line in err.splitlines()))
        print(f"  exit status {proc.returncode}", flush=True)
    check("interrupted" in out and "stopped serving" in out, "serve: SIGINT stops the listener")
    check(proc.returncode == 0, f"serve: exit status 0 (got {proc.returncode})")


def main():
    argv = sys.argv[1:]
    launcher = []
    if "--" in argv:
        i = argv.index("--")
        argv, launcher = argv[:i], argv[i + 1:]
    p = argparse.ArgumentParser()
    p.add_argument("--peers-dir", required=True)
    p.add_argument("--bin", required=True)
    p.add_argument("--timeout", type=float, default=240)
    a = p.parse_args(argv)

    peers = rx.Peer([sys.executable, os.path.join(a.peers_dir, "peers.py"), "--quiet", "--",
                     "--user", f"{USER}:{PASSWORD}"], timeout=90)
    try:
        admin_port = peers.ready["admin"]
        runs = [
            ("ws", [peers.ready["ws"]], PASSWORD, True),
            ("wss", ["--ca", peers.ready["ca"], peers.ready["wss"]], PASSWORD, True),
            ("wrong password", [peers.ready["ws"]], "not-" + PASSWORD, False),
        ]
        for label, url_args, password, ok in runs:
            print(f"--- {label}", flush=True)
            before = len(rx.blipsync_requests(admin_port))
            opts, url = url_args[:-1], url_args[-1]
            rc, out, err = rx.run(launcher, [a.bin] + opts + ["./qt-example.cblite2", url, USER, password], a.timeout)
            check_run(label, rc, out, err, before, admin_port, password, ok)
    finally:
        peers.stop()
    print("--- serve", flush=True)
    check_serve(launcher, a.bin, a.timeout)
    if rx.FAILURES:
        print(f"example_qt: {len(rx.FAILURES)} check(s) failed")
        return 1
    print("example_qt ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
