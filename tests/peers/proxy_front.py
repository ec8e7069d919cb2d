#!/usr/bin/env python3
"""Run tinyproxy (a real HTTP CONNECT proxy) on a free loopback port, for the proxy tests.

    python3 tests/peers/proxy_front.py [--connect-port P]... [--basic-auth USER:PASS]
                                       [--tls-cert PEM --tls-key PEM]
                                       [--tinyproxy PATH] [--quiet]

prints one line once tinyproxy answers on its port:
    READY {"port": P, "log": "/tmp/.../tinyproxy.log", "pid": N, "tls_port": T}
"tls_port" (only with --tls-cert/--tls-key) is an HTTPS proxy: a TLS listener in this process
(Python's ssl, bound to 127.0.0.1:0 directly, so without a race) that forwards the decrypted
bytes to tinyproxy; the client does TLS to the proxy, then CONNECT inside it.
and runs until SIGTERM/SIGINT, until its stdin (when a pipe) reaches EOF, or until tinyproxy
dies; then it stops tinyproxy and removes its temporary directory.

tinyproxy cannot listen on port 0 and cannot inherit a socket, so the port is picked by binding
port 0 and closing it, then starting tinyproxy on it. Another process may take the port in
between: tinyproxy then fails to bind and exits, or something else answers there. So readiness is
proven, not assumed: tinyproxy must still be running and an HTTP request to the port must be
answered by a `Server: tinyproxy` header. Otherwise the launcher tries a new port (5 times).

The configuration (in the temporary directory): `Listen 127.0.0.1`, `Port P`, one `ConnectPort`
line per --connect-port (none: tinyproxy allows CONNECT to every port), `BasicAuth` when given,
`LogLevel Info` to the log file (each CONNECT appears there as `Connect (file descriptor N):`
and `Request ... "CONNECT host:port HTTP/1.1"`).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time

sys.dont_write_bytecode = True  # importing peer_util leaves no __pycache__ in tests/peers
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # also under python3 -P / -I
import peer_util  # noqa: E402

ATTEMPTS = 5
READY_TIMEOUT = 10.0


def log(msg: str) -> None:
    sys.stderr.write(f"proxy_front: {msg}\n")
    sys.stderr.flush()


def write_config(path: str, port: int, logfile: str, connect_ports: list[int],
                 basic_auth: str | None) -> None:
    lines = [
        f"Port {port}",
        "Listen 127.0.0.1",
        "Timeout 30",
        f'LogFile "{logfile}"',
        "LogLevel Info",
        "MaxClients 64",
        "DisableViaHeader Yes",
    ]
    lines += [f"ConnectPort {p}" for p in connect_ports]
    if basic_auth:
        user, _, password = basic_auth.partition(":")
        lines.append(f"BasicAuth {user} {password}")
    if os.geteuid() == 0:
        # tinyproxy drops root privileges; keep them as root's so it can write its log here.
        lines += ["User root", "Group root"]
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def is_tinyproxy(port: int) -> bool | None:
    """True: tinyproxy answers there; False: something else does; None: nothing listens yet."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
            s.sendall(b"GET / HTTP/1.0\r\n\r\n")
            data = b""
            s.settimeout(2)
            while b"\r\n\r\n" not in data and len(data) < 65536:
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
    except ConnectionRefusedError:
        return None
    except OSError:
        return False
    head = data.split(b"\r\n\r\n", 1)[0].lower()
    return b"\r\nserver: tinyproxy" in head


