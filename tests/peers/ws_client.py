#!/usr/bin/env python3
"""An independent WebSocket client for the listener tests, driven line by line over stdin/stdout.

    ws_client.py [--quiet]

Prints `READY {}` once it runs, then reads one command per stdin line and answers each with ONE
stdout line. Two kinds of connection, one at a time (a new `connect`/`raw` replaces the old one):

  connect URL PROTOCOL     Python `websockets` (sync client): a correct client (masks every frame,
                           answers pings, no compression, no pings of its own, no size limit)
  raw URL PROTOCOL [absolute]
                           a plain socket that does the upgrade itself and then writes whatever
                           frames it is told to, masked or not; `absolute` sends the request
                           target in absolute form (GET http://host:port/path HTTP/1.1)
    answers: OPEN <subprotocol the server chose> | HTTP <status> | ERROR <why>

Commands on the connection:
  send binary SIZE SEED    one binary message; byte i is (i*131 + SEED*7) % 251
  send text TEXT...        one text message (the rest of the line)
  fragments COUNT SIZE SEED
                           one binary message (same bytes) sent as COUNT frames
  ping PAYLOAD             a Ping; answers PONG <payload> when its Pong came (10 s), else TIMEOUT
  recv SECONDS             the next message: MSG binary SIZE FNV1A32HEX | MSG text TEXT |
                           CLOSED CODE REASON (the server's Close) | EOF (TCP closed without a
                           Close) | TIMEOUT. raw only: PING hex:PAYLOAD | PONG hex:PAYLOAD (control
                           frames are reported, never answered by themselves), and
                           BADFRAME masked when the server masked a frame (servers must not)
  close CODE [REASON]      a Close; answers CLOSED CODE REASON with the server's answering Close
  quit                     exits
  raw only:
  frame FIN RSV OPCODE MASK PAYLOAD
                           writes one frame: FIN 0/1, RSV 0-7 (4 = RSV1), OPCODE 0-15, MASK 0/1,
                           PAYLOAD `-` (empty), hex:HEX, text:TEXT or len:N:SEED (pattern above)
  announce OPCODE LENGTH   writes only the (masked, FIN) header of a frame of LENGTH bytes
    answers: SENT

Every answer that is not one of the above is `ERROR <why>`. Runs until `quit`, stdin EOF or
SIGTERM. Logs (without --quiet) go to stderr.
"""

from __future__ import annotations

import base64
import hashlib
import os
import socket
import struct
import sys
import urllib.parse

sys.dont_write_bytecode = True  # importing peer_util leaves no __pycache__ in tests/peers
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peer_util  # noqa: E402

from websockets.exceptions import ConnectionClosed, InvalidStatus  # noqa: E402
from websockets.sync.client import connect as ws_connect  # noqa: E402

QUIET = False
GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def log(msg: str) -> None:
    if not QUIET:
        sys.stderr.write(f"ws_client: {msg}\n")
        sys.stderr.flush()


