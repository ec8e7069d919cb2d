//! The listener's C API: `lcws_listener_*` and `lcws_connection_report`.
//!
//! The listener needs LiteCore for two things it cannot do without linking it: wrapping an
//! accepted connection in a `C4Socket` and running a passive replicator on it. The host does
//! both in `LcwsListenerConfig.accept` (the glue header's `lcws_c4listener_start` fills it from
//! LiteCore's functions); litecore-ws does everything else.

use super::exports::{boundary, slice_bytes, LcwsStatus};
use super::handles;
use super::host::{self, host_call};
use super::types::{LcwsAddress, LcwsError, LcwsSlice};
use crate::error::TransportError;
use crate::handle_set::HandleSet;
use crate::server::{self, Activity, Connection, Incoming, Listener, ListenerHost, Share};
use crate::socket::SocketHandle;
use crate::tls;
use crate::{lcws_log, log::Level};
use std::ffi::{c_int, c_void};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A running listener (opaque). Made by `lcws_listener_start`, freed by `lcws_listener_free`.
pub struct LcwsListener {
    inner: Listener,
}

/// One accepted connection handed to the host (opaque); the host reports on its replicator with
/// `lcws_connection_report` until it reports `LCWS_ACTIVITY_STOPPED`.
pub struct LcwsConnection {
    _opaque: (),
}

/// What the host reports about a connection's replicator (`C4ReplicatorActivityLevel` maps to
/// it: stopped → `Stopped`, busy → `Busy`, anything else → `Idle`).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LcwsActivity {
    Idle = 0,
    Busy = 1,
    /// The replicator stopped: litecore-ws calls `release` for it (from one of its threads), and
    /// the `LcwsConnection` is gone after this call.
    Stopped = 2,
}

/// A collection shared under a database name.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct LcwsCollectionName {
    pub scope: LcwsSlice,
    pub name: LcwsSlice,
}

/// An upgraded connection for the host to hand to LiteCore (`LcwsListenerConfig.accept`).
/// Everything here is valid only during that call.
#[repr(C)]
pub struct LcwsIncoming {
    /// Report this connection's replicator state with `lcws_connection_report`.
    pub connection: *mut LcwsConnection,
    /// Pass to `c4socket_fromNative` as the native handle (with litecore-ws's socket factory).
    pub native_handle: *mut c_void,
    /// Pass to `c4socket_fromNative` as the address: the peer (scheme ws/wss, its IP, its port,
    /// the request path).
    pub peer: LcwsAddress,
    /// The `database` given to `lcws_listener_share` for this name.
    pub database: *mut c_void,
    pub database_name: LcwsSlice,
    /// The collections shared under this name; none: the default collection.
    pub collections: *const LcwsCollectionName,
    pub collection_count: usize,
    /// The subprotocol chosen (already agreed with the client).
    pub protocol: LcwsSlice,
    /// The user who authenticated with Basic credentials; empty otherwise.
    pub user: LcwsSlice,
    /// The client may push (run the passive replicator's pull as passive) / may pull (its
    /// push as passive); a mode not allowed is disabled.
    pub allow_push: bool,
    pub allow_pull: bool,
    /// The passive replicator's options (a Fleece dict, `C4ReplicatorParameters.optionsDictFleece`).
    pub replicator_options: LcwsSlice,
}

