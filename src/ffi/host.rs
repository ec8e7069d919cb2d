//! The host table: how litecore-ws calls LiteCore without linking to it.
//!
//! The app (or the glue header, or a language binding) fills an [`LcwsHostTable`] once with
//! LiteCore's `c4socket_*` functions and passes it to `lcws_set_host`. Every call into LiteCore
//! goes through [`HostSocket`], which the connection actor owns for exactly one socket.

use super::types::{C4Socket, LcwsAddress, LcwsError, LcwsSlice, LcwsSliceResult};
use crate::address::Address;
use crate::error::TransportError;
use crate::litecore::{LiteCoreSocket, WriteBuffer};
use crate::log::{self, Level};
use std::cell::Cell;
use std::ffi::{c_char, c_int, c_void, CString};
use std::sync::OnceLock;

/// The functions litecore-ws calls to talk to LiteCore; filled by the host once.
///
/// Every entry has the exact ABI of the LiteCore function named in its docs, so a binding can
/// store the address it looked up (`dlsym`) without a wrapper. Entries marked *required* must be
/// non-NULL; optional entries may be NULL.
///
/// `struct_size` must be `sizeof(LcwsHostTable)` as the caller compiled it. The table may grow at
/// its end in later releases: entries beyond the caller's `struct_size` are treated as NULL.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct LcwsHostTable {
    /// `sizeof(LcwsHostTable)` as the caller knows it.
    pub struct_size: usize,
    /// Required: `c4socket_gotHTTPResponse(socket, httpStatus, headersFleece)`.
    pub got_http_response: Option<unsafe extern "C" fn(*mut C4Socket, c_int, LcwsSlice)>,
    /// Required: `c4socket_opened(socket)`.
    pub opened: Option<unsafe extern "C" fn(*mut C4Socket)>,
    /// Required: `c4socket_closed(socket, errorIfAny)`.
    pub closed: Option<unsafe extern "C" fn(*mut C4Socket, LcwsError)>,
    /// Required: `c4socket_closeRequested(socket, status, message)`.
    pub close_requested: Option<unsafe extern "C" fn(*mut C4Socket, c_int, LcwsSlice)>,
    /// Required: `c4socket_completedWrite(socket, byteCount)`.
    pub completed_write: Option<unsafe extern "C" fn(*mut C4Socket, usize)>,
    /// Required: `c4socket_received(socket, data)`.
    pub received: Option<unsafe extern "C" fn(*mut C4Socket, LcwsSlice)>,
    /// Required: `c4Socket_setNativeHandle(socket, handle)` (LiteCore 3.0+).
    pub set_native_handle: Option<unsafe extern "C" fn(*mut C4Socket, *mut c_void)>,
    /// Required: `c4Socket_getNativeHandle(socket)` (LiteCore 3.0+).
    pub get_native_handle: Option<unsafe extern "C" fn(*mut C4Socket) -> *mut c_void>,
    /// Required: `c4socket_retain(socket)`; called once in `open`.
    pub retain: Option<unsafe extern "C" fn(*mut C4Socket) -> *mut C4Socket>,
    /// Required: `c4socket_release(socket)`; called once, after `closed` has returned.
    pub release: Option<unsafe extern "C" fn(*mut C4Socket)>,
    /// Required: `_FLBuf_Release(buf)`, which releases the `C4SliceResult` given to `write`
    /// (and the one returned by `get_cookies`).
    pub release_buffer: Option<unsafe extern "C" fn(*const c_void)>,
    /// Optional: `c4socket_gotPeerCertificate(socket, certDER, hostname)` (LiteCore 3.3+).
    pub got_peer_certificate:
        Option<unsafe extern "C" fn(*mut C4Socket, LcwsSlice, LcwsSlice) -> bool>,
    /// Optional: `c4error_make(domain, code, message)`, so error messages reach LiteCore.
    /// Without it errors carry only domain and code.
    pub error_make: Option<unsafe extern "C" fn(u8, c_int, LcwsSlice) -> LcwsError>,
    /// Optional: `c4db_getCookies(db, address, outError)`; `db` is the factory's `context`.
    pub get_cookies:
        Option<unsafe extern "C" fn(*mut c_void, LcwsAddress, *mut LcwsError) -> LcwsSliceResult>,
    /// Optional: `c4db_setCookie(db, setCookieHeader, fromHost, fromPath, acceptParentDomain,
    /// outError)`; `db` is the factory's `context`.
    pub set_cookie: Option<
        unsafe extern "C" fn(
            *mut c_void,
            LcwsSlice,
            LcwsSlice,
            LcwsSlice,
            bool,
            *mut LcwsError,
        ) -> bool,
    >,
    /// Optional log sink: `log(log_context, level, line)`. `level` uses `C4LogLevel` numbering
    /// (0 debug … 4 error); `line` is NUL-terminated and valid only during the call. May be called
    /// from any thread, concurrently. NULL: lines go to stderr.
    pub log: Option<unsafe extern "C" fn(*mut c_void, c_int, *const c_char)>,
    /// Passed to `log` unchanged.
    pub log_context: *mut c_void,
}

