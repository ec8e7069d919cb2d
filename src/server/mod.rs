//! The server role: a listener that lets peers replicate into this app.
//!
//! A [`Listener`] binds a port, accepts TCP (and TLS: `tls::server`), reads each client's
//! upgrade request ([`request`]), finds the shared database, authenticates, picks the
//! subprotocol and, instead of answering at once, hands the connection to the host
//! ([`ListenerHost::hand_over`]): the host wraps it in a LiteCore socket
//! (`c4socket_fromNative`) and starts a passive replicator on it. LiteCore then calls the
//! factory's `open` for that socket, and only then does the socket's task answer
//! `101 Switching Protocols`, call `opened` and run the same `Session` as a client socket, in
//! the server role ([`connection`]). A refusal at any step is an HTTP answer ([`response`]) and
//! no socket ever reaches LiteCore.
//!
//! Every accepted connection has a [`Connection`] record until the host says its replicator
//! stopped and it was released; the listener's status counts them. Stopping the listener closes
//! every live socket with 4001 (transient: see [`going_away`]), waits for each `closed` and for
//! the host to release every replicator.

pub mod connection;
pub mod request;
pub mod response;

use crate::error::TransportError;
use crate::interfaces;
use crate::socket::{self, SocketHandle};
use crate::{lcws_log, log::Level, runtime, tls};
use connection::Waiting;
use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, Weak};
use std::time::{Duration, Instant};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio_rustls::TlsAcceptor;

/// Limits that keep a listener alive on a hostile network.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// TLS and the upgrade request must be done within this (slow clients are dropped), and
    /// LiteCore must open a handed-over socket within it too.
    pub handshake_timeout: Duration,
    /// Largest request head accepted (431 beyond it).
    pub max_head_bytes: usize,
    /// Most connections at once (in the handshake, handed over, or open); 503 beyond it.
    pub max_connections: usize,
    /// The server's own Ping after this long without hearing from a client.
    pub heartbeat: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            handshake_timeout: Duration::from_secs(15),
            max_head_bytes: crate::http::MAX_HEAD_BYTES,
            max_connections: 1024,
            heartbeat: Duration::from_secs(300),
        }
    }
}

/// How the listener secures connections.
pub enum Security {
    /// Plain `ws` (the app said `disableTLS`).
    Plain,
    /// `wss` with this identity and these demands on clients.
    Tls {
        identity: tls::server::Identity,
        clients: tls::server::ClientCerts,
    },
}

/// Keeps the host's callbacks from being called once the listener is freed: every call passes
/// through [`HostGate::call`], and [`HostGate::close`] waits for the calls under way before it
/// shuts the gate. (Handshake tasks, blocking-pool threads and TLS verifiers may still be
/// running when a stop begins; the host frees its context once `lcws_listener_free` returns.)
#[derive(Default)]
pub struct HostGate {
    state: Mutex<(usize, bool)>,
    changed: Condvar,
}

impl HostGate {
    /// Runs `f` unless the gate is shut (then `None`).
    pub fn call<R>(&self, f: impl FnOnce() -> R) -> Option<R> {
        {
            let mut g = lock(&self.state);
            if g.1 {
                return None;
            }
            g.0 += 1;
        }
        struct Leave<'a>(&'a HostGate);
        impl Drop for Leave<'_> {
            fn drop(&mut self) {
                lock(&self.0.state).0 -= 1;
                self.0.changed.notify_all();
            }
        }
        let _leave = Leave(self);
        Some(f())
    }

    /// Shuts the gate, waiting up to `grace` for the calls under way. Returns how many were
    /// still running when it gave up.
    pub fn close(&self, grace: Duration) -> usize {
        let deadline = Instant::now() + grace;
        let mut g = lock(&self.state);
        g.1 = true;
        while g.0 > 0 && Instant::now() < deadline {
            g = self
                .changed
                .wait_timeout(g, deadline - Instant::now())
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
        g.0
    }
}

