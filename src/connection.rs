//! Connection lifecycle: one actor task per socket.
//!
//! LiteCore's factory callbacks (`write`, `completedReceive`, `requestClose`, …) never touch the
//! connection directly: they push a [`Command`] into the socket's queue and return at once. The
//! actor is the only code that calls back into LiteCore for its socket, so those calls are
//! serialized without a lock and a synchronous `requestClose` from inside `closeRequested` cannot
//! deadlock. The actor ends by handing its [`LiteCoreSocket`] to `closed`, which consumes it:
//! the type system makes "exactly one `closed`, nothing after it" hold on every path.

use crate::error::{close_code, NetworkCode, Stage, TransportError};
use crate::options::{AuthType, Options};
use crate::{handshake, proxy, session, tls};
use crate::{lcws_log, log::Level, runtime};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};
use tokio::io::AsyncWriteExt;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::handshake::client::generate_key;
use tokio_tungstenite::tungstenite::protocol::Role;
use tokio_tungstenite::WebSocketStream;

/// LiteCore's own connect timeout; the transport gives up at the same moment.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);

/// The LiteCore side of one socket, as the actor sees it. Implemented by the FFI layer over the
/// host table (and by fakes in tests).
pub trait LiteCoreSocket: Send + 'static {
    fn got_http_response(&mut self, status: i32, headers_fleece: &[u8]);
    fn opened(&mut self);
    fn close_requested(&mut self, status: i32, message: &[u8]);
    fn completed_write(&mut self, byte_count: usize);
    fn received(&mut self, data: &[u8]);
    /// The server's certificate (leaf, DER) after TLS validation, before anything is sent
    /// (`c4socket_gotPeerCertificate`); `false` refuses it.
    fn peer_certificate(&mut self, _der: &[u8], _host: &str) -> bool {
        true
    }
    /// The database's stored cookies for `address` (`c4db_getCookies`), when the factory carries
    /// a database.
    fn stored_cookies(&mut self, _address: &Address) -> Option<Vec<u8>> {
        None
    }
    /// Stores one `Set-Cookie` value received from `address` (`c4db_setCookie`), when the
    /// factory carries a database.
    fn store_cookie(
        &mut self,
        _set_cookie: &[u8],
        _address: &Address,
        _accept_parent_domain: bool,
    ) {
    }
    /// Reports the end of the socket (`None` = clean close) and drops the transport's reference
    /// to it. Consumes `self`: nothing can reach the socket afterwards.
    fn closed(self: Box<Self>, error: Option<&TransportError>);
}

/// A message LiteCore handed to `write`; dropping it releases LiteCore's buffer.
pub trait WriteBuffer: AsRef<[u8]> + Send + 'static {}

/// Work a factory callback hands to the socket's actor.
pub enum Command {
    Write(Box<dyn WriteBuffer>),
    CompletedReceive(usize),
    RequestClose {
        status: i32,
        message: String,
    },
    /// Stop now with this error (library shutdown, refused calls).
    Abort(TransportError),
}

/// Where to connect: a copy of LiteCore's `C4Address`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Address {
    pub scheme: String,
    pub host: String,
    pub port: u16,
    pub path: String,
}

impl Address {
    pub fn is_tls(&self) -> bool {
        self.scheme.eq_ignore_ascii_case("wss")
    }

    /// Same scheme, host and port: where credentials may go.
    pub fn same_origin(&self, other: &Address) -> bool {
        self.is_tls() == other.is_tls()
            && self.host.eq_ignore_ascii_case(&other.host)
            && self.port == other.port
    }

