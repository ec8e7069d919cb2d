#!/usr/bin/env python3
"""A Sync Gateway stand-in for litecore-ws tests.

Not a real Sync Gateway: it reproduces what SG does at the HTTP level and during the
WebSocket handshake of ``GET /{db}/_blipsync`` (see shared/docs/sync-gateway-handshake.md and
tests/peers/README.md), then echoes WebSocket messages and obeys ``!cmd`` test commands.

Layers:
  * a small Go-net/http-like HTTP/1.1 layer (keep-alive, 1 MiB header limit, 5 s header
    timeout, 90 s idle timeout, Go's canned 400/431 answers, Go-canonical response header
    names written in Go's order) that reads every request on both ports;
  * SG's logic (routing, database lookup, authentication, sessions, subprotocol negotiation,
    coder/websocket's handshake validation) producing either a complete HTTP answer, which the
    HTTP layer writes (the connection stays open like Go's), or an accepted upgrade;
  * for an accepted upgrade the connection is handed to the ``websockets`` asyncio server,
    whose ``process_request`` hook answers with the 101 built by SG's logic (Go's header
    spelling and order), and whose connection then runs the echo/command loop.

Only the Python standard library and ``websockets`` (>=15,<18) are used.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import binascii
import datetime
import email.utils
import fnmatch
import hashlib
import json
import logging
import os
import re
import secrets
import signal
import struct
import sys
import time
import urllib.parse

import websockets
import websockets.http11
from websockets.asyncio.server import ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.frames import Frame, Opcode
from websockets.http11 import Response

sys.dont_write_bytecode = True  # importing peer_util leaves no __pycache__ in tests/peers
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # also under python3 -P / -I
import peer_util  # noqa: E402

# The HTTP layer below enforces SG's own limits (1 MiB of request headers); make sure the
# websockets parser, which re-reads the head of an accepted upgrade, never refuses it first.
websockets.http11.MAX_LINE_LENGTH = 2 << 20
websockets.http11.MAX_NUM_HEADERS = 100_000

MAX_MESSAGE = 64 * 1024 * 1024
MAX_HEADER_BYTES = (1 << 20) + 4096  # Go: DefaultMaxHeaderBytes + its 4096 slack
MAX_BODY = 64 * 1024 * 1024
HEADER_TIMEOUT = 5.0
IDLE_TIMEOUT = 90.0
BODY_TIMEOUT = 60.0
FREEZE_MAX = 600.0
WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
PRODUCT = "Couchbase Sync Gateway"

VERSIONS = {
    # protos: SG's supported subprotocols, in go-blip's order.
    # unknown_db: answer to an unknown database on the public port.
    # nomatch: answer when no subprotocol matches ("500": go-blip over coder/websocket,
    #          "403": go-blip over x/net/websocket, SG <= 3.0).
    "2.8": dict(protos=["BLIP_3+CBMobile_2"], unknown_db="404", nomatch="403", one_time=False),
    "3.0": dict(protos=["BLIP_3+CBMobile_3", "BLIP_3+CBMobile_2"], unknown_db="404",
                nomatch="403", one_time=False),
    "3.1": dict(protos=["BLIP_3+CBMobile_3", "BLIP_3+CBMobile_2"], unknown_db="401",
                nomatch="500", one_time=False),
    "3.2": dict(protos=["BLIP_3+CBMobile_4", "BLIP_3+CBMobile_3", "BLIP_3+CBMobile_2"],
                unknown_db="401", nomatch="500", one_time=False),
    "4.1": dict(protos=["BLIP_3+CBMobile_4", "BLIP_3+CBMobile_3", "BLIP_3+CBMobile_2"],
                unknown_db="401", nomatch="500", one_time=True),
}

GO_STATUS = {
    101: "Switching Protocols", 200: "OK", 201: "Created", 204: "No Content",
    301: "Moved Permanently", 302: "Found", 303: "See Other", 307: "Temporary Redirect",
    308: "Permanent Redirect",
    400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
    405: "Method Not Allowed", 406: "Not Acceptable", 411: "Length Required",
    413: "Request Entity Too Large", 415: "Unsupported Media Type", 426: "Upgrade Required",
    431: "Request Header Fields Too Large", 500: "Internal Server Error",
    501: "Not Implemented", 503: "Service Unavailable", 505: "HTTP Version Not Supported",
}

TOKEN_RE = re.compile(rb"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
BAD_VALUE_RE = re.compile(rb"[\x00-\x08\x0a-\x1f\x7f]")
QUIET = False


def log(msg: str) -> None:
    if not QUIET:
        try:
            sys.stderr.write(f"sg_standin: {msg}\n")
            sys.stderr.flush()
        except Exception:
            pass


def go_canon(name: str) -> str:
    """Go's textproto.CanonicalMIMEHeaderKey."""
    if not name or not TOKEN_RE.match(name.encode("latin-1", "replace")):
        return name
    return "-".join(p[:1].upper() + p[1:].lower() for p in name.split("-"))


def http_date(ts: float | None = None) -> str:
    return email.utils.formatdate(ts if ts is not None else time.time(), usegmt=True)


def rfc3339(ts: float) -> str:
    d = datetime.datetime.fromtimestamp(ts, datetime.timezone.utc)
    s = d.strftime("%Y-%m-%dT%H:%M:%S")
    frac = f"{d.microsecond:06d}".rstrip("0")
    return s + ("." + frac if frac else "") + "Z"


# ---------------------------------------------------------------------------------------------
# Requests and replies
# ---------------------------------------------------------------------------------------------


class Request:
    def __init__(self, method, target, version, headers, raw_head, body=b""):
        self.method: str = method
        self.target: str = target
        self.version: str = version
        self.headers: list[tuple[str, str]] = headers  # original spelling, wire order
        self.raw_head: bytes = raw_head
        self.body: bytes = body
        self.record: dict | None = None
        t = target
        if t.startswith(("http://", "https://")):
            u = urllib.parse.urlsplit(t)
            t = (u.path or "/") + ("?" + u.query if u.query else "")
        path, _, query = t.partition("?")
        self.path = path
        self.query = urllib.parse.parse_qs(query, keep_blank_values=True)

    def get_all(self, name: str) -> list[str]:
        c = go_canon(name)
        return [v for (k, v) in self.headers if go_canon(k) == c]

    def get(self, name: str) -> str:
        """Go's Header.Get: the first value, or ''."""
        vals = self.get_all(name)
        return vals[0] if vals else ""

    def has(self, name: str) -> bool:
        return bool(self.get_all(name))

    def set_first(self, name: str, value: str) -> None:
        """Go's Header.Set on the request (replaces every line of that header with one)."""
        c = go_canon(name)
        out, done = [], False
        for k, v in self.headers:
            if go_canon(k) == c:
                if not done:
                    out.append((k, value))
                    done = True
            else:
                out.append((k, v))
        if not done:
            out.append((name, value))
        self.headers = out

    def query1(self, name: str) -> str:
        v = self.query.get(name)
        return v[0] if v else ""

    def cookie(self, name: str) -> str | None:
        """Go's Request.Cookie(name): case-sensitive name, first match over all Cookie lines."""
        for line in self.get_all("Cookie"):
            for part in line.strip(" \t").split(";"):
                part = part.strip(" \t")
                if not part:
                    continue
                cname, _, val = part.partition("=")
                cname = cname.strip(" \t")
                if not cname or not TOKEN_RE.match(cname.encode("latin-1", "replace")):
                    continue
                if cname != name:
                    continue
                if len(val) > 1 and val[0] == '"' and val[-1] == '"':
                    val = val[1:-1]
                if any(not (0x20 <= ord(ch) < 0x7F) or ch in '";\\' for ch in val):
                    continue
                return val
        return None


