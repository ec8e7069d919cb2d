"""Tests the Python binding (lcws_binding.py) against the C tests' fake LiteCore and real peers.

usage: test_binding.py LIBLITECORE_WS.so LIBFAKE_LITECORE.so [-k NAME]

The fake (tests/c/harness/fake_litecore.c) exports LiteCore's symbol names with LiteCore's ABI,
keeps the factory given to c4socket_registerFactory (so the sockets below go through the factory
the binding built) and checks LiteCore's socket contract on every call. Here it also plays the
replicator: it opens a socket with the options dict LiteCore would pass, writes, reads, closes.
The peers are tests/peers (the Sync Gateway stand-in, nginx for wss). Prints one line per test
and "N passed, M failed"; exit status 1 when a test failed.
"""
from __future__ import annotations

import base64
import ctypes as C
import json
import os
import socket
import sys
import threading
import traceback
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(ROOT, "tests", "peers"))
from lcws_binding import (  # noqa: E402
    LOG_DEBUG,
    C4SocketFactory,
    LcwsAddress,
    LcwsError,
    LcwsSlice,
    LcwsStatus,
    LiteCoreWS,
    LiteCoreWSError,
)

USER, PASSWORD = "alice", "py-s3cret-pw"
PROTOCOL = b"BLIP_3+CBMobile_3"
TIMEOUT_MS = 20000


class FakeSocketState(C.Structure):
    """Mirror of tests/c/harness/fake_litecore.h's FakeSocketState; keep it exact."""

    _fields_ = [
        ("http_response_calls", C.c_int), ("http_status", C.c_int),
        ("opened_calls", C.c_int), ("closed_calls", C.c_int), ("close_requested_calls", C.c_int),
        ("disposed", C.c_int), ("refcount", C.c_int),
        ("closed_error", LcwsError),
        ("closed_message", C.c_char * 512),
        ("bytes_written_acked", C.c_size_t), ("bytes_received", C.c_size_t), ("messages_received", C.c_size_t),
        ("violations", C.c_int),
        ("first_violation", C.c_char * 256),
        ("peer_cert_calls", C.c_int), ("peer_cert_size", C.c_size_t),
        ("peer_cert_host", C.c_char * 128),
    ]


class FlEntry(C.Structure):
    """Mirror of tests/c/harness/fleece_build.h's FlEntry (the fake's Fleece writer)."""


FlEntry._fields_ = [
    ("key", C.c_char_p), ("type", C.c_int), ("bytes", C.c_void_p), ("len", C.c_size_t),
    ("num", C.c_longlong), ("dict", C.POINTER(FlEntry)), ("dict_count", C.c_size_t),
]
FL_STR, FL_DATA, FL_INT, FL_BOOL, FL_DICT = range(5)

# What LiteCore calls the factory's open with (a per-replicator factory is called directly).
OPEN_FN = C.CFUNCTYPE(None, C.c_void_p, C.POINTER(LcwsAddress), LcwsSlice, C.c_void_p)


def declare_fake(fake: C.CDLL) -> None:
    sig = {
        "fake_socket_new": ([], C.c_void_p),
        "fake_socket_open": ([C.c_void_p, C.c_char_p, C.c_char_p, C.c_uint16, C.c_char_p, C.c_void_p, C.c_size_t], None),
        "fake_socket_write": ([C.c_void_p, C.c_void_p, C.c_size_t], None),
        "fake_socket_request_close": ([C.c_void_p, C.c_int, C.c_char_p], None),
        "fake_socket_next_message": ([C.c_void_p, C.c_int, C.POINTER(C.c_size_t)], C.c_void_p),
        "fake_socket_headers_contain": ([C.c_void_p, C.c_char_p], C.c_bool),
        "fake_wait_opened": ([C.c_void_p, C.c_int], C.c_int),
        "fake_wait_written": ([C.c_void_p, C.c_size_t, C.c_int], C.c_int),
        "fake_wait_closed": ([C.c_void_p, C.c_int], C.c_int),
        "fake_wait_refcount": ([C.c_void_p, C.c_int, C.c_int], C.c_int),
        "fake_wait_disposed": ([C.c_void_p, C.c_int], C.c_int),
        "fake_socket_state": ([C.c_void_p], FakeSocketState),
        "fake_socket_drop": ([C.c_void_p], None),
        "fake_socket_free": ([C.c_void_p], None),
        "fake_outstanding_buffers": ([], C.c_long),
        "fake_cookies_clear": ([], None),
        "fl_encode": ([C.POINTER(FlEntry), C.c_size_t, C.POINTER(C.c_size_t)], C.c_void_p),
        "c4db_setCookie": ([C.c_void_p, LcwsSlice, LcwsSlice, LcwsSlice, C.c_bool, C.POINTER(LcwsError)], C.c_bool),
    }
    for name, (argtypes, restype) in sig.items():
        fn = getattr(fake, name)
        fn.argtypes = argtypes
        fn.restype = restype