    /// Checks what LiteCore guarantees, so a binding that passes garbage gets a clear error.
    pub fn validate(&self) -> Result<(), TransportError> {
        let bad = |what: &str| TransportError::network(NetworkCode::InvalidUrl, what.to_string());
        if !self.scheme.eq_ignore_ascii_case("ws") && !self.scheme.eq_ignore_ascii_case("wss") {
            return Err(bad(&format!(
                "unsupported URL scheme {:?} (expected ws or wss)",
                self.scheme
            )));
        }
        if self.host.is_empty() {
            return Err(bad("the address has no host name"));
        }
        if self
            .host
            .bytes()
            .any(|b| b <= b' ' || b == b'/' || b == 0x7f)
        {
            return Err(bad(&format!("invalid host name {:?}", self.host)));
        }
        if self.port == 0 {
            return Err(bad("the address has port 0"));
        }
        if !self.path.starts_with('/') || self.path.bytes().any(|b| b <= b' ' || b == 0x7f) {
            return Err(bad(&format!("invalid request path {:?}", self.path)));
        }
        Ok(())
    }
}

/// What the factory stores as the socket's native handle.
pub struct SocketHandle {
    pub id: u64,
    commands: mpsc::UnboundedSender<Command>,
}

impl SocketHandle {
    /// Queues work for the actor. After the actor ended the command is dropped, which releases
    /// any buffer it holds.
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

// Live sockets, so that shutdown can stop them all and wait for their `closed`.
static NEXT_ID: AtomicU64 = AtomicU64::new(1);
static LIVE: Mutex<Option<HashMap<u64, mpsc::UnboundedSender<Command>>>> = Mutex::new(None);
static LIVE_CHANGED: Condvar = Condvar::new();

fn live() -> std::sync::MutexGuard<'static, Option<HashMap<u64, mpsc::UnboundedSender<Command>>>> {
    LIVE.lock().unwrap_or_else(|p| p.into_inner())
}

/// Number of sockets whose `closed` has not been reported yet.
pub fn live_count() -> usize {
    live().as_ref().map_or(0, HashMap::len)
}

fn unregister(id: u64) {
    let mut guard = live();
    if let Some(map) = guard.as_mut() {
        map.remove(&id);
    }
    LIVE_CHANGED.notify_all();
}

/// Allocates the next socket id (ids appear in log lines).
pub fn next_id() -> u64 {
    NEXT_ID.fetch_add(1, Ordering::Relaxed)
}

/// A socket whose handle exists but whose actor has not started yet.
pub struct Pending {
    id: u64,
    commands: mpsc::UnboundedSender<Command>,
    queue: mpsc::UnboundedReceiver<Command>,
}

/// Creates the socket's command queue and handle. The FFI stores the handle as the socket's
/// native handle *before* the actor starts, because the actor may finish (and LiteCore dispose
/// the socket) at any moment after [`Pending::spawn`].
pub fn prepare(id: u64) -> (SocketHandle, Pending) {
    let (tx, rx) = mpsc::unbounded_channel();
    let handle = SocketHandle {
        id,
        commands: tx.clone(),
    };
    (
        handle,
        Pending {
            id,
            commands: tx,
            queue: rx,
        },
    )
}

impl Pending {
    /// Starts the actor on the runtime. `setup` is the outcome of copying the address and
    /// parsing the options during `open`: on error the actor reports it through `closed` (never
    /// synchronously inside `open`). Fails only when the runtime cannot start; the caller then
    /// gets the LiteCore side back to report the error itself.
    pub fn spawn(
        self,
        host: Box<dyn LiteCoreSocket>,
        setup: Result<(Address, Options), TransportError>,
    ) -> Result<(), (Box<dyn LiteCoreSocket>, TransportError)> {
        let runtime = match runtime::handle() {
            Ok(h) => h,
            Err(e) => {
                let err = TransportError::litecore(
                    crate::error::LiteCoreCode::Unsupported,
                    format!("litecore-ws {e}"),
                );
                return Err((host, err));
            }
        };
        live()
            .get_or_insert_with(HashMap::new)
            .insert(self.id, self.commands);
        runtime.spawn(run(self.id, host, setup, self.queue));
        Ok(())
    }
}