class Reply:
    """An HTTP answer written the way Go's net/http writes it."""

    def __init__(self, status: int, body: bytes = b"", headers=None):
        self.status = status
        self.body = body
        self.headers: dict[str, list[str]] = {}
        self.close = False
        self.raw: bytes | None = None  # bytes written verbatim instead (then the conn closes)
        for k, v in (headers or []):
            self.add(k, v)

    def set(self, k: str, v: str) -> "Reply":
        self.headers[go_canon(k)] = [v]
        return self

    def add(self, k: str, v: str) -> "Reply":
        self.headers.setdefault(go_canon(k), []).append(v)
        return self

    def serialize(self, head_only: bool, close: bool) -> bytes:
        if self.raw is not None:
            return self.raw
        lines = [f"HTTP/1.1 {self.status} {GO_STATUS.get(self.status, 'status code %d' % self.status)}"]
        for k in sorted(self.headers):
            for v in self.headers[k]:
                lines.append(f"{k}: {v}")
        if "Date" not in self.headers:
            lines.append(f"Date: {http_date()}")
        body_allowed = not (100 <= self.status < 200 or self.status in (204, 304))
        if body_allowed and "Content-Length" not in self.headers:
            lines.append(f"Content-Length: {len(self.body)}")
        if body_allowed and "Content-Type" not in self.headers and self.body:
            lines.append("Content-Type: text/plain; charset=utf-8")
        if close and "Connection" not in self.headers:
            lines.append("Connection: close")
        out = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        if body_allowed and not head_only:
            out += self.body
        return out


class Upgrade:
    """An accepted WebSocket upgrade: the 101's headers, in the order they go on the wire."""

    def __init__(self, headers: list[tuple[str, str]], db: str, user: str):
        self.headers = headers
        self.db = db
        self.user = user


def sg_error(status: int, reason: str) -> Reply:
    """SG's handler.writeStatus for an error."""
    if status == 404:
        err = "not_found"
    elif status == 409:
        err = "conflict"
    else:
        err = GO_STATUS.get(status, str(status))
    body = json.dumps({"error": err, "reason": reason}, separators=(",", ":")).encode()
    return Reply(status, body, [("Content-Type", "application/json")])


def sg_json(status: int, obj) -> Reply:
    body = json.dumps(obj, separators=(",", ":")).encode()
    return Reply(status, body, [("Content-Type", "application/json"),
                                ("Content-Length", str(len(body)))])


def go_http_error(status: int, text: str) -> Reply:
    """Go's http.Error."""
    return Reply(status, (text + "\n").encode(), [
        ("Content-Type", "text/plain; charset=utf-8"), ("X-Content-Type-Options", "nosniff")])


def go_canned(status_line: str) -> Reply:
    """Go's answers to unreadable requests: written raw, then the connection is closed."""
    r = Reply(0)
    r.raw = (f"HTTP/1.1 {status_line}\r\nContent-Type: text/plain; charset=utf-8\r\n"
             f"Connection: close\r\n\r\n{status_line}").encode()
    return r


class HTTPErr(Exception):
    def __init__(self, status: int, reason: str, www_auth: bool = False):
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.www_auth = www_auth


# ---------------------------------------------------------------------------------------------
# State
# ---------------------------------------------------------------------------------------------


class User:
    def __init__(self, name: str, password: str | None):
        self.name = name
        self.password = password
        self.disabled = False
        self.session_uuid = secrets.token_hex(8)


class Session:
    def __init__(self, sid, username, ttl, session_uuid, one_time=False):
        self.id = sid
        self.username = username
        self.ttl = float(ttl)
        self.expiration = time.time() + self.ttl
        self.session_uuid = session_uuid
        self.one_time = one_time


class DB:
    def __init__(self, name: str, cookie_name: str, guest: bool):
        self.name = name
        self.cookie_name = cookie_name
        self.guest = guest
        self.users: dict[str, User] = {}
        self.sessions: dict[str, Session] = {}
        self.online = True

    def live_session(self, sid: str) -> Session | None:
        s = self.sessions.get(sid)
        if s is None:
            return None
        if s.expiration <= time.time():  # Couchbase Server would have expired the document
            del self.sessions[sid]
            return None
        return s


