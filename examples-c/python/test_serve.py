"""Tests the Python binding's serve mode (lcws_binding.Listener) against a REAL LiteCore.

usage: test_serve.py LIBLITECORE_WS.so [LITECORE_ROOT]

LITECORE_ROOT (default: $LCWS_LITECORE_ROOT, else ../shared/litecore next to the repository) is a
LiteCore install prefix with lib/libLiteCore.so; without one the test prints "skipped: ..." and
exits 77. Python serves a real database through litecore-ws's listener, the glue's work done by
ctypes (c4socket_fromNative, c4repl_newWithSocket, c4repl_free from the status callback's Stopped
report); a Python client in another process (its own LiteCore) replicates with it through
litecore-ws's client:

  1. wss with the listener's generated identity, pinned by the client (pinnedCert): the client
     pushes 2 documents and pulls 3; both databases end with 5, a document crossed each way, the
     listener's passive replicator reported busy and stopped and was freed (no connection left);
  2. plain ws with a password check (Python's check_password) and allow_pull=False: a wrong
     password ends the client's replication with {WebSocket, 401}; with the right one a push
     goes through and a pull is refused by LiteCore ({WebSocket, 403}: the passive replicator's
     push is disabled);
  3. close() stops the listener (status OK) and releases the database (it can then be deleted).

Prints one line per check and "N passed, M failed"; exit status 1 when a check failed.
"""
from __future__ import annotations

import ctypes as C
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)
from lcws_binding import (  # noqa: E402
    K_C4_DISABLED,
    K_C4_BUSY,
    K_C4_ONE_SHOT,
    K_C4_STOPPED,
    C4ReplicationCollection,
    C4ReplicatorParameters,
    C4ReplicatorStatus,
    LcwsAddress,
    LcwsError,
    LcwsSlice,
    LcwsSliceResult,
    LcwsStatus,
    Listener,
    LiteCoreWS,
)

USER, PASSWORD = "alice", "py-serve-s3cret"


