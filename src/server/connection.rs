//! One accepted connection: the handshake (TLS, the upgrade request, the share, credentials,
//! the subprotocol), the hand-over to the host, and — once LiteCore opens the socket — the
//! socket's work in the server role ([`serve`]).

use super::request::{self, Refusal, Upgrade};
use super::{response, Connection, HandshakeSlot, Incoming, Share, State};
use crate::address::Address;
use crate::error::{close_code, TransportError};
use crate::litecore::{Command, LiteCoreSocket};
use crate::socket::session::{self, Session, Settings};
use crate::socket::{self, Pending};
use crate::stream::Stream;
use crate::{http, lcws_log, log::Level};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::protocol::Role;
use tokio_tungstenite::WebSocketStream;

/// A socket handed to the host and not yet opened by LiteCore.
pub struct Waiting {
    pending: Option<Pending>,
    /// The connection, until it is opened or refused.
    stream: Option<(Stream, Vec<u8>)>,
    key: String,
    protocol: String,
    settings: Settings,
    /// Why the connection was refused meanwhile (the listener stopped, LiteCore took too long).
    refused: Option<String>,
    server_name: String,
    /// The clock for LiteCore's `open` (see [`hand_over`]), stopped by the open.
    timer: Option<tokio::task::AbortHandle>,
}

/// The passive replicator's options for the listener's settings: a Fleece dict (`noDeltas`
/// when delta sync is off, as LiteCore's option `kC4ReplicatorOptionDisableDeltas`).
pub fn passive_options(delta_sync: bool) -> Vec<u8> {
    let mut e = crate::fleece::Encoder::new();
    e.begin_dict();
    if !delta_sync {
        e.write_key(b"noDeltas");
        e.write_bool(true);
    }
    e.end_dict();
    e.finish().unwrap_or_default()
}

/// Reads and answers one client's handshake, then hands the connection to the host. Bounded by
/// the handshake timeout; abandoned when the listener stops. The connection counts as a
/// handshake (`slot`) until it is recorded for its hand-over, then as a connection.
pub async fn handshake(
    state: Arc<State>,
    tcp: TcpStream,
    peer: SocketAddr,
    over_limit: bool,
    slot: HandshakeSlot,
) {
    let limits = state.config.limits;
    let mut stop = state.stop_signal();
    let negotiated = tokio::select! {
        r = tokio::time::timeout(limits.handshake_timeout, negotiate(&state, tcp, peer, over_limit)) => r,
        _ = stop.wait_for(|s| *s) => return,
    };
    let accepted = match negotiated {
        Ok(Some(a)) => a,
        Ok(None) => return,
        Err(_) => {
            lcws_log!(
                Level::Info,
                None,
                "listener {}: {peer} did not finish its handshake within {:?}: dropped",
                state.id,
                limits.handshake_timeout
            );
            return;
        }
    };
    hand_over(state, accepted, slot).await;
}

/// What a handshake that succeeded produced.
struct Accepted {
    stream: Stream,
    rest: Vec<u8>,
    upgrade: Upgrade,
    share: Share,
    user: String,
    protocol: String,
    peer: SocketAddr,
}

/// TLS, the request, the checks. `None` when the client was refused (the answer was written)
/// or went away.
async fn negotiate(
    state: &Arc<State>,
    tcp: TcpStream,
    peer: SocketAddr,
    over_limit: bool,
) -> Option<Accepted> {
    let id = state.id;
    let mut stream = match &state.tls {
        Some(acceptor) => match acceptor.accept(tcp).await {
            Ok(tls) => Stream::ServerTls(Box::new(tls)),
            Err(e) => {
                lcws_log!(
                    Level::Info,
                    None,
                    "listener {id}: TLS handshake with {peer} failed: {e}"
                );
                return None;
            }
        },
        None => Stream::Tcp(tcp),
    };
    let server = state.config.server_name.clone();
    if over_limit {
        let r = Refusal::new(503, "too many connections; try again later");
        refuse(&mut stream, &r, &server, peer).await;
        return None;
    }
    let max = state.config.limits.max_head_bytes;
    let read = http::read_head(
        &mut stream,
        max,
        "the upgrade request",
        |buf| request::parse_head(buf, max),
        || http::protocol_error("closed before a whole request arrived".into()),
    )
    .await;
    let (head, rest) = match read {
        Ok(h) => h,
        Err(e) => {
            let status = if e.message.contains("exceeds") || e.message.contains("more than") {
                431
            } else {
                400
            };
            lcws_log!(
                Level::Info,
                None,
                "listener {id}: bad request from {peer}: {}",
                e.message
            );
            refuse(&mut stream, &Refusal::new(status, e.message), &server, peer).await;
            return None;
        }
    };
    let checked = match request::check(&head) {
        Ok(u) => check_access(state, u).await,
        Err(r) => Err(r),
    };
    let (upgrade, share, user, protocol) = match checked {
        Ok(ok) => ok,
        Err(r) => {
            refuse(&mut stream, &r, &server, peer).await;
            return None;
        }
    };
    Some(Accepted {
        stream,
        rest,
        upgrade,
        share,
        user,
        protocol,
        peer,
    })
}

