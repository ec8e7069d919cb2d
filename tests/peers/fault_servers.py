#!/usr/bin/env python3
"""Tiny misbehaving TCP servers for the fault tests, each on its own 127.0.0.1 port.

    fault_servers.py

Prints `READY {"tls_close": P, "tls_garbage": P, "tls_rst": P, "silent": P, "proxy_close": P}`
and runs until stdin reaches EOF (or SIGTERM). Per connection:

| key | what the server does |
|---|---|
| `tls_close` | reads the client's first bytes (a TLS ClientHello), then closes (FIN) |
| `tls_garbage` | reads them, answers 64 bytes that are not TLS (an HTTP error line), closes |
| `tls_rst` | reads them, then resets the connection (SO_LINGER 0: RST) |
| `silent` | accepts and reads forever, never answers (a TLS server that never answers the ClientHello, an HTTP server that never answers the upgrade) until the client goes |
| `proxy_close` | reads an HTTP `CONNECT` request, answers `200 Connection established`, closes |
"""
import os
import signal
import socket
import struct
import sys
import threading

sys.dont_write_bytecode = True  # importing peer_util leaves no __pycache__ in tests/peers
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # also under python3 -P / -I
import peer_util  # noqa: E402


def read_some(c):
    try:
        return c.recv(65536)
    except OSError:
        return b""


def tls_close(c):
    read_some(c)
    c.close()


def tls_garbage(c):
    read_some(c)
    try:
        c.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nX-Pad: 0123456789abcd\r\n\r\n"[:64])
    except OSError:
        pass
    c.close()


def tls_rst(c):
    read_some(c)
    c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    c.close()


def silent(c):
    while read_some(c):
        pass
    c.close()


def proxy_close(c):
    data = b""
    while b"\r\n\r\n" not in data:
        more = read_some(c)
        if not more:
            break
        data += more
    try:
        c.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
    except OSError:
        pass
    c.close()


HANDLERS = {"tls_close": tls_close, "tls_garbage": tls_garbage, "tls_rst": tls_rst,
            "silent": silent, "proxy_close": proxy_close}


def serve(listener, handler):
    while True:
        try:
            c, _ = listener.accept()
        except OSError:
            return
        threading.Thread(target=handler, args=(c,), daemon=True).start()


def main():
    signal.signal(signal.SIGTERM, lambda *a: os._exit(0))
    ports = {}
    for name, handler in HANDLERS.items():
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", 0))
        s.listen(64)
        ports[name] = s.getsockname()[1]
        threading.Thread(target=serve, args=(s, handler), daemon=True).start()
    peer_util.print_ready(ports)
    peer_util.read_stdin_to_eof()
    os._exit(0)


if __name__ == "__main__":
    main()
