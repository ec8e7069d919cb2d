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