/// The database, the credentials and the subprotocol.
async fn check_access(
    state: &Arc<State>,
    upgrade: Upgrade,
) -> Result<(Upgrade, Share, String, String), Refusal> {
    if state.is_stopping() {
        return Err(Refusal::new(503, "the listener is stopping"));
    }
    let share = state
        .share(&upgrade.database)
        .ok_or_else(|| Refusal::new(404, format!("no such database {:?}", upgrade.database)))?;
    let mut user = String::new();
    if state.config.password_auth {
        let unauthorized = || {
            Refusal::new(401, "Login required")
                .with_header("WWW-Authenticate", "Basic realm=\"litecore-ws\"")
        };
        let Some(credentials) = upgrade.credentials.clone() else {
            return Err(unauthorized());
        };
        let task_state = state.clone();
        let database = share.name.clone();
        let name = credentials.user.clone();
        let accepted = tokio::task::spawn_blocking(move || {
            task_state
                .call_host(|h| h.check_password(&database, &name, &credentials.password))
                .unwrap_or(false)
        })
        .await
        .unwrap_or(false);
        if !accepted {
            lcws_log!(
                Level::Info,
                None,
                "listener {}: credentials of user {:?} for {:?} refused",
                state.id,
                credentials_user(&upgrade),
                share.name
            );
            return Err(unauthorized());
        }
        user = credentials_user(&upgrade);
    }
    let protocol = upgrade
        .protocols
        .iter()
        .find(|p| share.protocols.contains(p))
        .cloned()
        .ok_or_else(|| {
            Refusal::new(
                403,
                format!(
                    "no common replication protocol: the client offered {:?}, database {:?} speaks {:?}",
                    upgrade.protocols, share.name, share.protocols
                ),
            )
        })?;
    Ok((upgrade, share, user, protocol))
}

fn credentials_user(upgrade: &Upgrade) -> String {
    upgrade
        .credentials
        .as_ref()
        .map(|c| c.user.clone())
        .unwrap_or_default()
}

/// Logs a refusal of `peer`, then writes it and closes the connection ([`write_refusal`]).
async fn refuse(stream: &mut Stream, refusal: &Refusal, server: &str, peer: SocketAddr) {
    lcws_log!(
        Level::Info,
        None,
        "refusing {peer}: HTTP {} {}",
        refusal.status,
        refusal.reason
    );
    write_refusal(stream, refusal, server).await;
}

/// Writes a refusal and shuts the stream down, giving up after 2 s (a client that does not read
/// is not waited for).
async fn write_refusal(stream: &mut Stream, refusal: &Refusal, server: &str) {
    let bytes = response::refusal(refusal, server);
    let _ = tokio::time::timeout(Duration::from_secs(2), async {
        let _ = stream.write_all(&bytes).await;
        let _ = stream.shutdown().await;
    })
    .await;
}