class State:
    def __init__(self, args):
        self.args = args
        self.version = args.sg_version
        self.vinfo = VERSIONS[args.sg_version]
        self.server_header = f"{PRODUCT}/{args.sg_version}.0 CE"
        self.dbs: dict[str, DB] = {}
        for name in (args.db or ["db"]):
            self.dbs[name] = DB(name, args.cookie_name, args.guest)
        for spec in args.user or []:
            name, sep, pw = spec.partition(":")
            if not sep:
                raise SystemExit(f"--user wants NAME:PASSWORD, got {spec!r}")
            for db in self.dbs.values():
                db.users[name] = User(name, pw)
        self.bearer: dict[str, str] = {}
        for spec in args.bearer or []:
            tok, sep, name = spec.rpartition(":")
            if not sep or not tok:
                raise SystemExit(f"--bearer wants TOKEN:USER, got {spec!r}")
            self.bearer[tok] = name
        self.requests: list[dict] = []
        # Test extensions set on the admin port: redirects of public paths (what a reverse proxy
        # or load balancer in front of SG may answer) and extra Set-Cookie lines on every 101.
        self.redirects: dict[str, tuple[int, str]] = {}
        self.extra_cookies: list[str] = []
        self.active_ws = 0
        self.public_port = 0
        self.admin_port = 0

    # -- auth ----------------------------------------------------------------------------------

    def authenticate(self, db: DB, req: Request, reply_headers: list, privs: str,
                     blipsync: bool) -> str:
        """SG's setUserForPublicAuth. Returns the user name ('' = guest) or raises HTTPErr.
        Headers to add to whatever answer follows (Set-Cookie) are appended to reply_headers."""
        authz = req.get("Authorization")
        # 1. Bearer, only when OIDC / local JWT is configured
        if self.bearer and authz.startswith("Bearer "):
            user = self.bearer.get(authz[7:])
            if user is None:
                raise HTTPErr(401, "Invalid login")
            if user not in db.users:
                db.users[user] = User(user, None)  # JWT users are registered on first sign-in
            return user
        # 2. Basic
        name, password = basic_auth(authz)
        if name:
            u = db.users.get(name)
            if u is None or u.disabled or u.password is None or u.password != password:
                raise HTTPErr(401, "Invalid login", www_auth=True)
            return name
        # 3. SG 4.1+: one-time session smuggled in Sec-WebSocket-Protocol
        if blipsync and self.vinfo["one_time"]:
            sid = websocket_token(req)
            if sid:
                s = db.live_session(sid)
                u = db.users.get(s.username) if s else None
                if s is None or u is None:
                    raise HTTPErr(401, "Session Invalid")
                if s.one_time:
                    del db.sessions[sid]
                return s.username
        # 4. Session cookie (name compared case-sensitively, like Go)
        sid = req.cookie(db.cookie_name)
        if sid is not None:
            s = db.live_session(sid)
            if s is None:
                if privs != "public":
                    raise HTTPErr(401, "Session Invalid")
            else:
                now = time.time()
                elapsed = now + s.ttl - s.expiration
                if self.args.refresh_sessions_always or elapsed > s.ttl / 10:
                    s.expiration = now + s.ttl
                    reply_headers.append(("Set-Cookie", self.cookie_string(db, sid, s.expiration)))
                u = db.users.get(s.username)
                if u is None or s.session_uuid != u.session_uuid:
                    if privs != "public":
                        raise HTTPErr(401, "Session no longer valid for user")
                else:
                    return s.username
        # 5. Guest
        if privs == "regular" and not db.guest:
            if provided_credentials(req, db.cookie_name):
                raise HTTPErr(401, "Invalid login", www_auth=True)
            raise HTTPErr(401, "Login required", www_auth=True)
        return ""

    def cookie_string(self, db: DB, sid: str, expires: float, value: str | None = None) -> str:
        """Go's http.Cookie.String() for SG's session cookie."""
        s = f"{db.cookie_name}={sid if value is None else value}; Path=/{db.name}; Expires={http_date(expires)}"
        if self.args.cookie_httponly:
            s += "; HttpOnly"
        if self.args.cookie_secure:
            s += "; Secure"
        if self.args.cookie_samesite:
            s += f"; SameSite={self.args.cookie_samesite}"
        return s

    def new_session(self, db: DB, user: str, ttl: float, one_time=False) -> Session:
        sid = secrets.token_hex(20)
        s = Session(sid, user, ttl, db.users[user].session_uuid, one_time)
        db.sessions[sid] = s
        return s

    # -- public port ---------------------------------------------------------------------------

    def route_public(self, req: Request):
        try:
            out = self._route_public(req)
        except Exception as e:  # never let a bad request take the server down
            log(f"internal error on {req.method} {req.target}: {e!r}")
            out = sg_error(500, f"Internal error: {e}")
        if isinstance(out, Reply) and out.raw is None:
            out.headers.setdefault("Server", [self.server_header])
        return out

    def _route_public(self, req: Request):
        path = req.path
        if path in self.redirects:
            status, location = self.redirects[path]
            # Go's http.Redirect for a GET: Location plus a tiny HTML body.
            body = f'<a href="{location}">{GO_STATUS.get(status, "Redirect")}</a>.\n\n'.encode()
            return Reply(status, body, [("Location", location),
                                        ("Content-Type", "text/html; charset=utf-8")])
        if path == "/":
            if req.method not in ("GET", "HEAD"):
                return Reply(405)
            return self.welcome()
        m = re.fullmatch(r"/([^/]+)/(.*)", path)
        if not m:
            return sg_error(404, "unknown URL")
        dbname = urllib.parse.unquote(m.group(1))
        rest = m.group(2)
        if rest == "_blipsync":
            if req.method != "GET":
                return Reply(405)  # gorilla/mux: the route only matches GET
            return self.blipsync(req, dbname)
        if rest == "_session":
            if req.method not in ("GET", "HEAD", "POST", "DELETE"):
                return Reply(405)
            return self.public_session(req, dbname)
        if rest == "":
            if req.method not in ("GET", "HEAD"):
                return Reply(405)
            return self.with_db_auth(req, dbname, "regular", False,
                                     lambda db, user, hdrs: sg_json(200, {
                                         "db_name": db.name, "state": "Online"}))
        return sg_error(404, "unknown URL")

    def welcome(self) -> Reply:
        return sg_json(200, {"couchdb": "Welcome", "vendor": {"name": PRODUCT,
                             "version": self.version}, "version": self.server_header})

    def lookup_db(self, req: Request, dbname: str) -> DB:
        db = self.dbs.get(dbname)
        if db is not None:
            return db
        if self.vinfo["unknown_db"] == "404":
            raise HTTPErr(404, f'no such database "{dbname}"')
        if provided_credentials(req, "SyncGatewaySession"):
            raise HTTPErr(401, "Invalid login")
        raise HTTPErr(401, "Login required")

    def with_db_auth(self, req, dbname, privs, blipsync, fn):
        hdrs: list = []
        try:
            db = self.lookup_db(req, dbname)
            if not db.online:
                raise HTTPErr(503, "DB is currently under maintenance")
            user = self.authenticate(db, req, hdrs, privs, blipsync)
        except HTTPErr as e:
            r = sg_error(e.status, e.reason)
            if e.www_auth and not self.args.no_www_authenticate:
                r.set("Www-Authenticate", f'Basic realm="{PRODUCT}"')
            for k, v in hdrs:
                r.add(k, v)
            return r
        out = fn(db, user, hdrs)
        if isinstance(out, Reply):
            for k, v in hdrs:
                out.add(k, v)
        return out

    def blipsync(self, req: Request, dbname: str):
        return self.with_db_auth(req, dbname, "regular", True,
                                 lambda db, user, hdrs: self.blip_handshake(req, db, user, hdrs))

    def blip_handshake(self, req: Request, db: DB, user: str, hdrs: list):
        limit = self.args.max_replications
        if limit and self.active_ws >= limit:
            return sg_error(503, "Replication limit exceeded. Try again later.")
        corr = secrets.token_hex(16)
        extra = [("X-Correlation-Id", corr)]
        # go-blip: first header line, split on ',', trimmed, first client item SG supports
        header = req.get("Sec-WebSocket-Protocol")
        protos = self.vinfo["protos"]
        chosen = None
        for item in header.split(","):
            if item.strip(" \t\r\n") in protos:  # Go's strings.TrimSpace
                chosen = item.strip(" \t\r\n")
                break
        if chosen is None:
            if self.vinfo["nomatch"] == "403":
                r = Reply(403)
                r.raw = b"HTTP/1.1 403 Forbidden\r\n\r\n"  # x/net/websocket, then closes
                return r
            r = go_http_error(500, f"I only speak {','.join(protos)} protocols")
            for k, v in extra:
                r.set(k, v)
            return r
        # coder/websocket's verifyClientRequest
        err = coder_verify(req)
        if err is not None:
            for k, v in extra:
                err.set(k, v)
            return err
        origin_err = self.check_origin(req)
        if origin_err is not None:
            r = go_http_error(403, origin_err)
            for k, v in extra:
                r.set(k, v)
            return r
        key = req.get("Sec-WebSocket-Key").strip(" \t")
        accept = base64.b64encode(hashlib.sha1((key + WS_GUID).encode()).digest()).decode()
        h = {
            "Connection": ["Upgrade"],
            "Sec-Websocket-Accept": [accept],
            "Sec-Websocket-Protocol": [chosen],
            "Server": [self.server_header],
            "Upgrade": ["websocket"],
            "X-Correlation-Id": [corr],
        }
        for k, v in hdrs:
            h.setdefault(go_canon(k), []).append(v)
        for c in self.extra_cookies:
            h.setdefault("Set-Cookie", []).append(c)
        headers = [(k, v) for k in sorted(h) for v in h[k]]
        headers.append(("Date", http_date()))
        return Upgrade(headers, db.name, user)

    def check_origin(self, req: Request) -> str | None:
        """coder/websocket's authenticateOrigin with SG's CORS origins as patterns."""
        origin = req.get("Origin")
        if not origin:
            return None
        try:
            u = urllib.parse.urlsplit(origin)
            host = u.netloc
        except ValueError:
            return f"failed to parse Origin header {origin!r}"
        if host.lower() == req.get("Host").lower() and host:
            return None
        for pat in self.args.cors_origin or []:
            if pat == "*":
                return None
            ph = urllib.parse.urlsplit(pat).netloc or pat
            if fnmatch.fnmatchcase(host.lower(), ph.lower()):
                return None
        if not host:
            return f'request Origin "{origin}" is not a valid URL with a host'
        return f'request Origin "{host}" is not authorized for Host "{req.get("Host")}"'

    def public_session(self, req: Request, dbname: str):
        def fn(db: DB, user: str, hdrs: list):
            if req.method in ("GET", "HEAD"):
                return self.session_info(db, user)
            if req.method == "DELETE":
                sid = req.cookie(db.cookie_name)
                if sid:
                    db.sessions.pop(sid, None)
                    r = sg_json(200, {})
                    r.add("Set-Cookie", self.cookie_string(db, sid, time.time(), value=""))
                    return r
                return sg_error(400, "no session")
            # POST: log in with {"name","password"}, or as the already authenticated user
            try:
                params = json.loads(req.body or b"{}")
                if not isinstance(params, dict):
                    raise ValueError("not an object")
            except ValueError as e:
                return sg_error(400, f"Bad JSON: {e}")
            name = params.get("name") or ""
            target = None
            if isinstance(name, str) and name:
                u = db.users.get(name)
                if u and not u.disabled and u.password is not None and u.password == params.get("password"):
                    target = name
            if target is None and user:
                target = user
            if target is None:
                return sg_error(401, "Invalid login")
            one_time = self.vinfo["one_time"] and req.query1("one_time") == "true"
            if one_time:
                s = self.new_session(db, target, 300, one_time=True)
                info = self.session_body(db, target)
                info["one_time_session_id"] = s.id
                return sg_json(200, info)
            s = self.new_session(db, target, self.args.session_ttl)
            r = sg_json(200, self.session_body(db, target))
            r.add("Set-Cookie", self.cookie_string(db, s.id, s.expiration))
            return r
        return self.with_db_auth(req, dbname, "public", False, fn)

    def session_body(self, db: DB, user: str) -> dict:
        return {"ok": True,
                "userCtx": {"channels": {"!": 1}, "name": user or None},
                "authentication_handlers": ["default", "cookie"]}

    def session_info(self, db: DB, user: str) -> Reply:
        return sg_json(200, self.session_body(db, user))

    # -- admin port ----------------------------------------------------------------------------

    def route_admin(self, req: Request):
        try:
            r = self._route_admin(req)
        except HTTPErr as e:
            r = sg_error(e.status, e.reason)
        except Exception as e:
            log(f"internal error on admin {req.method} {req.target}: {e!r}")
            r = sg_error(500, f"Internal error: {e}")
        r.headers.setdefault("Server", [self.server_header])
        return r

    def _route_admin(self, req: Request) -> Reply:
        p, m = req.path, req.method
        if p == "/":
            return self.welcome()
        if p == "/_debug/requests":
            if m == "GET":
                return sg_json(200, self.requests)
            if m == "DELETE":
                self.requests.clear()
                return sg_json(200, {"ok": True})
            return Reply(405)
        if p == "/_debug/redirect":
            if m == "POST":
                cfg = parse_json_body(req)
                status = int(cfg.get("status", 302))
                if status not in (301, 302, 303, 307, 308) or not cfg.get("path"):
                    raise HTTPErr(400, "want path, location and a 3xx status")
                self.redirects[str(cfg["path"])] = (status, str(cfg.get("location", "")))
                return sg_json(200, {"ok": True})
            if m == "DELETE":
                self.redirects.clear()
                return sg_json(200, {"ok": True})
            return Reply(405)
        if p == "/_debug/set-cookies":
            if m == "PUT":
                cookies = parse_json_body(req).get("cookies", [])
                self.extra_cookies = [str(c) for c in cookies]
                return sg_json(200, {"ok": True})
            return Reply(405)
        parts = [urllib.parse.unquote(x) for x in p.split("/")[1:]]
        if not parts or not parts[0]:
            return sg_error(404, "unknown URL")
        db = self.dbs.get(parts[0])
        if db is None:
            raise HTTPErr(404, f'no such database "{parts[0]}"')
        rest = parts[1:]
        if rest == [] or rest == [""]:
            return sg_json(200, {"db_name": db.name, "state": "Online" if db.online else "Offline"})
        if rest == ["_session"] and m == "POST":
            return self.admin_create_session(req, db)
        if len(rest) == 2 and rest[0] == "_session":
            s = db.live_session(rest[1])
            if m == "GET":
                if s is None:
                    raise HTTPErr(404, "missing")
                return sg_json(200, self.session_body(db, s.username))
            if m == "DELETE":
                if db.sessions.pop(rest[1], None) is None:
                    raise HTTPErr(404, "missing")
                return sg_json(200, {})
        if len(rest) == 3 and rest[0] == "_session" and rest[2] == "_expire" and m == "POST":
            s = db.sessions.get(rest[1])
            if s is None:
                raise HTTPErr(404, "missing")
            s.expiration = time.time() - 1
            return sg_json(200, {"ok": True})
        if len(rest) == 2 and rest[0] == "_user":
            return self.admin_user(req, db, rest[1])
        if len(rest) == 3 and rest[0] == "_user" and rest[2] == "_session" and m == "DELETE":
            for sid in [k for k, s in db.sessions.items() if s.username == rest[1]]:
                del db.sessions[sid]
            return sg_json(200, {})
        if rest in (["_offline"], ["_online"]) and m == "POST":
            db.online = rest[0] == "_online"
            return sg_json(200, {})
        if rest == ["_config"] and m == "PUT":
            cfg = parse_json_body(req)
            if "session_cookie_name" in cfg:
                db.cookie_name = str(cfg["session_cookie_name"])
            if "guest" in cfg:
                db.guest = bool(cfg["guest"])
            return sg_json(201, {})
        return sg_error(404, "unknown URL")

    def admin_create_session(self, req: Request, db: DB) -> Reply:
        params = parse_json_body(req)
        name = params.get("name", "")
        ttl = params.get("ttl", self.args.session_ttl)
        if (not isinstance(name, str) or name == "" or name == "GUEST"
                or not valid_principal_name(name)):
            raise HTTPErr(400, "Invalid or missing user name")
        if name not in db.users:
            raise HTTPErr(404, f'No such user "{name}"')
        if not isinstance(ttl, (int, float)) or isinstance(ttl, bool) or int(ttl) < 1:
            raise HTTPErr(400, "Invalid or missing ttl")
        one_time = self.vinfo["one_time"] and req.query1("one_time") == "true"
        s = self.new_session(db, name, 300 if one_time else int(ttl), one_time=one_time)
        return sg_json(200, {"session_id": s.id, "expires": rfc3339(s.expiration),
                             "cookie_name": db.cookie_name})

    def admin_user(self, req: Request, db: DB, name: str) -> Reply:
        m = req.method
        if m == "PUT":
            body = parse_json_body(req)
            if not valid_principal_name(name) or name == "GUEST":
                raise HTTPErr(400, "Invalid name")
            u = db.users.get(name)
            created = u is None
            if created:
                u = db.users[name] = User(name, None)
            if "password" in body:
                if not created and body["password"] != u.password:
                    u.session_uuid = secrets.token_hex(8)  # password change revokes sessions
                u.password = None if body["password"] is None else str(body["password"])
            if "disabled" in body:
                if bool(body["disabled"]) and not u.disabled:
                    u.session_uuid = secrets.token_hex(8)
                u.disabled = bool(body["disabled"])
            return Reply(201 if created else 200)
        if m == "GET":
            u = db.users.get(name)
            if u is None:
                raise HTTPErr(404, "missing")
            return sg_json(200, {"name": u.name, "disabled": u.disabled})
        if m == "DELETE":
            if db.users.pop(name, None) is None:
                raise HTTPErr(404, "missing")
            return sg_json(200, {})
        return Reply(405)


