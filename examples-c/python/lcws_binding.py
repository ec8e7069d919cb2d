"""litecore-ws for Python: plugging the WebSocket transport into LiteCore with ctypes.

A binding that reaches LiteCore through its C API (ctypes, cffi, JNA, P/Invoke, ...) has no C
compiler to run ``litecore_ws_c4.h``, so it does the glue header's work at run time:

1. load both libraries: LiteCore (``libLiteCore.so``; any path) and ``liblitecore_ws.so``;
2. fill an :class:`LcwsHostTable` with the *addresses* of LiteCore's own functions, looked up by
   name (:data:`HOST_ENTRIES`), and install it with ``lcws_set_host``. Every entry has the exact
   ABI of the LiteCore function it names, so no Python wrapper sits in between: litecore-ws calls
   LiteCore directly, on its own threads, without the GIL;
3. build a :class:`C4SocketFactory` from litecore-ws's ``lcws_socket_*`` functions (framing
   ``kC4NoFraming``, ``close`` NULL) and either register it for the whole process
   (:meth:`LiteCoreWS.register_globally`) or give it to one replicator with a database as its
   context (:meth:`LiteCoreWS.factory_for_database`), so litecore-ws keeps that database's cookies.

Example::

    import ctypes
    from lcws_binding import LiteCoreWS

    litecore = ctypes.CDLL("/opt/litecore/lib/libLiteCore.so")
    ws = LiteCoreWS("/opt/litecore-ws/lib/liblitecore_ws.so", litecore,
                    log=lambda level, line: print(f"[lcws {level}] {line}"))
    ws.register_globally()          # once, before the first replicator
    ...                             # c4repl_new(...) as usual
    ws.shutdown()                   # before the interpreter exits

Threads: litecore-ws calls LiteCore from its worker threads (``lcws-worker``) and never Python,
except for the optional log sink, which ctypes runs with the GIL held. Call :meth:`shutdown`
before the interpreter exits so no worker thread calls the sink during finalization.

Serving peers: :class:`Listener` is litecore-ws's listener (``lcws_listener_*``) with the
listener glue's work done in Python: each accepted connection becomes a ``C4Socket``
(``c4socket_fromNative``) served by a passive replicator (``c4repl_newWithSocket``), freed with
``c4repl_free`` when its status callback reports it stopped. See its docs.

Caveat for cookies: older LiteCore 3.x releases declare ``c4db_setCookie`` without the
``acceptParentDomain`` parameter; with those, pass ``set_cookie_has_accept_parent_domain=False``
(``set_cookie`` then stays NULL and received cookies are not stored; stored ones are still sent).

Requires Python 3.8+ and only the standard library.
"""

from __future__ import annotations

import ctypes as C
import enum
import os
import threading
from typing import Callable, List, Optional, Tuple, Union

__all__ = [
    "LCWS_FRAMING",
    "K_C4_NO_FRAMING",
    "HOST_ENTRIES",
    "LcwsStatus",
    "LcwsSlice",
    "LcwsSliceResult",
    "LcwsAddress",
    "LcwsError",
    "LcwsHostTable",
    "C4SocketFactory",
    "LogSink",
    "LiteCoreWS",
    "LiteCoreWSError",
    "Listener",
    "LcwsListenerConfig",
    "LcwsIncoming",
    "C4ReplicatorParameters",
    "C4ReplicationCollection",
    "C4ReplicatorStatus",
    "address_of",
]

#: ``C4SocketFactory.framing`` litecore-ws needs: ``kC4NoFraming`` (whole messages; litecore-ws
#: does all WebSocket framing, masking, ping/pong and the close handshake).
K_C4_NO_FRAMING = 1
LCWS_FRAMING = K_C4_NO_FRAMING

#: C4LogLevel numbering, used by the log sink and :meth:`LiteCoreWS.set_log_level`.
LOG_DEBUG, LOG_VERBOSE, LOG_INFO, LOG_WARNING, LOG_ERROR, LOG_NONE = range(6)


class LcwsStatus(enum.IntEnum):
    """Result of litecore-ws's library-level calls (``enum LcwsStatus``)."""

    OK = 0
    INVALID_ARGUMENT = 1
    ALREADY_STARTED = 2
    IN_CALLBACK = 3
    BUSY = 4
    ALREADY_SET = 5
    INTERNAL_ERROR = 6
    FAILED = 7


class LiteCoreWSError(OSError):
    """A library call failed; ``status`` is the :class:`LcwsStatus` (or None)."""

    def __init__(self, message: str, status: Optional[int] = None):
        super().__init__(message)
        self.status = status


# ---- Mirrors of LiteCore's types (same layout as C4Slice, C4SliceResult, C4Address, C4Error) ----


class LcwsSlice(C.Structure):
    """``C4Slice`` / ``FLSlice``: ``{const void* buf; size_t size;}``, borrowed."""

    _fields_ = [("buf", C.c_void_p), ("size", C.c_size_t)]