/// Size of the smallest table accepted: everything up to and including `release_buffer`.
pub const MIN_TABLE_SIZE: usize =
    std::mem::offset_of!(LcwsHostTable, release_buffer) + std::mem::size_of::<usize>();

/// The host table as stored: copied once, never changed.
struct Host(LcwsHostTable);

// SAFETY: the table holds C function pointers and an opaque `log_context`. The header documents
// that every entry may be called from any thread (LiteCore's functions are thread-safe), so
// sharing the table across threads is what the host agreed to.
unsafe impl Send for Host {}
// SAFETY: see `Send` above; the table is read-only after it is stored.
unsafe impl Sync for Host {}

static HOST: OnceLock<Host> = OnceLock::new();

thread_local! {
    /// How deep this thread is inside calls into the host (for `lcws_shutdown`'s refusal).
    static IN_HOST_CALL: Cell<u32> = const { Cell::new(0) };
}

/// True when the calling thread is currently inside a call from litecore-ws into the host.
pub fn in_host_call() -> bool {
    IN_HOST_CALL.with(|d| d.get() > 0)
}

/// Runs `f` marked as "inside a host call".
pub(crate) fn host_call<R>(f: impl FnOnce() -> R) -> R {
    struct Depth;
    impl Drop for Depth {
        fn drop(&mut self) {
            IN_HOST_CALL.with(|d| d.set(d.get() - 1));
        }
    }
    IN_HOST_CALL.with(|d| d.set(d.get() + 1));
    let _depth = Depth;
    f()
}

#[derive(Debug, PartialEq, Eq)]
pub enum SetHostError {
    Null,
    TooSmall(usize),
    MissingEntry(&'static str),
    AlreadySet,
}

impl std::fmt::Display for SetHostError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SetHostError::Null => write!(f, "the host table pointer is NULL"),
            SetHostError::TooSmall(n) => write!(
                f,
                "struct_size {n} is smaller than the minimum {MIN_TABLE_SIZE}; set it to sizeof(LcwsHostTable)"
            ),
            SetHostError::MissingEntry(name) => write!(f, "required entry '{name}' is NULL"),
            SetHostError::AlreadySet => write!(
                f,
                "a different host table was already set (the table can be set once per process)"
            ),
        }
    }
}

