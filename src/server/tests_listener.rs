//! The listener against a tungstenite client, with a host that plays LiteCore: it "opens" each
//! socket it is handed at once and echoes every message, as a passive replicator would answer.

use super::*;
use crate::litecore::{Command, LiteCoreSocket};
use futures_util::{SinkExt, StreamExt};
use std::sync::mpsc as std_mpsc;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::{self, Message};

/// What the fake LiteCore saw of a socket.
#[derive(Default, Debug)]
struct Seen {
    opened: usize,
    received: Vec<Vec<u8>>,
    closed: Vec<Option<TransportError>>,
}

/// The LiteCore side of one incoming socket: echoes what it receives through the socket's
/// handle, like LiteCore's `write`.
struct EchoSocket {
    seen: Arc<Mutex<Seen>>,
    writes: std_mpsc::Sender<Vec<u8>>,
}

impl LiteCoreSocket for EchoSocket {
    fn got_http_response(&mut self, _: i32, _: &[u8]) {
        panic!("gotHTTPResponse on an incoming socket");
    }
    fn opened(&mut self) {
        lock(&self.seen).opened += 1;
    }
    fn close_requested(&mut self, _: i32, _: &[u8]) {}
    fn completed_write(&mut self, _: usize) {}
    fn received(&mut self, data: &[u8]) {
        lock(&self.seen).received.push(data.to_vec());
        let _ = self.writes.send(data.to_vec());
    }
    fn closed(self: Box<Self>, error: Option<&TransportError>) {
        lock(&self.seen).closed.push(error.cloned());
    }
}

#[derive(Default)]
struct FakeHost {
    seen: Arc<Mutex<Seen>>,
    handed: AtomicUsize,
    released: AtomicUsize,
    refuse: AtomicBool,
    password: Option<&'static str>,
}

impl ListenerHost for FakeHost {
    fn hand_over(&self, socket: SocketHandle, incoming: &Incoming<'_>) -> Option<usize> {
        assert!(!incoming.protocol.is_empty());
        if self.refuse.load(Ordering::SeqCst) {
            return None;
        }
        self.handed.fetch_add(1, Ordering::SeqCst);
        let (tx, rx) = std_mpsc::channel::<Vec<u8>>();
        let starter = socket.take_on_open().expect("an incoming socket");
        let host = EchoSocket {
            seen: self.seen.clone(),
            writes: tx,
        };
        if starter(Box::new(host)).is_err() {
            return None;
        }
        // LiteCore's `write` for each echo; the replicator "stops" when the socket is gone.
        let connection = incoming.connection.clone();
        std::thread::spawn(move || {
            for data in rx {
                socket.send(Command::Write(Box::new(data)));
            }
            connection.report(Activity::Stopped);
        });
        Some(1)
    }
    fn release(&self, _token: usize) {
        self.released.fetch_add(1, Ordering::SeqCst);
    }
    fn check_password(&self, _db: &str, user: &str, password: &[u8]) -> bool {
        Some(password) == self.password.map(str::as_bytes) && user == "alice"
    }
    fn release_database(&self, _database: usize) {}
}

fn config(password_auth: bool) -> Config {
    Config {
        port: 0,
        interface: Some("127.0.0.1".into()),
        password_auth,
        allow_push: true,
        allow_pull: true,
        delta_sync: false,
        limits: Limits::default(),
        server_name: "test".into(),
        gate: Arc::new(HostGate::default()),
    }
}

fn share(name: &str) -> Share {
    Share {
        name: name.into(),
        database: 0x1000,
        collections: vec![],
        protocols: vec!["BLIP_3+CBMobile_3".into()],
    }
}