def parse_json_body(req: Request) -> dict:
    try:
        v = json.loads(req.body or b"{}")
    except ValueError as e:
        raise HTTPErr(400, f"Bad JSON: {e}")
    if not isinstance(v, dict):
        raise HTTPErr(400, "Bad JSON: expected an object")
    return v


def valid_principal_name(name: str) -> bool:
    return bool(name) and "/" not in name and ":" not in name and ","not in name \
        and "`" not in name and len(name.encode()) <= 239


def basic_auth(authz: str) -> tuple[str, str]:
    if not authz.startswith("Basic "):
        return "", ""
    try:
        raw = base64.b64decode(authz[6:], validate=True)
    except (binascii.Error, ValueError):
        return "", ""
    s = raw.decode("utf-8", "surrogateescape")
    name, sep, pw = s.partition(":")
    if not sep:
        return "", ""
    return name, pw


def provided_credentials(req: Request, cookie_name: str) -> bool:
    if basic_auth(req.get("Authorization"))[0]:
        return True
    a = req.get("Authorization")
    if a.startswith("Bearer ") and a[7:]:
        return True
    return req.cookie(cookie_name) is not None


def websocket_token(req: Request) -> str:
    """SG 4.1's getWebsocketToken: removes the SyncGatewaySession_<id> item (if any)."""
    header = req.get("Sec-WebSocket-Protocol")
    out, sid = [], ""
    for item in header.split(","):
        t = item.strip(" \t\r\n")
        if not t.startswith("SyncGatewaySession_"):
            out.append(item)
            continue
        sid = t[len("SyncGatewaySession_"):]
    if sid:
        req.set_first("Sec-WebSocket-Protocol", ",".join(out))
    return sid