LIBC = C.CDLL(None)
LIBC.free.argtypes = [C.c_void_p]
LIBC.free.restype = None


def encode_options(fake, auth: dict, root_certs: bytes | None = None) -> bytes:
    """The replicator options dict as LiteCore passes it to open: WS-Protocols, auth, rootCerts."""
    keep = []  # the bytes the entries point to

    def s(key, value):
        b = value.encode()
        keep.append(b)
        return FlEntry(key.encode(), FL_STR, C.cast(C.c_char_p(b), C.c_void_p), len(b), 0, None, 0)

    auth_entries = (FlEntry * len(auth))(*[s(k, v) for k, v in auth.items()])
    entries = [s("WS-Protocols", PROTOCOL.decode()),
               FlEntry(b"auth", FL_DICT, None, 0, 0, C.cast(auth_entries, C.POINTER(FlEntry)), len(auth))]
    if root_certs is not None:
        buf = C.create_string_buffer(root_certs, len(root_certs))
        keep.append(buf)
        entries.append(FlEntry(b"rootCerts", FL_DATA, C.cast(buf, C.c_void_p), len(root_certs), 0, None, 0))
    arr = (FlEntry * len(entries))(*entries)
    size = C.c_size_t()
    p = fake.fl_encode(arr, len(entries), C.byref(size))
    assert p, "fl_encode failed"
    try:
        return C.string_at(p, size.value)
    finally:
        LIBC.free(p)


def slice_of(b: bytes, keep: list) -> LcwsSlice:
    buf = C.create_string_buffer(b, len(b))
    keep.append(buf)
    return LcwsSlice(C.cast(buf, C.c_void_p), len(b))


def closed_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def blipsync_requests(admin_port: int) -> list:
    with urllib.request.urlopen(f"http://127.0.0.1:{admin_port}/_debug/requests", timeout=10) as r:
        return [q for q in json.loads(r.read()) if q["path"].split("?")[0].endswith("/_blipsync")]


def headers_named(req: dict, name: str) -> list:
    return [v for n, v in req["headers"] if n.lower() == name.lower()]


class Ctx:
    """What the tests share: the binding, the fake, the captured log, the peers."""

    def __init__(self, lcws_path: str, fake_path: str):
        self.fake = C.CDLL(fake_path)  # plays libLiteCore
        declare_fake(self.fake)
        self.lines: list[tuple[int, str]] = []
        self._lock = threading.Lock()
        self.ws = LiteCoreWS(lcws_path, self.fake, log=self._sink)
        self.ws.set_log_level(LOG_DEBUG)  # everything, to prove secrets never reach the sink
        self.peers = None

    def _sink(self, level: int, line: str) -> None:  # litecore-ws's threads
        with self._lock:
            self.lines.append((level, line))

    def log_lines(self) -> list[str]:
        with self._lock:
            return [line for _, line in self.lines]

    def finish(self, sock) -> FakeSocketState:
        """LiteCore drops its reference after closed; returns the socket's final state."""
        fake = self.fake
        assert fake.fake_wait_refcount(sock, 1, 5000), "litecore-ws did not release its reference"
        fake.fake_socket_drop(sock)
        assert fake.fake_wait_disposed(sock, 5000), "not disposed"
        st = fake.fake_socket_state(sock)
        fake.fake_socket_free(sock)
        assert st.violations == 0, st.first_violation
        assert st.closed_calls == 1, st.closed_calls
        return st

    def echo_and_close(self, sock) -> None:
        fake = self.fake
        msg = bytes([1]) + bytes((i * 131 + 7) % 251 for i in range(1, 2048))
        fake.fake_socket_write(sock, msg, len(msg))
        size = C.c_size_t()
        p = fake.fake_socket_next_message(sock, TIMEOUT_MS, C.byref(size))
        assert p, "no echo within 20 s"
        got = C.string_at(p, size.value)
        LIBC.free(p)
        assert got == msg, f"echo differs ({len(got)} bytes back)"
        assert fake.fake_wait_written(sock, len(msg), TIMEOUT_MS), "completedWrite missing"
        fake.fake_socket_request_close(sock, 1000, b"")
        assert fake.fake_wait_closed(sock, TIMEOUT_MS), "no closed within 20 s after requestClose(1000)"


