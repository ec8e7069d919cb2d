"""How a language binding plugs litecore-ws into LiteCore by symbol lookup (Python ctypes).

A binding that talks to LiteCore through its C API (ctypes, cffi, JNA, P/Invoke, ...) has no
C compiler to run litecore_ws_c4.h. It does the same three steps at run time instead:

1. load both libraries (LiteCore and litecore-ws);
2. fill an ``LcwsHostTable`` with the *addresses* of LiteCore's own ``c4socket_*`` functions,
   looked up by name, and hand it to ``lcws_set_host``. Every entry has LiteCore's exact ABI,
   so no wrapper is needed;
3. build a ``C4SocketFactory`` from litecore-ws's ``lcws_socket_*`` functions (framing
   ``kC4NoFraming``, ``close`` NULL) and pass it to ``c4socket_registerFactory`` (or put it in
   ``C4ReplicatorParameters.socketFactory`` with a ``C4Database*`` as ``context``).

Caveat for ``set_cookie``: older LiteCore 3.x releases declare ``c4db_setCookie`` without the
``acceptParentDomain`` parameter. Plug it in only when your LiteCore has the 6-parameter form
(otherwise leave ``set_cookie`` NULL; cookies are then not stored).
"""

import ctypes as C

LCWS_STATUS_OK = 0
K_C4_NO_FRAMING = 1


class LcwsSlice(C.Structure):
    _fields_ = [("buf", C.c_void_p), ("size", C.c_size_t)]


class LcwsSliceResult(C.Structure):
    _fields_ = [("buf", C.c_void_p), ("size", C.c_size_t)]


class LcwsAddress(C.Structure):
    _fields_ = [("scheme", LcwsSlice), ("hostname", LcwsSlice), ("port", C.c_uint16), ("path", LcwsSlice)]


class LcwsError(C.Structure):
    _fields_ = [("domain", C.c_uint8), ("padding", C.c_uint8 * 3), ("code", C.c_int), ("internal_info", C.c_uint32)]


# LcwsHostTable entries in order, with the LiteCore symbol each one takes (None: not LiteCore's).
HOST_ENTRIES = [
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
    ("error_make", "c4error_make", False),
    ("get_cookies", "c4db_getCookies", False),
    ("set_cookie", "c4db_setCookie", False),  # see the caveat above
    ("log", None, False),
]


class LcwsHostTable(C.Structure):
    _fields_ = [("struct_size", C.c_size_t)] + [(name, C.c_void_p) for name, _, _ in HOST_ENTRIES] + [
        ("log_context", C.c_void_p)
    ]


class C4SocketFactory(C.Structure):
    """LiteCore's factory struct, current layout (with ``attached``; older LiteCore reads the
    first 64 bytes and ignores it)."""

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


# Log sink: (context, level, NUL-terminated line). Called from litecore-ws's threads.
LOG_SINK = C.CFUNCTYPE(None, C.c_void_p, C.c_int, C.c_char_p)


def address_of(lib, name):
    """The address of an exported function, or None when the library lacks it."""
    try:
        return C.cast(getattr(lib, name), C.c_void_p).value
    except AttributeError:
        return None


class LiteCoreWS:
    """Loads litecore-ws and connects it to a loaded LiteCore library."""

    def __init__(self, lcws_path, litecore, log=None, use_cookie_store=True):
        self.lib = C.CDLL(lcws_path)
        self.lib.lcws_version.restype = C.c_char_p
        self.lib.lcws_set_host.argtypes = [C.POINTER(LcwsHostTable)]
        self.lib.lcws_set_host.restype = C.c_int
        self.litecore = litecore
        self._log_sink = LOG_SINK(lambda _ctx, level, line: log(level, line.decode("utf-8", "replace"))) if log else None

        table = LcwsHostTable()
        table.struct_size = C.sizeof(LcwsHostTable)
        for field, symbol, required in HOST_ENTRIES:
            if symbol is None or (symbol.startswith("c4db_") and not use_cookie_store):
                continue
            addr = address_of(litecore, symbol)
            if addr is None and required:
                raise OSError(f"LiteCore library lacks {symbol}")
            setattr(table, field, addr)
        if self._log_sink:
            table.log = C.cast(self._log_sink, C.c_void_p).value
        status = self.lib.lcws_set_host(C.byref(table))
        if status != LCWS_STATUS_OK:
            raise OSError(f"lcws_set_host failed with status {status}")

    @property
    def version(self):
        return self.lib.lcws_version().decode()

    def socket_factory(self, context=None):
        """A C4SocketFactory for c4socket_registerFactory or C4ReplicatorParameters.socketFactory
        (keep the returned object alive while LiteCore may copy it)."""
        f = C4SocketFactory()
        f.framing = K_C4_NO_FRAMING
        f.context = context
        f.open = address_of(self.lib, "lcws_socket_open")
        f.write = address_of(self.lib, "lcws_socket_write")
        f.completedReceive = address_of(self.lib, "lcws_socket_completed_receive")
        f.close = None  # LiteCore requires NULL with kC4NoFraming
        f.requestClose = address_of(self.lib, "lcws_socket_request_close")
        f.dispose = address_of(self.lib, "lcws_socket_dispose")
        f.attached = None  # litecore-ws never adopts native sockets
        return f

    def register_globally(self):
        """c4socket_registerFactory(factory): once per process (LiteCore terminates the process
        on a second call)."""
        self.litecore.c4socket_registerFactory.argtypes = [C4SocketFactory]
        self.litecore.c4socket_registerFactory.restype = None
        self.litecore.c4socket_registerFactory(self.socket_factory())