def coder_verify(req: Request) -> Reply | None:
    """coder/websocket's verifyClientRequest, with its messages and statuses."""
    if req.version != "HTTP/1.1":
        return go_http_error(426, "WebSocket protocol violation: handshake request must be at "
                                  f"least HTTP/1.1: {json.dumps(req.version)}")

    def has_token(name, token):
        for v in req.get_all(name):
            for t in v.split(","):
                if t.strip(" \t").lower() == token:
                    return True
        return False

    if not has_token("Connection", "upgrade"):
        r = go_http_error(426, "WebSocket protocol violation: Connection header "
                               f"{json.dumps(req.get('Connection'))} does not contain Upgrade")
        return r.set("Connection", "Upgrade").set("Upgrade", "websocket")
    if not has_token("Upgrade", "websocket"):
        r = go_http_error(426, "WebSocket protocol violation: Upgrade header "
                               f"{json.dumps(req.get('Upgrade'))} does not contain websocket")
        return r.set("Connection", "Upgrade").set("Upgrade", "websocket")
    if req.method != "GET":
        return go_http_error(405, "WebSocket protocol violation: handshake request method is "
                                  f"not GET but {json.dumps(req.method)}")
    if req.get("Sec-WebSocket-Version") != "13":
        r = go_http_error(400, "unsupported WebSocket protocol version (only 13 is supported): "
                               f"{json.dumps(req.get('Sec-WebSocket-Version'))}")
        return r.set("Sec-WebSocket-Version", "13")
    keys = req.get_all("Sec-WebSocket-Key")
    if not keys:
        return go_http_error(400, "WebSocket protocol violation: missing Sec-WebSocket-Key")
    if len(keys) > 1:
        return go_http_error(400, "WebSocket protocol violation: multiple Sec-WebSocket-Key headers")
    key = keys[0].strip(" \t")
    try:
        ok = len(base64.b64decode(key, validate=True)) == 16
    except (binascii.Error, ValueError):
        ok = False
    if not ok:
        return go_http_error(400, f"WebSocket protocol violation: invalid Sec-WebSocket-Key "
                                  f"{json.dumps(key)}, must be a 16 byte base64 encoded string")
    return None


