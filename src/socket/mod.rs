//! Sockets: one task per socket, for both roles, and the registry of live ones.
//!
//! LiteCore's factory callbacks (`write`, `completedReceive`, `requestClose`, …) never touch a
//! connection directly: they push a [`Command`] into the socket's queue and return at once. The
//! socket's task is the only code that calls back into LiteCore for its socket, so those calls
//! are serialized without a lock and a synchronous `requestClose` from inside `closeRequested`
//! cannot deadlock. The task ends by handing its [`LiteCoreSocket`] to `closed`, which consumes
//! it: "exactly one `closed`, nothing after it" holds on every path, a panic included (the role's
//! future runs under `catch_unwind`; see [`Pending::spawn`]).
//!
//! What a socket does between its start and its end is its role's business: `client::run`
//! connects and then runs a [`session::Session`], `server::serve` answers an accepted upgrade and
//! then runs one. This module knows neither.

pub mod close;
pub mod session;
mod writes;

use crate::error::{LiteCoreCode, TransportError};
use crate::litecore::{Command, LiteCoreSocket};
use crate::{lcws_log, log::Level, runtime};
use futures_util::future::BoxFuture;
use futures_util::FutureExt;
use std::collections::HashMap;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// What an incoming socket's `open` runs: given the socket's LiteCore side, start its task
/// (or give the LiteCore side back with the error to report).
pub type Starter = Box<
    dyn FnOnce(Box<dyn LiteCoreSocket>) -> Result<(), (Box<dyn LiteCoreSocket>, TransportError)>
        + Send,
>;

/// What the factory stores as the socket's native handle.
pub struct SocketHandle {
    pub id: u64,
    commands: mpsc::UnboundedSender<Command>,
    /// For a socket the listener accepted: what LiteCore's `open` starts (taken by it). `None`
    /// for the sockets LiteCore opens to connect out.
    on_open: Mutex<Option<Starter>>,
}

impl SocketHandle {
    /// Makes this an incoming socket that `starter` starts when LiteCore opens it.
    pub fn start_on_open(&mut self, starter: Starter) {
        *self.on_open.get_mut().unwrap_or_else(|p| p.into_inner()) = Some(starter);
    }

    /// What LiteCore's `open` starts, once: `None` for outgoing sockets and after the first.
    pub fn take_on_open(&self) -> Option<Starter> {
        self.on_open
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
    }

    /// Queues work for the socket's task. After the task ended the command is dropped, which
    /// releases any buffer it holds.
    pub fn send(&self, command: Command) {
        if let Err(mpsc::error::SendError(Command::Write(_))) = self.commands.send(command) {
            lcws_log!(
                Level::Debug,
                Some(self.id),
                "write after close: buffer released unsent"
            );
        }
    }
}

struct Live {
    commands: mpsc::UnboundedSender<Command>,
    listener: Option<u64>,
}

// Live sockets, so that shutdown (or a listener's stop) can end them and wait for `closed`.
static NEXT_ID: AtomicU64 = AtomicU64::new(1);
static LIVE: Mutex<Option<HashMap<u64, Live>>> = Mutex::new(None);
static LIVE_CHANGED: Condvar = Condvar::new();

fn live() -> std::sync::MutexGuard<'static, Option<HashMap<u64, Live>>> {
    LIVE.lock().unwrap_or_else(|p| p.into_inner())
}

/// Which sockets an operation applies to: given a socket's id and the listener that accepted
/// it (`None` for outgoing sockets).
pub trait Select: Fn(u64, Option<u64>) -> bool {}
impl<F: Fn(u64, Option<u64>) -> bool> Select for F {}

fn count_in(map: &Option<HashMap<u64, Live>>, select: &impl Select) -> usize {
    map.as_ref().map_or(0, |m| {
        m.iter().filter(|(id, l)| select(**id, l.listener)).count()
    })
}

/// Allocates the next socket id (ids appear in log lines).
pub fn next_id() -> u64 {
    NEXT_ID.fetch_add(1, Ordering::Relaxed)
}

/// A socket whose handle exists but whose task has not started yet.
pub struct Pending {
    id: u64,
    listener: Option<u64>,
    commands: mpsc::UnboundedSender<Command>,
    queue: mpsc::UnboundedReceiver<Command>,
}

/// Creates the socket's command queue and handle. The FFI stores the handle as the socket's
/// native handle *before* the task starts, because the task may finish (and LiteCore dispose
/// the socket) at any moment after [`Pending::spawn`]. `listener` names the listener that
/// accepted an incoming socket, so that its stop reaches exactly its sockets.
pub fn prepare(id: u64, listener: Option<u64>) -> (SocketHandle, Pending) {
    let (tx, rx) = mpsc::unbounded_channel();
    let handle = SocketHandle {
        id,
        commands: tx.clone(),
        on_open: Mutex::new(None),
    };
    (
        handle,
        Pending {
            id,
            listener,
            commands: tx,
            queue: rx,
        },
    )
}

