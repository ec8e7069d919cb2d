//! Every exported `lcws_*` function. Each body runs behind `boundary`, so no panic unwinds into
//! C; pointer arguments are checked for NULL before use.

use super::handles::{self, with_handle};
use super::host::{self, HostSocket, LcwsHostTable, LiteCoreBuffer};
use super::types::{C4Socket, LcwsAddress, LcwsSlice, LcwsSliceResult};
use crate::address::Address;
use crate::error::{close_code, LiteCoreCode, TransportError};
use crate::lcws_log;
use crate::litecore::{Command, LiteCoreSocket};
use crate::log::Level;
use crate::options::Options;
use crate::socket;
use std::ffi::{c_char, c_int, c_void};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// `C4SocketFactory.framing` value litecore-ws uses: `kC4NoFraming` (LiteCore hands over whole
/// messages; litecore-ws does all WebSocket framing, masking, ping/pong and the close handshake).
pub const LCWS_FRAMING: u8 = 1;

/// litecore-ws's version, also returned by `lcws_version()`.
pub const LCWS_VERSION_MAJOR: u32 = 0;
pub const LCWS_VERSION_MINOR: u32 = 1;
pub const LCWS_VERSION_PATCH: u32 = 0;

/// Result of the library-level calls.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LcwsStatus {
    /// Done.
    Ok = 0,
    /// An argument was NULL or out of range (the log says which).
    InvalidArgument = 1,
    /// The call is only allowed before the runtime starts (before the first `open`).
    AlreadyStarted = 2,
    /// Refused: called from inside a litecore-ws callback or from one of its threads.
    InCallback = 3,
    /// Sockets are still open (their `closed` is pending); nothing was stopped. Try again.
    Busy = 4,
    /// A different host table is already installed.
    AlreadySet = 5,
    /// An internal error (a bug); the log has details.
    InternalError = 6,
    /// The operation failed for a reason outside litecore-ws (a port in use, an unknown
    /// interface, ...); the `LcwsError` out-parameter and the log say which.
    Failed = 7,
}

/// Runs an export's body; a panic is logged and turned into `fallback`.
pub(super) fn boundary<R>(name: &str, fallback: R, body: impl FnOnce() -> R) -> R {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(r) => r,
        Err(payload) => {
            let what = crate::log::panic_message(payload.as_ref());
            lcws_log!(Level::Error, None, "internal error in {name}: {what}");
            fallback
        }
    }
}

/// Copies a borrowed C slice into bytes. `None` for `{NULL, n>0}`.
///
/// # Safety
/// A non-NULL `s.buf` must point to `s.size` readable bytes for the duration of the call.
pub(super) unsafe fn slice_bytes<'a>(s: LcwsSlice) -> Option<&'a [u8]> {
    if s.size == 0 {
        return Some(&[]);
    }
    if s.buf.is_null() {
        return None;
    }
    // SAFETY: non-NULL with `size` readable bytes, per this function's contract.
    Some(unsafe { std::slice::from_raw_parts(s.buf.cast::<u8>(), s.size) })
}

/// Copies LiteCore's address (valid only during `open`).
///
/// # Safety
/// `addr` must be NULL or point to a valid `C4Address` whose slices are readable.
unsafe fn copy_address(addr: *const LcwsAddress) -> Result<Address, TransportError> {
    if addr.is_null() {
        return Err(TransportError::invalid_parameter(
            "open: the address is NULL",
        ));
    }
    // SAFETY: non-NULL and valid during `open`, per LiteCore's contract.
    let a = unsafe { &*addr };
    let text = |s: LcwsSlice, what: &str| -> Result<String, TransportError> {
        // SAFETY: the slices of a valid C4Address are readable during `open`.
        let bytes = unsafe { slice_bytes(s) }.ok_or_else(|| {
            TransportError::invalid_parameter(format!("open: address {what} is NULL"))
        })?;
        String::from_utf8(bytes.to_vec()).map_err(|_| {
            TransportError::invalid_parameter(format!("open: address {what} is not UTF-8"))
        })
    };
    let address = Address {
        scheme: text(a.scheme, "scheme")?,
        host: text(a.hostname, "hostname")?,
        port: a.port,
        path: text(a.path, "path")?,
    };
    address.validate()?;
    Ok(address)
}