class LiteCore:
    """The few LiteCore calls the test needs, by ctypes (databases, documents, a replicator)."""

    class _Config(C.Structure):  # C4DatabaseConfig2
        _fields_ = [("parentDirectory", LcwsSlice), ("flags", C.c_uint32), ("algorithm", C.c_uint32),
                    ("key", C.c_uint8 * 32)]

    def __init__(self, lib: C.CDLL):
        self.lib = lib
        P, S, E = C.c_void_p, LcwsSlice, C.POINTER(LcwsError)
        sig = {
            "c4db_openNamed": ([S, C.POINTER(self._Config), E], P),
            "c4db_close": ([P, E], C.c_bool),
            "c4db_delete": ([P, E], C.c_bool),
            "c4base_release": ([P], None),
            "c4db_getDefaultCollection": ([P, E], P),
            "c4db_beginTransaction": ([P, E], C.c_bool),
            "c4db_endTransaction": ([P, C.c_bool, E], C.c_bool),
            "c4coll_createDoc": ([P, S, S, C.c_uint8, E], P),
            "c4coll_getDoc": ([P, S, C.c_bool, C.c_uint8, E], P),
            "c4coll_getDocumentCount": ([P], C.c_uint64),
            "c4doc_release": ([P], None),
            "c4doc_getProperties": ([P], P),
            "FLDict_Get": ([P, S], P),
            "FLValue_AsString": ([P], S),
            "FLEncoder_New": ([], P),
            "FLEncoder_Free": ([P], None),
            "FLEncoder_BeginDict": ([P, C.c_size_t], C.c_bool),
            "FLEncoder_EndDict": ([P], C.c_bool),
            "FLEncoder_WriteKey": ([P, S], C.c_bool),
            "FLEncoder_WriteString": ([P, S], C.c_bool),
            "FLEncoder_WriteData": ([P, S], C.c_bool),
            "FLEncoder_WriteInt": ([P, C.c_int64], C.c_bool),
            "FLEncoder_WriteBool": ([P, C.c_bool], C.c_bool),
            "FLEncoder_Finish": ([P, C.POINTER(C.c_int)], LcwsSliceResult),
            "_FLBuf_Release": ([P], None),
            "c4error_getMessage": ([LcwsError], LcwsSliceResult),
            "c4address_fromURL": ([S, C.POINTER(LcwsAddress), C.POINTER(LcwsSlice)], C.c_bool),
            "c4repl_new": ([P, LcwsAddress, S, C4ReplicatorParameters, S, E], P),
            "c4repl_start": ([P, C.c_bool], None),
            "c4repl_getStatus": ([P], C4ReplicatorStatus),
            "c4repl_free": ([P], None),
        }
        for name, (argtypes, restype) in sig.items():
            fn = getattr(lib, name)
            fn.argtypes, fn.restype = argtypes, restype
        self._keep: list = []

    def s(self, data) -> LcwsSlice:
        data = data.encode() if isinstance(data, str) else data
        buf = C.create_string_buffer(data, len(data))
        self._keep.append(buf)
        return LcwsSlice(C.cast(buf, C.c_void_p), len(data))

    def message(self, err: LcwsError) -> str:
        r = self.lib.c4error_getMessage(err)
        text = C.string_at(r.buf, r.size).decode(errors="replace") if r.buf else ""
        if r.buf:
            self.lib._FLBuf_Release(r.buf)
        return text

    def check(self, ok, err: LcwsError, what: str):
        if not ok:
            raise RuntimeError(f"{what}: {{{err.domain}, {err.code}}} {self.message(err)}")
        return ok

    def open(self, directory: str, name: str) -> int:
        config = self._Config()
        config.parentDirectory = self.s(directory)
        config.flags = 0x01  # kC4DB_Create
        err = LcwsError()
        return self.check(self.lib.c4db_openNamed(self.s(name), C.byref(config), C.byref(err)), err, f"open {name}")

    def close(self, db: int, delete: bool = False) -> bool:
        err = LcwsError()
        ok = (self.lib.c4db_delete if delete else self.lib.c4db_close)(db, C.byref(err))
        self.lib.c4base_release(db)
        return bool(ok)

    def encode(self, value) -> bytes:
        enc = self.lib.FLEncoder_New()

        def write(v):
            if isinstance(v, dict):
                self.lib.FLEncoder_BeginDict(enc, len(v))
                for k, x in v.items():
                    self.lib.FLEncoder_WriteKey(enc, self.s(k))
                    write(x)
                self.lib.FLEncoder_EndDict(enc)
            elif isinstance(v, bool):
                self.lib.FLEncoder_WriteBool(enc, v)
            elif isinstance(v, int):
                self.lib.FLEncoder_WriteInt(enc, v)
            elif isinstance(v, bytes):
                self.lib.FLEncoder_WriteData(enc, self.s(v))
            else:
                self.lib.FLEncoder_WriteString(enc, self.s(str(v)))

        write(value)
        r = self.lib.FLEncoder_Finish(enc, None)
        self.lib.FLEncoder_Free(enc)
        data = C.string_at(r.buf, r.size)
        self.lib._FLBuf_Release(r.buf)
        return data

    def collection(self, db: int) -> int:
        err = LcwsError()
        return self.check(self.lib.c4db_getDefaultCollection(db, C.byref(err)), err, "default collection")

    def write_docs(self, db: int, docs: dict) -> None:
        err = LcwsError()
        coll = self.collection(db)
        self.check(self.lib.c4db_beginTransaction(db, C.byref(err)), err, "begin")
        for doc_id, body in docs.items():
            doc = self.check(self.lib.c4coll_createDoc(coll, self.s(doc_id), self.s(self.encode(body)), 0,
                                                       C.byref(err)), err, f"save {doc_id}")
            self.lib.c4doc_release(doc)
        self.check(self.lib.c4db_endTransaction(db, True, C.byref(err)), err, "commit")

    def count(self, db: int) -> int:
        return int(self.lib.c4coll_getDocumentCount(self.collection(db)))

    def text(self, db: int, doc_id: str):
        """The document's "text" property, or None when it does not exist."""
        err = LcwsError()
        doc = self.lib.c4coll_getDoc(self.collection(db), self.s(doc_id), True, 1, C.byref(err))  # kDocGetCurrentRev
        if not doc:
            return None
        v = self.lib.FLValue_AsString(self.lib.FLDict_Get(self.lib.c4doc_getProperties(doc), self.s("text")))
        text = C.string_at(v.buf, v.size).decode() if v.buf else ""
        self.lib.c4doc_release(doc)
        return text

    def replicate(self, ws: LiteCoreWS, db: int, url: str, options: dict, push: bool = True, pull: bool = True,
                  timeout: float = 60):
        """One one-shot replication of the default collection with litecore-ws as transport (a
        factory with the database as context). Returns the final C4ReplicatorStatus."""
        address, remote_db = LcwsAddress(), LcwsSlice()
        url_slice = self.s(url)
        if not self.lib.c4address_fromURL(url_slice, C.byref(address), C.byref(remote_db)):
            raise RuntimeError(f"LiteCore cannot parse {url}")
        opts = self.s(self.encode(options))
        factory = ws.factory_for_database(db)
        coll = C4ReplicationCollection()
        coll.collection.name = self.s("_default")
        coll.collection.scope = self.s("_default")
        coll.push = K_C4_ONE_SHOT if push else K_C4_DISABLED
        coll.pull = K_C4_ONE_SHOT if pull else K_C4_DISABLED
        params = C4ReplicatorParameters()
        params.optionsDictFleece = opts
        params.socketFactory = C.pointer(factory)
        params.collections = C.pointer(coll)
        params.collectionCount = 1
        err = LcwsError()
        repl = self.check(self.lib.c4repl_new(db, address, remote_db, params, self.s("py-client"), C.byref(err)),
                          err, "c4repl_new")
        self.lib.c4repl_start(repl, False)
        deadline = time.monotonic() + timeout
        status = self.lib.c4repl_getStatus(repl)
        while status.level != K_C4_STOPPED and time.monotonic() < deadline:
            time.sleep(0.05)
            status = self.lib.c4repl_getStatus(repl)
        self.lib.c4repl_free(repl)
        return status