/// A listener's configuration. Zero-fill it, set `struct_size = sizeof(LcwsListenerConfig)`,
/// then the fields you need: zero means the default everywhere.
#[repr(C)]
pub struct LcwsListenerConfig {
    /// `sizeof(LcwsListenerConfig)` as the caller compiled it (later releases may add fields at
    /// the end; missing ones count as zero).
    pub struct_size: usize,
    /// 0: any free port (read it back with `lcws_listener_port`).
    pub port: u16,
    /// An interface name (`eth0`) or one of this host's addresses; empty: every interface.
    pub network_interface: LcwsSlice,
    /// Plain ws. Without it the listener speaks wss.
    pub disable_tls: bool,
    /// The TLS certificate chain (leaf first) and its private key, PEM or DER (RSA, ECDSA or
    /// Ed25519). Both empty: an anonymous self-signed identity is generated at start (read its
    /// certificate with `lcws_listener_certificate`, for peers to pin).
    pub certificate: LcwsSlice,
    pub private_key: LcwsSlice,
    /// Clients must present a certificate that chains to `root_client_certs` (PEM or DER) when
    /// given, and that `check_certificate` accepts when set (one of the two is needed).
    pub require_client_certs: bool,
    pub root_client_certs: LcwsSlice,
    /// What clients may do: push into the shared databases, pull from them; delta sync.
    pub allow_push: bool,
    pub allow_pull: bool,
    pub enable_delta_sync: bool,
    /// Most connections at once (default 1024); more are answered 503.
    pub max_connections: u32,
    /// TLS and the upgrade request must be done within this (default 15000 ms).
    pub handshake_timeout_ms: u32,
    /// Largest upgrade request head (default 65536 bytes); larger ones are answered 431.
    pub max_request_head_bytes: u32,
    /// The server's Ping after this many seconds without hearing from a client (default 300).
    pub heartbeat_seconds: u32,
    /// The `Server` header (default `litecore-ws/<version>`).
    pub server_name: LcwsSlice,
    /// Passed to every callback below.
    pub context: *mut c_void,
    /// Required: `accept(context, incoming)` wraps the connection in a LiteCore socket
    /// (`c4socket_fromNative` with litecore-ws's factory) and starts a passive replicator on it.
    /// Returns the host's handle for the connection (typically the `C4Replicator*`), passed back
    /// to `release`; NULL when it could not (the client is answered 503; a socket it made must be
    /// released before returning NULL). Called on a litecore-ws thread, concurrently for
    /// different connections.
    pub accept: Option<unsafe extern "C" fn(*mut c_void, *const LcwsIncoming) -> *mut c_void>,
    /// Required: `release(context, handle)`: the connection's replicator stopped; free it
    /// (`c4repl_free`). Called on a litecore-ws thread, never inside `lcws_connection_report`.
    pub release: Option<unsafe extern "C" fn(*mut c_void, *mut c_void)>,
    /// Optional: `check_password(context, database, user, password)`. With it, every client
    /// must send Basic credentials that it accepts (401 with `WWW-Authenticate: Basic`
    /// otherwise). Called on a litecore-ws thread.
    pub check_password:
        Option<unsafe extern "C" fn(*mut c_void, LcwsSlice, LcwsSlice, LcwsSlice) -> bool>,
    /// Optional: `check_certificate(context, certificate_der)` judges each client certificate
    /// during the TLS handshake (a refusal is a TLS alert). Called on a litecore-ws thread; keep
    /// it quick.
    pub check_certificate: Option<unsafe extern "C" fn(*mut c_void, LcwsSlice) -> bool>,
    /// Optional: `release_database(context, database)`: a share ended; the host's reference to
    /// the database may go. Called from `lcws_listener_share` (replacing a share),
    /// `lcws_listener_unshare` and `lcws_listener_free`, on the calling thread.
    pub release_database: Option<unsafe extern "C" fn(*mut c_void, *mut c_void)>,
}

/// Smallest `struct_size` accepted: everything up to `release_database`.
const MIN_CONFIG_SIZE: usize =
    std::mem::offset_of!(LcwsListenerConfig, release_database) + std::mem::size_of::<usize>();

/// The C callbacks, as the listener calls them.
struct CHost {
    context: Ctx,
    accept: AcceptFn,
    release: ReleaseFn,
    check_password: Option<CheckPasswordFn>,
    release_database: Option<ReleaseFn>,
}

type AcceptFn = unsafe extern "C" fn(*mut c_void, *const LcwsIncoming) -> *mut c_void;
type ReleaseFn = unsafe extern "C" fn(*mut c_void, *mut c_void);
type CheckPasswordFn = unsafe extern "C" fn(*mut c_void, LcwsSlice, LcwsSlice, LcwsSlice) -> bool;

/// The host's context pointer.
#[derive(Clone, Copy)]
struct Ctx(*mut c_void);
// SAFETY: the header documents that the callbacks are called from litecore-ws's threads with
// this context; sharing it across threads is what the host agreed to.
unsafe impl Send for Ctx {}
// SAFETY: as above.
unsafe impl Sync for Ctx {}