/// The actor: connect, run, and report exactly one `closed`.
async fn run(
    id: u64,
    mut host: Box<dyn LiteCoreSocket>,
    setup: Result<(Address, Options), TransportError>,
    mut commands: mpsc::UnboundedReceiver<Command>,
) {
    let started = Instant::now();
    let result: Option<TransportError> = match setup {
        Err(e) => Some(e),
        Ok((address, options)) => {
            lcws_log!(
                Level::Info,
                Some(id),
                "connecting to {}://{}:{}{}",
                address.scheme,
                address.host,
                address.port,
                address.path
            );
            match connect_phase(id, &mut *host, &address, &options, &mut commands).await {
                Err(e) => Some(e),
                Ok(None) => None,
                Ok(Some(ws)) => {
                    lcws_log!(
                        Level::Info,
                        Some(id),
                        "opened after {:?}",
                        started.elapsed()
                    );
                    host.opened();
                    crate::session::run(
                        id,
                        &mut *host,
                        ws,
                        &mut commands,
                        options.heartbeat(),
                        options.mirror_message_types,
                    )
                    .await
                }
            }
        }
    };
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
    unregister(id);
}

/// The stream under an open WebSocket: TCP, TLS, or either inside a proxy tunnel.
pub type Transport = crate::proxy::Stream;

/// Connects and upgrades, while watching the command queue so that `requestClose` aborts the
/// attempt at once. `Ok(None)`: LiteCore asked to close cleanly before the connection opened.
async fn connect_phase(
    id: u64,
    host: &mut dyn LiteCoreSocket,
    address: &Address,
    options: &Options,
    commands: &mut mpsc::UnboundedReceiver<Command>,
) -> Result<Option<WebSocketStream<Transport>>, TransportError> {
    let establish = tokio::time::timeout(CONNECT_TIMEOUT, establish(id, host, address, options));
    tokio::pin!(establish);
    loop {
        tokio::select! {
            result = &mut establish => {
                return match result {
                    Ok(r) => r.map(Some),
                    Err(_) => Err(TransportError::network(
                        NetworkCode::Timeout,
                        format!("connecting to {}:{} timed out after {:?}", address.host, address.port, CONNECT_TIMEOUT),
                    )),
                };
            }
            command = commands.recv() => match command {
                Some(Command::RequestClose { status, message }) => {
                    lcws_log!(Level::Info, Some(id), "close requested ({status}) while connecting: aborting");
                    return close_before_open(status, &message).map(|()| None);
                }
                Some(Command::Abort(e)) => return Err(e),
                Some(Command::Write(_)) => {
                    lcws_log!(Level::Warning, Some(id), "write before the socket opened: dropped");
                }
                Some(Command::CompletedReceive(_)) => {}
                // Every sender is gone: the handle was disposed. Nobody is listening any more.
                None => return Err(TransportError::network(NetworkCode::ConnectionAborted, "socket disposed while connecting")),
            }
        }
    }
}

/// Most redirects followed (LiteCore's built-in transport stops after 10 too).
pub const MAX_REDIRECTS: usize = 10;

