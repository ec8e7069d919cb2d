"""What the test peers in tests/peers all do the same way (README.md, "Run"): die with the
test that started them, print one READY line, and serve until they are told to stop.

Every peer is started as a script (`python3 tests/peers/NAME.py`), so this file's directory is
sys.path[0]; the peers put it there themselves as well (python3 -P / -I leave it out) and turn
bytecode writing off before `import peer_util`, so that no __pycache__ appears in the tree.
"""

from __future__ import annotations

import json
import os
import select
import signal
import socket
import stat
import sys
import time
from typing import Callable

PR_SET_PDEATHSIG = 1

# Looked up once here, not in die_with_parent(): used as a Popen preexec_fn, that runs in the
# forked child before exec, where importing or loading a library is best avoided.
try:
    import ctypes

    _prctl = ctypes.CDLL(None, use_errno=True).prctl
except (ImportError, OSError, AttributeError):  # no ctypes, or a libc without prctl (not Linux)
    _prctl = None


def die_with_parent() -> None:
    """Asks Linux for SIGTERM when the parent process dies, however it dies (even SIGKILL).

    Called by a peer for itself, next to the stdin watch, and as `preexec_fn` of the servers a
    peer starts (nginx, tinyproxy), which do not watch stdin: no process outlives the test.
    Does nothing where prctl is missing."""
    if _prctl is None:
        return
    try:
        _prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except Exception:
        pass


def print_ready(info: dict) -> None:
    """Prints the peer's one stdout line, `READY <json>`, and flushes it: the test reads stdout
    up to this line instead of sleeping, so it must go out as soon as the peer serves."""
    sys.stdout.write("READY " + json.dumps(info) + "\n")
    sys.stdout.flush()


def free_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on right now (bind port 0, read the port, close), for a server
    that cannot be handed a listening socket. Another process may take it before the server
    binds it: callers check that their server got it, and retry."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def stdin_is_watchable() -> bool:
    """True when stdin is a pipe or socket: its EOF then means the test closed it or died.
    A terminal, /dev/null or a file says nothing about the parent and is not watched."""
    try:
        mode = os.fstat(0).st_mode
    except OSError:
        return False
    return stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode)


class Stop:
    """Set by SIGTERM/SIGINT once stop_on_signals() installed it. A plain attribute, because a
    signal handler must not take locks (as threading.Event.set does)."""

    def __init__(self) -> None:
        self.requested = False


def stop_on_signals() -> Stop:
    """Makes SIGTERM and SIGINT request a stop (instead of killing the peer at once), so that
    the peer still stops the servers it started and removes its files."""
    stop = Stop()

    def on_signal(*_) -> None:
        stop.requested = True

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    return stop


def run_until_stopped(stop: Stop, alive: Callable[[], bool] = lambda: True,
                      pause: Callable[[], object] = lambda: time.sleep(0.5)) -> bool:
    """Blocks while the peer serves. Returns True when asked to stop: a signal (`stop`), or EOF
    on stdin when stdin_is_watchable() (what a test does first to stop a peer, and what it does
    by dying). Returns False as soon as `alive()` is false: a server the peer runs exited by
    itself. Looks every 0.5 s; when stdin is not watched, `pause()` passes the time."""
    watch = stdin_is_watchable()
    while not stop.requested:
        if not alive():
            return False
        if watch:
            # A signal handler that returns does not interrupt select (PEP 475): it goes on
            # for the rest of its 0.5 s, then the loop sees stop.requested.
            readable, _, _ = select.select([0], [], [], 0.5)
            if readable and not os.read(0, 65536):
                return True
        else:
            pause()
    return True


def read_stdin_to_eof() -> None:
    """Reads and drops stdin until EOF, a read error or Ctrl-C, whatever stdin is (so at once
    for /dev/null). The simpler wait of fault_servers.py and netns_peer.py, whose signal
    handlers exit by themselves and which watch no server of their own."""
    try:
        while sys.stdin.buffer.read(4096):
            pass
    except (OSError, KeyboardInterrupt):
        pass