class LcwsSliceResult(C.Structure):
    """``C4SliceResult`` / ``FLSliceResult``: carries one reference (released with ``_FLBuf_Release``)."""

    _fields_ = [("buf", C.c_void_p), ("size", C.c_size_t)]


class LcwsAddress(C.Structure):
    """``C4Address``: scheme (``ws``/``wss``), host name, port, request path (``/db/_blipsync``)."""

    _fields_ = [("scheme", LcwsSlice), ("hostname", LcwsSlice), ("port", C.c_uint16), ("path", LcwsSlice)]


class LcwsError(C.Structure):
    """``C4Error`` of LiteCore 3.0+: ``uint8_t domain``, 3 padding bytes, ``int code``, ``uint32 internal_info``."""

    _fields_ = [("domain", C.c_uint8), ("padding", C.c_uint8 * 3), ("code", C.c_int), ("internal_info", C.c_uint32)]


#: ``LcwsHostTable`` entries in order: (field, LiteCore symbol or None, required).
#: ``None`` marks an entry that is not a LiteCore function (the log sink).
HOST_ENTRIES: List[Tuple[str, Optional[str], bool]] = [
    ("got_http_response", "c4socket_gotHTTPResponse", True),
    ("opened", "c4socket_opened", True),
    ("closed", "c4socket_closed", True),
    ("close_requested", "c4socket_closeRequested", True),
    ("completed_write", "c4socket_completedWrite", True),
    ("received", "c4socket_received", True),
    ("set_native_handle", "c4Socket_setNativeHandle", True),
    ("get_native_handle", "c4Socket_getNativeHandle", True),
    ("retain", "c4socket_retain", True),
    ("release", "c4socket_release", True),
    ("release_buffer", "_FLBuf_Release", True),
    ("got_peer_certificate", "c4socket_gotPeerCertificate", False),  # LiteCore 3.3+
    ("error_make", "c4error_make", False),  # without it errors reach LiteCore without messages
    ("get_cookies", "c4db_getCookies", False),
    ("set_cookie", "c4db_setCookie", False),  # only the 6-parameter form (see the module docs)
    ("log", None, False),
]


class LcwsHostTable(C.Structure):
    """``LcwsHostTable``: ``struct_size`` (= ``ctypes.sizeof(LcwsHostTable)``), one function
    pointer per :data:`HOST_ENTRIES` entry, then ``log_context``. litecore-ws copies it."""

    _fields_ = (
        [("struct_size", C.c_size_t)]
        + [(name, C.c_void_p) for name, _, _ in HOST_ENTRIES]
        + [("log_context", C.c_void_p)]
    )


class C4SocketFactory(C.Structure):
    """LiteCore's ``C4SocketFactory``, current layout (72 bytes, with ``attached``; LiteCore
    before 3.4/4.1 reads the first 64 bytes and ignores it). LiteCore copies it by value."""

    _fields_ = [
        ("framing", C.c_uint8),
        ("context", C.c_void_p),
        ("open", C.c_void_p),
        ("write", C.c_void_p),
        ("completedReceive", C.c_void_p),
        ("close", C.c_void_p),
        ("requestClose", C.c_void_p),
        ("dispose", C.c_void_p),
        ("attached", C.c_void_p),
    ]


#: The C type of the log sink: ``void log(void* context, int level, const char* line)``.
LOG_SINK = C.CFUNCTYPE(None, C.c_void_p, C.c_int, C.c_char_p)

#: A Python log sink: ``sink(level, line)``; ``level`` 0 debug … 4 error. Called from
#: litecore-ws's threads, possibly concurrently; it must not call back into litecore-ws.
LogSink = Callable[[int, str], None]

# Native callbacks handed to litecore-ws. The host table is installed once per process and cannot
# be replaced, so they must live as long as the process: kept here, never released.
_PINNED: list = []
_PIN_LOCK = threading.Lock()


def address_of(lib: C.CDLL, name: str) -> Optional[int]:
    """The address of an exported function of ``lib``, or None when it does not export it."""
    try:
        return C.cast(getattr(lib, name), C.c_void_p).value
    except AttributeError:
        return None


def _load(lib: Union[C.CDLL, str, "os.PathLike[str]"]) -> C.CDLL:
    return lib if isinstance(lib, C.CDLL) else C.CDLL(os.fspath(lib))