# ---- tests (in this order: registration first, the sockets use the registered factory) ----


def test_version_and_host(ctx: Ctx) -> None:
    assert ctx.ws.version.count(".") == 2, ctx.ws.version
    assert ctx.ws.lib.lcws_host_is_set()
    # A different second table is refused (one host table per process).
    try:
        LiteCoreWS(ctx.ws.lib, ctx.fake, log=lambda level, line: None)
    except LiteCoreWSError as e:
        assert e.status == LcwsStatus.ALREADY_SET, e.status
    else:
        raise AssertionError("a second, different host table was accepted")


def test_register_twice(ctx: Ctx) -> None:
    # The fake aborts the process on a second c4socket_registerFactory, as LiteCore does.
    assert ctx.ws.register_globally() is True, "the first registration was not made"
    assert ctx.ws.register_globally() is False, "the second claim must be refused"
    assert ctx.ws.lib.lcws_claim_global_registration() is False


def test_connection_refused(ctx: Ctx) -> None:
    # {"auth": {"type": "Basic", "username": "user", "password": "12345"}} from the real encoder.
    with open(os.path.join(ROOT, "tests", "data", "fleece", "encode", "opts_basic_auth.fleece"), "rb") as f:
        options = f.read()
    fake = ctx.fake
    sock = fake.fake_socket_new()
    fake.fake_socket_open(sock, b"ws", b"127.0.0.1", closed_port(), b"/db/_blipsync", options, len(options))
    assert fake.fake_wait_closed(sock, 10000), "no closed within 10 s"
    st = ctx.finish(sock)
    err = st.closed_error
    assert (err.domain, err.code) == (5, 19), (err.domain, err.code, st.closed_message)
    assert st.http_response_calls == 0
    assert any("connecting to ws://127.0.0.1" in line for line in ctx.log_lines()), "no connect line in the log"
    print(f"    closed once with {{Network, 19}} {st.closed_message.decode()!r}")


def test_wss_echo(ctx: Ctx) -> None:
    p = ctx.peers
    with open(p["ca"], "rb") as f:
        ca = f.read()
    options = encode_options(ctx.fake, {"type": "Basic", "username": USER, "password": PASSWORD}, root_certs=ca)
    before = len(blipsync_requests(p["admin"]))
    fake = ctx.fake
    sock = fake.fake_socket_new()
    fake.fake_socket_open(sock, b"wss", b"localhost", p["tls"], b"/db/_blipsync", options, len(options))
    if not fake.fake_wait_opened(sock, TIMEOUT_MS):
        assert fake.fake_wait_closed(sock, TIMEOUT_MS)
        st = ctx.finish(sock)
        raise AssertionError(f"not opened: {{{st.closed_error.domain}, {st.closed_error.code}}} {st.closed_message!r}")
    assert fake.fake_socket_headers_contain(sock, PROTOCOL), "101 without the subprotocol"
    ctx.echo_and_close(sock)
    st = ctx.finish(sock)
    assert st.closed_error.code == 0, (st.closed_error.domain, st.closed_error.code, st.closed_message)
    assert st.http_status == 101 and st.http_response_calls == 1, st.http_status
    assert st.peer_cert_calls == 1 and st.peer_cert_host == b"localhost", (st.peer_cert_calls, st.peer_cert_host)
    assert fake.fake_outstanding_buffers() == 0, "write buffers never released"
    reqs = blipsync_requests(p["admin"])
    assert len(reqs) == before + 1, len(reqs) - before
    r = reqs[-1]
    expected = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    assert headers_named(r, "Authorization") == [expected], "SG did not get the Basic credentials"
    assert r["status"] == 101, r["status"]
    print(f"    wss://localhost:{p['tls']}/db: 101, certificate checked by gotPeerCertificate, "
          f"2048 bytes echoed, closed 1000")