type Client =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Connects like a LiteCore client; `Err(status)` for an HTTP refusal.
async fn connect(port: u16, path: &str, protocol: &str, auth: Option<&str>) -> Result<Client, u16> {
    let mut request = format!("ws://127.0.0.1:{port}{path}")
        .into_client_request()
        .unwrap();
    request
        .headers_mut()
        .insert("Sec-WebSocket-Protocol", protocol.parse().unwrap());
    if let Some(a) = auth {
        request
            .headers_mut()
            .insert("Authorization", a.parse().unwrap());
    }
    match tokio_tungstenite::connect_async(request).await {
        Ok((ws, response)) => {
            assert_eq!(
                response.headers().get("sec-websocket-protocol").unwrap(),
                protocol
            );
            Ok(ws)
        }
        Err(tungstenite::Error::Http(r)) => Err(r.status().as_u16()),
        Err(e) => panic!("{e}"),
    }
}

/// Starts `f` on a thread of its own at once (the listener's calls block, as a C app's would).
fn blocking<R: Send + 'static>(
    f: impl FnOnce() -> R + Send + 'static,
) -> tokio::task::JoinHandle<R> {
    tokio::task::spawn_blocking(f)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn echo_refusals_and_stop() {
    let host = Arc::new(FakeHost::default());
    let mut listener = Listener::start(config(false), Security::Plain, host.clone()).unwrap();
    listener.share(share("db")).unwrap();
    let port = listener.port();

    let mut ws = connect(port, "/db/_blipsync", "BLIP_3+CBMobile_3", None)
        .await
        .unwrap();
    ws.send(Message::binary(b"hello".to_vec())).await.unwrap();
    let echo = ws.next().await.unwrap().unwrap();
    assert_eq!(echo, Message::binary(b"hello".to_vec()));
    assert_eq!(lock(&host.seen).opened, 1);
    assert_eq!(listener.status().connections, 1);

    assert_eq!(
        connect(port, "/nope/_blipsync", "BLIP_3+CBMobile_3", None)
            .await
            .err(),
        Some(404)
    );
    assert_eq!(
        connect(port, "/db/_blipsync", "BLIP_3+CBMobile_9", None)
            .await
            .err(),
        Some(403)
    );
    host.refuse.store(true, Ordering::SeqCst);
    assert_eq!(
        connect(port, "/db/_blipsync", "BLIP_3+CBMobile_3", None)
            .await
            .err(),
        Some(503)
    );

    // Stopping closes the open socket with 4001 (transient) and waits for its `closed`.
    let stopper = blocking(move || {
        let left = listener.stop();
        (listener, left)
    });
    let close = ws.next().await;
    match close {
        Some(Ok(Message::Close(Some(f)))) => assert_eq!(u16::from(f.code), 4001),
        other => panic!("expected Close(4001): {other:?}"),
    }
    drop(ws);
    let (_listener, left) = stopper.await.unwrap();
    assert_eq!(left, 0);
    let seen = lock(&host.seen);
    assert_eq!(seen.closed.len(), 1, "{seen:?}");
    assert_eq!(seen.closed[0].as_ref().map(|e| e.code), Some(4001));
    assert_eq!(host.released.load(Ordering::SeqCst), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn basic_credentials_are_required() {
    let host = Arc::new(FakeHost {
        password: Some("secret"),
        ..FakeHost::default()
    });
    let listener = Listener::start(config(true), Security::Plain, host.clone()).unwrap();
    listener.share(share("db")).unwrap();
    let port = listener.port();
    let basic = |u: &str, p: &str| {
        use base64::Engine;
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{u}:{p}"))
        )
    };
    assert_eq!(
        connect(port, "/db/_blipsync", "BLIP_3+CBMobile_3", None)
            .await
            .err(),
        Some(401)
    );
    assert_eq!(
        connect(
            port,
            "/db/_blipsync",
            "BLIP_3+CBMobile_3",
            Some(&basic("alice", "wrong"))
        )
        .await
        .err(),
        Some(401)
    );
    assert_eq!(
        host.handed.load(Ordering::SeqCst),
        0,
        "no socket for a refused client"
    );
    let ws = connect(
        port,
        "/db/_blipsync",
        "BLIP_3+CBMobile_3",
        Some(&basic("alice", "secret")),
    )
    .await;
    assert!(ws.is_ok());
    drop(ws);
    blocking(move || drop(listener)).await.unwrap();
}