class LiteCoreWS:
    """litecore-ws, loaded and connected to a loaded LiteCore library.

    Creating it installs the host table (``lcws_set_host``). A process has one host table: a
    second :class:`LiteCoreWS` with a different table (another log sink, another LiteCore) is
    refused with :class:`LiteCoreWSError` (status ``ALREADY_SET``).

    :param lcws_path: path of ``liblitecore_ws.so`` (or an already loaded ``ctypes.CDLL``).
    :param litecore: LiteCore, as a path or a loaded ``ctypes.CDLL``. ``RTLD_GLOBAL`` is not
        needed: every LiteCore function goes through the table.
    :param log: optional Python log sink ``log(level, line)``; without it litecore-ws writes to
        stderr. Lines never contain passwords, tokens or cookie values.
    :param use_cookie_store: plug in ``c4db_getCookies`` / ``c4db_setCookie`` (they act only for
        a factory with a database, see :meth:`factory_for_database`).
    :param set_cookie_has_accept_parent_domain: False for a LiteCore whose ``c4db_setCookie``
        has 5 parameters (``set_cookie`` is then left NULL).
    :raises LiteCoreWSError: a required LiteCore function is missing, or the table was refused.
    """

    def __init__(
        self,
        lcws_path: Union[C.CDLL, str, "os.PathLike[str]"],
        litecore: Union[C.CDLL, str, "os.PathLike[str]"],
        log: Optional[LogSink] = None,
        use_cookie_store: bool = True,
        set_cookie_has_accept_parent_domain: bool = True,
    ) -> None:
        self.lib: C.CDLL = _load(lcws_path)
        self.litecore: C.CDLL = _load(litecore)
        self._declare()

        table = LcwsHostTable()
        table.struct_size = C.sizeof(LcwsHostTable)
        missing = []
        for field, symbol, required in HOST_ENTRIES:
            if symbol is None:
                continue
            if symbol.startswith("c4db_") and not use_cookie_store:
                continue
            if symbol == "c4db_setCookie" and not set_cookie_has_accept_parent_domain:
                continue
            addr = address_of(self.litecore, symbol)
            if addr is None and required:
                missing.append(symbol)
            setattr(table, field, addr)
        if missing:
            raise LiteCoreWSError(f"the LiteCore library lacks {', '.join(missing)}")
        if log is not None:
            table.log = C.cast(self._make_log_sink(log), C.c_void_p).value
        self.host_table = table

        status = self.lib.lcws_set_host(C.byref(table))
        if status != LcwsStatus.OK:
            raise LiteCoreWSError(f"lcws_set_host failed: {LcwsStatus(status).name}", status)

    # ---- library calls ----

    def _declare(self) -> None:
        lib = self.lib
        lib.lcws_version.argtypes = []
        lib.lcws_version.restype = C.c_char_p
        lib.lcws_set_host.argtypes = [C.POINTER(LcwsHostTable)]
        lib.lcws_set_host.restype = C.c_int
        lib.lcws_set_worker_threads.argtypes = [C.c_uint32]
        lib.lcws_set_worker_threads.restype = C.c_int
        lib.lcws_set_log_level.argtypes = [C.c_int]
        lib.lcws_set_log_level.restype = None
        lib.lcws_claim_global_registration.argtypes = []
        lib.lcws_claim_global_registration.restype = C.c_bool
        lib.lcws_host_is_set.argtypes = []
        lib.lcws_host_is_set.restype = C.c_bool
        lib.lcws_shutdown.argtypes = []
        lib.lcws_shutdown.restype = C.c_int
        self.litecore.c4socket_registerFactory.argtypes = [C4SocketFactory]
        self.litecore.c4socket_registerFactory.restype = None

    @staticmethod
    def _make_log_sink(log: LogSink):
        def sink(_context, level, line):
            try:
                log(int(level), line.decode("utf-8", "replace"))
            except BaseException:  # noqa: BLE001 - an exception must never unwind into Rust
                pass

        native = LOG_SINK(sink)
        with _PIN_LOCK:
            _PINNED.append(native)
        return native

    @property
    def version(self) -> str:
        """litecore-ws's version, e.g. ``"0.1.0"``."""
        return self.lib.lcws_version().decode()

    def set_log_level(self, level: int) -> None:
        """Log threshold: 0 debug, 1 verbose, 2 info, 3 warning (default), 4 error, 5 none."""
        self.lib.lcws_set_log_level(level)

    def set_worker_threads(self, count: int) -> LcwsStatus:
        """Worker threads (1-64, default 2); only before the first connection."""
        return LcwsStatus(self.lib.lcws_set_worker_threads(count))

    def shutdown(self) -> LcwsStatus:
        """Closes every open socket with ``{WebSocket, 1001}`` and stops litecore-ws's threads
        (a later open starts them again). Call it from an application thread, e.g. before the
        interpreter exits. ``BUSY`` when a socket did not report ``closed`` within 5 s."""
        return LcwsStatus(self.lib.lcws_shutdown())

    # ---- factories ----

    def socket_factory(self, context: Union[int, C.c_void_p, None] = None) -> C4SocketFactory:
        """A ``C4SocketFactory`` of litecore-ws's functions with this ``context`` (NULL or a
        ``C4Database*``): framing ``kC4NoFraming``, ``close`` and ``attached`` NULL."""
        f = C4SocketFactory()
        f.framing = K_C4_NO_FRAMING
        f.context = context.value if isinstance(context, C.c_void_p) else context
        f.open = address_of(self.lib, "lcws_socket_open")
        f.write = address_of(self.lib, "lcws_socket_write")
        f.completedReceive = address_of(self.lib, "lcws_socket_completed_receive")
        f.close = None  # LiteCore requires NULL with kC4NoFraming
        f.requestClose = address_of(self.lib, "lcws_socket_request_close")
        f.dispose = address_of(self.lib, "lcws_socket_dispose")
        f.attached = None  # litecore-ws never adopts native sockets
        return f

    def register_globally(self) -> bool:
        """Makes litecore-ws LiteCore's transport for every replicator without its own factory.

        LiteCore accepts one ``c4socket_registerFactory`` per process and terminates the process
        on a second, so this first claims the one registration (``lcws_claim_global_registration``,
        shared with every other caller in the process, C glue included). Returns True when this
        call registered, False when the registration was already claimed (nothing was done)."""
        if not self.lib.lcws_claim_global_registration():
            return False
        self.litecore.c4socket_registerFactory(self.socket_factory())
        return True

    def factory_for_database(self, db: Union[int, C.c_void_p]) -> C4SocketFactory:
        """A factory for one replicator (``C4ReplicatorParameters.socketFactory``) whose context is
        the ``C4Database*`` ``db``: litecore-ws then sends that database's stored cookies and
        stores SG's ``Set-Cookie`` answers (with the cookie entries of the host table). Pass it by
        reference (``ctypes.byref``); LiteCore 3.0+ copies it in ``c4repl_new``."""
        if not db:
            raise ValueError("factory_for_database needs a C4Database pointer")
        return self.socket_factory(db)