/// Stores the host table (copying `struct_size` bytes of it).
///
/// # Safety
/// `table` must be NULL or point to at least `table->struct_size` readable bytes laid out as
/// `LcwsHostTable`, whose non-NULL entries have the documented signatures.
pub unsafe fn set_host(table: *const LcwsHostTable) -> Result<(), SetHostError> {
    if table.is_null() {
        return Err(SetHostError::Null);
    }
    // SAFETY: `table` is non-NULL and, per this function's contract, readable for its first
    // field at least.
    let declared = unsafe { std::ptr::addr_of!((*table).struct_size).read_unaligned() };
    if declared < MIN_TABLE_SIZE {
        return Err(SetHostError::TooSmall(declared));
    }
    let n = declared.min(std::mem::size_of::<LcwsHostTable>());
    let mut copy = std::mem::MaybeUninit::<LcwsHostTable>::zeroed();
    // SAFETY: the caller guarantees `declared` readable bytes; we copy at most our own struct's
    // size into a zeroed struct, so entries the caller does not know stay NULL (all-zero is a
    // valid `LcwsHostTable`: integers, nullable function pointers and a raw pointer).
    let copy = unsafe {
        std::ptr::copy_nonoverlapping(table.cast::<u8>(), copy.as_mut_ptr().cast::<u8>(), n);
        copy.assume_init()
    };
    let required: [(&'static str, bool); 11] = [
        ("got_http_response", copy.got_http_response.is_some()),
        ("opened", copy.opened.is_some()),
        ("closed", copy.closed.is_some()),
        ("close_requested", copy.close_requested.is_some()),
        ("completed_write", copy.completed_write.is_some()),
        ("received", copy.received.is_some()),
        ("set_native_handle", copy.set_native_handle.is_some()),
        ("get_native_handle", copy.get_native_handle.is_some()),
        ("retain", copy.retain.is_some()),
        ("release", copy.release.is_some()),
        ("release_buffer", copy.release_buffer.is_some()),
    ];
    if let Some((name, _)) = required.iter().find(|(_, present)| !present) {
        return Err(SetHostError::MissingEntry(name));
    }
    let mut normalized = copy;
    normalized.struct_size = std::mem::size_of::<LcwsHostTable>();
    if let Some(existing) = HOST.get() {
        return if same_table(&existing.0, &normalized) {
            Ok(())
        } else {
            Err(SetHostError::AlreadySet)
        };
    }
    if HOST.set(Host(normalized)).is_err() && !same_table(&host().unwrap().0, &normalized) {
        return Err(SetHostError::AlreadySet);
    }
    install_log_sink(&normalized);
    Ok(())
}

fn same_table(a: &LcwsHostTable, b: &LcwsHostTable) -> bool {
    raw_parts(a) == raw_parts(b)
}

/// The table's entries as addresses, for comparison.
fn raw_parts(t: &LcwsHostTable) -> [usize; 18] {
    macro_rules! a {
        ($f:expr) => {
            $f.map_or(0, |f| f as usize)
        };
    }
    [
        a!(t.got_http_response),
        a!(t.opened),
        a!(t.closed),
        a!(t.close_requested),
        a!(t.completed_write),
        a!(t.received),
        a!(t.set_native_handle),
        a!(t.get_native_handle),
        a!(t.retain),
        a!(t.release),
        a!(t.release_buffer),
        a!(t.got_peer_certificate),
        a!(t.error_make),
        a!(t.get_cookies),
        a!(t.set_cookie),
        a!(t.log),
        t.log_context as usize,
        t.struct_size,
    ]
}

/// Routes `log::write` into the host's sink, if it has one.
fn install_log_sink(table: &LcwsHostTable) {
    let Some(sink) = table.log else { return };
    struct Ctx(*mut c_void);
    // SAFETY: the header documents that the log sink and its context are used from any thread.
    unsafe impl Send for Ctx {}
    // SAFETY: as above.
    unsafe impl Sync for Ctx {}
    impl Ctx {
        fn get(&self) -> *mut c_void {
            self.0
        }
    }
    let ctx = Ctx(table.log_context);
    log::set_sink(Some(Box::new(move |level: Level, line: &str| {
        // Interior NULs cannot be passed as a C string; show them as U+FFFD.
        let c = CString::new(line.replace('\0', "\u{fffd}")).unwrap_or_default();
        // SAFETY: `sink` is the host's log function with the documented signature; the line
        // outlives the call.
        host_call(|| unsafe { sink(ctx.get(), level as c_int, c.as_ptr()) });
    })));
}

/// The stored table, if `lcws_set_host` succeeded.
fn host() -> Option<&'static Host> {
    HOST.get()
}

/// True once a host table is installed.
pub fn host_is_set() -> bool {
    host().is_some()
}

/// A LiteCore socket pointer, retained by litecore-ws.
#[derive(Clone, Copy)]
pub struct SocketPtr(pub *mut C4Socket);

// SAFETY: a C4Socket is reference-counted and thread-safe in LiteCore; litecore-ws serializes
// its own calls for one socket in the socket's actor.
unsafe impl Send for SocketPtr {}

/// Retains `socket` and returns the object through which the actor talks to LiteCore.
/// `None` when no host table is installed.
pub(crate) fn retain_socket(socket: *mut C4Socket, id: u64, db: *mut c_void) -> Option<HostSocket> {
    let host = host()?;
    let retain = host.0.retain?;
    // SAFETY: `socket` is the non-NULL socket LiteCore passed to `open`; retaining it keeps it
    // alive until our release after `closed` (LiteCore may drop its own references at any time,
    // e.g. after its own close timeout).
    host_call(|| unsafe { retain(socket) });
    Some(HostSocket {
        socket: SocketPtr(socket),
        id,
        table: host,
        db: DbPtr(db),
    })
}