def find_litecore(arg):
    root = arg if arg is not None else os.environ.get("LCWS_LITECORE_ROOT")
    if root is None:
        default = os.path.normpath(os.path.join(ROOT, "..", "shared", "litecore"))
        root = default if os.path.isdir(default) else ""
    lib = os.path.join(root, "lib", "libLiteCore.so") if root else ""
    return lib if lib and os.path.exists(lib) else None


# ---- the client (another process, its own LiteCore) ----


def client(spec: dict) -> int:
    lc = LiteCore(C.CDLL(spec["litecore"]))
    ws = LiteCoreWS(spec["lcws"], lc.lib)
    db = lc.open(spec["dir"], "peer")
    lc.write_docs(db, spec["docs"])
    options = {"maxRetries": 0}
    if spec.get("cert"):
        with open(spec["cert"], "rb") as f:
            options["pinnedCert"] = f.read()
    if spec.get("user"):
        options["auth"] = {"type": "Basic", "username": spec["user"], "password": spec["password"]}
    status = lc.replicate(ws, db, spec["url"], options, push=spec.get("push", True), pull=spec.get("pull", True))
    result = {
        "level": status.level,
        "error": [status.error.domain, status.error.code] if status.error.code else None,
        "message": lc.message(status.error) if status.error.code else "",
        "count": lc.count(db),
        "texts": {d: lc.text(db, d) for d in spec.get("read", [])},
    }
    lc.close(db, delete=True)
    ws.shutdown()
    print(json.dumps(result), flush=True)
    return 0


# ---- the server (this process) ----


class Checks:
    def __init__(self):
        self.passed = self.failed = 0

    def __call__(self, cond, what):
        print(("ok    " if cond else "FAIL  ") + what, flush=True)
        if cond:
            self.passed += 1
        else:
            self.failed += 1
        return cond