# ---------------------------------------------------------------------------------------------
# The HTTP layer (Go net/http-like), shared by both ports
# ---------------------------------------------------------------------------------------------


class ParseError(Exception):
    def __init__(self, reply: Reply):
        self.reply = reply


class HttpConn:
    def __init__(self, transport, route, state: State, port_name: str, on_upgrade=None):
        self.transport = transport
        self.route = route
        self.state = state
        self.port_name = port_name
        self.on_upgrade = on_upgrade
        self.buf = bytearray()
        self.closed = False
        self.upgraded = False
        self.loop = asyncio.get_running_loop()
        self.timer = None
        self.waiting_first_byte = False
        self.arm(HEADER_TIMEOUT)  # Go: ReadHeaderTimeout for the first request

    def arm(self, seconds: float):
        if self.timer:
            self.timer.cancel()
        self.timer = self.loop.call_later(seconds, self.timeout)

    def timeout(self):
        self.timer = None
        if not self.closed and not self.upgraded:
            self.close()

    def close(self):
        if not self.closed:
            self.closed = True
            if self.timer:
                self.timer.cancel()
                self.timer = None
            self.transport.close()

    def lost(self):
        self.closed = True
        if self.timer:
            self.timer.cancel()
            self.timer = None

    def eof(self):
        self.close()

    def feed(self, data: bytes):
        if self.closed or self.upgraded:
            return
        if self.waiting_first_byte and data:
            self.waiting_first_byte = False
            self.arm(HEADER_TIMEOUT)
        self.buf += data
        try:
            self.process()
        except Exception as e:  # robustness: never crash on a client
            log(f"{self.port_name}: error handling request: {e!r}")
            self.write(sg_error(500, "internal error").serialize(False, True))
            self.close()

    def write(self, data: bytes):
        if not self.closed:
            self.transport.write(data)

    def process(self):
        while not self.closed and not self.upgraded:
            try:
                req = self.parse_one()
            except ParseError as e:
                self.write(e.reply.serialize(False, True))
                self.log_line("?", "?", e.reply.raw[9:12].decode() if e.reply.raw else "?")
                self.close()
                return
            if req is None:
                return
            self.handle(req)

    def parse_one(self) -> Request | None:
        buf = self.buf
        while buf[:2] == b"\r\n" or buf[:1] == b"\n":  # Go skips empty lines before a request
            del buf[: 2 if buf[:2] == b"\r\n" else 1]
        end, sep_len = -1, 0
        i1, i2 = buf.find(b"\r\n\r\n"), buf.find(b"\n\n")
        cands = [(i, n) for i, n in ((i1, 4), (i2, 2)) if i >= 0]
        if cands:
            end, sep_len = min(cands)
        if end < 0:
            if len(buf) > MAX_HEADER_BYTES:
                raise ParseError(go_canned("431 Request Header Fields Too Large"))
            return None
        if end > MAX_HEADER_BYTES:
            raise ParseError(go_canned("431 Request Header Fields Too Large"))
        head = bytes(buf[:end])
        lines = [ln[:-1] if ln.endswith(b"\r") else ln for ln in head.split(b"\n")]
        parts = lines[0].split(b" ")
        if len(parts) != 3 or not parts[0] or not parts[1]:
            raise ParseError(go_canned("400 Bad Request"))
        method_b, target_b, version_b = parts
        if not TOKEN_RE.match(method_b) or version_b not in (b"HTTP/1.0", b"HTTP/1.1"):
            raise ParseError(go_canned("400 Bad Request"))
        try:
            target = target_b.decode("ascii")
        except UnicodeDecodeError:
            raise ParseError(go_canned("400 Bad Request"))
        if any(ord(c) < 0x21 or ord(c) == 0x7F for c in target):
            raise ParseError(go_canned("400 Bad Request"))
        headers: list[tuple[str, str]] = []
        for ln in lines[1:]:
            if ln[:1] in (b" ", b"\t"):  # obsolete line folding
                if not headers:
                    raise ParseError(go_canned("400 Bad Request"))
                k, v = headers[-1]
                headers[-1] = (k, v + " " + ln.strip(b" \t").decode("latin-1"))
                continue
            name, sep, value = ln.partition(b":")
            if not sep or not name:
                raise ParseError(go_canned("400 Bad Request"))
            if not TOKEN_RE.match(name):
                raise ParseError(go_canned("400 Bad Request: invalid header name"))
            value = value.strip(b" \t")
            if BAD_VALUE_RE.search(value):
                raise ParseError(go_canned("400 Bad Request: invalid header value"))
            headers.append((name.decode("latin-1"), value.decode("latin-1")))
        req = Request(method_b.decode(), target, version_b.decode(), headers, head)
        if req.version == "HTTP/1.1" and len(req.get_all("Host")) != 1:
            raise ParseError(go_canned("400 Bad Request: missing required Host header"
                                       if not req.has("Host") else
                                       "400 Bad Request: too many Host headers"))
        # body
        pos = end + sep_len
        te = [t.strip().lower() for v in req.get_all("Transfer-Encoding") for t in v.split(",")]
        if te:
            if te != ["chunked"]:
                raise ParseError(go_canned("501 Not Implemented"))  # Go: unsupported TE
            body, used = parse_chunked(buf, pos)
            if body is None:
                if len(buf) - pos > MAX_BODY:
                    raise ParseError(go_canned("413 Request Entity Too Large"))
                self.arm(BODY_TIMEOUT)
                return None
            del buf[:used]
            req.body = body
            return req
        cls = set(v.strip() for v in req.get_all("Content-Length"))
        if len(cls) > 1:
            raise ParseError(go_canned("400 Bad Request"))
        n = 0
        if cls:
            v = cls.pop()
            if not v.isdigit():
                raise ParseError(go_canned("400 Bad Request"))
            n = int(v)
            if n > MAX_BODY:
                raise ParseError(go_canned("413 Request Entity Too Large"))
        if len(buf) - pos < n:
            self.arm(BODY_TIMEOUT)
            return None
        req.body = bytes(buf[pos:pos + n])
        del buf[:pos + n]
        return req

    def log_line(self, method, target, status):
        log(f"{self.port_name} {method} {target} {status}")

    def handle(self, req: Request):
        if self.timer:
            self.timer.cancel()
            self.timer = None
        rec = None
        if self.port_name == "public":
            rec = {"method": req.method, "path": req.target, "version": req.version,
                   "headers": [[k, v] for k, v in req.headers], "body_length": len(req.body),
                   "status": None, "time": time.time()}
            self.state.requests.append(rec)
            req.record = rec
        out = self.route(req)
        if isinstance(out, Upgrade):
            if rec is not None:
                rec["status"] = 101
            self.upgraded = True
            self.log_line(req.method, req.target, 101)
            head = f"{req.method} {req.target} {req.version}\r\n" + "".join(
                f"{k}: {v}\r\n" for k, v in req.headers
                if go_canon(k) not in ("Content-Length", "Transfer-Encoding")) + "\r\n"
            rest = bytes(self.buf)
            self.buf.clear()
            self.on_upgrade(head.encode("latin-1"), rest, out, req)
            return
        if rec is not None:
            rec["status"] = out.status if out.raw is None else int(out.raw[9:12])
        close = out.raw is not None or out.close or wants_close(req)
        self.write(out.serialize(req.method == "HEAD", close))
        self.log_line(req.method, req.target, out.status if out.raw is None else out.raw[9:12].decode())
        if close:
            self.close()
        else:
            self.waiting_first_byte = not self.buf
            self.arm(IDLE_TIMEOUT if not self.buf else HEADER_TIMEOUT)