/// The `LcwsConnection` pointers given to the host and not yet returned through a Stopped
/// report (or a refused hand-over), so that a stale or foreign pointer is never dereferenced.
static CONNECTIONS: Mutex<Option<HandleSet>> = Mutex::new(None);

fn connections() -> std::sync::MutexGuard<'static, Option<HandleSet>> {
    CONNECTIONS.lock().unwrap_or_else(|p| p.into_inner())
}

/// Gives the host a pointer to `c` (one strong reference, returned by [`take_connection`]).
fn lend_connection(c: &Arc<Connection>) -> *mut LcwsConnection {
    let ptr = Arc::into_raw(c.clone()) as *mut LcwsConnection;
    connections()
        .get_or_insert_with(HandleSet::default)
        .insert(ptr as usize);
    ptr
}

/// Takes back the reference lent to the host, if `ptr` is one of ours still out.
fn take_connection(ptr: *mut LcwsConnection) -> Option<Arc<Connection>> {
    let lent = connections()
        .as_mut()
        .is_some_and(|s| s.remove(&(ptr as usize)));
    // SAFETY: `ptr` came from `Arc::into_raw` in `lend_connection` and just left the set under
    // the lock, so this is the one `from_raw` for that reference.
    lent.then(|| unsafe { Arc::from_raw(ptr as *const Connection) })
}

/// Borrows the connection behind a pointer still out.
fn with_connection<R>(
    ptr: *mut LcwsConnection,
    f: impl FnOnce(&Arc<Connection>) -> R,
) -> Option<R> {
    let guard = connections();
    if !guard.as_ref().is_some_and(|s| s.contains(&(ptr as usize))) {
        return None;
    }
    // SAFETY: the pointer is in the set, so its reference is still lent out and the Arc alive;
    // `ManuallyDrop` keeps this borrow from giving the reference back.
    let c = std::mem::ManuallyDrop::new(unsafe { Arc::from_raw(ptr as *const Connection) });
    Some(f(&c))
}

impl ListenerHost for CHost {
    fn hand_over(&self, socket: SocketHandle, incoming: &Incoming<'_>) -> Option<usize> {
        let native = handles::register(socket);
        let connection = lend_connection(incoming.connection);
        let share = incoming.database;
        let collections: Vec<LcwsCollectionName> = share
            .collections
            .iter()
            .map(|(scope, name)| LcwsCollectionName {
                scope: LcwsSlice::from_bytes(scope.as_bytes()),
                name: LcwsSlice::from_bytes(name.as_bytes()),
            })
            .collect();
        let c = LcwsIncoming {
            connection,
            native_handle: native.cast(),
            peer: LcwsAddress {
                scheme: LcwsSlice::from_bytes(incoming.peer.scheme.as_bytes()),
                hostname: LcwsSlice::from_bytes(incoming.peer.host.as_bytes()),
                port: incoming.peer.port,
                path: LcwsSlice::from_bytes(incoming.peer.path.as_bytes()),
            },
            database: share.database as *mut c_void,
            database_name: LcwsSlice::from_bytes(share.name.as_bytes()),
            collections: collections.as_ptr(),
            collection_count: collections.len(),
            protocol: LcwsSlice::from_bytes(incoming.protocol.as_bytes()),
            user: LcwsSlice::from_bytes(incoming.user.as_bytes()),
            allow_push: incoming.allow_push,
            allow_pull: incoming.allow_pull,
            replicator_options: LcwsSlice::from_bytes(incoming.replicator_options),
        };
        let accept = self.accept;
        let ctx = self.context;
        // SAFETY: `accept` is the host's function with the documented signature; `c` and
        // everything it points to outlive the call.
        let token = host_call(|| unsafe { accept(ctx.0, &c) });
        if token.is_null() {
            // Nobody took the socket: its handle is ours to free (unless LiteCore made a socket
            // of it and disposed of it already, which freed it), and the connection is back.
            handles::free(native.cast());
            take_connection(connection);
            return None;
        }
        Some(token as usize)
    }

    fn release(&self, token: usize) {
        let (release, ctx) = (self.release, self.context);
        // SAFETY: `release` is the host's function; `token` is what its `accept` returned.
        host_call(|| unsafe { release(ctx.0, token as *mut c_void) });
    }