def answer(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def pattern(size: int, seed: int) -> bytes:
    return bytes((i * 131 + seed * 7) % 251 for i in range(size))


def fnv1a(data: bytes) -> str:
    h = 2166136261
    for b in data:
        h ^= b
        h = (h * 16777619) & 0xFFFFFFFF
    return f"{h:08x}"


def payload_of(spec: str) -> bytes:
    if spec == "-":
        return b""
    if spec.startswith("hex:"):
        return bytes.fromhex(spec[4:])
    if spec.startswith("text:"):
        return spec[5:].encode()
    if spec.startswith("len:"):
        _, n, seed = spec.split(":")
        return pattern(int(n), int(seed))
    raise ValueError(f"bad payload {spec!r}")


def describe(data, text: bool) -> str:
    if text:
        return "MSG text " + data
    return f"MSG binary {len(data)} {fnv1a(data)}"


class Raw:
    """A WebSocket client on a plain socket: the upgrade by hand, then frames as told."""

    def __init__(self, url: str, protocol: str, absolute: bool):
        u = urllib.parse.urlsplit(url)
        if u.scheme != "ws":
            raise ValueError("raw connections are ws:// only")
        self.sock = socket.create_connection((u.hostname, u.port or 80), timeout=10)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""
        path = u.path + ("?" + u.query if u.query else "")
        target = f"http://{u.hostname}:{u.port}{path}" if absolute else path
        key = base64.b64encode(os.urandom(16)).decode()
        request = (f"GET {target} HTTP/1.1\r\nHost: {u.hostname}:{u.port}\r\nUpgrade: websocket\r\n"
                   f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
                   f"Sec-WebSocket-Protocol: {protocol}\r\n\r\n")
        self.sock.sendall(request.encode())
        head = self._read_until(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {}
        for line in lines[1:]:
            if ":" in line:
                k, v = line.split(":", 1)
                headers[k.strip().lower()] = v.strip()
        self.status = status
        self.protocol = headers.get("sec-websocket-protocol", "")
        if status == 101:
            want = base64.b64encode(hashlib.sha1(key.encode() + GUID).digest()).decode()
            if headers.get("sec-websocket-accept") != want:
                raise ValueError("bad Sec-WebSocket-Accept")

    def _read_until(self, marker: bytes) -> bytes:
        while marker not in self.buf:
            more = self.sock.recv(65536)
            if not more:
                raise EOFError
            self.buf += more
        head, self.buf = self.buf.split(marker, 1)
        return head

    def _read_exact(self, n: int) -> bytes:
        while len(self.buf) < n:
            more = self.sock.recv(max(65536, n - len(self.buf)))
            if not more:
                raise EOFError
            self.buf += more
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    @staticmethod
    def header(fin: int, rsv: int, opcode: int, mask: int, length: int) -> bytes:
        b0 = (fin << 7) | (rsv << 4) | opcode
        m = 0x80 if mask else 0
        if length < 126:
            return struct.pack("!BB", b0, m | length)
        if length < 65536:
            return struct.pack("!BBH", b0, m | 126, length)
        return struct.pack("!BBQ", b0, m | 127, length)

    def send_frame(self, fin: int, rsv: int, opcode: int, mask: int, payload: bytes) -> None:
        data = self.header(fin, rsv, opcode, mask, len(payload))
        if mask:
            key = os.urandom(4)
            data += key + bytes(b ^ key[i % 4] for i, b in enumerate(payload))
        else:
            data += payload
        self.sock.sendall(data)

    def announce(self, opcode: int, length: int) -> None:
        self.sock.sendall(self.header(1, 0, opcode, 1, length) + os.urandom(4))

    def read_frame(self):
        b0, b1 = self._read_exact(2)
        fin, opcode, masked, length = b0 >> 7, b0 & 0x0F, b1 >> 7, b1 & 0x7F
        if length == 126:
            (length,) = struct.unpack("!H", self._read_exact(2))
        elif length == 127:
            (length,) = struct.unpack("!Q", self._read_exact(8))
        key = self._read_exact(4) if masked else None
        payload = self._read_exact(length)
        if key:
            payload = bytes(b ^ key[i % 4] for i, b in enumerate(payload))
        return fin, opcode, bool(masked), payload

    def recv(self, seconds: float) -> str:
        self.sock.settimeout(seconds)
        message, kind = b"", None
        try:
            while True:
                fin, opcode, masked, payload = self.read_frame()
                if masked:
                    return "BADFRAME masked"
                if opcode == 0x9:
                    return "PING hex:" + payload.hex()
                if opcode == 0xA:
                    return "PONG hex:" + payload.hex()
                if opcode == 0x8:
                    code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else 1005
                    reason = payload[2:].decode(errors="replace")
                    try:  # complete the closing handshake
                        self.send_frame(1, 0, 0x8, 1, payload[:2])
                    except OSError:
                        pass
                    return f"CLOSED {code} {reason}".rstrip()
                if opcode in (0x1, 0x2):
                    kind, message = opcode, payload
                elif opcode == 0x0:
                    message += payload
                if fin and kind is not None:
                    if kind == 0x1:
                        return describe(message.decode(), True)
                    return describe(message, False)
        except (socket.timeout, TimeoutError):
            return "TIMEOUT"
        except (EOFError, ConnectionResetError, BrokenPipeError):
            return "EOF"

    def close(self, code: int, reason: str) -> str:
        self.send_frame(1, 0, 0x8, 1, struct.pack("!H", code) + reason.encode())
        while True:
            got = self.recv(10)
            if got.startswith("CLOSED") or got in ("EOF", "TIMEOUT"):
                return got

    def ping(self, payload: bytes) -> str:
        self.send_frame(1, 0, 0x9, 1, payload)
        while True:
            got = self.recv(10)
            if got.startswith("PONG"):
                return "PONG " + bytes.fromhex(got[len("PONG hex:"):]).decode(errors="replace")
            if not got.startswith("PING"):
                return "TIMEOUT" if got == "TIMEOUT" else "ERROR " + got

    def shutdown(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass


class Lib:
    """The same commands through `websockets`."""

    def __init__(self, url: str, protocol: str):
        # __enter__ gives the connection both where connect() returns it (websockets 15, 16)
        # and where connect is a context manager that must be entered (17).
        self.ws = ws_connect(url, subprotocols=[protocol], compression=None, max_size=None,
                             ping_interval=None, open_timeout=10, close_timeout=10).__enter__()
        self.protocol = self.ws.subprotocol or ""

    def closed_line(self, e: ConnectionClosed) -> str:
        if e.rcvd is None:
            return "EOF"
        return f"CLOSED {e.rcvd.code} {e.rcvd.reason}".rstrip()

    def recv(self, seconds: float) -> str:
        try:
            data = self.ws.recv(timeout=seconds)
        except TimeoutError:
            return "TIMEOUT"
        except ConnectionClosed as e:
            return self.closed_line(e)
        return describe(data, isinstance(data, str))

    def close(self, code: int, reason: str) -> str:
        self.ws.close(code, reason)
        rcvd = self.ws.protocol.close_rcvd
        if rcvd is None:
            return "EOF"
        return f"CLOSED {rcvd.code} {rcvd.reason}".rstrip()

    def ping(self, payload: bytes) -> str:
        pong = self.ws.ping(payload)
        return "PONG " + payload.decode() if pong.wait(10) else "TIMEOUT"

    def shutdown(self) -> None:
        try:
            self.ws.close_socket()
        except Exception:
            pass


def run(line: str, state: dict) -> str:
    words = line.split(" ")
    cmd, args = words[0], words[1:]
    conn = state.get("conn")
    if cmd in ("connect", "raw"):
        if conn:
            conn.shutdown()
            state["conn"] = None
        try:
            if cmd == "connect":
                conn = Lib(args[0], args[1])
            else:
                conn = Raw(args[0], args[1], len(args) > 2 and args[2] == "absolute")
                if conn.status != 101:
                    conn.shutdown()
                    return f"HTTP {conn.status}"
        except InvalidStatus as e:
            return f"HTTP {e.response.status_code}"
        except Exception as e:  # noqa: BLE001 - reported to the test
            return f"ERROR {type(e).__name__}: {e}"
        state["conn"] = conn
        return f"OPEN {conn.protocol}"
    if cmd == "quit":
        raise SystemExit(0)
    if conn is None:
        return "ERROR not connected"
    raw = isinstance(conn, Raw)
    if cmd == "send":
        if args[0] == "binary":
            data = pattern(int(args[1]), int(args[2]))
        else:
            data = " ".join(args[1:])
        try:
            if raw:
                text = isinstance(data, str)
                conn.send_frame(1, 0, 0x1 if text else 0x2, 1, data.encode() if text else data)
            else:
                conn.ws.send(data)
        except (ConnectionClosed, OSError) as e:
            return f"ERROR {type(e).__name__}: {e}"
        return "SENT"
    if cmd == "fragments":
        count, size, seed = int(args[0]), int(args[1]), int(args[2])
        data = pattern(size, seed)
        step = (size + count - 1) // count
        pieces = [data[i:i + step] for i in range(0, size, step)]
        if raw:
            for i, piece in enumerate(pieces):
                conn.send_frame(1 if i == len(pieces) - 1 else 0, 0, 0x2 if i == 0 else 0x0, 1, piece)
        else:
            conn.ws.send(iter(pieces))
        return "SENT"
    if cmd == "ping":
        return conn.ping(" ".join(args).encode())
    if cmd == "recv":
        return conn.recv(float(args[0]))
    if cmd == "close":
        return conn.close(int(args[0]), " ".join(args[1:]))
    if cmd == "frame" and raw:
        fin, rsv, opcode, mask = (int(a) for a in args[:4])
        conn.send_frame(fin, rsv, opcode, mask, payload_of(" ".join(args[4:])))
        return "SENT"
    if cmd == "announce" and raw:
        conn.announce(int(args[0]), int(args[1]))
        return "SENT"
    return f"ERROR unknown command {cmd!r}" + ("" if raw else " (raw connections only?)")


def main() -> int:
    global QUIET
    QUIET = "--quiet" in sys.argv[1:]
    peer_util.die_with_parent()
    state: dict = {}
    peer_util.print_ready({})
    for line in sys.stdin:
        line = line.rstrip("\n")
        if not line:
            continue
        log(f"> {line}")
        try:
            out = run(line, state)
        except SystemExit:
            break
        except Exception as e:  # noqa: BLE001 - reported to the test
            out = f"ERROR {type(e).__name__}: {e}"
        log(f"< {out}")
        answer(out)
    if state.get("conn"):
        state["conn"].shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
