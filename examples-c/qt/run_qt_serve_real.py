#!/usr/bin/env python3
"""Runs qt_replicate --serve built against a REAL LiteCore and replicates into it.

    run_qt_serve_real.py --bin qt_replicate --lcws liblitecore_ws.so --litecore libLiteCore.so --workdir DIR

qt_replicate serves DIR/qt-served.cblite2 on 127.0.0.1 over wss with its generated identity and
prints its URL and the certificate's SHA-256 fingerprint. This script checks the fingerprint
against the certificate a TLS client gets, pins that certificate in a peer (the Python client of
examples-c/python/test_serve.py, in its own process, with its own LiteCore and litecore-ws), which
pushes 2 documents; the app's status line must then show them in its database, and SIGINT must
stop it cleanly (exit 0). Exit status 0 when every check passed.
"""
import argparse
import hashlib
import json
import os
import select
import signal
import socket
import ssl
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
CLIENT = os.path.join(HERE, "..", "python", "test_serve.py")
FAILURES = []


def check(cond, what):
    print(("  ok    " if cond else "  FAIL  ") + what, flush=True)
    if not cond:
        FAILURES.append(what)
    return cond


def read_until(proc, marker, timeout, lines):
    """Appends proc's stdout lines to `lines` until one contains `marker`; False on EOF/timeout."""
    deadline = time.monotonic() + timeout
    buf = b""
    while True:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([proc.stdout], [], [], left)[0]:
            return False
        chunk = os.read(proc.stdout.fileno(), 4096)
        if not chunk:
            return False
        buf += chunk
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            text = line.decode(errors="replace")
            print("  | " + text, flush=True)
            lines.append(text)
            if marker in text:
                return True


def server_certificate(port):
    """The listener's certificate (DER), from a TLS connection that asks for an unshared
    database and reads the 404 before closing."""
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    with socket.create_connection(("127.0.0.1", port), timeout=30) as raw, ctx.wrap_socket(raw) as s:
        der = s.getpeercert(binary_form=True)
        s.sendall(b"GET /nothing/_blipsync HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                  b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
                  b"Sec-WebSocket-Protocol: BLIP_3+CBMobile_3\r\n\r\n")
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = s.recv(4096)
            if not chunk:
                break
            head += chunk
    return der, head.split(b"\r\n", 1)[0].decode(errors="replace")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--bin", required=True)
    p.add_argument("--lcws", required=True)
    p.add_argument("--litecore", required=True)
    p.add_argument("--workdir", required=True)
    a = p.parse_args()
    os.makedirs(a.workdir, exist_ok=True)
    cmd = [a.bin, "--serve", "--interface", "127.0.0.1", os.path.join(a.workdir, "qt-served.cblite2")]
    print("$ " + " ".join(cmd), flush=True)
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    lines = []
    try:
        if not check(read_until(proc, "serving until interrupted", 60, lines), "the app serves"):
            return 1
        urls = [line.split("URL: ", 1)[1] for line in lines if line.startswith("URL: ")]
        fingerprints = [line.split(": ", 1)[1] for line in lines if line.startswith("certificate SHA-256: ")]
        if not check(len(urls) == 1 and urls[0].startswith("wss://127.0.0.1:") and urls[0].endswith("/qt-served"),
                     f"one URL: {urls}") or not check(len(fingerprints) == 1, "a fingerprint"):
            return 1
        port = int(urls[0].split(":")[2].split("/")[0])
        der, first = server_certificate(port)
        check(first.startswith("HTTP/1.1 404"), f"an unshared database: {first}")
        check(hashlib.sha256(der).hexdigest().upper() == fingerprints[0].replace(":", ""),
              "the fingerprint is the listener's certificate")
        cert_file = os.path.join(a.workdir, "qt-listener.der")
        with open(cert_file, "wb") as f:
            f.write(der)
        peer_dir = os.path.join(a.workdir, "peer")
        os.makedirs(peer_dir, exist_ok=True)
        spec = {"lcws": a.lcws, "litecore": a.litecore, "dir": peer_dir, "url": urls[0], "cert": cert_file,
                "docs": {"from-peer-1": {"text": "hello Qt"}, "from-peer-2": {"text": "hello again"}}}
        c = subprocess.run([sys.executable, CLIENT, "--client", json.dumps(spec)], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=120)
        sys.stdout.write("".join("  client ! " + line + "\n" for line in c.stderr.decode().splitlines()))
        out = c.stdout.decode().strip().splitlines()
        result = json.loads(out[-1]) if c.returncode == 0 and out else {}
        print(f"  client: {result}", flush=True)
        check(result.get("error", "?") is None, f"the peer replicated without error ({result.get('message')})")
        check(read_until(proc, "documents: 2", 30, lines), "the app's status shows the 2 pushed documents")
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
        try:
            rest, err = proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            rest, err = proc.communicate()
        sys.stdout.write("".join("  | " + line + "\n" for line in rest.decode(errors="replace").splitlines()))
        sys.stdout.write("".join("  ! " + line + "\n" for line in err.decode(errors="replace").splitlines()))
    check("stopped serving" in rest.decode(errors="replace"), "SIGINT: stopped serving")
    check(proc.returncode == 0, f"exit status 0 (got {proc.returncode})")
    print("qt serve (real LiteCore): " + ("ok" if not FAILURES else f"{len(FAILURES)} check(s) failed"))
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
