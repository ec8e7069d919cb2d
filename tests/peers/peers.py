#!/usr/bin/env python3
"""Start the test peers together: the Sync Gateway stand-in and the nginx TLS front before it.

As a program:
    python3 tests/peers/peers.py [--no-tls] [--zoo] [--quiet] [-- SG_STANDIN_ARGS...]
prints one line once both are up:
    READY {"ws": "ws://127.0.0.1:P/db", "wss": "wss://localhost:T/db", "public": P,
           "admin": A, "tls": T, "ca": "/tmp/.../ca.pem", "cert": ".../server.pem",
           "key": ".../server.key"}
With --zoo, tls_zoo.py is also started in front of the stand-in's public port and its whole
READY object is added under "zoo": {..., "zoo": {"dir": ..., "ports": {...}, "files": {...}}}.
and runs until SIGTERM/SIGINT, until its stdin (when a pipe) reaches EOF, or until a child
dies; then it stops both children.

As a module (Python tests):
    from peers import Peers
    with Peers(["--user", "alice:pw"]) as info:
        info["ws"], info["wss"], info["admin"], info["ca"] ...
"""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True  # importing peer_util leaves no __pycache__ in tests/peers
sys.path.insert(0, HERE)  # run as a script it is there already, but not under python3 -P / -I
import peer_util  # noqa: E402


def read_ready(proc: subprocess.Popen, what: str, timeout: float) -> dict:
    """Reads the child's stdout up to its READY line (no sleeping: select on the pipe)."""
    deadline = time.monotonic() + timeout
    fd = proc.stdout.fileno()
    buf = b""
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise RuntimeError(f"{what}: no READY line within {timeout:.0f} s")
        r, _, _ = select.select([fd], [], [], left)
        if not r:
            continue
        chunk = os.read(fd, 65536)
        if not chunk:
            raise RuntimeError(f"{what}: exited (status {proc.wait()}) before READY")
        buf += chunk
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            text = line.decode(errors="replace").strip()
            if text.startswith("READY "):
                return json.loads(text[6:])
            if text:
                sys.stderr.write(f"{what}: {text}\n")


def first_db(sg_args: list[str]) -> str:
    for i, a in enumerate(sg_args):
        if a == "--db" and i + 1 < len(sg_args):
            return sg_args[i + 1]
        if a.startswith("--db="):
            return a[5:]
    return "db"


class Peers:
    """Context manager: starts sg_standin (+ tls_front, + tls_zoo) and returns the READY dict."""

    def __init__(self, sg_args: list[str] | None = None, tls: bool = True, quiet: bool = False,
                 timeout: float = 30.0, stderr=None, zoo: bool = False):
        self.sg_args = list(sg_args or [])
        self.tls = tls
        self.zoo_on = zoo
        self.quiet = quiet
        self.timeout = timeout
        self.stderr = stderr  # None: inherit
        self.sg: subprocess.Popen | None = None
        self.front: subprocess.Popen | None = None
        self.zoo: subprocess.Popen | None = None
        self.info: dict = {}

    def _spawn(self, script: str, args: list[str]) -> subprocess.Popen:
        # stdin is a pipe we hold: if this process dies, the children see EOF and exit.
        return subprocess.Popen([sys.executable, os.path.join(HERE, script), *args],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=self.stderr)

    def start(self) -> dict:
        try:
            extra = ["--quiet"] if self.quiet and "--quiet" not in self.sg_args else []
            self.sg = self._spawn("sg_standin.py", self.sg_args + extra)
            sg = read_ready(self.sg, "sg_standin", self.timeout)
            db = first_db(self.sg_args)
            info = {"ws": f"ws://127.0.0.1:{sg['public']}/{db}", "wss": None,
                    "public": sg["public"], "admin": sg["admin"], "tls": None, "ca": None,
                    "cert": None, "key": None}
            if self.tls:
                self.front = self._spawn("tls_front.py", ["--upstream", str(sg["public"])]
                                         + (["--quiet"] if self.quiet else []))
                fr = read_ready(self.front, "tls_front", self.timeout)
                info.update({"wss": f"wss://localhost:{fr['tls']}/{db}", "tls": fr["tls"],
                             "ca": fr["ca"], "cert": fr["cert"], "key": fr["key"]})
            if self.zoo_on:
                self.zoo = self._spawn("tls_zoo.py", ["--upstream", str(sg["public"])]
                                       + (["--quiet"] if self.quiet else []))
                info["zoo"] = read_ready(self.zoo, "tls_zoo", self.timeout)
            self.info = info
            return info
        except BaseException:
            self.stop()
            raise

    def alive(self) -> bool:
        return all(p is None or p.poll() is None for p in (self.sg, self.front, self.zoo))

    def stop(self) -> None:
        for p in (self.zoo, self.front, self.sg):  # fronts first: they proxy to the stand-in
            if p is None:
                continue
            try:
                if p.stdin:
                    p.stdin.close()
            except OSError:
                pass
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in (self.zoo, self.front, self.sg):
            if p is None:
                continue
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
            if p.stdout:
                p.stdout.close()
        self.zoo = self.front = self.sg = None

    def __enter__(self) -> dict:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if "-h" in argv[: argv.index("--") if "--" in argv else len(argv)] or \
            "--help" in argv[: argv.index("--") if "--" in argv else len(argv)]:
        print(__doc__)
        return 0
    sg_args: list[str] = []
    if "--" in argv:
        i = argv.index("--")
        argv, sg_args = argv[:i], argv[i + 1:]
    tls = "--no-tls" not in argv
    zoo = "--zoo" in argv
    quiet = "--quiet" in argv
    unknown = [a for a in argv if a not in ("--no-tls", "--zoo", "--quiet")]
    if unknown:
        sys.stderr.write(f"peers.py: unknown arguments {unknown} (stand-in args go after --)\n")
        return 2
    stop = peer_util.stop_on_signals()
    peers = Peers(sg_args, tls=tls, quiet=quiet, zoo=zoo)
    try:
        peer_util.print_ready(peers.start())
        if not peer_util.run_until_stopped(stop, peers.alive, pause=lambda: time.sleep(0.2)):
            sys.stderr.write("peers.py: a peer exited; stopping\n")
            return 1
        return 0
    finally:
        peers.stop()


if __name__ == "__main__":
    sys.exit(main())