def wants_close(req: Request) -> bool:
    tokens = {t.strip().lower() for v in req.get_all("Connection") for t in v.split(",")}
    if req.version == "HTTP/1.0":
        return "keep-alive" not in tokens
    return "close" in tokens


def parse_chunked(buf: bytearray, pos: int):
    body = bytearray()
    while True:
        i = buf.find(b"\r\n", pos)
        if i < 0:
            return None, 0
        size_s = bytes(buf[pos:i]).split(b";")[0].strip()
        try:
            size = int(size_s, 16)
        except ValueError:
            raise ParseError(go_canned("400 Bad Request"))
        pos = i + 2
        if size == 0:
            # trailers until an empty line
            while True:
                j = buf.find(b"\r\n", pos)
                if j < 0:
                    return None, 0
                line = buf[pos:j]
                pos = j + 2
                if not line:
                    return bytes(body), pos
        if len(buf) < pos + size + 2:
            return None, 0
        body += buf[pos:pos + size]
        pos += size + 2
        if len(body) > MAX_BODY:
            raise ParseError(go_canned("413 Request Entity Too Large"))


# ---------------------------------------------------------------------------------------------
# The public port: HTTP layer first, websockets after an accepted upgrade
# ---------------------------------------------------------------------------------------------

STATE: State  # set in main()