class Front:
    def __init__(self, tinyproxy: str, connect_ports: list[int], basic_auth: str | None,
                 quiet: bool):
        self.tinyproxy = tinyproxy
        self.connect_ports = connect_ports
        self.basic_auth = basic_auth
        self.quiet = quiet
        self.dir = tempfile.mkdtemp(prefix="lcws-proxy-")
        self.log = os.path.join(self.dir, "tinyproxy.log")
        self.proc: subprocess.Popen | None = None
        self.port = 0

    def start(self) -> dict:
        for attempt in range(1, ATTEMPTS + 1):
            port = peer_util.free_port()
            conf = os.path.join(self.dir, "tinyproxy.conf")
            write_config(conf, port, self.log, self.connect_ports, self.basic_auth)
            out = subprocess.DEVNULL if self.quiet else None
            self.proc = subprocess.Popen([self.tinyproxy, "-d", "-c", conf],
                                         stdin=subprocess.DEVNULL, stdout=out, stderr=out,
                                         preexec_fn=peer_util.die_with_parent)
            deadline = time.monotonic() + READY_TIMEOUT
            verdict = None
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    break
                verdict = is_tinyproxy(port)
                if verdict is not None:
                    break
                self.wait(0.05)
            if verdict and self.proc.poll() is None:
                self.port = port
                return {"port": port, "log": self.log, "pid": self.proc.pid}
            log(f"attempt {attempt}: tinyproxy not serving port {port} "
                f"(exit status {self.proc.poll()}, answer {verdict}); retrying")
            self.stop_proc()
        raise RuntimeError(f"tinyproxy did not start after {ATTEMPTS} attempts")

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def wait(self, seconds: float) -> None:
        """Passes up to `seconds` waiting on tinyproxy (not a blind sleep): returns early if it
        exits."""
        try:
            self.proc.wait(seconds)
        except subprocess.TimeoutExpired:
            pass

    def stop_proc(self) -> None:
        p, self.proc = self.proc, None
        if p is None:
            return
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()

    def stop(self) -> None:
        self.stop_proc()
        shutil.rmtree(self.dir, ignore_errors=True)


def start_tls_front(cert: str, key: str, upstream: int) -> int:
    """Serves TLS on a fresh 127.0.0.1 port (bound here, before READY) in a daemon thread, piping
    each connection's plaintext to tinyproxy at `upstream`. Returns the port."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    ctx.set_alpn_protocols(["http/1.1"])
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    port = sock.getsockname()[1]

    async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except (OSError, ssl.SSLError):
            pass
        finally:
            try:
                writer.close()
            except (OSError, RuntimeError):
                pass

    async def handle(reader, writer) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", upstream)
        except OSError:
            writer.close()
            return
        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

    async def serve() -> None:
        server = await asyncio.start_server(handle, sock=sock, ssl=ctx)
        async with server:
            await server.serve_forever()

    threading.Thread(target=asyncio.run, args=(serve(),), daemon=True).start()
    return port


def main() -> int:
    peer_util.die_with_parent()  # the launcher too, when the test that started it dies
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--connect-port", type=int, action="append", default=[], metavar="PORT",
                   help="allow CONNECT to this port (repeatable; none: all ports)")
    p.add_argument("--basic-auth", metavar="USER:PASS", help="require proxy Basic auth")
    p.add_argument("--tls-cert", metavar="PEM", help="also serve an HTTPS proxy with this cert")
    p.add_argument("--tls-key", metavar="PEM")
    p.add_argument("--tinyproxy", default=shutil.which("tinyproxy") or "/usr/bin/tinyproxy")
    p.add_argument("--quiet", action="store_true")
    a = p.parse_args()
    if not os.path.exists(a.tinyproxy):
        log(f"tinyproxy not found at {a.tinyproxy} (apt-get install tinyproxy-bin)")
        return 2
    stop = peer_util.stop_on_signals()
    front = Front(a.tinyproxy, a.connect_port, a.basic_auth, a.quiet)
    try:
        info = front.start()
        if a.tls_cert:
            info["tls_port"] = start_tls_front(a.tls_cert, a.tls_key, info["port"])
        peer_util.print_ready(info)
        if not peer_util.run_until_stopped(stop, front.alive, pause=lambda: front.wait(0.2)):
            log("tinyproxy exited; stopping")
            return 1
        return 0
    finally:
        front.stop()


if __name__ == "__main__":
    sys.exit(main())
