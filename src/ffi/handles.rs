//! The native handles litecore-ws gave out: addresses of live `SocketHandle`s, checked on every
//! factory callback, so a native handle that is not ours (another transport's socket, or
//! garbage) is never dereferenced, and a disposed one never twice.

use super::host;
use super::types::C4Socket;
use crate::handle_set::HandleSet;
use crate::socket::SocketHandle;
use std::sync::Mutex;

/// Addresses of the live `SocketHandle`s, so a native handle that is not ours (a socket made by
/// `c4socket_fromNative`, or garbage) is never dereferenced.
pub(super) static HANDLES: Mutex<Option<HandleSet>> = Mutex::new(None);

pub(super) fn handles() -> std::sync::MutexGuard<'static, Option<HandleSet>> {
    HANDLES.lock().unwrap_or_else(|p| p.into_inner())
}

/// Runs `f` with the socket's handle, if the socket is one of ours and not yet disposed.
pub(super) fn with_handle<R>(
    socket: *mut C4Socket,
    f: impl FnOnce(&SocketHandle) -> R,
) -> Option<R> {
    if socket.is_null() {
        return None;
    }
    let ptr = host::native_handle(socket);
    let guard = handles();
    if ptr.is_null() || !guard.as_ref().is_some_and(|s| s.contains(&(ptr as usize))) {
        return None;
    }
    // SAFETY: `ptr` is in HANDLES, so it came from `Box::into_raw` in `register` and has not been
    // freed (`free` removes it from the set, under this same lock, before freeing).
    let handle = unsafe { &*(ptr as *const SocketHandle) };
    Some(f(handle))
}

/// Makes `handle` a native handle: boxed, its address registered. The box is freed by
/// [`free`] (dispose, or a hand-over nobody took).
pub(super) fn register(handle: SocketHandle) -> *mut SocketHandle {
    let ptr = Box::into_raw(Box::new(handle));
    handles()
        .get_or_insert_with(HandleSet::default)
        .insert(ptr as usize);
    ptr
}

/// Frees a native handle if it is still registered; returns it when it was. Removing it from
/// the set under the lock makes this the only free.
pub(super) fn free(ptr: *mut std::ffi::c_void) -> Option<Box<SocketHandle>> {
    let owned = handles()
        .as_mut()
        .is_some_and(|s| s.remove(&(ptr as usize)));
    // SAFETY: `ptr` was in HANDLES, so it is a live `Box<SocketHandle>` from `register`, and it
    // just left the set under the lock, so no other call frees it.
    owned.then(|| unsafe { Box::from_raw(ptr.cast::<SocketHandle>()) })
}