def run_client(lcws: str, litecore: str, workdir: str, name: str, **spec) -> dict:
    d = os.path.join(workdir, name)
    os.makedirs(d, exist_ok=True)
    spec.update(lcws=lcws, litecore=litecore, dir=d)
    p = subprocess.run([sys.executable, os.path.abspath(__file__), "--client", json.dumps(spec)],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
    err = p.stderr.decode(errors="replace").strip()
    if err:
        print("  client stderr: " + err.replace("\n", "\n  client stderr: "))
    lines = p.stdout.decode().strip().splitlines()
    if p.returncode != 0 or not lines:
        raise RuntimeError(f"client {name} exited with {p.returncode}")
    result = json.loads(lines[-1])
    print(f"  client {name}: {result}")
    return result


def server(lcws: str, litecore: str) -> int:
    check = Checks()
    lc = LiteCore(C.CDLL(litecore))
    ws = LiteCoreWS(lcws, lc.lib)
    workdir = tempfile.mkdtemp(prefix="lcws-py-serve-")
    levels: list = []
    lock = threading.Lock()

    def on_status(level, docs, error):  # LiteCore's threads
        with lock:
            levels.append(level)

    try:
        served = lc.open(workdir, "served")
        lc.write_docs(served, {f"served-{i}": {"text": "hello from Python's served database", "n": i}
                               for i in (1, 2, 3)})

        # 1. wss, generated identity, pinned by the client.
        listener = Listener(ws, network_interface="127.0.0.1", on_status=on_status)
        listener.share("served", served)
        port, cert = listener.port, listener.certificate
        urls = listener.urls(served)
        check(port > 0 and urls == [f"wss://127.0.0.1:{port}/served"], f"serving {urls}")
        check(len(cert) > 100 and cert[0] == 0x30, f"the generated certificate ({len(cert)} bytes DER)")
        check(listener.connection_status() == (0, 0), "no connection yet")
        cert_file = os.path.join(workdir, "listener.der")
        with open(cert_file, "wb") as f:
            f.write(cert)
        r = run_client(lcws, litecore, workdir, "pinned", url=urls[0], cert=cert_file,
                       docs={f"peer-{i}": {"text": "hello from the peer", "n": i} for i in (1, 2)},
                       read=["served-1"])
        check(r["error"] is None and r["level"] == K_C4_STOPPED,
              f"the client's replication finished without error ({r['error']} {r['message']})")
        check(r["count"] == 5, f"the client's database has 5 documents ({r['count']})")
        check(r["texts"].get("served-1") == "hello from Python's served database", "served-1 reached the client")
        check(lc.count(served) == 5, f"the served database has 5 documents ({lc.count(served)})")
        check(lc.text(served, "peer-2") == "hello from the peer", "peer-2 reached the served database")
        deadline = time.monotonic() + 10
        while listener.connection_status() != (0, 0) and time.monotonic() < deadline:
            time.sleep(0.05)
        check(listener.connection_status() == (0, 0), "the passive replicator stopped and was freed")
        with lock:
            seen = list(levels)
        check(K_C4_BUSY in seen and seen[-1] == K_C4_STOPPED, f"its status reports ({seen}) ended with stopped")
        check(listener.close() == LcwsStatus.OK, "close(): stopped cleanly")

        # 2. ws with a password check in Python.
        asked: list = []

        def check_password(database, user, password):  # litecore-ws's threads
            asked.append((database, user))
            return user == USER and password == PASSWORD.encode()

        with Listener(ws, network_interface="127.0.0.1", tls=False, check_password=check_password,
                      allow_pull=False) as plain:
            plain.share("served", served)
            url = plain.urls(served)[0]
            check(url.startswith("ws://127.0.0.1:") and plain.certificate == b"", f"plain ws: {url}")
            r = run_client(lcws, litecore, workdir, "wrong-password", url=url, user=USER, password="wrong",
                           docs={"nope-1": {"text": "must not arrive"}})
            check(r["error"] == [6, 401], f"a wrong password: {{WebSocket, 401}} ({r['error']} {r['message']})")
            r = run_client(lcws, litecore, workdir, "password", url=url, user=USER, password=PASSWORD,
                           docs={"auth-1": {"text": "pushed with a password"}}, pull=False)
            check(r["error"] is None, f"the right password: pushed without error ({r['error']} {r['message']})")
            check(lc.text(served, "auth-1") == "pushed with a password", "auth-1 reached the served database")
            # allow_pull=False: the passive replicator's push is disabled, LiteCore refuses a pull.
            r = run_client(lcws, litecore, workdir, "pull", url=url, user=USER, password=PASSWORD, docs={},
                           push=False)
            check(r["error"] == [6, 403], f"allow_pull=False: a pull is refused ({r['error']} {r['message']})")
            check(lc.text(served, "nope-1") is None, "nothing arrived with the wrong password")
            check(("served", USER) in asked, f"check_password saw the database and the user ({asked[:2]})")

        # 3. The shares are released: the database can be deleted.
        check(lc.close(served, delete=True), "the served database could be deleted after close()")
    finally:
        check(ws.shutdown() == LcwsStatus.OK, "shutdown")
        shutil.rmtree(workdir, ignore_errors=True)
    print(f"{check.passed} passed, {check.failed} failed")
    return 1 if check.failed else 0


def main() -> int:
    if len(sys.argv) == 3 and sys.argv[1] == "--client":
        return client(json.loads(sys.argv[2]))
    if len(sys.argv) not in (2, 3):
        print(__doc__, file=sys.stderr)
        return 2
    litecore = find_litecore(sys.argv[2] if len(sys.argv) == 3 else None)
    if not litecore:
        print("skipped: no LiteCore (set LCWS_LITECORE_ROOT to an install prefix with lib/libLiteCore.so)")
        return 77
    return server(sys.argv[1], litecore)


if __name__ == "__main__":
    sys.exit(main())