# ---- Serving peers: the listener ---------------------------------------------------------------


class LcwsCollectionName(C.Structure):
    """``LcwsCollectionName``: a shared collection, ``scope``.``name``."""

    _fields_ = [("scope", LcwsSlice), ("name", LcwsSlice)]


class LcwsIncoming(C.Structure):
    """``LcwsIncoming``: an upgraded connection handed to the host's ``accept`` (valid during it)."""

    _fields_ = [
        ("connection", C.c_void_p),
        ("native_handle", C.c_void_p),
        ("peer", LcwsAddress),
        ("database", C.c_void_p),
        ("database_name", LcwsSlice),
        ("collections", C.POINTER(LcwsCollectionName)),
        ("collection_count", C.c_size_t),
        ("protocol", LcwsSlice),
        ("user", LcwsSlice),
        ("allow_push", C.c_bool),
        ("allow_pull", C.c_bool),
        ("replicator_options", LcwsSlice),
    ]


ACCEPT_FN = C.CFUNCTYPE(C.c_void_p, C.c_void_p, C.POINTER(LcwsIncoming))
RELEASE_FN = C.CFUNCTYPE(None, C.c_void_p, C.c_void_p)
CHECK_PASSWORD_FN = C.CFUNCTYPE(C.c_bool, C.c_void_p, LcwsSlice, LcwsSlice, LcwsSlice)
CHECK_CERTIFICATE_FN = C.CFUNCTYPE(C.c_bool, C.c_void_p, LcwsSlice)
RELEASE_DATABASE_FN = C.CFUNCTYPE(None, C.c_void_p, C.c_void_p)
URL_FN = C.CFUNCTYPE(None, C.c_void_p, LcwsSlice)


class LcwsListenerConfig(C.Structure):
    """``LcwsListenerConfig`` (zero = default everywhere; ``struct_size`` = its size)."""

    _fields_ = [
        ("struct_size", C.c_size_t),
        ("port", C.c_uint16),
        ("network_interface", LcwsSlice),
        ("disable_tls", C.c_bool),
        ("certificate", LcwsSlice),
        ("private_key", LcwsSlice),
        ("require_client_certs", C.c_bool),
        ("root_client_certs", LcwsSlice),
        ("allow_push", C.c_bool),
        ("allow_pull", C.c_bool),
        ("enable_delta_sync", C.c_bool),
        ("max_connections", C.c_uint32),
        ("handshake_timeout_ms", C.c_uint32),
        ("max_request_head_bytes", C.c_uint32),
        ("heartbeat_seconds", C.c_uint32),
        ("server_name", LcwsSlice),
        ("context", C.c_void_p),
        ("accept", ACCEPT_FN),
        ("release", RELEASE_FN),
        ("check_password", CHECK_PASSWORD_FN),
        ("check_certificate", CHECK_CERTIFICATE_FN),
        ("release_database", RELEASE_DATABASE_FN),
    ]


# LiteCore's replicator types (3.1+ / 4.x Community Edition layout: an Enterprise build's
# C4ReplicatorParameters has one more member and is not served by this class).