    fn check_password(&self, database: &str, user: &str, password: &[u8]) -> bool {
        let Some(check) = self.check_password else {
            return false;
        };
        let ctx = self.context;
        // SAFETY: the host's function; the slices outlive the call.
        host_call(|| unsafe {
            check(
                ctx.0,
                LcwsSlice::from_bytes(database.as_bytes()),
                LcwsSlice::from_bytes(user.as_bytes()),
                LcwsSlice::from_bytes(password),
            )
        })
    }

    fn release_database(&self, database: usize) {
        if let Some(release) = self.release_database {
            let ctx = self.context;
            // SAFETY: the host's function; `database` is what it gave `lcws_listener_share`.
            host_call(|| unsafe { release(ctx.0, database as *mut c_void) });
        }
    }
}

/// Listeners running (`lcws_shutdown` refuses while there are any).
static RUNNING: AtomicUsize = AtomicUsize::new(0);

/// Number of listeners not yet freed.
pub(crate) fn running() -> usize {
    RUNNING.load(Ordering::SeqCst)
}

/// Copies the caller's config (at most our size; a smaller one is zero-extended).
///
/// # Safety
/// `config` must be NULL or point to at least `config->struct_size` readable bytes.
unsafe fn copy_config(config: *const LcwsListenerConfig) -> Result<LcwsListenerConfig, String> {
    if config.is_null() {
        return Err("the config pointer is NULL".into());
    }
    // SAFETY: non-NULL and readable for its first field, per this function's contract.
    let declared = unsafe { std::ptr::addr_of!((*config).struct_size).read_unaligned() };
    if declared < MIN_CONFIG_SIZE {
        return Err(format!(
            "struct_size {declared} is smaller than {MIN_CONFIG_SIZE}; set it to sizeof(LcwsListenerConfig)"
        ));
    }
    let n = declared.min(std::mem::size_of::<LcwsListenerConfig>());
    let mut copy = std::mem::MaybeUninit::<LcwsListenerConfig>::zeroed();
    // SAFETY: the caller guarantees `declared` readable bytes; we copy at most our own size
    // into a zeroed struct (all-zero is a valid LcwsListenerConfig: integers, bools, NULL
    // pointers and absent callbacks).
    Ok(unsafe {
        std::ptr::copy_nonoverlapping(config.cast::<u8>(), copy.as_mut_ptr().cast::<u8>(), n);
        copy.assume_init()
    })
}

/// Reads a config slice: `None` for empty, an error for `{NULL, n>0}`.
fn bytes_of(s: LcwsSlice, what: &str) -> Result<Option<Vec<u8>>, TransportError> {
    // SAFETY: the header requires config slices to be readable during lcws_listener_start.
    match unsafe { slice_bytes(s) } {
        None => Err(TransportError::invalid_parameter(format!(
            "listener config '{what}' is NULL with a size"
        ))),
        Some([]) => Ok(None),
        Some(b) => Ok(Some(b.to_vec())),
    }
}

fn text_of(s: LcwsSlice, what: &str) -> Result<Option<String>, TransportError> {
    bytes_of(s, what)?
        .map(|b| {
            String::from_utf8(b).map_err(|_| {
                TransportError::invalid_parameter(format!("listener config '{what}' is not UTF-8"))
            })
        })
        .transpose()
}