/// The database pointer from the factory's `context`, if any (for cookies).
#[derive(Clone, Copy)]
pub struct DbPtr(pub *mut c_void);
// SAFETY: a C4Database is thread-safe for the cookie calls LiteCore exposes.
unsafe impl Send for DbPtr {}

/// The LiteCore side of one socket. Owned by the socket's actor; consumed by `closed`.
pub struct HostSocket {
    socket: SocketPtr,
    id: u64,
    table: &'static Host,
    db: DbPtr,
}

/// `e` as LiteCore's C4Error: made by the host's `error_make` (so LiteCore keeps the message)
/// when the table has one, else domain and code only.
pub(crate) fn c4_error(e: &TransportError) -> LcwsError {
    match host().and_then(|h| h.0.error_make) {
        Some(make) => {
            let msg = e.message.as_bytes();
            // SAFETY: `make` is LiteCore's `c4error_make`, which copies the message.
            let made =
                host_call(|| unsafe { make(e.domain as u8, e.code, LcwsSlice::from_bytes(msg)) });
            LcwsError {
                padding: [0; 3],
                ..made
            }
        }
        None => LcwsError {
            domain: e.domain as u8,
            padding: [0; 3],
            code: e.code,
            internal_info: 0,
        },
    }
}

// Each method calls one required entry; `set_host` checked they are non-NULL, so the `expect`s
// cannot fire (a panic would still be caught by the socket task's guard, which reports
// `closed`).
impl LiteCoreSocket for HostSocket {
    fn got_http_response(&mut self, status: i32, headers_fleece: &[u8]) {
        let f = self.table.0.got_http_response.expect("checked in set_host");
        // SAFETY: the socket is retained; LiteCore copies the headers during the call.
        host_call(|| unsafe { f(self.socket.0, status, LcwsSlice::from_bytes(headers_fleece)) });
    }

    fn opened(&mut self) {
        let f = self.table.0.opened.expect("checked in set_host");
        // SAFETY: the socket is retained.
        host_call(|| unsafe { f(self.socket.0) });
    }

    fn close_requested(&mut self, status: i32, message: &[u8]) {
        let f = self.table.0.close_requested.expect("checked in set_host");
        // SAFETY: the socket is retained; the message outlives the call.
        host_call(|| unsafe { f(self.socket.0, status, LcwsSlice::from_bytes(message)) });
    }

    fn completed_write(&mut self, byte_count: usize) {
        let f = self.table.0.completed_write.expect("checked in set_host");
        // SAFETY: the socket is retained.
        host_call(|| unsafe { f(self.socket.0, byte_count) });
    }

    fn received(&mut self, data: &[u8]) {
        let f = self.table.0.received.expect("checked in set_host");
        // SAFETY: the socket is retained; LiteCore copies the data during the call.
        host_call(|| unsafe { f(self.socket.0, LcwsSlice::from_bytes(data)) });
    }

    fn peer_certificate(&mut self, der: &[u8], hostname: &str) -> bool {
        let Some(f) = self.table.0.got_peer_certificate else {
            return true;
        };
        // SAFETY: the socket is retained; LiteCore copies the certificate and host name during
        // the call; both slices outlive it.
        host_call(|| unsafe {
            f(
                self.socket.0,
                LcwsSlice::from_bytes(der),
                LcwsSlice::from_bytes(hostname.as_bytes()),
            )
        })
    }

    fn stored_cookies(&mut self, address: &Address) -> Option<Vec<u8>> {
        let get = self.table.0.get_cookies?;
        let release = self.table.0.release_buffer?;
        if self.db.0.is_null() {
            return None;
        }
        let c4 = LcwsAddress {
            scheme: LcwsSlice::from_bytes(address.scheme.as_bytes()),
            hostname: LcwsSlice::from_bytes(address.host.as_bytes()),
            port: address.port,
            path: LcwsSlice::from_bytes(address.path.as_bytes()),
        };
        let mut err = LcwsError::NONE;
        // SAFETY: `get` is LiteCore's `c4db_getCookies` on the database the app put in the
        // factory's context; the address slices outlive the call; the result is ours to release.
        let result = host_call(|| unsafe { get(self.db.0, c4, &mut err) });
        if result.buf.is_null() {
            return None;
        }
        // SAFETY: LiteCore returned `size` readable bytes that stay valid until released.
        let cookies =
            unsafe { std::slice::from_raw_parts(result.buf.cast::<u8>(), result.size) }.to_vec();
        // SAFETY: we own the one reference of the returned C4StringResult.
        host_call(|| unsafe { release(result.buf) });
        (!cookies.is_empty()).then_some(cookies)
    }