/// DNS, TCP, TLS (wss), the HTTP upgrade and `gotHTTPResponse`, including one Basic challenge
/// round trip (`challengeAuth`) and up to [`MAX_REDIRECTS`] redirects. `gotHTTPResponse` is called
/// once, with the answer that ended the attempts.
async fn establish(
    id: u64,
    host: &mut dyn LiteCoreSocket,
    address: &Address,
    options: &Options,
) -> Result<WebSocketStream<Transport>, TransportError> {
    let challenge_auth = options.auth.as_ref().is_some_and(|a| {
        a.challenge_auth
            && a.kind == AuthType::Basic
            && a.username.is_some()
            && a.password.is_some()
    });
    let mut hold_credentials = challenge_auth;
    let mut target = address.clone();
    let mut redirects = 0;
    // Server certificates the app already accepted (gotPeerCertificate): a challenge retry or a
    // redirect to the same server asks again only for a certificate it has not seen.
    let mut accepted_certs: Vec<Vec<u8>> = Vec::new();
    loop {
        let attempt = handshake::Attempt {
            same_origin: target.same_origin(address),
            hold_credentials,
            stored_cookies: host.stored_cookies(&target),
        };
        let request = handshake::build_request(&target, options, &generate_key(), &attempt)?;
        let (mut stream, response, mut rest) =
            exchange(id, host, &mut accepted_certs, &target, options, &request).await?;
        for (name, value) in &response.headers {
            if name.eq_ignore_ascii_case("set-cookie") {
                host.store_cookie(value, &target, options.accept_parent_domain_cookies);
            }
        }
        match response.status {
            101 => {
                host.got_http_response(101, &response.headers_fleece());
                handshake::validate_upgrade(&request, &response)?;
                return Ok(WebSocketStream::from_partially_read(
                    stream,
                    rest,
                    Role::Client,
                    Some(session::websocket_config()),
                )
                .await);
            }
            401 if hold_credentials && handshake::asks_for_basic(&response) => {
                lcws_log!(
                    Level::Info,
                    Some(id),
                    "401 with a Basic challenge: retrying with credentials"
                );
                hold_credentials = false;
                continue;
            }
            301 | 302 | 303 | 307 | 308 => {
                let next = handshake::redirect_target(&target, &response);
                let next = match next {
                    Ok(next) if redirects < MAX_REDIRECTS => next,
                    Ok(_) => {
                        host.got_http_response(response.status as i32, &response.headers_fleece());
                        return Err(TransportError::network(
                            NetworkCode::TooManyRedirects,
                            format!("more than {MAX_REDIRECTS} redirects"),
                        ));
                    }
                    Err(e) => {
                        host.got_http_response(response.status as i32, &response.headers_fleece());
                        return Err(e);
                    }
                };
                redirects += 1;
                lcws_log!(
                    Level::Info,
                    Some(id),
                    "HTTP {} redirect to {}://{}:{}{}",
                    response.status,
                    next.scheme,
                    next.host,
                    next.port,
                    next.path
                );
                target = next;
                continue;
            }
            status => {
                handshake::read_error_body(
                    &mut stream,
                    &response,
                    &mut rest,
                    Duration::from_secs(2),
                )
                .await;
                host.got_http_response(status as i32, &response.headers_fleece());
                return Err(handshake::upgrade_refused(&response, &rest));
            }
        }
    }
}

/// One HTTP exchange: connect (directly or through a proxy: [`proxy::connect`]), TLS for wss,
/// send the request, read the response head.
async fn exchange(
    id: u64,
    host: &mut dyn LiteCoreSocket,
    accepted_certs: &mut Vec<Vec<u8>>,
    target: &Address,
    options: &Options,
    request: &handshake::UpgradeRequest,
) -> Result<(Transport, handshake::Response, Vec<u8>), TransportError> {
    let tls_config = if target.is_tls() {
        Some(tls::client_config(options)?)
    } else {
        None
    };
    let (stream, route) = proxy::connect(id, target, options).await?;
    lcws_log!(Level::Verbose, Some(id), "connected {route}");
    let mut stream = match tls_config {
        Some(config) => {
            if options.accept_all_certs {
                lcws_log!(
                    Level::Warning,
                    Some(id),
                    "acceptAllCerts: the certificate of {} is NOT validated; anyone on the path can read and change this replication",
                    target.host
                );
            }
            let tls = tls::handshake(stream, &target.host, config).await?;
            let (_, session) = tls.get_ref();
            lcws_log!(
                Level::Verbose,
                Some(id),
                "TLS {:?}, {:?}",
                session.protocol_version(),
                session.negotiated_cipher_suite().map(|c| c.suite())
            );
            let leaf = session.peer_certificates().and_then(|c| c.first());
            if let Some(leaf) = leaf.filter(|l| !accepted_certs.iter().any(|a| a == l.as_ref())) {
                if !host.peer_certificate(leaf.as_ref(), &target.host) {
                    return Err(TransportError::network(
                        NetworkCode::TlsCertUntrusted,
                        format!("the app refused the certificate of {}", target.host),
                    ));
                }
                accepted_certs.push(leaf.as_ref().to_vec());
            }
            proxy::Stream::Tls(Box::new(tls))
        }
        None => stream,
    };
    lcws_log!(
        Level::Verbose,
        Some(id),
        "request:\n{}",
        request.masked.trim_end()
    );
    stream.write_all(&request.bytes).await.map_err(|e| {
        TransportError::from_io(&e, Stage::Handshake, "sending the upgrade request")
    })?;
    let (response, rest) = handshake::read_response(&mut stream).await?;
    lcws_log!(
        Level::Info,
        Some(id),
        "HTTP {} {}",
        response.status,
        response.reason
    );
    lcws_log!(Level::Verbose, Some(id), "response:\n{}", response.masked());
    Ok((stream, response, rest))
}