/// Turns the C config into the listener's.
fn server_config(
    c: &LcwsListenerConfig,
) -> Result<(server::Config, server::Security, CHost), TransportError> {
    let accept = c
        .accept
        .ok_or_else(|| TransportError::invalid_parameter("listener config 'accept' is NULL"))?;
    let release = c
        .release
        .ok_or_else(|| TransportError::invalid_parameter("listener config 'release' is NULL"))?;
    let ctx = Ctx(c.context);
    let gate = Arc::new(server::HostGate::default());
    let security = if c.disable_tls {
        server::Security::Plain
    } else {
        let identity = match (
            bytes_of(c.certificate, "certificate")?,
            bytes_of(c.private_key, "private_key")?,
        ) {
            (Some(chain), Some(key)) => tls::server::Identity::Given { chain, key },
            (None, None) => tls::server::Identity::Generated {
                names: Vec::new(),
                addresses: Vec::new(),
            },
            _ => {
                return Err(TransportError::invalid_parameter(
                    "listener config: 'certificate' and 'private_key' go together",
                ))
            }
        };
        let judge: Option<tls::server::CertJudge> = c.check_certificate.map(|check| {
            let gate = gate.clone();
            Arc::new(move |der: &[u8]| {
                let ctx = ctx;
                // SAFETY: the host's function; the certificate outlives the call. The gate
                // keeps it from running after lcws_listener_free returned.
                gate.call(|| host_call(|| unsafe { check(ctx.0, LcwsSlice::from_bytes(der)) }))
                    .unwrap_or(false)
            }) as tls::server::CertJudge
        });
        server::Security::Tls {
            identity,
            clients: tls::server::ClientCerts {
                required: c.require_client_certs,
                roots: bytes_of(c.root_client_certs, "root_client_certs")?,
                judge,
            },
        }
    };
    let defaults = server::Limits::default();
    let or = |v: u32, d: u64| if v == 0 { d } else { u64::from(v) };
    let limits = server::Limits {
        handshake_timeout: Duration::from_millis(or(
            c.handshake_timeout_ms,
            defaults.handshake_timeout.as_millis() as u64,
        )),
        max_head_bytes: or(c.max_request_head_bytes, defaults.max_head_bytes as u64) as usize,
        max_connections: or(c.max_connections, defaults.max_connections as u64) as usize,
        heartbeat: Duration::from_secs(or(c.heartbeat_seconds, defaults.heartbeat.as_secs())),
    };
    let server_name = text_of(c.server_name, "server_name")?
        .unwrap_or_else(|| format!("litecore-ws/{}", env!("CARGO_PKG_VERSION")));
    if !crate::http::is_clean_value(server_name.as_bytes()) {
        return Err(TransportError::invalid_parameter(
            "listener config 'server_name' contains a line break or NUL",
        ));
    }
    let config = server::Config {
        port: c.port,
        interface: text_of(c.network_interface, "network_interface")?,
        password_auth: c.check_password.is_some(),
        allow_push: c.allow_push,
        allow_pull: c.allow_pull,
        delta_sync: c.enable_delta_sync,
        limits,
        server_name,
        gate,
    };
    let host = CHost {
        context: ctx,
        accept,
        release,
        check_password: c.check_password,
        release_database: c.release_database,
    };
    Ok((config, security, host))
}

/// Writes `e` to `out_error` (when non-NULL) and logs it.
///
/// # Safety
/// `out_error` must be NULL or point to writable memory for an `LcwsError`.
unsafe fn fail(out_error: *mut LcwsError, e: &TransportError, status: LcwsStatus) -> LcwsStatus {
    lcws_log!(Level::Error, None, "{e}");
    if !out_error.is_null() {
        // SAFETY: non-NULL and writable, per this function's contract.
        unsafe { out_error.write(host::c4_error(e)) };
    }
    status
}