def test_database_factory(ctx: Ctx) -> None:
    """factory_for_database(db): LiteCore calls its open with context = db, so litecore-ws sends
    the database's stored cookies (the fake's c4db_getCookies)."""
    db_buf = C.create_string_buffer(16)  # stands in for a C4Database*
    db = C.cast(db_buf, C.c_void_p).value
    f = ctx.ws.factory_for_database(db)
    assert isinstance(f, C4SocketFactory) and C.sizeof(f) == 72
    assert f.framing == 1 and f.context == db and f.close is None and f.attached is None
    assert f.open and f.write and f.completedReceive and f.requestClose and f.dispose

    fake = ctx.fake
    keep: list = []
    fake.fake_cookies_clear()
    assert fake.c4db_setCookie(db, slice_of(b"pycookie=42; Path=/", keep), slice_of(b"127.0.0.1", keep),
                               slice_of(b"/db", keep), False, None)
    p = ctx.peers
    options = encode_options(fake, {"type": "Basic", "username": USER, "password": PASSWORD})
    before = len(blipsync_requests(p["admin"]))
    addr = LcwsAddress(slice_of(b"ws", keep), slice_of(b"127.0.0.1", keep), p["public"],
                       slice_of(b"/db/_blipsync", keep))
    sock = fake.fake_socket_new()
    OPEN_FN(f.open)(sock, C.byref(addr), slice_of(options, keep), f.context)  # what LiteCore does
    assert fake.fake_wait_opened(sock, TIMEOUT_MS), "not opened"
    ctx.echo_and_close(sock)
    st = ctx.finish(sock)
    fake.fake_cookies_clear()
    assert st.closed_error.code == 0, (st.closed_error.code, st.closed_message)
    reqs = blipsync_requests(p["admin"])
    assert len(reqs) == before + 1
    cookies = headers_named(reqs[-1], "Cookie")
    assert len(cookies) == 1 and "pycookie=42" in cookies[0], cookies
    print("    the request carried the database's cookie (Cookie: pycookie=42)")


def test_log_sink(ctx: Ctx) -> None:
    lines = ctx.log_lines()
    assert len(lines) >= 5, f"only {len(lines)} log lines reached the Python sink"
    assert any("wss://localhost" in line for line in lines), "no line about the wss connection"
    secret_b64 = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    for line in lines:
        assert PASSWORD not in line and secret_b64 not in line, f"a secret reached the log: {line!r}"
        assert "12345" not in line, f"the password of opts_basic_auth reached the log: {line!r}"
    print(f"    {len(lines)} lines at debug level, no password, no Basic credentials")


def test_shutdown(ctx: Ctx) -> None:
    assert ctx.ws.shutdown() == LcwsStatus.OK
    assert ctx.ws.version  # still loaded and callable


TESTS = [test_version_and_host, test_register_twice, test_connection_refused, test_wss_echo,
         test_database_factory, test_log_sink, test_shutdown]


def main() -> int:
    args = sys.argv[1:]
    only = None
    if "-k" in args:
        i = args.index("-k")
        only = args[i + 1]
        del args[i:i + 2]
    lcws_path, fake_path = args[0], args[1]
    ctx = Ctx(lcws_path, fake_path)
    from peers import Peers  # tests/peers: the SG stand-in and nginx

    passed = failed = 0
    with Peers(["--user", f"{USER}:{PASSWORD}"], tls=True, quiet=True) as p:
        ctx.peers = p
        for t in TESTS:
            # Registration is a precondition of every socket test, so it always runs.
            if only and only not in t.__name__ and t is not test_register_twice:
                continue
            try:
                t(ctx)
                passed += 1
                print(f"ok    {t.__name__}", flush=True)
            except Exception:  # noqa: BLE001
                failed += 1
                print(f"FAIL  {t.__name__}", flush=True)
                traceback.print_exc()
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