    fn store_cookie(&mut self, set_cookie: &[u8], address: &Address, accept_parent_domain: bool) {
        let Some(set) = self.table.0.set_cookie else {
            return;
        };
        if self.db.0.is_null() {
            return;
        }
        let mut err = LcwsError::NONE;
        // SAFETY: `set` is LiteCore's `c4db_setCookie`; every slice outlives the call.
        let stored = host_call(|| unsafe {
            set(
                self.db.0,
                LcwsSlice::from_bytes(set_cookie),
                LcwsSlice::from_bytes(address.host.as_bytes()),
                LcwsSlice::from_bytes(address.path.as_bytes()),
                accept_parent_domain,
                &mut err,
            )
        });
        if !stored {
            crate::lcws_log!(
                Level::Warning,
                Some(self.id),
                "the database refused a Set-Cookie from {} (error {}/{})",
                address.host,
                err.domain,
                err.code
            );
        }
    }

    fn closed(self: Box<Self>, error: Option<&TransportError>) {
        let err = error.map_or(LcwsError::NONE, c4_error);
        let closed = self.table.0.closed.expect("checked in set_host");
        let release = self.table.0.release.expect("checked in set_host");
        crate::lcws_log!(
            Level::Debug,
            Some(self.id),
            "calling closed({},{})",
            err.domain,
            err.code
        );
        // SAFETY: the socket is still retained by us; `closed` may drop LiteCore's own
        // references, and LiteCore still touches the socket after telling the replicator, which is
        // why we release ours only after it returned.
        host_call(|| unsafe { closed(self.socket.0, err) });
        // SAFETY: balances the retain in `retain_socket`; after this the pointer is never used
        // (`self` is consumed).
        host_call(|| unsafe { release(self.socket.0) });
    }
}

/// A `C4SliceResult` LiteCore gave to `write`; dropping it releases the buffer exactly once.
pub struct LiteCoreBuffer {
    data: LcwsSliceResult,
    release: unsafe extern "C" fn(*const c_void),
}

// SAFETY: LiteCore's slice buffers are immutable and reference-counted atomically, so the buffer
// may be read and released from any thread.
unsafe impl Send for LiteCoreBuffer {}

impl LiteCoreBuffer {
    /// Takes ownership of `data`. `None` when no host table is installed: then nothing can
    /// release the buffer (the caller logs the leak).
    pub fn adopt(data: LcwsSliceResult) -> Option<LiteCoreBuffer> {
        let release = host()?.0.release_buffer?;
        Some(LiteCoreBuffer { data, release })
    }
}

impl AsRef<[u8]> for LiteCoreBuffer {
    fn as_ref(&self) -> &[u8] {
        if self.data.buf.is_null() || self.data.size == 0 {
            return &[];
        }
        // SAFETY: LiteCore guarantees `buf` points to `size` readable bytes, kept alive by the
        // reference we own until `drop`.
        unsafe { std::slice::from_raw_parts(self.data.buf.cast::<u8>(), self.data.size) }
    }
}

impl WriteBuffer for LiteCoreBuffer {}

impl Drop for LiteCoreBuffer {
    fn drop(&mut self) {
        if !self.data.buf.is_null() {
            let (release, buf) = (self.release, self.data.buf);
            // SAFETY: we own exactly one reference to `buf` and give it up exactly once.
            host_call(|| unsafe { release(buf) });
        }
    }
}

/// Reads the socket's native handle.
pub(crate) fn native_handle(socket: *mut C4Socket) -> *mut c_void {
    match host().and_then(|h| h.0.get_native_handle) {
        // SAFETY: LiteCore passes a live socket to every factory callback.
        Some(get) => host_call(|| unsafe { get(socket) }),
        None => std::ptr::null_mut(),
    }
}

/// Stores the socket's native handle.
pub(crate) fn set_native_handle(socket: *mut C4Socket, handle: *mut c_void) {
    if let Some(set) = host().and_then(|h| h.0.set_native_handle) {
        // SAFETY: LiteCore passes a live socket to every factory callback.
        host_call(|| unsafe { set(socket, handle) });
    }
}