/// `C4SocketFactory.open`: starts connecting and returns at once.
///
/// `context` is the factory's `context`: NULL, or the `C4Database*` whose cookie store the
/// socket reads and updates (see `lcws_c4_factory` in `litecore_ws_c4.h`). `address` and
/// `options` are copied before the call returns.
///
/// # Safety
/// `socket` must be a live LiteCore socket (or NULL, refused); `address` must be NULL or point to
/// a valid `C4Address` whose slices are readable during the call; a non-NULL `options.buf` must
/// point to `options.size` readable bytes during the call.
#[no_mangle]
pub unsafe extern "C" fn lcws_socket_open(
    socket: *mut C4Socket,
    address: *const LcwsAddress,
    options: LcwsSlice,
    context: *mut c_void,
) {
    boundary("lcws_socket_open", (), || {
        if socket.is_null() {
            lcws_log!(
                Level::Error,
                None,
                "open called with a NULL socket: ignored"
            );
            return;
        }
        // A socket made by `c4socket_fromNative` around a connection our listener accepted:
        // its native handle is ours and knows how to start.
        let incoming = with_handle(socket, |h| (h.id, h.take_on_open()));
        if let Some((id, starter)) = incoming {
            let Some(starter) = starter else {
                lcws_log!(Level::Error, Some(id), "open called twice: ignored");
                return;
            };
            let Some(host_socket) = host::retain_socket(socket, id, context) else {
                lcws_log!(
                    Level::Error,
                    Some(id),
                    "open called before lcws_set_host: socket ignored"
                );
                return;
            };
            if let Err((host_socket, err)) = starter(Box::new(host_socket)) {
                lcws_log!(Level::Error, Some(id), "{err}");
                report_without_runtime(id, host_socket, err);
            }
            return;
        }
        let id = socket::next_id();
        let Some(host_socket) = host::retain_socket(socket, id, context) else {
            lcws_log!(
                Level::Error,
                Some(id),
                "open called before lcws_set_host: cannot reach LiteCore, socket ignored"
            );
            return;
        };
        if !host::native_handle(socket).is_null() {
            let err = TransportError::litecore(
                LiteCoreCode::Unsupported,
                "open: the socket has a native handle that is not litecore-ws's",
            );
            start_socket(socket, id, host_socket, Err(err));
            return;
        }
        // SAFETY: LiteCore passes a valid address and an options slice valid during `open`.
        let setup = unsafe { copy_address(address) }.and_then(|addr| {
            // SAFETY: as above.
            let bytes = unsafe { slice_bytes(options) }
                .ok_or_else(|| TransportError::invalid_parameter("open: options slice is NULL"))?;
            let opts = Options::from_fleece(bytes)
                .map_err(|e| TransportError::invalid_parameter(e.to_string()))?;
            Ok((addr, opts))
        });
        start_socket(socket, id, host_socket, setup);
    })
}

fn start_socket(
    socket: *mut C4Socket,
    id: u64,
    host_socket: HostSocket,
    setup: Result<(Address, crate::options::Options), TransportError>,
) {
    // The native handle is stored before the task starts: the task may finish (and LiteCore
    // may dispose the socket) before this function returns.
    let (handle, pending) = socket::prepare(id, None);
    let ptr = handles::register(handle);
    host::set_native_handle(socket, ptr.cast());
    let body: socket::RoleBody = match setup {
        Ok((address, options)) => Box::new(move |id, host, commands| {
            Box::pin(crate::client::run(id, host, address, options, commands))
        }),
        // Reported through `closed` from the socket's task, never inside `open`.
        Err(err) => Box::new(move |_, _, _| Box::pin(async move { Some(err) })),
    };
    if let Err((host_socket, err)) = pending.spawn(Box::new(host_socket), body) {
        lcws_log!(Level::Error, Some(id), "{err}");
        report_without_runtime(id, host_socket, err);
    }
}

