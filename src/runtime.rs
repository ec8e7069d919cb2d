//! The one internal tokio runtime every socket runs on.
//!
//! Started lazily by the first `open`, with a small fixed number of worker threads (default 2;
//! `LCWS_WORKER_THREADS` or `lcws_set_worker_threads` before first use). The thread count never
//! grows with the number of sockets. [`shutdown`] stops it for hosts that unload the library; a
//! later `open` starts a fresh one.

use std::cell::Cell;
use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Duration;
use tokio::runtime::{Handle, Runtime};

pub const DEFAULT_WORKER_THREADS: usize = 2;
/// Upper bound for the configured worker count; more threads never help a transport.
pub const MAX_WORKER_THREADS: usize = 64;

/// 0 = not configured by the host (use the environment or the default).
static CONFIGURED_WORKERS: AtomicUsize = AtomicUsize::new(0);
static RUNTIME: Mutex<Option<Runtime>> = Mutex::new(None);

thread_local! {
    /// Set on the threads of litecore-ws's own runtime (workers and its blocking pool) when they
    /// start. Any other thread, including those of a tokio runtime the host runs itself, is not
    /// one of ours.
    static OURS: Cell<bool> = const { Cell::new(false) };
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RuntimeError {
    /// The runtime is running; the worker count can only change before it starts.
    AlreadyStarted,
    /// The worker count is 0 or above [`MAX_WORKER_THREADS`].
    BadWorkerCount(usize),
    /// tokio could not start its threads.
    StartFailed(String),
    /// Called from a thread that must not block on the runtime (one of its own workers).
    OnRuntimeThread,
}

impl fmt::Display for RuntimeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RuntimeError::AlreadyStarted => write!(f, "the runtime is already running"),
            RuntimeError::BadWorkerCount(n) => {
                write!(
                    f,
                    "worker thread count must be 1–{MAX_WORKER_THREADS}, not {n}"
                )
            }
            RuntimeError::StartFailed(e) => write!(f, "could not start the runtime: {e}"),
            RuntimeError::OnRuntimeThread => {
                write!(f, "cannot be called from one of litecore-ws's own threads")
            }
        }
    }
}

impl std::error::Error for RuntimeError {}

fn lock() -> std::sync::MutexGuard<'static, Option<Runtime>> {
    RUNTIME.lock().unwrap_or_else(|p| p.into_inner())
}

/// Sets the worker count for the next start of the runtime.
pub fn set_worker_threads(n: usize) -> Result<(), RuntimeError> {
    if n == 0 || n > MAX_WORKER_THREADS {
        return Err(RuntimeError::BadWorkerCount(n));
    }
    let guard = lock();
    if guard.is_some() {
        return Err(RuntimeError::AlreadyStarted);
    }
    CONFIGURED_WORKERS.store(n, Ordering::SeqCst);
    Ok(())
}

/// The worker count the runtime uses (or will use when it starts).
pub fn worker_threads() -> usize {
    match CONFIGURED_WORKERS.load(Ordering::SeqCst) {
        0 => std::env::var("LCWS_WORKER_THREADS")
            .ok()
            .and_then(|v| v.trim().parse::<usize>().ok())
            .filter(|n| (1..=MAX_WORKER_THREADS).contains(n))
            .unwrap_or(DEFAULT_WORKER_THREADS),
        n => n,
    }
}

/// A handle to the running runtime, starting it on first use.
pub fn handle() -> Result<Handle, RuntimeError> {
    let mut guard = lock();
    if let Some(rt) = guard.as_ref() {
        return Ok(rt.handle().clone());
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(worker_threads())
        // Blocking work (DNS lookups) gets a small, bounded pool of its own.
        .max_blocking_threads(4)
        .thread_name("lcws-worker")
        .on_thread_start(|| {
            OURS.with(|o| o.set(true));
            // A peer that resets must end a socket, not the host process.
            crate::signals::block_sigpipe_on_this_thread();
        })
        .enable_io()
        .enable_time()
        .build()
        .map_err(|e| RuntimeError::StartFailed(e.to_string()))?;
    let handle = rt.handle().clone();
    *guard = Some(rt);
    Ok(handle)
}

/// True when the calling thread is one of litecore-ws's runtime threads (not merely a thread
/// of some tokio runtime: a host may run its own).
pub fn on_runtime_thread() -> bool {
    OURS.with(Cell::get)
}

/// Stops the runtime, waiting up to `grace` for its tasks to end. Returns false when no runtime
/// was running.
pub fn shutdown(grace: Duration) -> Result<bool, RuntimeError> {
    if on_runtime_thread() {
        return Err(RuntimeError::OnRuntimeThread);
    }
    let rt = lock().take();
    match rt {
        Some(rt) => {
            rt.shutdown_timeout(grace);
            Ok(true)
        }
        None => Ok(false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_our_own_threads_count_as_ours() {
        // A tokio runtime of the host's own is not litecore-ws's.
        let foreign = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        assert!(!foreign.block_on(async { on_runtime_thread() }));
        assert!(!on_runtime_thread());
        let ours = handle().unwrap();
        let inside = std::thread::scope(|s| {
            s.spawn(|| {
                ours.block_on(ours.spawn(async { on_runtime_thread() }))
                    .unwrap()
            })
            .join()
            .unwrap()
        });
        assert!(
            inside,
            "a task on litecore-ws's runtime is on one of its threads"
        );
        let blocking = ours
            .block_on(ours.spawn_blocking(on_runtime_thread))
            .unwrap();
        assert!(blocking, "its blocking pool is its own too");
        // Our threads block SIGPIPE (a reset peer must not kill a C host); the caller's don't.
        let masked = ours
            .block_on(ours.spawn(async { crate::signals::sigpipe_blocked_on_this_thread() }))
            .unwrap();
        assert!(
            masked,
            "SIGPIPE is not blocked on litecore-ws's worker thread"
        );
        assert!(!crate::signals::sigpipe_blocked_on_this_thread());
    }

    #[test]
    fn worker_count_bounds() {
        assert_eq!(set_worker_threads(0), Err(RuntimeError::BadWorkerCount(0)));
        assert_eq!(
            set_worker_threads(MAX_WORKER_THREADS + 1),
            Err(RuntimeError::BadWorkerCount(MAX_WORKER_THREADS + 1))
        );
    }
}
