#!/usr/bin/env python3
"""Runs the Qt example's fake-LiteCore build (example_qt_fake) against the SG stand-in and checks
its exit status, its output and the exact request the stand-in received.

    run_qt_example.py --peers-dir tests/peers --bin example_qt_fake [-- LAUNCHER ARGS...]

One peers.py (the stand-in with user alice, and nginx for TLS) serves three runs:
  1. ws://            alice / the right password   -> exit 0, message echoed, clean close
  2. wss:// --ca CA   the same through nginx (rootCerts) -> exit 0
  3. ws://            a wrong password             -> exit 1, {WebSocket, 401} Invalid login
In every run each event must be handled on the Qt thread, and on success at least one must have
come from litecore-ws's own thread (lcws-worker). Everything after `--` goes in front of the
program (valgrind in the LCWS_VALGRIND build). Exit status 0 when every check passed.
"""
import argparse
import base64
import os
import sys

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
    if rx.FAILURES:
        print(f"example_qt: {len(rx.FAILURES)} check(s) failed")
        return 1
    print("example_qt ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