K_C4_DISABLED, K_C4_PASSIVE, K_C4_ONE_SHOT, K_C4_CONTINUOUS = range(4)  #: C4ReplicatorMode
#: C4ReplicatorActivityLevel
K_C4_STOPPED, K_C4_OFFLINE, K_C4_CONNECTING, K_C4_IDLE, K_C4_BUSY, K_C4_STOPPING = range(6)
#: ``LcwsActivity``: what ``lcws_connection_report`` takes.
LCWS_ACTIVITY_IDLE, LCWS_ACTIVITY_BUSY, LCWS_ACTIVITY_STOPPED = range(3)


class C4CollectionSpec(C.Structure):
    """``C4CollectionSpec``: collection ``name`` first, then ``scope``."""

    _fields_ = [("name", LcwsSlice), ("scope", LcwsSlice)]


class C4ReplicationCollection(C.Structure):
    """``C4ReplicationCollection`` (80 bytes)."""

    _fields_ = [
        ("collection", C4CollectionSpec),
        ("push", C.c_int32),
        ("pull", C.c_int32),
        ("optionsDictFleece", LcwsSlice),
        ("pushFilter", C.c_void_p),
        ("pullFilter", C.c_void_p),
        ("callbackContext", C.c_void_p),
    ]


class C4ReplicatorParameters(C.Structure):
    """``C4ReplicatorParameters`` of LiteCore 3.1+ (88 bytes, Community Edition)."""

    _fields_ = [
        ("optionsDictFleece", LcwsSlice),
        ("onStatusChanged", C.c_void_p),
        ("onDocumentsEnded", C.c_void_p),
        ("onBlobProgress", C.c_void_p),
        ("propertyEncryptor", C.c_void_p),
        ("propertyDecryptor", C.c_void_p),
        ("callbackContext", C.c_void_p),
        ("socketFactory", C.POINTER(C4SocketFactory)),
        ("collections", C.POINTER(C4ReplicationCollection)),
        ("collectionCount", C.c_size_t),
    ]


class C4Progress(C.Structure):
    _fields_ = [("unitsCompleted", C.c_uint64), ("unitsTotal", C.c_uint64), ("documentCount", C.c_uint64)]


class C4ReplicatorStatus(C.Structure):
    """``C4ReplicatorStatus`` (48 bytes): ``level`` is a C4ReplicatorActivityLevel."""

    _fields_ = [("level", C.c_int32), ("progress", C4Progress), ("error", LcwsError), ("flags", C.c_int32)]


#: ``C4ReplicatorStatusChangedCallback``: ``(C4Replicator*, C4ReplicatorStatus, void* context)``.
STATUS_FN = C.CFUNCTYPE(None, C.c_void_p, C4ReplicatorStatus, C.c_void_p)


class _C4DatabaseConfig2Head(C.Structure):
    """The start of ``C4DatabaseConfig2``: the directory, then the flags."""

    _fields_ = [("parentDirectory", LcwsSlice), ("flags", C.c_uint32)]


K_C4_DB_VERSION_VECTORS = 0x08  #: ``kC4DB_VersionVectors``: the database speaks CBMobile_4

#: The status callback's user hook: ``on_status(level, document_count, error)`` for every status
#: change of a passive replicator; ``error`` a ``(domain, code)`` tuple or None. Called on
#: LiteCore's threads; it must not block.
StatusHook = Callable[[int, int, Optional[Tuple[int, int]]], None]


def _slice(data: bytes, keep: list) -> LcwsSlice:
    buf = C.create_string_buffer(data, len(data))
    keep.append(buf)
    return LcwsSlice(C.cast(buf, C.c_void_p), len(data))


def _bytes(s: LcwsSlice) -> bytes:
    return C.string_at(s.buf, s.size) if s.buf and s.size else b""