class PublicConnection(ServerConnection):
    """websockets' server connection, fed by the HTTP layer until an upgrade is accepted."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.sg_http: HttpConn | None = None
        self.sg_ws = False
        self.sg_upgrade: Upgrade | None = None
        self.sg_request: Request | None = None
        self.sg_discard = False
        self.sg_stats = {"messages": 0, "bytes": 0, "text_messages": 0, "binary_messages": 0, "pings": 0}

    def connection_made(self, transport):
        super().connection_made(transport)
        self.sg_http = HttpConn(transport, STATE.route_public, STATE, "public", self.sg_start_ws)

    def data_received(self, data):
        if self.sg_discard:  # after a raw Close: wait for the peer's Close, then close TCP
            if data[:1] and data[0] & 0x0F == 0x8:
                self.transport.close()
            return
        if self.sg_ws:
            return super().data_received(data)
        self.sg_http.feed(data)

    def eof_received(self):
        if self.sg_ws:
            return super().eof_received()
        self.sg_http.eof()
        return False

    def connection_lost(self, exc):
        if self.sg_http:
            self.sg_http.lost()
        super().connection_lost(exc)

    def process_event(self, event):
        # Ping frames the client sent (websockets answers them itself): `!cmd stats` reports them.
        if isinstance(event, Frame) and event.opcode is Opcode.PING:
            self.sg_stats["pings"] += 1
        super().process_event(event)

    def sg_start_ws(self, head: bytes, rest: bytes, upgrade: Upgrade, req: Request):
        self.sg_ws = True
        self.sg_upgrade = upgrade
        self.sg_request = req
        super().data_received(head + rest)


def ws_process_request(connection: PublicConnection, request):
    """websockets' hook: answer with the 101 that SG's logic built (Go's spelling and order)."""
    up = connection.sg_upgrade
    if up is None:  # cannot happen: only accepted upgrades reach websockets
        return connection.respond(500, "not an accepted upgrade\n")
    if connection.sg_request is not None and connection.sg_request.record is not None:
        # What websockets parsed, for inspection (same order and spelling as on the wire).
        connection.sg_request.record["websockets_headers"] = [list(x) for x in request.headers.raw_items()]
    return Response(101, "Switching Protocols", Headers(up.headers))


def flood_message(k: int, size: int) -> bytes:
    off = (k * 31) % 251
    reps = (off + size) // 251 + 1
    return (PATTERN * reps)[off:off + size] if size else b""


PATTERN = bytes(range(251))


async def ws_handler(conn: PublicConnection):
    STATE.active_ws += 1
    stats = conn.sg_stats
    try:
        while True:
            try:
                msg = await conn.recv()
            except ConnectionClosed:
                break
            # Commands come as text, or as binary (a LiteCore transport writes only binary).
            if isinstance(msg, bytes) and msg.startswith(b"!cmd "):
                try:
                    msg = msg.decode()
                except UnicodeDecodeError:
                    pass
            if isinstance(msg, str) and msg.startswith("!cmd "):
                done = await run_command(conn, msg[5:], stats)
                if done:
                    break
                stats["messages"] += 1
                stats["text_messages"] += 1
                stats["bytes"] += len(msg.encode())
                continue
            stats["messages"] += 1
            if isinstance(msg, str):
                stats["text_messages"] += 1
                stats["bytes"] += len(msg.encode())
            else:
                stats["binary_messages"] += 1
                stats["bytes"] += len(msg)
            try:
                await conn.send(msg)
            except ConnectionClosed:
                break
    finally:
        STATE.active_ws -= 1


async def run_command(conn: PublicConnection, line: str, stats: dict) -> bool:
    """Runs one test command. Returns True when the connection is finished."""
    name, _, arg = line.partition(" ")
    log(f"ws command: {line[:80]}")
    try:
        if name == "close":
            code_s, _, reason = arg.partition(" ")
            code = int(code_s)
            try:
                await conn.close(code, reason)
            except ConnectionClosed:
                pass
            except Exception:
                # websockets refuses codes it deems invalid: send the frame by hand
                payload = struct.pack("!H", code & 0xFFFF) + reason.encode()
                await raw_close(conn, payload)
            return True
        if name == "close-nocode":
            await conn.close(None, "")  # Close frame with an empty payload
            return True
        if name == "vanish":
            conn.transport.abort()
            return True
        if name == "freeze":
            tr = conn.transport
            tr.pause_reading()
            try:
                tr.resume_reading = lambda: None  # websockets' flow control must not undo it
            except AttributeError:
                pass
            if arg.strip() == "ack":
                # Tells the client that nothing it sends from now on is read.
                await conn.send("!ok frozen")
            await asyncio.sleep(FREEZE_MAX)
            tr.abort()
            return True
        if name == "flood":
            n_s, _, size_s = arg.partition(" ")
            n, size = int(n_s), int(size_s)
            for k in range(n):
                await conn.send(flood_message(k, size))
            return False
        if name == "ping":
            await conn.ping(arg.encode())
            return False
        if name == "garbage":
            conn.transport.write(b"\x83\x03abc")  # FIN + reserved opcode 0x3
            return False
        if name == "empty":
            await conn.send(b"")
            return False
        if name == "stats":
            await conn.send(json.dumps(stats, separators=(",", ":")))
            return False
        await conn.send(f"!err unknown command: {name}")
        return False
    except ConnectionClosed:
        return True
    except (ValueError, TypeError) as e:
        try:
            await conn.send(f"!err bad command {line[:60]!r}: {e}")
        except ConnectionClosed:
            return True
        return False


async def raw_close(conn: PublicConnection, payload: bytes):
    tr = conn.transport
    conn.sg_discard = True  # websockets must not answer the peer's Close with one of its own
    tr.write(bytes([0x88, len(payload)]) + payload)
    try:
        await asyncio.wait_for(conn.wait_closed(), 2.0)
    except asyncio.TimeoutError:
        pass
    tr.close()


# ---------------------------------------------------------------------------------------------
# The admin port
# ---------------------------------------------------------------------------------------------


class AdminProtocol(asyncio.Protocol):
    def connection_made(self, transport):
        self.http = HttpConn(transport, STATE.route_admin, STATE, "admin")

    def data_received(self, data):
        self.http.feed(data)

    def eof_received(self):
        self.http.eof()
        return False

    def connection_lost(self, exc):
        self.http.lost()


# ---------------------------------------------------------------------------------------------
# main
# ---------------------------------------------------------------------------------------------


def parse_args(argv=None):
    p = argparse.ArgumentParser(description="Sync Gateway stand-in (HTTP + WebSocket echo)")
    p.add_argument("--db", action="append", metavar="NAME", help="database (repeatable; default db)")
    p.add_argument("--user", action="append", metavar="NAME:PASSWORD", help="user in every db (repeatable)")
    p.add_argument("--guest", action="store_true", help="enable guest access")
    p.add_argument("--cookie-name", default="SyncGatewaySession", help="session cookie name")
    p.add_argument("--sg-version", default="3.1", choices=sorted(VERSIONS), help="behave like this SG")
    p.add_argument("--bearer", action="append", metavar="TOKEN:USER", help="accepted bearer token (repeatable)")
    p.add_argument("--session-ttl", type=int, default=86400, metavar="SECONDS")
    p.add_argument("--refresh-sessions-always", action="store_true",
                   help="refresh the session (Set-Cookie on the 101) on every cookie login")
    p.add_argument("--no-cookie-httponly", dest="cookie_httponly", action="store_false",
                   help="leave HttpOnly out of Set-Cookie (SG's default config)")
    p.add_argument("--cookie-secure", action="store_true", help="add Secure to Set-Cookie")
    p.add_argument("--cookie-samesite", choices=["Lax", "Strict", "None"], help="add SameSite=")
    p.add_argument("--no-www-authenticate", action="store_true",
                   help="never send Www-Authenticate (SG's send_www_authenticate_header: false)")
    p.add_argument("--cors-origin", action="append", metavar="ORIGIN",
                   help="allowed Origin (pattern) besides the Host itself (repeatable)")
    p.add_argument("--max-replications", type=int, default=0,
                   help="503 once this many WebSockets are open (0: no limit)")
    p.add_argument("--host", default="127.0.0.1", help="address to bind both ports to")
    p.add_argument("--public-port", type=int, default=0)
    p.add_argument("--admin-port", type=int, default=0)
    p.add_argument("--quiet", action="store_true", help="no request log on stderr")
    return p.parse_args(argv)


async def amain(args) -> int:
    global STATE
    STATE = State(args)
    loop = asyncio.get_running_loop()
    stop = loop.create_future()

    def request_stop(*_):
        if not stop.done():
            stop.set_result(None)

    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, request_stop)
    if peer_util.stdin_is_watchable():  # EOF: the test closed it, or died
        fd = sys.stdin.fileno()

        def on_stdin():
            try:
                data = os.read(fd, 65536)
            except OSError:
                data = b""
            if not data:
                loop.remove_reader(fd)
                request_stop()

        loop.add_reader(fd, on_stdin)

    public = await serve(
        ws_handler, args.host, args.public_port,
        create_connection=PublicConnection,
        process_request=ws_process_request,
        server_header=None,
        compression=None,
        ping_interval=None,
        open_timeout=None,
        max_size=MAX_MESSAGE,
    )
    admin = await loop.create_server(AdminProtocol, args.host, args.admin_port)
    STATE.public_port = public.sockets[0].getsockname()[1]
    STATE.admin_port = admin.sockets[0].getsockname()[1]
    peer_util.print_ready({"public": STATE.public_port, "admin": STATE.admin_port})
    log(f"{STATE.server_header}: public 127.0.0.1:{STATE.public_port}, admin "
        f"127.0.0.1:{STATE.admin_port}, dbs {list(STATE.dbs)}")
    await stop
    admin.close()
    public.close(close_connections=False)
    for c in list(getattr(public, "all_connections", None) or public.connections):
        try:
            c.transport.abort()
        except Exception:
            pass
    return 0


class _DropPlainHttp(logging.Filter):
    """websockets 15 logs "opening handshake failed" for every connection that never reached
    it (plain HTTP requests answered by our HTTP layer, then closed). That is normal here."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != "opening handshake failed"


def main(argv=None) -> int:
    global QUIET
    args = parse_args(argv)
    QUIET = args.quiet
    logging.getLogger("websockets.server").addFilter(_DropPlainHttp())
    peer_util.die_with_parent()  # belt and braces next to the stdin watch
    try:
        return asyncio.run(amain(args))
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main())