/// A listener's configuration.
pub struct Config {
    /// 0: any free port.
    pub port: u16,
    /// An interface name or one of this host's addresses; `None`: every interface.
    pub interface: Option<String>,
    /// Clients must send Basic credentials that the host accepts.
    pub password_auth: bool,
    /// Clients may push (our passive replicator pulls) / pull (it pushes).
    pub allow_push: bool,
    pub allow_pull: bool,
    pub delta_sync: bool,
    pub limits: Limits,
    /// The `Server` header.
    pub server_name: String,
    /// What every call into the host goes through (the TLS judge of client certificates too).
    pub gate: Arc<HostGate>,
}

/// What the host learns about a connection it is given ([`ListenerHost::hand_over`]).
pub struct Incoming<'a> {
    pub connection: &'a Arc<Connection>,
    /// The peer, as LiteCore should see it (`c4socket_fromNative`'s address): scheme ws/wss,
    /// its IP and port, the request path.
    pub peer: crate::address::Address,
    pub database: &'a Share,
    pub protocol: &'a str,
    /// The authenticated user ("" without password authentication).
    pub user: &'a str,
    pub allow_push: bool,
    pub allow_pull: bool,
    /// The passive replicator's options (a Fleece dict).
    pub replicator_options: &'a [u8],
}

/// The host side of a listener: LiteCore and the app, reached through the FFI layer.
pub trait ListenerHost: Send + Sync + 'static {
    /// Wraps `socket` in a LiteCore socket and starts a passive replicator on it. Returns the
    /// host's token for the connection (its replicator), `None` when it could not (the
    /// connection is refused with 503). Runs on a blocking thread.
    fn hand_over(&self, socket: SocketHandle, incoming: &Incoming<'_>) -> Option<usize>;
    /// The replicator of a connection stopped: free it. Runs on a blocking thread.
    fn release(&self, token: usize);
    /// Basic credentials for `database`: does the app accept them? Runs on a blocking thread.
    fn check_password(&self, database: &str, user: &str, password: &[u8]) -> bool;
    /// A share ended (unshared, or the listener stopped): the host's reference to its
    /// database may go.
    fn release_database(&self, database: usize);
}

/// A shared database: the host's handle for it, the collections shared under its name (empty:
/// the default collection) and the subprotocols its replicator speaks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Share {
    pub name: String,
    /// The host's database pointer, as an address.
    pub database: usize,
    /// (scope, collection) names.
    pub collections: Vec<(String, String)>,
    /// What the database's replicator speaks, best first (e.g. `BLIP_3+CBMobile_4` for a
    /// version-vector database, `BLIP_3+CBMobile_3` otherwise).
    pub protocols: Vec<String>,
}

/// What the host reports about a connection's replicator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Activity {
    Idle,
    Busy,
    Stopped,
}

/// Where a connection's replicator is.
#[derive(Debug)]
enum Record {
    /// Being handed over; `stopped` when the host reported Stopped before `hand_over` returned.
    Handing {
        stopped: bool,
    },
    Handed(usize),
    Released,
}

/// One accepted connection that reached the host, until its replicator is released.
pub struct Connection {
    pub id: u64,
    pub database: String,
    listener: Weak<State>,
    record: Mutex<Record>,
    busy: AtomicBool,
    /// The socket until LiteCore opens it (shared with its handle).
    pub(crate) waiting: Arc<Mutex<Option<Waiting>>>,
}

impl Connection {
    /// The host's report on this connection's replicator. After `Stopped` the host must not
    /// report again; the replicator is released from a litecore-ws thread.
    pub fn report(self: &Arc<Self>, activity: Activity) {
        self.busy
            .store(activity == Activity::Busy, Ordering::Relaxed);
        if activity != Activity::Stopped {
            return;
        }
        let token = {
            let mut record = lock(&self.record);
            match *record {
                Record::Handing { .. } => {
                    *record = Record::Handing { stopped: true };
                    None
                }
                Record::Handed(token) => {
                    *record = Record::Released;
                    Some(token)
                }
                Record::Released => None,
            }
        };
        if let Some(token) = token {
            self.release(token);
        }
    }