/// The runtime could not start: `closed` is reported from a plain thread, so that it never runs
/// inside `open`.
fn report_without_runtime(id: u64, host_socket: Box<dyn LiteCoreSocket>, err: TransportError) {
    let spawned = std::thread::Builder::new()
        .name("lcws-close".into())
        .spawn(move || host_socket.closed(Some(&err)));
    if let Err(e) = spawned {
        lcws_log!(
            Level::Error,
            Some(id),
            "cannot start a thread either ({e}); socket leaked"
        );
    }
}

/// `C4SocketFactory.write`: queues one binary WebSocket message. litecore-ws owns `data` and
/// releases it exactly once with the host table's `release_buffer`, after it was sent (or
/// dropped because the socket closed).
///
/// # Safety
/// `socket` must be NULL or a socket LiteCore passed to `open` (it is handed to the host table's
/// `get_native_handle`); a non-NULL `data.buf` must point to `data.size` readable bytes holding
/// one reference that the caller gives up.
#[no_mangle]
pub unsafe extern "C" fn lcws_socket_write(socket: *mut C4Socket, data: LcwsSliceResult) {
    boundary("lcws_socket_write", (), || {
        let Some(buffer) = LiteCoreBuffer::adopt(data) else {
            lcws_log!(
                Level::Error,
                None,
                "write called before lcws_set_host: buffer leaked"
            );
            return;
        };
        let sent = with_handle(socket, |h| h.send(Command::Write(Box::new(buffer))));
        if sent.is_none() {
            // `buffer` moved into the closure only when it ran; otherwise it was dropped
            // (released) when the closure was dropped.
            lcws_log!(
                Level::Warning,
                None,
                "write on an unknown or disposed socket: buffer released"
            );
        }
    })
}

/// `C4SocketFactory.completedReceive`: LiteCore processed `byte_count` received bytes.
///
/// # Safety
/// `socket` must be NULL or a socket LiteCore passed to `open` and has not disposed.
#[no_mangle]
pub unsafe extern "C" fn lcws_socket_completed_receive(socket: *mut C4Socket, byte_count: usize) {
    boundary("lcws_socket_completed_receive", (), || {
        if with_handle(socket, |h| h.send(Command::CompletedReceive(byte_count))).is_none() {
            lcws_log!(
                Level::Warning,
                None,
                "completedReceive on an unknown or disposed socket: ignored"
            );
        }
    })
}

/// `C4SocketFactory.requestClose`: starts the close handshake (or aborts a connect in progress).
/// Returns at once; `closed` follows from a litecore-ws thread. May be called from inside
/// `close_requested`.
///
/// # Safety
/// `socket` must be NULL or a socket LiteCore passed to `open` and has not disposed; a non-NULL
/// `message.buf` must point to `message.size` readable bytes during the call.
#[no_mangle]
pub unsafe extern "C" fn lcws_socket_request_close(
    socket: *mut C4Socket,
    status: c_int,
    message: LcwsSlice,
) {
    boundary("lcws_socket_request_close", (), || {
        // SAFETY: LiteCore's message slice is valid during this call.
        let message = unsafe { slice_bytes(message) }
            .map(|b| String::from_utf8_lossy(b).into_owned())
            .unwrap_or_default();
        if with_handle(socket, |h| {
            h.send(Command::RequestClose { status, message })
        })
        .is_none()
        {
            lcws_log!(
                Level::Warning,
                None,
                "requestClose on an unknown or disposed socket: ignored"
            );
        }
    })
}

/// `C4SocketFactory.close`: byte-stream framing only. litecore-ws registers `kC4NoFraming`, where
/// LiteCore never calls this; if it is called anyway the socket is aborted with
/// `{LiteCore, 19 Unsupported}`. (Register this entry as NULL: LiteCore requires that.)
///
/// # Safety
/// `socket` must be NULL or a socket LiteCore passed to `open` and has not disposed.
#[no_mangle]
pub unsafe extern "C" fn lcws_socket_close(socket: *mut C4Socket) {
    boundary("lcws_socket_close", (), || {
        let err = TransportError::litecore(
            LiteCoreCode::Unsupported,
            "close() is for byte-stream framing; litecore-ws uses kC4NoFraming (requestClose)",
        );
        lcws_log!(Level::Error, None, "{}", err.message);
        with_handle(socket, |h| h.send(Command::Abort(err)));
    })
}