/// Records the connection, gives the socket to the host (on a blocking thread: the host
/// creates a replicator) and starts the clock for LiteCore's `open`.
async fn hand_over(state: Arc<State>, a: Accepted, slot: HandshakeSlot) {
    let id = socket::next_id();
    let (mut handle, pending) = socket::prepare(id, Some(state.id));
    let waiting = Waiting {
        pending: Some(pending),
        stream: Some((a.stream, a.rest)),
        key: a.upgrade.key.clone(),
        protocol: a.protocol.clone(),
        settings: Settings {
            heartbeat: state.config.limits.heartbeat,
            mirror_message_types: false,
        },
        refused: None,
        server_name: state.config.server_name.clone(),
        timer: None,
    };
    let connection = state.remember(id, &a.share.name, waiting);
    // Counted as a connection from here on, no longer as a handshake (counted twice, it would
    // turn clients away below max_connections while the host's accept runs).
    drop(slot);
    // A stop that began after this handshake finished may have taken its list of connections
    // before this one was recorded: it would neither refuse nor close it. Recorded first, checked
    // second: either the stop's list has it or this sees the stop.
    if state.is_stopping() {
        refuse_waiting(&connection, 503, "the listener is stopping");
        state.handed(&connection, None);
        return;
    }
    handle.start_on_open(starter(connection.waiting.clone()));
    let scheme = if state.tls.is_some() { "wss" } else { "ws" };
    lcws_log!(
        Level::Info,
        Some(id),
        "{} asks for {:?} ({}, user {:?}): handing over to LiteCore",
        a.peer,
        a.share.name,
        a.protocol,
        a.user
    );
    let peer = Address {
        scheme: scheme.into(),
        host: a.peer.ip().to_string(),
        port: a.peer.port(),
        path: a.upgrade.path.clone(),
    };
    let task_state = state.clone();
    let task_connection = connection.clone();
    let token = tokio::task::spawn_blocking(move || {
        let incoming = Incoming {
            connection: &task_connection,
            peer,
            database: &a.share,
            protocol: &a.protocol,
            user: &a.user,
            allow_push: task_state.config.allow_push,
            allow_pull: task_state.config.allow_pull,
            replicator_options: &task_state.replicator_options,
        };
        task_state
            .call_host(|h| h.hand_over(handle, &incoming))
            .flatten()
    })
    .await
    .ok()
    .flatten();
    state.handed(&connection, token);
    if token.is_none() {
        refuse_waiting(
            &connection,
            503,
            "the app could not start a replicator for this connection",
        );
        return;
    }
    // LiteCore opens the socket when the replicator starts; a socket it never opens is refused.
    let timeout = state.config.limits.handshake_timeout;
    let timed = connection.clone();
    let timer = tokio::spawn(async move {
        tokio::time::sleep(timeout).await;
        refuse_waiting(&timed, 503, "LiteCore did not open the socket in time");
    });
    // The open stops the clock; a timer left running would hold the connection's record (and
    // its own task) for the whole timeout after every accept.
    let mut slot = super::lock(&connection.waiting);
    match slot.as_mut() {
        Some(waiting) => waiting.timer = Some(timer.abort_handle()),
        None => timer.abort(), // already opened
    }
}

/// Refuses a handed-over connection that LiteCore has not opened yet (no-op once it has): the
/// client gets `status` instead of 101, and a later `open` reports the refusal through `closed`.
pub fn refuse_waiting(connection: &Arc<Connection>, status: u16, reason: &str) {
    let mut slot = super::lock(&connection.waiting);
    let Some(waiting) = slot.as_mut() else {
        return;
    };
    let Some((mut stream, _)) = waiting.stream.take() else {
        return;
    };
    waiting.refused = Some(reason.to_string());
    let server = waiting.server_name.clone();
    let refusal = Refusal::new(status, reason);
    let id = connection.id;
    lcws_log!(
        Level::Info,
        Some(id),
        "refused before LiteCore opened it: {reason}"
    );
    if let Ok(rt) = crate::runtime::handle() {
        rt.spawn(async move { write_refusal(&mut stream, &refusal, &server).await });
    }
}

/// What LiteCore's `open` of an incoming socket runs: the socket's task in the server role.
fn starter(slot: Arc<Mutex<Option<Waiting>>>) -> socket::Starter {
    Box::new(move |host: Box<dyn LiteCoreSocket>| {
        let waiting = super::lock(&slot).take();
        let Some(mut waiting) = waiting else {
            return Err((
                host,
                TransportError::litecore(
                    crate::error::LiteCoreCode::InvalidParameter,
                    "LiteCore opened an incoming socket twice",
                ),
            ));
        };
        if let Some(timer) = waiting.timer.take() {
            timer.abort();
        }
        let Some(pending) = waiting.pending.take() else {
            return Err((
                host,
                TransportError::litecore(
                    crate::error::LiteCoreCode::InvalidParameter,
                    "LiteCore opened an incoming socket twice",
                ),
            ));
        };
        let body: socket::RoleBody = match waiting.stream.take() {
            Some((stream, rest)) => Box::new(move |id, host, commands| {
                Box::pin(serve(id, host, stream, rest, waiting, commands))
            }),
            None => {
                let why = waiting
                    .refused
                    .unwrap_or_else(|| "the connection is gone".into());
                Box::new(move |_, _, _| {
                    Box::pin(async move {
                        Some(TransportError::websocket(close_code::APP_TRANSIENT, why))
                    })
                })
            }
        };
        pending.spawn(host, body)
    })
}