    /// Frees the replicator off the caller's thread, then forgets the connection.
    fn release(self: &Arc<Self>, token: usize) {
        let Some(state) = self.listener.upgrade() else {
            return;
        };
        let me = self.clone();
        let run = move || {
            if state.call_host(|host| host.release(token)).is_none() {
                lcws_log!(
                    Level::Warning,
                    Some(me.id),
                    "the replicator stopped after its listener was freed: not released"
                );
            }
            state.forget(me.id);
        };
        match runtime::handle() {
            Ok(rt) => {
                rt.spawn_blocking(run);
            }
            Err(_) => run(),
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Numbers for the app: `lcws_listener_status`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Status {
    pub port: u16,
    /// Connections handed to LiteCore whose replicator was not released yet.
    pub connections: usize,
    /// Those whose replicator is busy.
    pub active: usize,
}

static NEXT_LISTENER: AtomicU64 = AtomicU64::new(1);

/// What the accept loops and connection tasks share.
pub(crate) struct State {
    pub id: u64,
    pub config: Config,
    pub tls: Option<TlsAcceptor>,
    pub host: Arc<dyn ListenerHost>,
    shares: Mutex<HashMap<String, Share>>,
    connections: Mutex<HashMap<u64, Arc<Connection>>>,
    connections_changed: Condvar,
    /// Connections in the handshake (not yet handed over).
    handshaking: AtomicUsize,
    /// Flips to true once, when the listener stops.
    stopping: watch::Sender<bool>,
    /// The passive replicator's options for this listener's settings (a Fleece dict).
    pub replicator_options: Vec<u8>,
}

impl State {
    /// Calls the host unless the listener was freed.
    pub fn call_host<R>(&self, f: impl FnOnce(&dyn ListenerHost) -> R) -> Option<R> {
        self.config.gate.call(|| f(&*self.host))
    }

    pub fn is_stopping(&self) -> bool {
        *self.stopping.borrow()
    }

    pub fn stop_signal(&self) -> watch::Receiver<bool> {
        self.stopping.subscribe()
    }

    pub fn share(&self, name: &str) -> Option<Share> {
        lock(&self.shares).get(name).cloned()
    }

    /// Connections now: in the handshake, handed over, or open.
    fn load(&self) -> usize {
        self.handshaking.load(Ordering::Relaxed) + lock(&self.connections).len()
    }

    /// Records a connection about to be handed to the host.
    pub fn remember(
        self: &Arc<Self>,
        id: u64,
        database: &str,
        waiting: Waiting,
    ) -> Arc<Connection> {
        let c = Arc::new(Connection {
            id,
            database: database.to_string(),
            listener: Arc::downgrade(self),
            record: Mutex::new(Record::Handing { stopped: false }),
            busy: AtomicBool::new(false),
            waiting: Arc::new(Mutex::new(Some(waiting))),
        });
        lock(&self.connections).insert(id, c.clone());
        c
    }

    /// The host's answer to `hand_over`: keep its token, or forget a refused connection.
    pub fn handed(&self, c: &Arc<Connection>, token: Option<usize>) {
        let release_now = {
            let mut record = lock(&c.record);
            match (token, &*record) {
                (Some(t), Record::Handing { stopped: true }) => {
                    *record = Record::Released;
                    Some(t)
                }
                (Some(t), _) => {
                    *record = Record::Handed(t);
                    None
                }
                (None, _) => {
                    *record = Record::Released;
                    None
                }
            }
        };
        match (token, release_now) {
            (None, _) => self.forget(c.id),
            (Some(_), Some(t)) => c.release(t),
            _ => {}
        }
    }

    fn forget(&self, id: u64) {
        lock(&self.connections).remove(&id);
        self.connections_changed.notify_all();
    }

    /// Counts one connection as in the handshake until the slot is dropped: when it is recorded
    /// for its hand-over, refused, gone, or its task panicked (unwinding drops the slot too).
    pub fn handshake_slot(self: &Arc<Self>) -> HandshakeSlot {
        self.handshaking.fetch_add(1, Ordering::Relaxed);
        HandshakeSlot(self.clone())
    }
}

/// One connection counted as in the handshake (see [`State::handshake_slot`]).
pub(crate) struct HandshakeSlot(Arc<State>);

impl Drop for HandshakeSlot {
    fn drop(&mut self) {
        self.0.handshaking.fetch_sub(1, Ordering::Relaxed);
    }
}

/// A running listener.
pub struct Listener {
    state: Arc<State>,
    port: u16,
    /// The addresses bound (unspecified for every interface).
    bound: Vec<SocketAddr>,
    certificate: Option<Vec<u8>>,
    stopped: bool,
}

impl Listener {
    /// Binds and starts accepting, securing connections as `security` says (turned into the TLS
    /// acceptor here; the running listener keeps only that). The host learns of connections
    /// through `host`. Call from an application thread (it binds synchronously).
    pub fn start(
        config: Config,
        security: Security,
        host: Arc<dyn ListenerHost>,
    ) -> Result<Listener, TransportError> {
        let rt = runtime::handle().map_err(|e| {
            TransportError::litecore(
                crate::error::LiteCoreCode::Unsupported,
                format!("litecore-ws {e}"),
            )
        })?;
        let addresses = bind_addresses(config.interface.as_deref())?;
        // Bound with std (no runtime needed on this thread, which may belong to the host's own
        // tokio), registered with litecore-ws's runtime below.
        let sockets = bind_all(&addresses, config.port)?;
        let bound: Vec<SocketAddr> = sockets.iter().filter_map(|l| l.local_addr().ok()).collect();
        let port = bound.first().map_or(0, SocketAddr::port);
        let (tls, certificate) = match security {
            Security::Plain => (None, None),
            Security::Tls { identity, clients } => {
                let identity = match identity {
                    tls::server::Identity::Generated {
                        mut names,
                        mut addresses,
                    } => {
                        // Peers usually pin the generated certificate; its names are for those
                        // that check them anyway.
                        names.push("localhost".into());
                        addresses.extend(url_addresses(&bound));
                        tls::server::Identity::Generated { names, addresses }
                    }
                    given => given,
                };
                let made = tls::server::config(identity, clients)?;
                (Some(TlsAcceptor::from(made.config)), Some(made.certificate))
            }
        };
        let replicator_options = connection::passive_options(config.delta_sync);
        let (stopping, _) = watch::channel(false);
        let state = Arc::new(State {
            id: NEXT_LISTENER.fetch_add(1, Ordering::Relaxed),
            config,
            tls,
            host,
            shares: Mutex::new(HashMap::new()),
            connections: Mutex::new(HashMap::new()),
            connections_changed: Condvar::new(),
            handshaking: AtomicUsize::new(0),
            stopping,
            replicator_options,
        });
        let _context = rt.enter();
        for socket in sockets {
            let listener = TcpListener::from_std(socket).map_err(|e| bind_error(&e, port))?;
            rt.spawn(accept_loop(state.clone(), listener));
        }
        lcws_log!(
            Level::Info,
            None,
            "listener {} on port {port} ({}, {:?})",
            state.id,
            if state.tls.is_some() { "wss" } else { "ws" },
            bound
        );
        Ok(Listener {
            state,
            port,
            bound,
            certificate,
            stopped: false,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The TLS certificate (DER) peers should pin; `None` without TLS.
    pub fn certificate(&self) -> Option<&[u8]> {
        self.certificate.as_deref()
    }

    /// Shares a database under `name` (replacing a share of that name, whose sockets close).
    pub fn share(&self, share: Share) -> Result<(), TransportError> {
        if share.name.is_empty() || share.name.contains('/') {
            return Err(TransportError::invalid_parameter(format!(
                "a database is shared under a name without '/': {:?}",
                share.name
            )));
        }
        let old = lock(&self.state.shares).insert(share.name.clone(), share.clone());
        if let Some(old) = old {
            if old.database != share.database {
                self.close_database(&old.name);
            }
            // The host holds one reference per share call (the same database shared again
            // included).
            self.state.call_host(|h| h.release_database(old.database));
        }
        Ok(())
    }

    /// Adds a collection to a share.
    pub fn share_collection(
        &self,
        name: &str,
        database: usize,
        collection: (String, String),
    ) -> Result<(), TransportError> {
        let mut shares = lock(&self.state.shares);
        let share = shares
            .get_mut(name)
            .filter(|s| s.database == database)
            .ok_or_else(|| {
                TransportError::invalid_parameter(format!(
                    "share the database as {name:?} before sharing its collections"
                ))
            })?;
        if !share.collections.contains(&collection) {
            share.collections.push(collection);
        }
        Ok(())
    }

    /// Stops sharing every name under which `database` is shared: their sockets close (4001)
    /// and are waited for. Returns how many shares ended.
    pub fn unshare(&self, database: usize) -> usize {
        let names: Vec<String> = lock(&self.state.shares)
            .values()
            .filter(|s| s.database == database)
            .map(|s| s.name.clone())
            .collect();
        for name in &names {
            lock(&self.state.shares).remove(name);
            self.close_database(name);
            self.state.call_host(|h| h.release_database(database));
        }
        names.len()
    }

    /// Closes the sockets of one shared name and waits for their `closed`.
    fn close_database(&self, name: &str) {
        let ids: Vec<u64> = lock(&self.state.connections)
            .values()
            .filter(|c| c.database == name)
            .map(|c| {
                connection::refuse_waiting(c, 503, "the database is no longer shared");
                c.id
            })
            .collect();
        socket::stop_all(
            |id, _| ids.contains(&id),
            || going_away("the database is no longer shared"),
            STOP_GRACE,
        );
    }

    /// The name `database` is shared under (the first, when several).
    pub fn share_name(&self, database: usize) -> Option<String> {
        let shares = lock(&self.state.shares);
        let mut names: Vec<&String> = shares
            .values()
            .filter(|s| s.database == database)
            .map(|s| &s.name)
            .collect();
        names.sort();
        names.first().map(|n| n.to_string())
    }

    pub fn status(&self) -> Status {
        let connections = lock(&self.state.connections);
        Status {
            port: self.port,
            connections: connections.len(),
            active: connections
                .values()
                .filter(|c| c.busy.load(Ordering::Relaxed))
                .count(),
        }
    }

    /// `ws(s)://address:port/` for each address the listener can be reached at, with
    /// `database` as the path when given.
    pub fn urls(&self, database: Option<&str>) -> Vec<String> {
        let scheme = if self.state.tls.is_some() {
            "wss"
        } else {
            "ws"
        };
        url_addresses(&self.bound)
            .into_iter()
            .map(|ip| {
                let host = match ip {
                    IpAddr::V4(v4) => v4.to_string(),
                    IpAddr::V6(v6) => format!("[{v6}]"),
                };
                format!("{scheme}://{host}:{}/{}", self.port, database.unwrap_or(""))
            })
            .collect()
    }

    /// Stops accepting, closes every socket with 4001 and waits for each `closed`, then waits
    /// for the host to release every replicator. Returns how many connections were still not
    /// released when the wait ended.
    pub fn stop(&mut self) -> usize {
        if self.stopped {
            return 0;
        }
        self.stopped = true;
        let state = &self.state;
        state.stopping.send_replace(true);
        let connections: Vec<Arc<Connection>> =
            lock(&state.connections).values().cloned().collect();
        for c in &connections {
            connection::refuse_waiting(c, 503, "the listener is stopping");
        }
        let id = state.id;
        let left = socket::stop_all(
            |_, listener| listener == Some(id),
            || going_away("the listener is stopping"),
            STOP_GRACE,
        );
        if left > 0 {
            lcws_log!(
                Level::Warning,
                None,
                "listener {id}: {left} socket(s) did not close in time"
            );
        }
        // The replicators stop once their sockets closed; the host frees them.
        let deadline = Instant::now() + STOP_GRACE;
        let mut guard = lock(&state.connections);
        while !guard.is_empty() && Instant::now() < deadline {
            guard = state
                .connections_changed
                .wait_timeout(guard, deadline - Instant::now())
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
        let unreleased = guard.len();
        drop(guard);
        for share in lock(&state.shares).drain().map(|(_, s)| s) {
            state.call_host(|h| h.release_database(share.database));
        }
        // Handshakes and host calls still under way finish before the host's context may go.
        let busy = state.config.gate.close(STOP_GRACE);
        if busy > 0 {
            lcws_log!(
                Level::Warning,
                None,
                "listener {id}: {busy} call(s) into the app did not return in time"
            );
        }
        lcws_log!(Level::Info, None, "listener {id} stopped");
        unreleased + busy
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        self.stop();
    }
}

/// How long a stop waits for sockets and replicators.
const STOP_GRACE: Duration = Duration::from_secs(10);

/// How the listener closes a socket for its own reasons (stopping, a database unshared). Not
/// 1001: LiteCore's replicator takes a Close(1001) from its peer as a permanent error and stops
/// for good, while a listener that stops (an app pausing, a device going to sleep) usually comes
/// back; 4001, LiteCore's own "transient" close code, makes clients retry as they do after a
/// network failure.
fn going_away(reason: &str) -> crate::litecore::Command {
    crate::litecore::Command::GoAway {
        code: crate::error::close_code::APP_TRANSIENT as u16,
        reason: reason.to_string(),
    }
}

/// The addresses to bind: every interface (dual-stack `::`, else `0.0.0.0`), an address, or
/// the addresses of a named interface.
fn bind_addresses(interface: Option<&str>) -> Result<Vec<IpAddr>, TransportError> {
    use crate::error::NetworkCode;
    let Some(name) = interface.filter(|n| !n.is_empty()) else {
        return Ok(vec![IpAddr::V6(Ipv6Addr::UNSPECIFIED)]);
    };
    if let Ok(ip) = name.parse::<IpAddr>() {
        return Ok(vec![ip]);
    }
    match interfaces::interface_addresses(name) {
        None => Err(TransportError::network(
            NetworkCode::UnknownInterface,
            format!("networkInterface {name:?}: no such network interface"),
        )),
        Some(addrs) => {
            let usable: Vec<IpAddr> = addrs.into_iter().filter(|ip| !is_link_local(ip)).collect();
            if usable.is_empty() {
                Err(TransportError::network(
                    NetworkCode::UnknownInterface,
                    format!("networkInterface {name:?} has no usable IP address"),
                ))
            } else {
                Ok(usable)
            }
        }
    }
}

fn is_link_local(ip: &IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_link_local(),
        IpAddr::V6(v6) => (v6.segments()[0] & 0xffc0) == 0xfe80,
    }
}

/// Binds every address on one port (the first bind picks it when `port` is 0), non-blocking
/// sockets ready for the runtime.
fn bind_all(addresses: &[IpAddr], port: u16) -> Result<Vec<std::net::TcpListener>, TransportError> {
    let mut out = Vec::new();
    let mut port = port;
    for ip in addresses {
        let listener = match std::net::TcpListener::bind(SocketAddr::new(*ip, port)) {
            Ok(l) => l,
            // No IPv6 on this host: every interface through IPv4 instead.
            Err(_) if *ip == IpAddr::V6(Ipv6Addr::UNSPECIFIED) => std::net::TcpListener::bind(
                SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), port),
            )
            .map_err(|e| bind_error(&e, port))?,
            Err(e) => return Err(bind_error(&e, port)),
        };
        listener
            .set_nonblocking(true)
            .map_err(|e| bind_error(&e, port))?;
        port = listener.local_addr().map_or(port, |a| a.port());
        out.push(listener);
    }
    Ok(out)
}

fn bind_error(e: &std::io::Error, port: u16) -> TransportError {
    TransportError::from_io(
        e,
        crate::error::Stage::Connect,
        &format!("binding port {port}"),
    )
}

/// The addresses behind the bound ones, for URLs: an unspecified bind stands for every
/// interface's (link-local ones left out: they need a zone to be reached).
fn url_addresses(bound: &[SocketAddr]) -> Vec<IpAddr> {
    let mut out = Vec::new();
    for addr in bound {
        if addr.ip().is_unspecified() {
            let v6 = addr.is_ipv6();
            for entry in interfaces::all() {
                let Some(ip) = entry.ip else { continue };
                if (ip.is_ipv6() && !v6) || is_link_local(&ip) || out.contains(&ip) {
                    continue;
                }
                out.push(ip);
            }
        } else if !out.contains(&addr.ip()) {
            out.push(addr.ip());
        }
    }
    out
}

/// Accepts until the listener stops; each connection's handshake runs in its own task.
async fn accept_loop(state: Arc<State>, listener: TcpListener) {
    let mut stop = state.stop_signal();
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = stop.wait_for(|s| *s) => return,
        };
        let (tcp, peer) = match accepted {
            Ok(a) => a,
            Err(e) => {
                // Out of file descriptors and the like: wait a little rather than spin.
                lcws_log!(
                    Level::Warning,
                    None,
                    "listener {}: accept failed: {e}",
                    state.id
                );
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let _ = tcp.set_nodelay(true);
        let over_limit = state.load() >= state.config.limits.max_connections;
        let slot = state.handshake_slot();
        tokio::spawn(connection::handshake(
            state.clone(),
            tcp,
            peer,
            over_limit,
            slot,
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_list_each_address_once() {
        let any: SocketAddr = "[::]:4984".parse().unwrap();
        let ips = url_addresses(&[any]);
        assert!(ips.contains(&IpAddr::V4(Ipv4Addr::LOCALHOST)), "{ips:?}");
        let one: SocketAddr = "127.0.0.1:4984".parse().unwrap();
        assert_eq!(
            url_addresses(&[one, one]),
            vec![IpAddr::V4(Ipv4Addr::LOCALHOST)]
        );
    }

    #[test]
    fn the_host_gate_waits_for_calls_under_way_then_shuts() {
        let gate = Arc::new(HostGate::default());
        let (entered_tx, entered_rx) = std::sync::mpsc::channel();
        let (go_tx, go_rx) = std::sync::mpsc::channel::<()>();
        let g = gate.clone();
        let caller = std::thread::spawn(move || {
            g.call(|| {
                entered_tx.send(()).unwrap();
                go_rx.recv().unwrap();
                7
            })
        });
        entered_rx.recv().unwrap();
        // A call under way: close waits for it (here: gives up after 50 ms, reporting it).
        assert_eq!(gate.close(Duration::from_millis(50)), 1);
        go_tx.send(()).unwrap();
        assert_eq!(caller.join().unwrap(), Some(7));
        assert_eq!(gate.close(Duration::from_millis(50)), 0);
        // Shut: nothing more reaches the host.
        assert_eq!(gate.call(|| 1), None);
    }

    #[test]
    fn unknown_interfaces_are_refused() {
        assert_eq!(bind_addresses(Some("nosuchif0")).unwrap_err().code, 27);
        assert_eq!(
            bind_addresses(Some("127.0.0.1")).unwrap(),
            vec![IpAddr::V4(Ipv4Addr::LOCALHOST)]
        );
        assert_eq!(
            bind_addresses(Some("lo")).unwrap()[0],
            IpAddr::V4(Ipv4Addr::LOCALHOST)
        );
    }
}

#[cfg(test)]
mod tests_listener;