class Listener:
    """litecore-ws's listener, serving LiteCore databases to peers (the Python counterpart of the
    C glue's ``lcws_c4listener_*``; LiteCore Enterprise: ``c4listener_*``).

    Starting it binds the port (0: any free one) and accepts on litecore-ws's threads. Share
    databases with :meth:`share`; peers replicate with ``ws[s]://host:port/<name>``
    (:meth:`urls`). Each accepted connection is handed to LiteCore here, in Python, as the glue
    header does in C: ``c4socket_fromNative`` with litecore-ws's socket factory, a passive
    replicator with ``c4repl_newWithSocket`` (push and pull ``kC4Passive`` as ``allow_pull`` /
    ``allow_push`` permit, on the shared collections or the default one), ``c4repl_start``; its
    status callback reports to litecore-ws (``lcws_connection_report``), which calls back to free
    it (``c4repl_free``) once it stopped.

    Threads: the callbacks run on litecore-ws's threads (accept, release, the password and
    certificate checks) and LiteCore's (the status callback), each taking the GIL for its short
    Python part; LiteCore and litecore-ws are always called with the GIL released (ctypes.CDLL).

    :param ws: the :class:`LiteCoreWS` whose host table is installed.
    :param tls: wss (default); with neither ``certificate`` nor ``private_key`` an anonymous
        self-signed identity is generated (:attr:`certificate` returns it, for peers to pin).
    :param certificate, private_key: PEM or DER bytes of the identity (chain, leaf first).
    :param check_password: ``check_password(database, user, password) -> bool``; with it every
        client must send Basic credentials it accepts (401 otherwise).
    :param require_client_certs, root_client_certs, check_certificate: client certificates must
        chain to ``root_client_certs`` (PEM/DER) and/or be accepted by ``check_certificate(der)``.
    :param new_with_socket_has_log_prefix: False for LiteCore 3.1, whose ``c4repl_newWithSocket``
        has no ``logPrefix`` parameter (3.2+ has it).
    :param on_status: optional :data:`StatusHook`, told every passive replicator's status.
    :raises LiteCoreWSError: a LiteCore symbol is missing or the listener could not start
        (``error`` is then the ``(domain, code)`` of the C4Error: ``{Network, 27}`` for an unknown
        interface, a POSIX/Network error for a port in use, ...).
    """

    def __init__(
        self,
        ws: LiteCoreWS,
        *,
        port: int = 0,
        network_interface: str = "",
        tls: bool = True,
        certificate: Optional[bytes] = None,
        private_key: Optional[bytes] = None,
        require_client_certs: bool = False,
        root_client_certs: Optional[bytes] = None,
        check_certificate: Optional[Callable[[bytes], bool]] = None,
        check_password: Optional[Callable[[str, str, bytes], bool]] = None,
        allow_push: bool = True,
        allow_pull: bool = True,
        enable_delta_sync: bool = False,
        server_name: Optional[str] = None,
        max_connections: int = 0,
        handshake_timeout_ms: int = 0,
        heartbeat_seconds: int = 0,
        new_with_socket_has_log_prefix: bool = True,
        on_status: Optional[StatusHook] = None,
    ) -> None:
        self.ws = ws
        self._lc = ws.litecore
        self._log_prefix = new_with_socket_has_log_prefix
        self._on_status = on_status
        self._check_password = check_password
        self._check_certificate = check_certificate
        self._declare()
        self._factory = ws.socket_factory(None)
        self._handle = C.c_void_p()
        # The native callbacks live as long as this object (litecore-ws calls them until
        # lcws_listener_free returned); the status callback as long as the process (a passive
        # replicator's last report may come while it is being freed).
        self._status_native = STATUS_FN(self._status)
        with _PIN_LOCK:
            _PINNED.append(self._status_native)
        self._callbacks = [
            ACCEPT_FN(self._accept),
            RELEASE_FN(self._release),
            CHECK_PASSWORD_FN(self._password) if check_password else CHECK_PASSWORD_FN(),
            CHECK_CERTIFICATE_FN(self._certificate) if check_certificate else CHECK_CERTIFICATE_FN(),
            RELEASE_DATABASE_FN(self._release_database),
        ]
        keep: list = []
        c = LcwsListenerConfig()
        c.struct_size = C.sizeof(LcwsListenerConfig)
        c.port = port
        c.network_interface = _slice(network_interface.encode(), keep)
        c.disable_tls = not tls
        c.certificate = _slice(certificate or b"", keep)
        c.private_key = _slice(private_key or b"", keep)
        c.require_client_certs = require_client_certs
        c.root_client_certs = _slice(root_client_certs or b"", keep)
        c.allow_push = allow_push
        c.allow_pull = allow_pull
        c.enable_delta_sync = enable_delta_sync
        c.max_connections = max_connections
        c.handshake_timeout_ms = handshake_timeout_ms
        c.heartbeat_seconds = heartbeat_seconds
        c.server_name = _slice((server_name or "").encode(), keep)
        (c.accept, c.release, c.check_password, c.check_certificate, c.release_database) = self._callbacks
        err = LcwsError()
        status = self.ws.lib.lcws_listener_start(C.byref(c), C.byref(self._handle), C.byref(err))
        if status != LcwsStatus.OK:
            e = LiteCoreWSError(f"lcws_listener_start failed: {LcwsStatus(status).name} "
                                f"{{{err.domain}, {err.code}}}", status)
            e.error = (err.domain, err.code)
            raise e

    def _declare(self) -> None:
        lib, lc = self.ws.lib, self._lc
        sig = {
            "lcws_listener_start": ([C.POINTER(LcwsListenerConfig), C.POINTER(C.c_void_p), C.POINTER(LcwsError)], C.c_int),
            "lcws_listener_share": ([C.c_void_p, LcwsSlice, C.c_void_p, LcwsSlice], C.c_int),
            "lcws_listener_share_collection": ([C.c_void_p, LcwsSlice, C.c_void_p, LcwsSlice, LcwsSlice], C.c_int),
            "lcws_listener_unshare": ([C.c_void_p, C.c_void_p], C.c_size_t),
            "lcws_listener_port": ([C.c_void_p], C.c_uint16),
            "lcws_listener_certificate": ([C.c_void_p], LcwsSlice),
            "lcws_listener_status": ([C.c_void_p, C.POINTER(C.c_size_t), C.POINTER(C.c_size_t)], C.c_int),
            "lcws_listener_urls": ([C.c_void_p, C.c_void_p, URL_FN, C.c_void_p], C.c_size_t),
            "lcws_listener_free": ([C.c_void_p], C.c_int),
            "lcws_connection_report": ([C.c_void_p, C.c_int], None),
        }
        for name, (argtypes, restype) in sig.items():
            fn = getattr(lib, name)
            fn.argtypes, fn.restype = argtypes, restype
        missing = [n for n in ("c4socket_fromNative", "c4repl_newWithSocket", "c4repl_start", "c4repl_free",
                               "c4base_retain", "c4base_release", "c4db_getConfig2") if address_of(lc, n) is None]
        if missing:
            raise LiteCoreWSError(f"the LiteCore library lacks {', '.join(missing)}")
        lc.c4socket_fromNative.argtypes = [C4SocketFactory, C.c_void_p, C.POINTER(LcwsAddress)]
        lc.c4socket_fromNative.restype = C.c_void_p
        lc.c4socket_retain.argtypes = [C.c_void_p]
        lc.c4socket_retain.restype = C.c_void_p
        lc.c4socket_release.argtypes = [C.c_void_p]
        lc.c4socket_release.restype = None
        if self._log_prefix:
            lc.c4repl_newWithSocket.argtypes = [C.c_void_p, C.c_void_p, C4ReplicatorParameters, LcwsSlice,
                                                C.POINTER(LcwsError)]
        else:
            lc.c4repl_newWithSocket.argtypes = [C.c_void_p, C.c_void_p, C4ReplicatorParameters, C.POINTER(LcwsError)]
        lc.c4repl_newWithSocket.restype = C.c_void_p
        lc.c4repl_start.argtypes = [C.c_void_p, C.c_bool]
        lc.c4repl_start.restype = None
        lc.c4repl_free.argtypes = [C.c_void_p]
        lc.c4repl_free.restype = None
        lc.c4base_retain.argtypes = [C.c_void_p]
        lc.c4base_retain.restype = C.c_void_p
        lc.c4base_release.argtypes = [C.c_void_p]
        lc.c4base_release.restype = None
        lc.c4db_getConfig2.argtypes = [C.c_void_p]
        lc.c4db_getConfig2.restype = C.POINTER(_C4DatabaseConfig2Head)

    # ---- callbacks (litecore-ws's and LiteCore's threads; never raise into native code) ----

    def _accept(self, _context, incoming_p):
        lc = self._lc
        socket = None
        try:
            inc = incoming_p.contents
            socket = lc.c4socket_fromNative(self._factory, inc.native_handle, C.byref(inc.peer))
            if not socket:
                return None
            lc.c4socket_retain(socket)  # ours while the replicator is made (fromNative's is unretained)
            keep: list = []
            count = inc.collection_count or 1
            collections = (C4ReplicationCollection * count)()
            for i in range(count):
                if inc.collection_count:
                    collections[i].collection.scope = inc.collections[i].scope
                    collections[i].collection.name = inc.collections[i].name
                else:
                    collections[i].collection.name = _slice(b"_default", keep)
                    collections[i].collection.scope = _slice(b"_default", keep)
                # A client that pushes meets our passive pull, and the other way round.
                collections[i].push = K_C4_PASSIVE if inc.allow_pull else K_C4_DISABLED
                collections[i].pull = K_C4_PASSIVE if inc.allow_push else K_C4_DISABLED
            params = C4ReplicatorParameters()
            params.optionsDictFleece = inc.replicator_options
            params.onStatusChanged = C.cast(self._status_native, C.c_void_p).value
            params.callbackContext = inc.connection
            params.collections = collections
            params.collectionCount = count
            err = LcwsError()
            if self._log_prefix:
                repl = lc.c4repl_newWithSocket(inc.database, socket, params, _slice(b"lcws-py-listener", keep),
                                               C.byref(err))
            else:
                repl = lc.c4repl_newWithSocket(inc.database, socket, params, C.byref(err))
            if repl:
                lc.c4repl_start(repl, False)
            return repl or None
        except BaseException:  # noqa: BLE001 - never unwind into litecore-ws
            return None
        finally:
            # The replicator holds its own reference; ours goes (a socket nobody took is disposed,
            # which frees litecore-ws's handle).
            if socket:
                lc.c4socket_release(socket)

    def _status(self, _repl, status, context):
        level = status.level
        activity = (LCWS_ACTIVITY_STOPPED if level == K_C4_STOPPED
                    else LCWS_ACTIVITY_BUSY if level == K_C4_BUSY else LCWS_ACTIVITY_IDLE)
        hook = self._on_status
        if hook is not None:
            try:
                error = (status.error.domain, status.error.code) if status.error.code else None
                hook(level, int(status.progress.documentCount), error)
            except BaseException:  # noqa: BLE001
                pass
        # After a Stopped report litecore-ws frees the replicator (release) on its own thread.
        self.ws.lib.lcws_connection_report(context, activity)

    def _release(self, _context, repl):
        self._lc.c4repl_free(repl)

    def _password(self, _context, database, user, password):
        try:
            return bool(self._check_password(_bytes(database).decode(errors="replace"),
                                             _bytes(user).decode(errors="replace"), _bytes(password)))
        except BaseException:  # noqa: BLE001
            return False

    def _certificate(self, _context, der):
        try:
            return bool(self._check_certificate(_bytes(der)))
        except BaseException:  # noqa: BLE001
            return False

    def _release_database(self, _context, db):
        self._lc.c4base_release(db)

    # ---- API ----

    def _live(self) -> C.c_void_p:
        if not self._handle:
            raise LiteCoreWSError("the listener was closed")
        return self._handle

    def share(self, name: str, db: Union[int, C.c_void_p]) -> None:
        """Shares the ``C4Database*`` ``db`` as ``name`` (its default collection unless
        collections are shared with :meth:`share_collection`). The listener holds a reference to
        it (``c4base_retain``) until it is unshared or the listener closes. The replication
        protocol follows the database: CBMobile_4 with version vectors, CBMobile_3 otherwise."""
        db = db.value if isinstance(db, C.c_void_p) else db
        if not db:
            raise ValueError("share needs a C4Database pointer")
        flags = self._lc.c4db_getConfig2(db).contents.flags
        protocol = b"BLIP_3+CBMobile_4" if flags & K_C4_DB_VERSION_VECTORS else b"BLIP_3+CBMobile_3"
        keep: list = []
        self._lc.c4base_retain(db)
        status = self.ws.lib.lcws_listener_share(self._live(), _slice(name.encode(), keep), db, _slice(protocol, keep))
        if status != LcwsStatus.OK:
            self._lc.c4base_release(db)
            raise LiteCoreWSError(f"lcws_listener_share({name!r}) failed: {LcwsStatus(status).name}", status)

    def share_collection(self, name: str, db: Union[int, C.c_void_p], scope: str, collection: str) -> None:
        """Adds collection ``scope``.``collection`` of ``db`` to what is shared as ``name``
        (share ``db`` as ``name`` first)."""
        db = db.value if isinstance(db, C.c_void_p) else db
        keep: list = []
        status = self.ws.lib.lcws_listener_share_collection(self._live(), _slice(name.encode(), keep), db,
                                                            _slice(scope.encode(), keep),
                                                            _slice(collection.encode(), keep))
        if status != LcwsStatus.OK:
            raise LiteCoreWSError(f"lcws_listener_share_collection({name!r}) failed: {LcwsStatus(status).name}",
                                  status)

    def unshare(self, db: Union[int, C.c_void_p]) -> int:
        """Stops sharing ``db`` under every name (its peers' sockets close with 4001 and are
        waited for; the references go). Returns how many shares ended."""
        db = db.value if isinstance(db, C.c_void_p) else db
        return int(self.ws.lib.lcws_listener_unshare(self._live(), db))

    @property
    def port(self) -> int:
        """The port the listener is bound to."""
        return int(self.ws.lib.lcws_listener_port(self._live()))

    @property
    def certificate(self) -> bytes:
        """The listener's TLS certificate (DER; the generated one unless an identity was given),
        for peers to pin (replicator option ``pinnedCert``). Empty without TLS."""
        return _bytes(self.ws.lib.lcws_listener_certificate(self._live()))

    def urls(self, db: Union[int, C.c_void_p, None] = None) -> List[str]:
        """The URLs the listener can be reached at, one per interface address:
        ``ws[s]://address:port/<name>`` for ``db``'s share name, without a path for None; empty
        when ``db`` is not shared."""
        db = db.value if isinstance(db, C.c_void_p) else db
        found: List[str] = []
        each = URL_FN(lambda _ctx, url: found.append(_bytes(url).decode()))
        self.ws.lib.lcws_listener_urls(self._live(), db, each, None)
        return found

    def connection_status(self) -> Tuple[int, int]:
        """``(connections, active)``: connections handed to LiteCore whose replicator was not
        released yet, and how many of them are busy."""
        n, active = C.c_size_t(), C.c_size_t()
        self.ws.lib.lcws_listener_status(self._live(), C.byref(n), C.byref(active))
        return int(n.value), int(active.value)

    def close(self) -> LcwsStatus:
        """Stops the listener: no more connections, every socket closed with 4001 (peers retry
        later) and waited for, every replicator freed, every share's database released. Call it
        from an application thread before closing the shared databases; again: no-op."""
        if not self._handle:
            return LcwsStatus.OK
        status = LcwsStatus(self.ws.lib.lcws_listener_free(self._handle))
        self._handle = C.c_void_p()
        return status

    def __enter__(self) -> "Listener":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
