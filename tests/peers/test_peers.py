#!/usr/bin/env python3
"""Self-test of the test peers: python3 tests/peers/test_peers.py [-k SUBSTRING] [-v]

Checks sg_standin.py / tls_front.py / tls_zoo.py / peers.py from the outside only, with the `websockets`
client, raw sockets and http.client. Prints "N passed, N failed" last; exits 1 on failure.
"""

from __future__ import annotations

import base64
import http.client
import json
import os
import random
import socket
import ssl
import subprocess
import sys
import time
import traceback

sys.dont_write_bytecode = True  # leave no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from peers import Peers  # noqa: E402  (launcher only; no stand-in code is used)
from websockets.exceptions import ConnectionClosed, InvalidMessage, InvalidStatus  # noqa: E402
from websockets.sync.client import connect  # noqa: E402

CB2, CB3, CB4 = "BLIP_3+CBMobile_2", "BLIP_3+CBMobile_3", "BLIP_3+CBMobile_4"
REALM = 'Basic realm="Couchbase Sync Gateway"'
VERBOSE = "-v" in sys.argv


# ------------------------------------------------------------------------------------------
# helpers
# ------------------------------------------------------------------------------------------


def basic(user: str, pw: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{pw}".encode()).decode()


def ws_key() -> str:
    return base64.b64encode(os.urandom(16)).decode()


class Raw:
    """A raw HTTP/1.1 client on one TCP connection (keeps header order and spelling)."""

    def __init__(self, port: int, host: str = "127.0.0.1"):
        self.sock = socket.create_connection((host, port), timeout=10)
        self.buf = b""

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def request(self, method: str, path: str, headers: list[tuple[str, str]],
                body: bytes = b"", host: str = "127.0.0.1") -> None:
        lines = [f"{method} {path} HTTP/1.1", f"Host: {host}"]
        lines += [f"{k}: {v}" for k, v in headers]
        if body:
            lines.append(f"Content-Length: {len(body)}")
        self.send(("\r\n".join(lines) + "\r\n\r\n").encode() + body)

    def _fill(self) -> bool:
        chunk = self.sock.recv(65536)
        self.buf += chunk
        return bool(chunk)

    def response(self, body_until_eof: bool = False):
        """Returns (status, [(name, value)...] in wire order, body)."""
        while b"\r\n\r\n" not in self.buf:
            if not self._fill():
                raise EOFError(f"EOF before a full response head: {self.buf!r}")
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ")[1])
        headers = [tuple(x.split(": ", 1)) for x in lines[1:]]
        hmap = {k.lower(): v for k, v in headers}
        if status == 101:
            return status, headers, b""
        if "content-length" in hmap:
            n = int(hmap["content-length"])
            while len(self.buf) < n:
                if not self._fill():
                    raise EOFError("EOF inside the body")
            body, self.buf = self.buf[:n], self.buf[n:]
        elif body_until_eof:
            while self._fill():
                pass
            body, self.buf = self.buf, b""
        else:
            body = b""
        return status, headers, body

    def at_eof(self, timeout: float = 2.0) -> bool:
        self.sock.settimeout(timeout)
        try:
            return self.sock.recv(1) == b""
        except socket.timeout:
            return False
        except ConnectionResetError:
            return True

    def close(self) -> None:
        self.sock.close()


def upgrade_headers(protocols: str | None = CB3, extra=()) -> list[tuple[str, str]]:
    h = [("Upgrade", "websocket"), ("Connection", "Upgrade"), ("Sec-WebSocket-Version", "13"),
         ("Sec-WebSocket-Key", ws_key())]
    if protocols is not None:
        h.append(("Sec-WebSocket-Protocol", protocols))
    return h + list(extra)


def hget(headers, name):
    for k, v in headers:
        if k.lower() == name.lower():
            return v
    return None


def ws(url: str, *, protocols=(CB3,), headers=None, ssl_ctx=None):
    return connect(url + "/_blipsync", subprotocols=list(protocols), additional_headers=headers or {},
                   max_size=None, compression=None, open_timeout=10, close_timeout=5,
                   ssl=ssl_ctx, ping_interval=None)


def expect_status(url, status, **kw):
    try:
        with ws(url, **kw):
            pass
    except InvalidStatus as e:
        assert e.response.status_code == status, (e.response.status_code, e.response.body)
        return e.response
    raise AssertionError(f"expected HTTP {status}, got a WebSocket")


def admin_call(port: int, method: str, path: str, body=None):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    data = json.dumps(body).encode() if body is not None else None
    c.request(method, path, body=data, headers={"Content-Type": "application/json"} if data else {})
    r = c.getresponse()
    raw = r.read()
    c.close()
    try:
        return r.status, json.loads(raw) if raw else None
    except ValueError:
        return r.status, raw


def new_session(peers: dict, user: str, ttl: int | None = None, db: str = "db") -> dict:
    body = {"name": user}
    if ttl is not None:
        body["ttl"] = ttl
    st, js = admin_call(peers["admin"], "POST", f"/{db}/_session", body)
    assert st == 200, (st, js)
    return js


# ------------------------------------------------------------------------------------------
# peers used by the tests (started once)
# ------------------------------------------------------------------------------------------

P: dict[str, dict] = {}
RUNNING: list[Peers] = []


def start(name: str, args: list[str], tls: bool = False, zoo: bool = False) -> None:
    p = Peers(args, tls=tls, quiet=not VERBOSE, zoo=zoo)
    RUNNING.append(p)
    P[name] = p.start()


# ------------------------------------------------------------------------------------------
# tests
# ------------------------------------------------------------------------------------------


def test_basic_auth_accepted():
    with ws(P["main"]["ws"], headers={"Authorization": basic("alice", "pw1")}) as c:
        assert c.subprotocol == CB3
        c.send(b"x")
        assert c.recv() == b"x"


def test_basic_wrong_password_401_exact():
    r = Raw(P["main"]["public"])
    r.request("GET", "/db/_blipsync", upgrade_headers(extra=[("Authorization", basic("alice", "nope"))]))
    st, h, body = r.response()
    assert st == 401, st
    assert body == b'{"error":"Unauthorized","reason":"Invalid login"}', body
    assert ("Www-Authenticate", REALM) in h, h
    assert ("Content-Type", "application/json") in h, h
    assert hget(h, "Server") == "Couchbase Sync Gateway/3.1.0 CE", h
    # Go keeps the connection open after an error answer: a second request on it works
    r.request("GET", "/db/_blipsync", upgrade_headers(extra=[("Authorization", basic("alice", "pw1"))]))
    st2, h2, _ = r.response()
    assert st2 == 101, st2
    r.close()


def test_no_credentials_401_login_required():
    resp = expect_status(P["main"]["ws"], 401)
    assert resp.body == b'{"error":"Unauthorized","reason":"Login required"}', resp.body
    assert resp.headers.get("Www-Authenticate") == REALM


def test_guest():
    with ws(P["guest"]["ws"]) as c:
        c.send("hi")
        assert c.recv() == "hi"


def test_unknown_db_31_is_401():
    resp = expect_status(P["main"]["ws"].rsplit("/", 1)[0] + "/nosuchdb", 401)
    assert resp.body == b'{"error":"Unauthorized","reason":"Login required"}', resp.body
    resp = expect_status(P["main"]["ws"].rsplit("/", 1)[0] + "/nosuchdb", 401,
                         headers={"Authorization": basic("alice", "pw1")})
    assert resp.body == b'{"error":"Unauthorized","reason":"Invalid login"}', resp.body


def test_unknown_db_30_is_404():
    resp = expect_status(P["v30"]["ws"].rsplit("/", 1)[0] + "/x", 404)
    assert resp.body == b'{"error":"not_found","reason":"no such database \\"x\\""}', resp.body


def test_session_cookie_from_admin():
    s = new_session(P["main"], "alice")
    assert s["cookie_name"] == "SyncGatewaySession", s
    assert len(s["session_id"]) == 40 and s["expires"].endswith("Z"), s
    with ws(P["main"]["ws"], headers={"Cookie": f"SyncGatewaySession={s['session_id']}"}) as c:
        c.send(b"\x00")
        assert c.recv() == b"\x00"


def test_admin_session_errors():
    a = P["main"]["admin"]
    assert admin_call(a, "POST", "/db/_session", {"name": "bob"}) == (
        404, {"error": "not_found", "reason": 'No such user "bob"'})
    assert admin_call(a, "POST", "/db/_session", {"name": ""}) == (
        400, {"error": "Bad Request", "reason": "Invalid or missing user name"})
    assert admin_call(a, "POST", "/db/_session", {"name": "GUEST"})[0] == 400
    assert admin_call(a, "POST", "/db/_session", {"name": "alice", "ttl": 0}) == (
        400, {"error": "Bad Request", "reason": "Invalid or missing ttl"})
    # the app-server flow: create the user, then ask again
    assert admin_call(a, "PUT", "/db/_user/carol", {"password": "c"})[0] == 201
    assert admin_call(a, "POST", "/db/_session", {"name": "carol"})[0] == 200


def test_session_invalid_and_expired():
    resp = expect_status(P["main"]["ws"], 401, headers={"Cookie": "SyncGatewaySession=deadbeef"})
    assert resp.body == b'{"error":"Unauthorized","reason":"Session Invalid"}', resp.body
    s = new_session(P["main"], "alice")
    assert admin_call(P["main"]["admin"], "POST", f"/db/_session/{s['session_id']}/_expire")[0] == 200
    resp = expect_status(P["main"]["ws"], 401,
                         headers={"Cookie": f"SyncGatewaySession={s['session_id']}"})
    assert b"Session Invalid" in resp.body


def test_cookie_name_case_sensitive():
    s = new_session(P["main"], "alice")
    resp = expect_status(P["main"]["ws"], 401,
                         headers={"Cookie": f"syncgatewaysession={s['session_id']}"})
    assert resp.body == b'{"error":"Unauthorized","reason":"Login required"}', resp.body


def test_custom_cookie_name():
    s = new_session(P["cookie"], "alice")
    assert s["cookie_name"] == "MyAppSession", s
    with ws(P["cookie"]["ws"], headers={"Cookie": f"other=1; MyAppSession={s['session_id']}"}) as c:
        c.send("ok")
        assert c.recv() == "ok"
    expect_status(P["cookie"]["ws"], 401, headers={"Cookie": f"SyncGatewaySession={s['session_id']}"})


def test_public_session_login():
    c = http.client.HTTPConnection("127.0.0.1", P["main"]["public"], timeout=10)
    c.request("POST", "/db/_session", body=json.dumps({"name": "alice", "password": "pw1"}),
              headers={"Content-Type": "application/json"})
    r = c.getresponse()
    js = json.loads(r.read())
    assert r.status == 200 and js["ok"] is True and js["authentication_handlers"] == ["default", "cookie"], js
    assert js["userCtx"]["name"] == "alice", js
    cookie = r.getheader("Set-Cookie")
    assert cookie.startswith("SyncGatewaySession=") and "; Path=/db; Expires=" in cookie, cookie
    sid = cookie.split(";")[0].split("=", 1)[1]
    c.close()
    with ws(P["main"]["ws"], headers={"Cookie": f"SyncGatewaySession={sid}"}) as w:
        w.send("a")
        assert w.recv() == "a"


def test_bearer():
    with ws(P["main"]["ws"], headers={"Authorization": "Bearer tok-123"}) as c:
        c.send("b")
        assert c.recv() == "b"
    resp = expect_status(P["main"]["ws"], 401, headers={"Authorization": "Bearer wrong"})
    assert resp.body == b'{"error":"Unauthorized","reason":"Invalid login"}', resp.body
    assert "Www-Authenticate" not in resp.headers, resp.headers


def test_subprotocol_first_in_client_order():
    auth = {"Authorization": basic("alice", "pw1")}
    with ws(P["main"]["ws"], protocols=[CB2, CB3], headers=auth) as c:
        assert c.subprotocol == CB2
    with ws(P["main"]["ws"], protocols=[CB4, CB3, CB2], headers=auth) as c:
        assert c.subprotocol == CB3  # 3.1 does not speak CBMobile_4
    with ws(P["v32"]["ws"], protocols=[CB4, CB3], headers=auth) as c:
        assert c.subprotocol == CB4
    # SG reads the first header line only, and trims items
    r = Raw(P["main"]["public"])
    r.request("GET", "/db/_blipsync", upgrade_headers(
        protocols=f"  foo ,  {CB2} ", extra=[("Sec-WebSocket-Protocol", CB3),
                                            ("Authorization", basic("alice", "pw1"))]))
    st, h, _ = r.response()
    assert st == 101 and hget(h, "Sec-WebSocket-Protocol") == CB2, (st, h)
    r.close()


def test_subprotocol_no_match_500():
    r = Raw(P["main"]["public"])
    r.request("GET", "/db/_blipsync", upgrade_headers(
        protocols="chat", extra=[("Authorization", basic("alice", "pw1"))]))
    st, h, body = r.response()
    assert st == 500, st
    assert body == b"I only speak BLIP_3+CBMobile_3,BLIP_3+CBMobile_2 protocols\n", body
    assert hget(h, "Content-Type") == "text/plain; charset=utf-8", h
    assert hget(h, "X-Correlation-Id"), h
    r.close()
    # bad credentials come first
    r = Raw(P["main"]["public"])
    r.request("GET", "/db/_blipsync", upgrade_headers(
        protocols="chat", extra=[("Authorization", basic("alice", "x"))]))
    assert r.response()[0] == 401
    r.close()


def test_subprotocol_no_match_30_403():
    r = Raw(P["v30"]["public"])
    r.request("GET", "/db/_blipsync", upgrade_headers(
        protocols=CB4, extra=[("Authorization", basic("alice", "pw1"))]))
    st, h, body = r.response(body_until_eof=True)
    assert st == 403 and body == b"" and h == [], (st, h, body)
    r.close()


def test_101_header_spelling():
    r = Raw(P["main"]["public"])
    r.request("GET", "/db/_blipsync", upgrade_headers(extra=[("Authorization", basic("alice", "pw1"))]))
    st, h, _ = r.response()
    names = [k for k, _ in h]
    assert st == 101, st
    assert names == ["Connection", "Sec-Websocket-Accept", "Sec-Websocket-Protocol", "Server",
                     "Upgrade", "X-Correlation-Id", "Date"], names
    corr = hget(h, "X-Correlation-Id")
    assert len(corr) == 32 and int(corr, 16) >= 0, corr
    assert hget(h, "Set-Cookie") is None
    r.close()


def test_set_cookie_refresh_forced():
    s = new_session(P["refresh"], "alice")
    r = Raw(P["refresh"]["public"])
    r.request("GET", "/db/_blipsync", upgrade_headers(
        extra=[("Cookie", f"SyncGatewaySession={s['session_id']}")]))
    st, h, _ = r.response()
    assert st == 101, st
    sc = hget(h, "Set-Cookie")
    assert sc is not None and sc.startswith(f"SyncGatewaySession={s['session_id']}; Path=/db; Expires="), sc
    assert sc.endswith(" GMT; HttpOnly"), sc
    r.close()


def test_set_cookie_refresh_after_ten_percent():
    s = new_session(P["main"], "alice", ttl=2)
    hdr = {"Cookie": f"SyncGatewaySession={s['session_id']}"}
    with ws(P["main"]["ws"], headers=hdr) as c:
        assert c.response.headers.get("Set-Cookie") is None  # fresh session: no refresh
    time.sleep(0.35)  # let > 10 % of the 2 s TTL pass (this is the behaviour under test)
    with ws(P["main"]["ws"], headers=hdr) as c:
        sc = c.response.headers.get("Set-Cookie")
        assert sc and sc.startswith(f"SyncGatewaySession={s['session_id']}; Path=/db"), sc


def test_echo_binary_text_exact():
    rnd = random.Random(7)
    with ws(P["main"]["ws"], headers={"Authorization": basic("alice", "pw1")}) as c:
        for size in (0, 1, 125, 126, 65535, 65536, 1 << 20):
            data = rnd.randbytes(size)
            c.send(data)
            got = c.recv()
            assert isinstance(got, bytes) and got == data, size
        text = "héllo wörld ☃ 🚀 " * 1000
        c.send(text)
        got = c.recv()
        assert isinstance(got, str) and got == text
        big = rnd.randbytes(16 << 20)
        c.send(big)
        assert c.recv() == big
        c.send("!cmd stats")
        st = json.loads(c.recv())
        assert st["binary_messages"] == 8 and st["text_messages"] == 1 and st["pings"] == 0, st


def test_flood():
    with ws(P["main"]["ws"], headers={"Authorization": basic("alice", "pw1")}) as c:
        c.send("!cmd flood 20 3000")
        for k in range(20):
            m = c.recv()
            assert isinstance(m, bytes) and len(m) == 3000, (k, len(m))
            assert m == bytes((k * 31 + i) % 251 for i in range(3000)), k
        c.send("!cmd empty")
        assert c.recv() == b""


def test_close_4001():
    with ws(P["main"]["ws"], headers={"Authorization": basic("alice", "pw1")}) as c:
        c.send("!cmd close 4001 x")
        try:
            c.recv()
            raise AssertionError("expected the close")
        except ConnectionClosed:
            pass
        assert c.close_code == 4001 and c.close_reason == "x", (c.close_code, c.close_reason)
        assert c.protocol.close_rcvd is not None and c.protocol.close_rcvd.code == 4001


def test_close_nocode():
    with ws(P["main"]["ws"], headers={"Authorization": basic("alice", "pw1")}) as c:
        c.send("!cmd close-nocode")
        try:
            c.recv()
        except ConnectionClosed:
            pass
        assert c.protocol.close_rcvd is not None and c.protocol.close_rcvd.code == 1005


def test_vanish():
    with ws(P["main"]["ws"], headers={"Authorization": basic("alice", "pw1")}) as c:
        c.send("!cmd vanish")
        try:
            c.recv()
            raise AssertionError("expected the connection to drop")
        except ConnectionClosed:
            pass
        assert c.protocol.close_rcvd is None  # no Close frame: the TCP connection just went


def test_ping_and_freeze():
    with ws(P["main"]["ws"], headers={"Authorization": basic("alice", "pw1")}) as c:
        pong = c.ping(b"p1")
        assert pong.wait(5), "pong to a ping before freeze"
        assert c.ping(b"p2").wait(5)
        c.send("!cmd stats")
        st = json.loads(c.recv())
        assert st["pings"] == 2 and st["messages"] == 0, st  # pings are counted, not as messages
        c.send("!cmd freeze")
        time.sleep(0.2)  # let the command reach the server before probing
        pong = c.ping(b"p3")
        assert not pong.wait(1.0), "a frozen server must not answer pings"
        c.close_timeout = 0.2  # the frozen server will not answer our Close either


def masked_frame(opcode: int, payload: bytes) -> bytes:
    mask = os.urandom(4)
    n = len(payload)
    head = bytes([0x80 | opcode])
    if n < 126:
        head += bytes([0x80 | n])
    elif n < 65536:
        head += bytes([0x80 | 126]) + n.to_bytes(2, "big")
    else:
        head += bytes([0x80 | 127]) + n.to_bytes(8, "big")
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


def read_frame(r: Raw) -> tuple[int, bytes]:
    while len(r.buf) < 2:
        assert r._fill(), "EOF"
    b0, b1 = r.buf[0], r.buf[1]
    n, pos = b1 & 0x7F, 2
    if n == 126:
        while len(r.buf) < 4:
            assert r._fill()
        n, pos = int.from_bytes(r.buf[2:4], "big"), 4
    elif n == 127:
        while len(r.buf) < 10:
            assert r._fill()
        n, pos = int.from_bytes(r.buf[2:10], "big"), 10
    while len(r.buf) < pos + n:
        assert r._fill(), "EOF"
    data = r.buf[pos:pos + n]
    r.buf = r.buf[pos + n:]
    return b0, data


def test_raw_frames_ping_garbage_nocode():
    r = Raw(P["main"]["public"])
    r.request("GET", "/db/_blipsync", upgrade_headers(extra=[("Authorization", basic("alice", "pw1"))]))
    assert r.response()[0] == 101
    r.send(masked_frame(0x1, b"!cmd ping hello"))
    assert read_frame(r) == (0x89, b"hello")  # server Ping, unmasked
    r.send(masked_frame(0x1, b"!cmd garbage"))
    assert read_frame(r) == (0x83, b"abc")  # reserved opcode 0x3: invalid on purpose
    r.send(masked_frame(0x9, b"pp"))
    assert read_frame(r) == (0x8A, b"pp")  # the stand-in still answers pings
    r.send(masked_frame(0x2, b"\x01\x02"))
    assert read_frame(r) == (0x82, b"\x01\x02")
    r.send(masked_frame(0x1, b"!cmd close-nocode"))
    assert read_frame(r) == (0x88, b"")  # Close without a status code
    r.send(masked_frame(0x8, b""))
    assert r.at_eof()
    r.close()


def test_close_invalid_code_raw():
    r = Raw(P["main"]["public"])
    r.request("GET", "/db/_blipsync", upgrade_headers(extra=[("Authorization", basic("alice", "pw1"))]))
    assert r.response()[0] == 101
    r.send(masked_frame(0x1, b"!cmd close 999 bad"))
    assert read_frame(r) == (0x88, b"\x03\xe7bad")
    r.send(masked_frame(0x8, b"\x03\xea"))
    assert r.at_eof(), "server closes TCP after the client's Close"
    r.close()


def test_debug_requests_order_and_spelling():
    a = P["main"]["admin"]
    assert admin_call(a, "DELETE", "/_debug/requests")[0] == 200
    r = Raw(P["main"]["public"])
    extra = [("x-ZETA", "1"), ("Authorization", basic("alice", "pw1")), ("aLpHa", "two  words"),
             ("Cookie", "a=1"), ("cookie", "b=2")]
    r.send(("GET /db/_blipsync?client=x HTTP/1.1\r\nhost: 127.0.0.1\r\n" +
            "".join(f"{k}: {v}\r\n" for k, v in upgrade_headers(extra=extra)) + "\r\n").encode())
    assert r.response()[0] == 101
    r.close()
    st, reqs = admin_call(a, "GET", "/_debug/requests")
    assert st == 200 and len(reqs) == 1, reqs
    got = reqs[0]
    assert got["method"] == "GET" and got["path"] == "/db/_blipsync?client=x", got
    want = [["host", "127.0.0.1"]] + [[k, v] for k, v in upgrade_headers(extra=extra)]
    names = [k for k, _ in got["headers"]]
    assert names == [k for k, _ in want], names
    assert got["headers"][-3] == ["aLpHa", "two  words"], got["headers"]
    assert got["status"] == 101


def test_http_layer_go_like():
    r = Raw(P["main"]["public"])
    r.send(b"BLAH\r\n\r\n")
    st, h, body = r.response(body_until_eof=True)
    assert st == 400 and body == b"400 Bad Request", (st, body)
    r.close()
    r = Raw(P["main"]["public"])
    r.request("GET", "/db/_blipsync", [("Connection", "keep-alive"), ("Authorization", basic("alice", "pw1")),
                                       ("Sec-WebSocket-Protocol", CB3)])
    st, h, body = r.response()
    assert st == 426 and body.startswith(b"WebSocket protocol violation: Connection header"), (st, body)
    r.close()


def test_one_time_session_41():
    c = http.client.HTTPConnection("127.0.0.1", P["v41"]["public"], timeout=10)
    c.request("POST", "/db/_session?one_time=true", body=json.dumps({"name": "alice", "password": "pw1"}))
    r = c.getresponse()
    js = json.loads(r.read())
    c.close()
    tok = js["one_time_session_id"]
    with ws(P["v41"]["ws"], protocols=[f"SyncGatewaySession_{tok}", CB4]) as w:
        assert w.subprotocol == CB4
    expect_status(P["v41"]["ws"], 401, protocols=[f"SyncGatewaySession_{tok}", CB4])  # used up


def test_survives_abuse():
    port = P["main"]["public"]
    rnd = random.Random(3)
    blobs = [rnd.randbytes(n) for n in (1, 10, 100, 5000)] + [
        b"GET / HTTP/1.1\r\n", b"GET /db/_blipsync HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n",
        b"GET /db/_blipsync HTTP/1.1\r\nHost: x\r\nX: " + b"a" * (1 << 21) + b"\r\n\r\n",
        b"POST /db/_session HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n{{{{{",
        b"POST /db/_session HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        b"GET /db/_blipsync HTTP/1.0\r\n\r\n", b"GET /\xff HTTP/1.1\r\nHost: x\r\n\r\n",
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",  # a TLS ClientHello on the plain port
    ]
    for blob in blobs:
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        try:
            s.sendall(blob)
            s.shutdown(socket.SHUT_WR)
            s.settimeout(2)
            while s.recv(65536):
                pass
        except OSError:
            pass
        s.close()
    # after an upgrade: unmasked frames, bad UTF-8, a frame with RSV bits, then vanish
    for bad in (b"\x81\x02hi", masked_frame(0x1, b"\xff\xfe"), b"\xf1\x80abcd",
                masked_frame(0x9, b"x" * 200)):
        r = Raw(port)
        r.request("GET", "/db/_blipsync", upgrade_headers(extra=[("Authorization", basic("alice", "pw1"))]))
        assert r.response()[0] == 101
        r.send(bad)
        r.at_eof(1.0)
        r.close()
    with ws(P["main"]["ws"], headers={"Authorization": basic("alice", "pw1")}) as c:
        c.send("still alive")
        assert c.recv() == "still alive"


def test_wss_through_nginx():
    ctx = ssl.create_default_context(cafile=P["main"]["ca"])
    assert P["main"]["wss"].startswith("wss://localhost:")
    with ws(P["main"]["wss"], headers={"Authorization": basic("alice", "pw1")}, ssl_ctx=ctx) as c:
        assert c.subprotocol == CB3
        data = os.urandom(300_000)
        c.send(data)
        assert c.recv() == data
        c.send("tëxt")
        assert c.recv() == "tëxt"
        assert c.response.headers.get("Server") == "Couchbase Sync Gateway/3.1.0 CE"
    resp = expect_status(P["main"]["wss"], 401, ssl_ctx=ctx)
    assert resp.body == b'{"error":"Unauthorized","reason":"Login required"}'
    # an untrusting client fails the TLS handshake
    try:
        with ws(P["main"]["wss"], ssl_ctx=ssl.create_default_context()):
            pass
        raise AssertionError("TLS must fail without the test CA")
    except ssl.SSLCertVerificationError:
        pass


# ------------------------------------------------------------------------------------------
# tls_zoo.py (through peers.py --zoo, in front of a --guest stand-in)
# ------------------------------------------------------------------------------------------

ZOO_VARIANTS = ["chain", "expired", "notyet", "wrongname", "selfsigned", "selfsigned_expired",
                "clientauth", "clientauth12"]
ZOO_FILES = ["ca.pem", "intermediate.pem", "client.pem", "client.key", "client_chain.pem",
             "client_chain.key", "client_rsa.pem", "client_rsa.key", "client_ed25519.pem",
             "client_ed25519.key", "client.der", "client.key.der", "rogue_client.pem",
             "rogue_client.key", "chain_pubkey.der", "chain_pubkey.pem"] + \
            [f"{v}.der" for v in ZOO_VARIANTS]


def zoo() -> dict:
    return P["zoo"]["zoo"]


def zoo_file(name: str) -> str:
    return zoo()["files"][name]


def zoo_ctx(ca: str | None = "ca", client: str | None = None, verify: bool = True,
            max_version=None) -> ssl.SSLContext:
    """ca: a zoo file name, "ca" for ca.pem; client: "client" loads client.pem/client.key."""
    if verify:
        ctx = ssl.create_default_context(cafile=zoo_file("ca.pem" if ca == "ca" else ca))
    else:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    if client:
        ctx.load_cert_chain(zoo_file(f"{client}.pem"), zoo_file(f"{client}.key"))
    if max_version:
        ctx.maximum_version = max_version
    return ctx


def zoo_handshake(variant: str, ctx: ssl.SSLContext, host: str = "localhost"):
    """TLS handshake with the variant's port; returns (version, peer cert DER)."""
    with socket.create_connection(("127.0.0.1", zoo()["ports"][variant]), timeout=10) as s:
        with ctx.wrap_socket(s, server_hostname=host) as t:
            return t.version(), t.getpeercert(binary_form=True)


def zoo_url(variant: str) -> str:
    return f"wss://localhost:{zoo()['ports'][variant]}/db"


def zoo_echo(variant: str, ctx: ssl.SSLContext) -> None:
    with ws(zoo_url(variant), ssl_ctx=ctx) as c:
        assert c.subprotocol == CB3
        data = os.urandom(70_000)
        c.send(data)
        assert c.recv() == data
        assert c.response.headers.get("Server") == "Couchbase Sync Gateway/3.1.0 CE"


def openssl(*args: str, data: bytes | None = None) -> bytes:
    r = subprocess.run(["openssl", *args], input=data, capture_output=True)
    assert r.returncode == 0, (args, r.stderr)
    return r.stdout


def test_zoo_ready_line_and_files():
    z = zoo()
    assert set(P["zoo"]) >= {"ws", "wss", "public", "admin", "tls", "ca", "zoo"}
    assert "zoo" not in P["main"] and "zoo" not in P["guest"]  # only with --zoo
    assert set(z) == {"dir", "ca", "intermediate", "ports", "files"}
    assert list(z["ports"]) == ZOO_VARIANTS
    ports = list(z["ports"].values())
    assert len(set(ports)) == len(ports) and all(isinstance(p, int) and p > 0 for p in ports)
    for name in ZOO_FILES:
        path = z["files"][name]
        assert os.path.isfile(path) and os.path.dirname(path) == z["dir"], (name, path)
    assert z["ca"] == z["files"]["ca.pem"] and z["intermediate"] == z["files"]["intermediate.pem"]

    def text(n):
        with open(zoo_file(n)) as f:
            return f.read()

    def raw(n):
        with open(zoo_file(n), "rb") as f:
            return f.read()

    assert text("client_rsa.key").startswith("-----BEGIN RSA PRIVATE KEY-----")
    assert text("client_ed25519.key").startswith("-----BEGIN PRIVATE KEY-----")
    assert text("client.key").startswith("-----BEGIN PRIVATE KEY-----")
    assert text("chain_pubkey.pem").startswith("-----BEGIN PUBLIC KEY-----")
    assert text("client_chain.pem").count("BEGIN CERTIFICATE") == 2
    assert ssl.PEM_cert_to_DER_cert(text("client.pem")) == raw("client.der")
    # DER key = the PEM key; the pinned public key is the chain leaf's
    assert openssl("pkey", "-inform", "DER", "-in", zoo_file("client.key.der")) == \
        openssl("pkey", "-in", zoo_file("client.key"))
    assert openssl("x509", "-in", zoo_file("chain.der"), "-inform", "DER", "-pubkey",
                   "-noout").decode() == text("chain_pubkey.pem")
    assert openssl("pkey", "-pubin", "-in", zoo_file("chain_pubkey.pem"), "-outform",
                   "DER") == raw("chain_pubkey.der")
    subj = openssl("x509", "-in", zoo_file("client.pem"), "-noout", "-subject", "-ext",
                   "extendedKeyUsage").decode()
    assert "CN = test-client" in subj and "TLS Web Client Authentication" in subj, subj
    assert "X509v3 Basic Constraints: critical\n    CA:TRUE" in openssl(
        "x509", "-in", zoo_file("selfsigned.pem"), "-noout", "-ext", "basicConstraints").decode()


def test_zoo_every_port_serves_its_leaf():
    for v in ZOO_VARIANTS:
        ctx = zoo_ctx(verify=False, client="client" if v.startswith("clientauth") else None)
        version, der = zoo_handshake(v, ctx)
        assert version == ("TLSv1.2" if v == "clientauth12" else "TLSv1.3"), (v, version)
        with open(zoo_file(f"{v}.der"), "rb") as f:
            assert der == f.read(), v
    # TLS 1.2 is enabled too
    assert zoo_handshake("chain", zoo_ctx(max_version=ssl.TLSVersion.TLSv1_2))[0] == "TLSv1.2"


def test_zoo_chain_verifies_with_ca():
    # only the root is trusted: the intermediate must come from nginx
    for host in ("localhost", "127.0.0.1"):
        zoo_handshake("chain", zoo_ctx(), host=host)
    zoo_echo("chain", zoo_ctx())
    try:
        zoo_handshake("chain", ssl.create_default_context())
        raise AssertionError("the chain must not verify without the zoo CA")
    except ssl.SSLCertVerificationError as e:
        assert e.verify_code == 20, e  # unable to get local issuer certificate


def expect_verify_error(variant: str, code: int, ca: str = "ca", host: str = "localhost"):
    try:
        zoo_handshake(variant, zoo_ctx(ca), host=host)
    except ssl.SSLCertVerificationError as e:
        assert e.verify_code == code, (variant, e.verify_code, e.verify_message)
        return e
    raise AssertionError(f"{variant}: verification must fail with {code}")


def test_zoo_bad_certificates_fail_verification():
    expect_verify_error("expired", 10)            # X509_V_ERR_CERT_HAS_EXPIRED
    expect_verify_error("notyet", 9)              # X509_V_ERR_CERT_NOT_YET_VALID
    e = expect_verify_error("wrongname", 62)      # X509_V_ERR_HOSTNAME_MISMATCH
    assert "localhost" in e.verify_message
    expect_verify_error("wrongname", 64, host="127.0.0.1")  # X509_V_ERR_IP_ADDRESS_MISMATCH
    zoo_handshake("wrongname", zoo_ctx(), host="wrong.example")  # only the name is wrong
    expect_verify_error("selfsigned", 18)         # X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT
    expect_verify_error("selfsigned_expired", 18)
    expect_verify_error("selfsigned_expired", 10, ca="selfsigned_expired.pem")
    # and they are all reachable without verification
    for v in ("expired", "notyet", "wrongname", "selfsigned", "selfsigned_expired"):
        zoo_handshake(v, zoo_ctx(verify=False))


def test_zoo_selfsigned_trusted_as_its_own_ca():
    for host in ("localhost", "127.0.0.1"):
        zoo_handshake("selfsigned", zoo_ctx("selfsigned.pem"), host=host)
    zoo_echo("selfsigned", zoo_ctx("selfsigned.pem"))
    expect_verify_error("chain", 20, ca="selfsigned.pem")


def test_zoo_clientauth_refuses_without_certificate():
    # TLS 1.3: the client's handshake completes, the alert arrives on the first read
    with socket.create_connection(("127.0.0.1", zoo()["ports"]["clientauth"]), timeout=10) as s:
        with zoo_ctx().wrap_socket(s, server_hostname="localhost") as t:
            assert t.version() == "TLSv1.3"
            try:  # (nothing sent: writing to the closed connection could race the alert)
                t.recv(100)
                raise AssertionError("nginx must refuse a TLS 1.3 client without a certificate")
            except ssl.SSLError as e:
                assert e.reason == "TLSV13_ALERT_CERTIFICATE_REQUIRED", e
    # TLS 1.2: the handshake itself fails
    try:
        zoo_handshake("clientauth12", zoo_ctx())
        raise AssertionError("nginx must refuse a TLS 1.2 client without a certificate")
    except ssl.SSLError as e:
        assert e.reason == "SSLV3_ALERT_HANDSHAKE_FAILURE", e
    # the same through a WebSocket client: no upgrade. TLS 1.2: the handshake error itself;
    # TLS 1.3: websockets reports the alert as a closed connection or an invalid HTTP response
    # (which one depends on timing inside websockets)
    try:
        zoo_echo("clientauth12", zoo_ctx())
        raise AssertionError("clientauth12: a WebSocket without a client certificate")
    except ssl.SSLError as e:
        assert e.reason == "SSLV3_ALERT_HANDSHAKE_FAILURE", e
    try:
        zoo_echo("clientauth", zoo_ctx())
        raise AssertionError("clientauth: a WebSocket without a client certificate")
    except (ssl.SSLError, ConnectionClosed, InvalidMessage):
        pass


def test_zoo_clientauth_accepts_client_certificates():
    for v in ("clientauth", "clientauth12"):
        for client in ("client", "client_chain", "client_rsa", "client_ed25519"):
            try:
                zoo_echo(v, zoo_ctx(client=client))
            except Exception as e:
                raise AssertionError(f"{v} with {client}.pem: {e!r}")


def test_zoo_clientauth_rogue_certificate_refused():
    # nginx completes the handshake (its verify callback accepts every certificate) and then
    # answers every request 400 "The SSL certificate error"
    for v in ("clientauth", "clientauth12"):
        resp = expect_status(zoo_url(v), 400, ssl_ctx=zoo_ctx(client="rogue_client"))
        assert b"The SSL certificate error" in resp.body, resp.body


def fnv1a(data: bytes) -> str:
    h = 2166136261
    for b in data:
        h = ((h ^ b) * 16777619) & 0xFFFFFFFF
    return f"{h:08x}"


def test_ws_client_against_the_stand_in():
    """ws_client.py (the listener tests' client), both kinds, against the guest stand-in's echo."""
    here = os.path.dirname(os.path.abspath(__file__))
    proc = subprocess.Popen([sys.executable, os.path.join(here, "ws_client.py"), "--quiet"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline() == "READY {}\n"

        def cmd(line: str) -> str:
            proc.stdin.write(line + "\n")
            proc.stdin.flush()
            return proc.stdout.readline().rstrip("\n")

        url = P["guest"]["ws"] + "/_blipsync"
        pattern = bytes((i * 131 + 3 * 7) % 251 for i in range(1000))
        assert cmd(f"connect {url} {CB3}") == f"OPEN {CB3}"
        assert cmd("send binary 1000 3") == "SENT"
        assert cmd("recv 5") == f"MSG binary 1000 {fnv1a(pattern)}"
        assert cmd("fragments 3 5000 2").startswith("SENT")
        assert cmd("recv 5").startswith("MSG binary 5000 ")
        assert cmd("send text h\u00e9llo") == "SENT"
        assert cmd("recv 5") == "MSG text h\u00e9llo"
        assert cmd("ping abc") == "PONG abc"
        assert cmd("recv 0.2") == "TIMEOUT"
        assert cmd("close 1000 bye") == "CLOSED 1000 bye"
        assert cmd(f"connect {P['main']['ws']}/_blipsync {CB3}") == "HTTP 401"
        assert cmd(f"raw {url} {CB3} absolute") == f"OPEN {CB3}"
        assert cmd("frame 1 0 2 1 text:abc") == "SENT"
        assert cmd("recv 5") == f"MSG binary 3 {fnv1a(b'abc')}"
        assert cmd("frame 1 0 9 1 text:p") == "SENT"
        assert cmd("recv 5") == "PONG hex:70"
        assert cmd("frame 1 0 1 1 text:!cmd close 4001 try later") == "SENT"
        assert cmd("recv 5") == "CLOSED 4001 try later"
        assert cmd("recv 5") == "EOF"
        assert cmd("bogus").startswith("ERROR")
        proc.stdin.write("quit\n")
        proc.stdin.flush()
        assert proc.wait(10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


# ------------------------------------------------------------------------------------------


def main() -> int:
    only = None
    if "-k" in sys.argv:
        only = sys.argv[sys.argv.index("-k") + 1]
    tests = [(n, f) for n, f in globals().items() if n.startswith("test_") and callable(f)]
    if only:
        tests = [(n, f) for n, f in tests if only in n]
    passed = failed = 0
    try:
        users = ["--user", "alice:pw1"]
        start("main", users + ["--bearer", "tok-123:alice"], tls=True)
        start("guest", ["--guest"])
        start("v30", users + ["--sg-version", "3.0"])
        start("v32", users + ["--sg-version", "3.2"])
        start("v41", users + ["--sg-version", "4.1"])
        start("cookie", users + ["--cookie-name", "MyAppSession"])
        start("refresh", users + ["--refresh-sessions-always"])
        start("zoo", ["--guest"], zoo=True)
        for name, fn in tests:
            t0 = time.monotonic()
            try:
                fn()
                passed += 1
                print(f"PASS {name} ({time.monotonic() - t0:.2f} s)")
            except Exception:
                failed += 1
                print(f"FAIL {name}")
                traceback.print_exc(file=sys.stdout)
            sys.stdout.flush()
    finally:
        for p in RUNNING:
            p.stop()
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 and passed > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