/// The incoming socket's work: answer 101, `opened`, then the session in the server role.
async fn serve(
    id: u64,
    host: &mut dyn LiteCoreSocket,
    mut stream: Stream,
    rest: Vec<u8>,
    waiting: Waiting,
    commands: &mut mpsc::UnboundedReceiver<Command>,
) -> Option<TransportError> {
    // LiteCore may already have asked to close (a replicator stopped at once): no upgrade.
    while let Ok(command) = commands.try_recv() {
        let ended = match command {
            Command::RequestClose { status, message } => {
                Some(socket::close::close_before_open(status, &message).err())
            }
            Command::GoAway { code, reason } => {
                Some(Some(TransportError::websocket(i32::from(code), reason)))
            }
            Command::Abort(e) => Some(Some(e)),
            Command::Write(_) | Command::CompletedReceive(_) => None,
        };
        if let Some(result) = ended {
            let r = Refusal::new(503, "the replicator stopped before the connection opened");
            write_refusal(&mut stream, &r, &waiting.server_name).await;
            return result;
        }
    }
    let answer =
        response::switching_protocols(&waiting.key, &waiting.protocol, &waiting.server_name);
    if let Err(e) = stream.write_all(&answer).await {
        return Some(TransportError::from_io(
            &e,
            crate::error::Stage::Handshake,
            "sending 101 Switching Protocols",
        ));
    }
    let ws = WebSocketStream::from_partially_read(
        stream,
        rest,
        Role::Server,
        Some(session::websocket_config()),
    )
    .await;
    lcws_log!(Level::Info, Some(id), "upgraded ({})", waiting.protocol);
    host.opened();
    socket::test_panic_hook(id, "open");
    Session::new(id, host, ws, waiting.settings)
        .run(commands)
        .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::{ListenerHost, Share};
    use crate::socket::SocketHandle;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use tokio::io::AsyncReadExt;

    /// A host that counts the connections it is handed (and never opens them).
    #[derive(Default)]
    struct CountingHost {
        handed: AtomicUsize,
    }

    impl ListenerHost for CountingHost {
        fn hand_over(&self, _: SocketHandle, _: &Incoming<'_>) -> Option<usize> {
            self.handed.fetch_add(1, Ordering::SeqCst);
            Some(1)
        }
        fn release(&self, _: usize) {}
        fn check_password(&self, _: &str, _: &str, _: &[u8]) -> bool {
            true
        }
        fn release_database(&self, _: usize) {}
    }

    /// A handshake that finished just as the listener began stopping, recorded only after the
    /// stop took its list of connections (the stop neither refuses nor closes it): it must be
    /// answered 503, not handed to LiteCore — a socket LiteCore opened then would run on with
    /// nothing left to close it, and the stop would wait for it in vain.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_handshake_done_as_the_listener_stops_is_refused_not_handed_over() {
        let host = Arc::new(CountingHost::default());
        let config = super::super::Config {
            port: 0,
            interface: Some("127.0.0.1".into()),
            password_auth: false,
            allow_push: true,
            allow_pull: true,
            delta_sync: false,
            limits: super::super::Limits::default(),
            server_name: "test".into(),
            gate: Arc::new(super::super::HostGate::default()),
        };
        let listener =
            super::super::Listener::start(config, super::super::Security::Plain, host.clone())
                .unwrap();
        listener
            .share(Share {
                name: "db".into(),
                database: 0x1000,
                collections: vec![],
                protocols: vec!["BLIP_3+CBMobile_3".into()],
            })
            .unwrap();
        let state = listener.state.clone();
        let tcp = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let mut client = TcpStream::connect(tcp.local_addr().unwrap()).await.unwrap();
        let (server_end, peer) = tcp.accept().await.unwrap();
        let raw = b"GET /db/_blipsync HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\
Sec-WebSocket-Protocol: BLIP_3+CBMobile_3\r\n\r\n";
        let (head, _) = request::parse_head(raw, 4096).unwrap().unwrap();
        let upgrade = request::check(&head).unwrap();
        let accepted = Accepted {
            stream: Stream::Tcp(server_end),
            rest: Vec::new(),
            upgrade,
            share: state.share("db").unwrap(),
            user: String::new(),
            protocol: "BLIP_3+CBMobile_3".into(),
            peer,
        };
        let slot = state.handshake_slot(); // as the accept loop does
                                           // The stop has begun; its list of connections was taken without this one.
        state.stopping.send_replace(true);
        hand_over(state.clone(), accepted, slot).await;
        assert_eq!(
            host.handed.load(Ordering::SeqCst),
            0,
            "handed to LiteCore while the listener stops"
        );
        let mut answer = vec![0u8; 512];
        let n = tokio::time::timeout(Duration::from_secs(5), client.read(&mut answer))
            .await
            .unwrap()
            .unwrap();
        assert!(
            answer[..n].starts_with(b"HTTP/1.1 503"),
            "{:?}",
            String::from_utf8_lossy(&answer[..n])
        );
        assert_eq!(listener.status().connections, 0);
        tokio::task::spawn_blocking(move || drop(listener))
            .await
            .unwrap();
    }

    #[test]
    fn passive_options_say_no_deltas_unless_enabled() {
        let off = passive_options(false);
        let v = crate::fleece::decode(&off).unwrap();
        assert!(v.get("noDeltas").and_then(|b| b.as_bool()).unwrap_or(false));
        let on = passive_options(true);
        let v = crate::fleece::decode(&on).unwrap();
        assert!(v.get("noDeltas").is_none());
    }
}