/// Starts a listener: binds (port 0: any free port), then accepts on litecore-ws's threads. The
/// host table must be installed first (`lcws_set_host`): LiteCore's `open` of the sockets
/// handed over arrives through the same factory functions as outgoing sockets.
///
/// On success `*out` receives the listener (free it with `lcws_listener_free`); on failure
/// `*out_error` (when not NULL) receives the C4Error: `{LiteCore, 9}` for a bad config,
/// `{Network, 27}` for an unknown interface, POSIX/Network errors for a port that cannot be
/// bound. Call from an application thread, not from a litecore-ws callback.
///
/// # Safety
/// `config` must point to a readable `LcwsListenerConfig` of `config->struct_size` bytes whose
/// slices are readable during the call and whose callbacks have the documented signatures and
/// stay callable until `lcws_listener_free` returns; `out` must be writable; `out_error` NULL or
/// writable.
#[no_mangle]
pub unsafe extern "C" fn lcws_listener_start(
    config: *const LcwsListenerConfig,
    out: *mut *mut LcwsListener,
    out_error: *mut LcwsError,
) -> LcwsStatus {
    boundary("lcws_listener_start", LcwsStatus::InternalError, || {
        if out.is_null() {
            lcws_log!(Level::Error, None, "lcws_listener_start: out is NULL");
            return LcwsStatus::InvalidArgument;
        }
        // SAFETY: `out` is writable, per the contract.
        unsafe { out.write(std::ptr::null_mut()) };
        if !host::host_is_set() {
            let e = TransportError::invalid_parameter(
                "lcws_listener_start: install the host table (lcws_set_host) first",
            );
            // SAFETY: forwarded from this function's contract.
            return unsafe { fail(out_error, &e, LcwsStatus::InvalidArgument) };
        }
        // SAFETY: forwarded from this function's contract.
        let c = match unsafe { copy_config(config) } {
            Ok(c) => c,
            Err(why) => {
                let e = TransportError::invalid_parameter(format!("lcws_listener_start: {why}"));
                // SAFETY: forwarded from this function's contract.
                return unsafe { fail(out_error, &e, LcwsStatus::InvalidArgument) };
            }
        };
        let started = server_config(&c)
            .and_then(|(config, security, host)| Listener::start(config, security, Arc::new(host)));
        match started {
            Ok(inner) => {
                RUNNING.fetch_add(1, Ordering::SeqCst);
                let listener = Box::into_raw(Box::new(LcwsListener { inner }));
                // SAFETY: `out` is writable, per the contract.
                unsafe { out.write(listener) };
                LcwsStatus::Ok
            }
            Err(e) => {
                let status = if e.domain == crate::error::Domain::LiteCore {
                    LcwsStatus::InvalidArgument
                } else {
                    LcwsStatus::Failed
                };
                // SAFETY: forwarded from this function's contract.
                unsafe { fail(out_error, &e, status) }
            }
        }
    })
}

/// Borrows a listener from the caller.
///
/// # Safety
/// `listener` must be NULL or a listener from `lcws_listener_start` not yet freed.
unsafe fn listener_ref<'a>(listener: *const LcwsListener) -> Option<&'a LcwsListener> {
    // SAFETY: per this function's contract.
    unsafe { listener.as_ref() }
}

/// Shares `database` (the host's handle, e.g. a `C4Database*`) under `name`: clients reach it
/// at `/<name>/_blipsync`. `protocols` lists the subprotocols its replicator speaks, best first,
/// comma-separated (`BLIP_3+CBMobile_4` for a version-vector database, `BLIP_3+CBMobile_3`
/// otherwise). Sharing a name again replaces that share (its sockets close); the host's
/// `release_database` is called for the replaced share.
///
/// # Safety
/// `listener` must be a live listener; the slices readable during the call.
#[no_mangle]
pub unsafe extern "C" fn lcws_listener_share(
    listener: *mut LcwsListener,
    name: LcwsSlice,
    database: *mut c_void,
    protocols: LcwsSlice,
) -> LcwsStatus {
    boundary("lcws_listener_share", LcwsStatus::InternalError, || {
        // SAFETY: per this function's contract.
        let Some(l) = (unsafe { listener_ref(listener) }) else {
            return LcwsStatus::InvalidArgument;
        };
        let (Ok(Some(name)), Ok(Some(protocols))) =
            (text_of(name, "name"), text_of(protocols, "protocols"))
        else {
            lcws_log!(
                Level::Error,
                None,
                "lcws_listener_share: name and protocols are required"
            );
            return LcwsStatus::InvalidArgument;
        };
        let share = Share {
            name,
            database: database as usize,
            collections: Vec::new(),
            protocols: protocols
                .split(',')
                .map(|p| p.trim().to_string())
                .filter(|p| !p.is_empty())
                .collect(),
        };
        match l.inner.share(share) {
            Ok(()) => LcwsStatus::Ok,
            Err(e) => {
                lcws_log!(Level::Error, None, "lcws_listener_share: {e}");
                LcwsStatus::InvalidArgument
            }
        }
    })
}