/// `C4SocketFactory.dispose`: LiteCore destroyed the socket. Frees litecore-ws's handle; a
/// connection still running finishes on its own (it holds no pointer to the socket by then,
/// because LiteCore disposes only after litecore-ws released its reference).
///
/// # Safety
/// `socket` must be NULL or a socket being destroyed by LiteCore (its native handle readable).
#[no_mangle]
pub unsafe extern "C" fn lcws_socket_dispose(socket: *mut C4Socket) {
    boundary("lcws_socket_dispose", (), || {
        if socket.is_null() {
            return;
        }
        // Only getNativeHandle is safe inside dispose (LiteCore 3.4+).
        let ptr = host::native_handle(socket);
        if let Some(handle) = handles::free(ptr) {
            lcws_log!(Level::Debug, Some(handle.id), "disposed");
        }
    })
}

/// `C4SocketFactory.attached` (LiteCore 3.4/4.1+): called for sockets made by
/// `c4socket_fromNative`. A socket made around a connection litecore-ws's listener accepted needs
/// nothing here (it starts at `open`); any other native handle is not litecore-ws's, so that
/// socket is closed with `{LiteCore, 19 Unsupported}`. Registering this entry as NULL is fine.
///
/// # Safety
/// `socket` must be NULL or a socket LiteCore just made with `c4socket_fromNative`.
#[no_mangle]
pub unsafe extern "C" fn lcws_socket_attached(socket: *mut C4Socket) {
    boundary("lcws_socket_attached", (), || {
        if socket.is_null() {
            return;
        }
        if let Some(id) = with_handle(socket, |h| h.id) {
            lcws_log!(Level::Debug, Some(id), "attached");
            return;
        }
        let id = socket::next_id();
        lcws_log!(
            Level::Error,
            Some(id),
            "attached: the native handle is not litecore-ws's; closing"
        );
        if let Some(host_socket) = host::retain_socket(socket, id, std::ptr::null_mut()) {
            let err = TransportError::litecore(
                LiteCoreCode::Unsupported,
                "litecore-ws cannot adopt sockets made by c4socket_fromNative around a foreign native handle",
            );
            start_socket(socket, id, host_socket, Err(err));
        }
    })
}

/// Installs the host table (copied). Call once, before registering the factory. Calling it
/// again with an identical table is allowed; a different table is refused with
/// `LCWS_STATUS_ALREADY_SET`.
///
/// # Safety
/// `table` must be NULL or point to a readable `LcwsHostTable` of at least `table->struct_size`
/// bytes whose non-NULL entries have the documented signatures.
#[no_mangle]
pub unsafe extern "C" fn lcws_set_host(table: *const LcwsHostTable) -> LcwsStatus {
    boundary("lcws_set_host", LcwsStatus::InternalError, || {
        // SAFETY: forwarded from this function's contract.
        match unsafe { host::set_host(table) } {
            Ok(()) => LcwsStatus::Ok,
            Err(e) => {
                lcws_log!(Level::Error, None, "lcws_set_host: {e}");
                match e {
                    host::SetHostError::AlreadySet => LcwsStatus::AlreadySet,
                    _ => LcwsStatus::InvalidArgument,
                }
            }
        }
    })
}

/// Sets the number of worker threads of the internal runtime (default 2, or the environment
/// variable `LCWS_WORKER_THREADS`). Only before the runtime starts (the first `open`, or after
/// `lcws_shutdown`): otherwise `LCWS_STATUS_ALREADY_STARTED`. Range 1–64.
#[no_mangle]
pub extern "C" fn lcws_set_worker_threads(count: u32) -> LcwsStatus {
    boundary("lcws_set_worker_threads", LcwsStatus::InternalError, || {
        match crate::runtime::set_worker_threads(count as usize) {
            Ok(()) => LcwsStatus::Ok,
            Err(crate::runtime::RuntimeError::AlreadyStarted) => LcwsStatus::AlreadyStarted,
            Err(e) => {
                lcws_log!(Level::Error, None, "lcws_set_worker_threads: {e}");
                LcwsStatus::InvalidArgument
            }
        }
    })
}

