#!/usr/bin/env python3
"""A TLS front that requires a client certificate *in the TLS handshake*.

nginx (tls_zoo.py's clientauth variants) completes the handshake with an untrusted client
certificate and answers HTTP 400 afterwards; Sync Gateway (Go, RequireAndVerifyClientCert)
refuses such a handshake with a TLS alert. This front reproduces SG's behaviour with OpenSSL
through Python's ssl module (CERT_REQUIRED): no certificate, or one not issued by --ca, ends the
handshake with OpenSSL's alert. Blocking sockets, one thread per connection, so the alert is
written before the socket closes. Accepted connections are piped to the upstream port.

usage: tls_strict.py --upstream PORT --cert PEM --key PEM --ca PEM [--tls12] [--quiet]
Prints `READY {"port": N}` once listening (port 0, chosen by the OS); exits on SIGTERM/SIGINT or
when stdin (a pipe) reaches EOF.
"""

from __future__ import annotations

import argparse
import os
import socket
import ssl
import sys
import threading

sys.dont_write_bytecode = True  # importing peer_util leaves no __pycache__ in tests/peers
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # also under python3 -P / -I
import peer_util  # noqa: E402


def pipe(src: socket.socket, dst: socket.socket) -> None:
    try:
        while data := src.recv(65536):
            dst.sendall(data)
    except OSError:
        pass
    finally:
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def serve_one(ctx: ssl.SSLContext, conn: socket.socket, upstream: int, quiet: bool) -> None:
    try:
        tls = ctx.wrap_socket(conn, server_side=True, do_handshake_on_connect=False)
        tls.settimeout(10)
        tls.do_handshake()
        tls.settimeout(None)
    except (ssl.SSLError, OSError) as e:
        if not quiet:
            sys.stderr.write(f"tls_strict: handshake refused: {e}\n")
        conn.close()
        return
    try:
        up = socket.create_connection(("127.0.0.1", upstream))
    except OSError:
        tls.close()
        return
    t = threading.Thread(target=pipe, args=(up, tls), daemon=True)
    t.start()
    pipe(tls, up)
    t.join()
    tls.close()
    up.close()


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--upstream", type=int, required=True)
    p.add_argument("--cert", required=True)
    p.add_argument("--key", required=True)
    p.add_argument("--ca", required=True)
    p.add_argument("--tls12", action="store_true", help="TLS 1.2 only")
    p.add_argument("--quiet", action="store_true")
    args = p.parse_args()

    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(args.cert, args.key)
    ctx.load_verify_locations(args.ca)
    ctx.verify_mode = ssl.CERT_REQUIRED
    if args.tls12:
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2

    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)

    def accept_loop():
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            threading.Thread(target=serve_one, args=(ctx, conn, args.upstream, args.quiet),
                             daemon=True).start()

    threading.Thread(target=accept_loop, daemon=True).start()
    stop = peer_util.stop_on_signals()
    peer_util.print_ready({"port": listener.getsockname()[1]})
    peer_util.run_until_stopped(stop)
    listener.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