/// Adds a collection (`scope`.`name`) to what is shared under `name` for `database` (share the
/// database first). Without any, a share serves the default collection.
///
/// # Safety
/// `listener` must be a live listener; the slices readable during the call.
#[no_mangle]
pub unsafe extern "C" fn lcws_listener_share_collection(
    listener: *mut LcwsListener,
    name: LcwsSlice,
    database: *mut c_void,
    scope: LcwsSlice,
    collection: LcwsSlice,
) -> LcwsStatus {
    boundary(
        "lcws_listener_share_collection",
        LcwsStatus::InternalError,
        || {
            // SAFETY: per this function's contract.
            let Some(l) = (unsafe { listener_ref(listener) }) else {
                return LcwsStatus::InvalidArgument;
            };
            let (Ok(Some(name)), Ok(Some(scope)), Ok(Some(collection))) = (
                text_of(name, "name"),
                text_of(scope, "scope"),
                text_of(collection, "collection"),
            ) else {
                lcws_log!(
                    Level::Error,
                    None,
                    "lcws_listener_share_collection: name, scope and collection are required"
                );
                return LcwsStatus::InvalidArgument;
            };
            match l
                .inner
                .share_collection(&name, database as usize, (scope, collection))
            {
                Ok(()) => LcwsStatus::Ok,
                Err(e) => {
                    lcws_log!(Level::Error, None, "lcws_listener_share_collection: {e}");
                    LcwsStatus::InvalidArgument
                }
            }
        },
    )
}

/// Stops sharing `database` under every name: its sockets close with 4001 (LiteCore's transient
/// close code: its clients retry) and each `closed` is
/// waited for; `release_database` is called once per share that ended. Returns how many ended.
///
/// # Safety
/// `listener` must be a live listener.
#[no_mangle]
pub unsafe extern "C" fn lcws_listener_unshare(
    listener: *mut LcwsListener,
    database: *mut c_void,
) -> usize {
    boundary("lcws_listener_unshare", 0, || {
        // SAFETY: per this function's contract.
        unsafe { listener_ref(listener) }.map_or(0, |l| l.inner.unshare(database as usize))
    })
}

/// The port the listener is bound to (0 for a NULL listener).
///
/// # Safety
/// `listener` must be NULL or a live listener.
#[no_mangle]
pub unsafe extern "C" fn lcws_listener_port(listener: *const LcwsListener) -> u16 {
    boundary("lcws_listener_port", 0, || {
        // SAFETY: per this function's contract.
        unsafe { listener_ref(listener) }.map_or(0, |l| l.inner.port())
    })
}

/// The listener's TLS certificate (leaf, DER) — the generated one when the config gave none —
/// for peers to pin (`pinnedCert`). Empty without TLS. Valid until `lcws_listener_free`.
///
/// # Safety
/// `listener` must be NULL or a live listener.
#[no_mangle]
pub unsafe extern "C" fn lcws_listener_certificate(listener: *const LcwsListener) -> LcwsSlice {
    boundary(
        "lcws_listener_certificate",
        LcwsSlice::from_bytes(&[]),
        || {
            // SAFETY: per this function's contract.
            let cert = unsafe { listener_ref(listener) }.and_then(|l| l.inner.certificate());
            LcwsSlice::from_bytes(cert.unwrap_or_default())
        },
    )
}

/// Connections handed to LiteCore whose replicator was not released yet, and how many of those
/// are busy (`lcws_connection_report`).
///
/// # Safety
/// `listener` must be a live listener; `connections` and `active` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn lcws_listener_status(
    listener: *const LcwsListener,
    connections: *mut usize,
    active: *mut usize,
) -> LcwsStatus {
    boundary("lcws_listener_status", LcwsStatus::InternalError, || {
        // SAFETY: per this function's contract.
        let Some(l) = (unsafe { listener_ref(listener) }) else {
            return LcwsStatus::InvalidArgument;
        };
        let s = l.inner.status();
        // SAFETY: NULL or writable, per the contract.
        unsafe {
            if let Some(c) = connections.as_mut() {
                *c = s.connections;
            }
            if let Some(a) = active.as_mut() {
                *a = s.active;
            }
        }
        LcwsStatus::Ok
    })
}