/// Sets the log threshold (0 debug, 1 verbose, 2 info, 3 warning, 4 error, 5 none), overriding
/// the environment variable `LCWS_LOG`.
#[no_mangle]
pub extern "C" fn lcws_set_log_level(level: c_int) {
    boundary("lcws_set_log_level", (), || {
        crate::log::set_threshold(level)
    })
}

static GLOBAL_REGISTRATION_CLAIMED: AtomicBool = AtomicBool::new(false);

/// Claims the one global `c4socket_registerFactory` call of this process: returns true to the
/// first caller only, false to every later one (from any thread, any library). LiteCore
/// terminates the process on a second registration, so glue code registers only after winning
/// this claim.
#[no_mangle]
pub extern "C" fn lcws_claim_global_registration() -> bool {
    boundary("lcws_claim_global_registration", false, || {
        !GLOBAL_REGISTRATION_CLAIMED.swap(true, Ordering::SeqCst)
    })
}

/// True once a host table was installed by `lcws_set_host`.
#[no_mangle]
pub extern "C" fn lcws_host_is_set() -> bool {
    boundary("lcws_host_is_set", false, host::host_is_set)
}

/// How long `lcws_shutdown` waits for open sockets to report `closed`.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// Stops litecore-ws for a host that is about to unload it: every open socket is closed with
/// `{WebSocket, 1001 GoingAway}` (each gets its one `closed`), then the worker threads stop.
/// A later `open` starts them again.
///
/// Call from an application thread, never from inside a litecore-ws callback or log sink
/// (refused with `LCWS_STATUS_IN_CALLBACK`). Returns `LCWS_STATUS_BUSY`, stopping nothing further, when some
/// socket did not report `closed` within 5 seconds (a host callback is blocking).
#[no_mangle]
pub extern "C" fn lcws_shutdown() -> LcwsStatus {
    boundary("lcws_shutdown", LcwsStatus::InternalError, || {
        if host::in_host_call() || crate::runtime::on_runtime_thread() {
            lcws_log!(
                Level::Warning,
                None,
                "lcws_shutdown refused: called from a litecore-ws callback or thread"
            );
            return LcwsStatus::InCallback;
        }
        let listeners = super::listener::running();
        if listeners > 0 {
            lcws_log!(
                Level::Warning,
                None,
                "lcws_shutdown: {listeners} listener(s) still running; free them first"
            );
            return LcwsStatus::Busy;
        }
        let going_away =
            TransportError::websocket(close_code::GOING_AWAY, "litecore-ws is shutting down");
        let remaining = socket::stop_all(
            |_, _| true,
            || Command::Abort(going_away.clone()),
            SHUTDOWN_GRACE,
        );
        if remaining > 0 {
            lcws_log!(
                Level::Warning,
                None,
                "lcws_shutdown: {remaining} socket(s) still closing; runtime left running"
            );
            return LcwsStatus::Busy;
        }
        match crate::runtime::shutdown(Duration::from_secs(1)) {
            Ok(_) => LcwsStatus::Ok,
            Err(_) => LcwsStatus::InCallback,
        }
    })
}

/// litecore-ws's version as a static NUL-terminated string ("0.1.0"). Never NULL; do not free.
#[no_mangle]
pub extern "C" fn lcws_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_macros_match_cargo_toml() {
        let v = format!("{LCWS_VERSION_MAJOR}.{LCWS_VERSION_MINOR}.{LCWS_VERSION_PATCH}");
        assert_eq!(v, env!("CARGO_PKG_VERSION"));
        // SAFETY: lcws_version returns a static NUL-terminated string.
        let s = unsafe { std::ffi::CStr::from_ptr(lcws_version()) };
        assert_eq!(s.to_str().unwrap(), env!("CARGO_PKG_VERSION"));
    }

    #[test]
    fn boundary_turns_panics_into_fallback() {
        assert_eq!(boundary("t", 7, || panic!("boom")), 7);
        assert_eq!(boundary("t", 7, || 3), 3);
    }
}