/// A role's work for one socket: given the socket's id, its LiteCore side and its command
/// queue, run until the socket ends and return what `closed` reports (`None` = clean).
pub type RoleBody = Box<
    dyn for<'a> FnOnce(
            u64,
            &'a mut dyn LiteCoreSocket,
            &'a mut mpsc::UnboundedReceiver<Command>,
        ) -> BoxFuture<'a, Option<TransportError>>
        + Send,
>;

impl Pending {
    /// Starts the socket's task on the runtime. Fails only when the runtime cannot start; the
    /// caller then gets the LiteCore side back to report the error itself.
    pub fn spawn(
        self,
        host: Box<dyn LiteCoreSocket>,
        body: RoleBody,
    ) -> Result<(), (Box<dyn LiteCoreSocket>, TransportError)> {
        let runtime = match runtime::handle() {
            Ok(h) => h,
            Err(e) => {
                let err =
                    TransportError::litecore(LiteCoreCode::Unsupported, format!("litecore-ws {e}"));
                return Err((host, err));
            }
        };
        live().get_or_insert_with(HashMap::new).insert(
            self.id,
            Live {
                commands: self.commands,
                listener: self.listener,
            },
        );
        runtime.spawn(run(self.id, host, self.queue, body));
        Ok(())
    }
}

/// Removes the socket from the registry when dropped: on the normal path after `closed`, and
/// even if reporting `closed` itself failed.
struct Registered(u64);

impl Drop for Registered {
    fn drop(&mut self) {
        let mut guard = live();
        if let Some(map) = guard.as_mut() {
            map.remove(&self.0);
        }
        LIVE_CHANGED.notify_all();
    }
}

/// The socket's task: the role's work under a panic guard, then exactly one `closed`.
async fn run(
    id: u64,
    mut host: Box<dyn LiteCoreSocket>,
    mut commands: mpsc::UnboundedReceiver<Command>,
    body: RoleBody,
) {
    let _registered = Registered(id);
    let started = Instant::now();
    // The role's future borrows the LiteCore side; when it panics, catch_unwind drops it, which
    // ends the borrow, and the LiteCore side is still here to report `closed`.
    let outcome = AssertUnwindSafe(async {
        test_panic_hook(id, "start");
        body(id, &mut *host, &mut commands).await
    })
    .catch_unwind()
    .await;
    let result = outcome.unwrap_or_else(|panic| {
        let what = crate::log::panic_message(panic.as_ref());
        lcws_log!(
            Level::Error,
            Some(id),
            "internal error (panic) in the socket's task: {what}"
        );
        Some(TransportError::litecore(
            LiteCoreCode::UnexpectedError,
            format!("litecore-ws internal error: {what}"),
        ))
    });
    match &result {
        None => lcws_log!(
            Level::Info,
            Some(id),
            "closed cleanly after {:?}",
            started.elapsed()
        ),
        Some(e) => lcws_log!(Level::Warning, Some(id), "closed with error {e}"),
    }
    host.closed(result.as_ref());
    // Anything still queued (writes LiteCore sent meanwhile) is dropped, releasing buffers.
    commands.close();
    while commands.try_recv().is_ok() {}
}

/// Test-only fault injection: `LCWS_TEST_PANIC=<stage>` makes every socket's task panic at that
/// stage (`start`: before the role's work; `open`: right after `opened`), so the C tests can
/// prove that a panic still ends in exactly one `closed`. Unset in normal use. Read once per
/// process, so every socket pays one atomic load, not an environment lookup.
pub fn test_panic_hook(id: u64, stage: &str) {
    static STAGE: std::sync::OnceLock<Option<std::ffi::OsString>> = std::sync::OnceLock::new();
    let wanted = STAGE.get_or_init(|| std::env::var_os("LCWS_TEST_PANIC"));
    if wanted.as_deref().is_some_and(|v| v == stage) {
        panic!("LCWS_TEST_PANIC={stage} (socket #{id})");
    }
}

/// Stops every selected live socket with `command` (an [`Command::Abort`] or a
/// [`Command::GoAway`]) and waits up to `grace` for their `closed` calls. Returns how many were
/// still alive when the wait ended.
pub fn stop_all(select: impl Select, command: impl Fn() -> Command, grace: Duration) -> usize {
    let deadline = Instant::now() + grace;
    let mut guard = live();
    if let Some(map) = guard.as_ref() {
        for (id, l) in map {
            if select(*id, l.listener) {
                let _ = l.commands.send(command());
            }
        }
    }
    loop {
        let remaining = count_in(&guard, &select);
        let now = Instant::now();
        if remaining == 0 || now >= deadline {
            return remaining;
        }
        guard = LIVE_CHANGED
            .wait_timeout(guard, deadline - now)
            .unwrap_or_else(|p| p.into_inner())
            .0;
    }
}