/// Calls `each(context, url)` for every URL the listener can be reached at
/// (`ws[s]://address:port/<name>`, one per interface address), with the name `database` is
/// shared under as the path (no path when `database` is NULL; nothing when it is not shared).
/// Each URL is valid only during its call. Returns how many there were.
///
/// # Safety
/// `listener` must be a live listener; `each` NULL or a function with the documented signature.
#[no_mangle]
pub unsafe extern "C" fn lcws_listener_urls(
    listener: *const LcwsListener,
    database: *mut c_void,
    each: Option<unsafe extern "C" fn(*mut c_void, LcwsSlice)>,
    context: *mut c_void,
) -> usize {
    boundary("lcws_listener_urls", 0, || {
        // SAFETY: per this function's contract.
        let Some(l) = (unsafe { listener_ref(listener) }) else {
            return 0;
        };
        let urls = if database.is_null() {
            l.inner.urls(None)
        } else {
            match l.inner.share_name(database as usize) {
                Some(name) => l.inner.urls(Some(&name)),
                None => Vec::new(),
            }
        };
        if let Some(each) = each {
            for url in &urls {
                // SAFETY: the caller's function; the URL outlives the call.
                host_call(|| unsafe { each(context, LcwsSlice::from_bytes(url.as_bytes())) });
            }
        }
        urls.len()
    })
}

/// Stops the listener and frees it: no more connections are accepted, every live socket is
/// closed with 4001 (LiteCore's transient close code, so that clients retry rather than stop for
/// good as they do after a peer's 1001) and its `closed` waited for, then every replicator's
/// `release`
/// (the host frees them once they report Stopped), then `release_database` for each share.
/// Returns `LCWS_STATUS_BUSY` when some replicator was still not released after 10 s (the
/// listener is freed anyway; a late Stopped report is still honoured). Call from an application
/// thread, never from a litecore-ws callback (`LCWS_STATUS_IN_CALLBACK`, nothing done).
///
/// # Safety
/// `listener` must be NULL or a listener from `lcws_listener_start` not yet freed.
#[no_mangle]
pub unsafe extern "C" fn lcws_listener_free(listener: *mut LcwsListener) -> LcwsStatus {
    boundary("lcws_listener_free", LcwsStatus::InternalError, || {
        if listener.is_null() {
            return LcwsStatus::Ok;
        }
        if host::in_host_call() || crate::runtime::on_runtime_thread() {
            lcws_log!(
                Level::Warning,
                None,
                "lcws_listener_free refused: called from a litecore-ws callback or thread"
            );
            return LcwsStatus::InCallback;
        }
        // SAFETY: a listener from lcws_listener_start, freed once (per the contract).
        let mut boxed = unsafe { Box::from_raw(listener) };
        let unreleased = boxed.inner.stop();
        drop(boxed);
        RUNNING.fetch_sub(1, Ordering::SeqCst);
        if unreleased > 0 {
            LcwsStatus::Busy
        } else {
            LcwsStatus::Ok
        }
    })
}

/// Reports the state of a connection's replicator (from its status callback): `activity` is an
/// `LcwsActivity` value (an int, so that a wrong value is refused rather than undefined). After
/// `LCWS_ACTIVITY_STOPPED` litecore-ws calls `release` for it from one of its own threads (never
/// inside this call) and `connection` is gone. Unknown or stale pointers are ignored (logged).
///
/// # Safety
/// `connection` may be any value; it is only dereferenced when litecore-ws lent it and has not
/// taken it back.
#[no_mangle]
pub unsafe extern "C" fn lcws_connection_report(connection: *mut LcwsConnection, activity: c_int) {
    boundary("lcws_connection_report", (), || {
        let activity = match activity {
            x if x == LcwsActivity::Idle as c_int => Activity::Idle,
            x if x == LcwsActivity::Busy as c_int => Activity::Busy,
            x if x == LcwsActivity::Stopped as c_int => Activity::Stopped,
            other => {
                lcws_log!(
                    Level::Error,
                    None,
                    "lcws_connection_report: unknown activity {other}"
                );
                return;
            }
        };
        let known = if activity == Activity::Stopped {
            take_connection(connection).map(|c| c.report(activity))
        } else {
            with_connection(connection, |c| c.report(activity))
        };
        if known.is_none() {
            lcws_log!(
                Level::Warning,
                None,
                "lcws_connection_report: unknown or stopped connection: ignored"
            );
        }
    })
}