/// The result `closed` reports when LiteCore's `requestClose` arrives before the socket opened.
/// A normal stop (1000/1001) is a clean close; LiteCore's connect timeout (504) is a Network
/// timeout; anything else is passed on in the WebSocket domain.
pub fn close_before_open(status: i32, message: &str) -> Result<(), TransportError> {
    match status {
        close_code::NORMAL | close_code::GOING_AWAY => Ok(()),
        504 => Err(TransportError::network(
            NetworkCode::Timeout,
            if message.is_empty() {
                "connect timed out"
            } else {
                message
            },
        )),
        _ => Err(TransportError::websocket(
            status,
            if message.is_empty() {
                "closed before the connection opened".to_string()
            } else {
                message.to_string()
            },
        )),
    }
}

/// Stops every live socket with `error` and waits up to `grace` for their `closed` calls.
/// Returns the number still alive when the wait ended.
pub fn abort_all(error: &TransportError, grace: Duration) -> usize {
    let deadline = Instant::now() + grace;
    let mut guard = live();
    if let Some(map) = guard.as_ref() {
        for tx in map.values() {
            let _ = tx.send(Command::Abort(error.clone()));
        }
    }
    loop {
        let remaining = guard.as_ref().map_or(0, HashMap::len);
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

/// An SG replication address for unit tests: `scheme://host:port/db/_blipsync`.
#[cfg(test)]
pub(crate) fn test_address(scheme: &str, host: &str, port: u16) -> Address {
    Address {
        scheme: scheme.into(),
        host: host.into(),
        port,
        path: "/db/_blipsync".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(scheme: &str, host: &str, port: u16, path: &str) -> Address {
        Address {
            scheme: scheme.into(),
            host: host.into(),
            port,
            path: path.into(),
        }
    }

    #[test]
    fn address_validation() {
        assert!(addr("ws", "localhost", 4984, "/db/_blipsync")
            .validate()
            .is_ok());
        assert!(addr("WSS", "::1", 443, "/db/_blipsync?x=1")
            .validate()
            .is_ok());
        for bad in [
            addr("http", "h", 80, "/"),
            addr("ws", "", 80, "/"),
            addr("ws", "h h", 80, "/"),
            addr("ws", "h", 0, "/"),
            addr("ws", "h", 80, "db"),
            addr("ws", "h", 80, "/a\r\nX: y"),
        ] {
            let e = bad.validate().unwrap_err();
            assert_eq!(e.code, NetworkCode::InvalidUrl as i32, "{bad:?}");
        }
    }

    #[test]
    fn close_before_open_mapping() {
        assert_eq!(close_before_open(1000, ""), Ok(()));
        assert_eq!(close_before_open(1001, "bye"), Ok(()));
        let e = close_before_open(504, "Timed out").unwrap_err();
        assert_eq!(
            (e.domain, e.code, e.message.as_str()),
            (crate::error::Domain::Network, 3, "Timed out")
        );
        let e = close_before_open(4002, "").unwrap_err();
        assert_eq!((e.domain, e.code), (crate::error::Domain::WebSocket, 4002));
    }
}
