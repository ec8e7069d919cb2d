//! Benchmarks of litecore-ws's listener (the server role) driven through its C ABI by
//! a fake LiteCore written in Rust, against a plain tokio-tungstenite server doing the same work,
//! in one run.
//!
//! ```sh
//! cargo bench --bench listener                  # default (~2-4 min)
//! cargo bench --bench listener -- --quick       # fewer connections, rounds and trials
//! cargo bench --bench listener -- --full        # more of each
//! cargo bench --bench listener -- --only accept,lat,tput,scale
//! cargo bench --bench listener -- --only tput --scheme ws --size 1024 --server lcws --rounds 1
//!                                               # one throughput case (for callgrind)
//! ```
//! (`LCWS_BENCH=quick|full` does the same as the flags; `./scripts/bench.sh --listener …` runs it.)
//!
//! Both servers run in this process, one at a time: litecore-ws's listener (`lcws_listener_start`,
//! a ws and a wss one) whose `accept` callback plays LiteCore — it makes a `C4Socket` around the
//! native handle it is given and opens it with `lcws_socket_open`, as `c4socket_fromNative` and
//! the passive replicator would — and a tokio-tungstenite accept loop (`accept_hdr_async` picking
//! the subprotocol, then an echo loop) on its own 2-worker runtime. The client is this executable
//! started again as a child process (`--client`, a tokio-tungstenite client), so the CPU time and
//! memory measured here are the servers' alone. Every comparison is interleaved (A B, B A, ...)
//! and reported as medians; ratios are medians of the per-round ratios, with their spread.

use futures_util::{SinkExt, StreamExt};
use litecore_ws::ffi::exports::{
    lcws_set_host, lcws_socket_completed_receive, lcws_socket_dispose, lcws_socket_open,
    lcws_socket_request_close, lcws_socket_write, LcwsStatus,
};
use litecore_ws::ffi::host::LcwsHostTable;
use litecore_ws::ffi::listener::{
    lcws_connection_report, lcws_listener_free, lcws_listener_port, lcws_listener_share,
    lcws_listener_start, lcws_listener_status, LcwsActivity, LcwsConnection, LcwsIncoming,
    LcwsListener, LcwsListenerConfig,
};
use litecore_ws::ffi::types::{C4Socket, LcwsError, LcwsSlice, LcwsSliceResult};
use std::collections::{HashMap, VecDeque};
use std::ffi::{c_int, c_void};
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::atomic::{AtomicPtr, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};
use tokio::net::{TcpListener, TcpStream};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// Process figures (CPU, RSS, threads) and statistics, shared with `benches/transport.rs`.
mod common;
use common::*;

const KIB: usize = 1024;
const MIB: usize = 1024 * 1024;
/// LiteCore's send window: it keeps writing while less than this is not yet `completedWrite`.
const SEND_WINDOW: usize = 64 * KIB;
const PROTOCOL: &str = "BLIP_3+CBMobile_3";
const DATABASE: &str = "db";
const PATH: &str = "/db/_blipsync";
const WAIT: Duration = Duration::from_secs(120);

// ─────────────────────────────────────────── configuration ──────────────────────────────────

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Mode {
    Quick,
    Default,
    Full,
}

struct Cfg {
    mode: Mode,
    rounds: usize,
    /// Connections per accept round, and how many the client has in flight at once.
    accept_n: usize,
    accept_concurrency: usize,
    lat_trials: usize,
    /// Bytes sent (one way) per throughput round, per message size.
    tput_bytes: [(usize, usize); 3],
    scale_n: usize,
    parts: Vec<String>,
    only_scheme: Option<String>,
    only_size: Option<usize>,
    only_server: Option<String>,
}

impl Cfg {
    fn from_args() -> Cfg {
        let args: Vec<String> = std::env::args().collect();
        let env = std::env::var("LCWS_BENCH").unwrap_or_default();
        let mode = if args.iter().any(|a| a == "--full") || env == "full" {
            Mode::Full
        } else if args.iter().any(|a| a == "--quick") || env == "quick" {
            Mode::Quick
        } else {
            Mode::Default
        };
        let flag = |name: &str| {
            args.iter()
                .position(|a| a == name)
                .and_then(|i| args.get(i + 1))
                .cloned()
        };
        let parts = flag("--only")
            .map(|s| s.split(',').map(str::to_string).collect())
            .unwrap_or_else(|| {
                ["accept", "lat", "tput", "scale"]
                    .iter()
                    .map(|s| s.to_string())
                    .collect()
            });
        let (rounds, accept_n, lat_trials, vol) = match mode {
            Mode::Quick => (3, 300, 200, 1),
            Mode::Default => (7, 1000, 1000, 4),
            Mode::Full => (11, 2000, 3000, 8),
        };
        Cfg {
            mode,
            rounds: flag("--rounds")
                .and_then(|r| r.parse().ok())
                .unwrap_or(rounds),
            accept_n,
            accept_concurrency: 16,
            lat_trials: flag("--trials")
                .and_then(|r| r.parse().ok())
                .unwrap_or(lat_trials),
            tput_bytes: [
                (KIB, 16 * MIB * vol),
                (64 * KIB, 128 * MIB * vol),
                (MIB, 128 * MIB * vol),
            ],
            scale_n: 1000,
            parts,
            only_scheme: flag("--scheme"),
            only_size: flag("--size").and_then(|s| s.parse().ok()),
            only_server: flag("--server"),
        }
    }

    fn wants(&self, part: &str) -> bool {
        self.parts.iter().any(|p| p == part)
    }
}

// ─────────────────────────────────────────── the fake LiteCore ──────────────────────────────

/// What the passive replicator still has to send back, and how much of it is unacknowledged.
#[derive(Default)]
struct Echo {
    queue: VecDeque<usize>,
    in_flight: usize,
}

/// LiteCore's `C4Socket` around an incoming connection (`c4socket_fromNative`). Its address is
/// the `C4Socket*` litecore-ws sees; it is also the token `accept` returns for `release`.
struct FakeSocket {
    native: AtomicPtr<c_void>,
    refs: AtomicUsize,
    connection: AtomicPtr<LcwsConnection>,
    echo: Mutex<Echo>,
}

static ACCEPTED: AtomicU64 = AtomicU64::new(0);
static OPENED: AtomicU64 = AtomicU64::new(0);
static CLOSED: AtomicU64 = AtomicU64::new(0);
static CLOSED_CLEAN: AtomicU64 = AtomicU64::new(0);
static RELEASED: AtomicU64 = AtomicU64::new(0);
static FREED: AtomicU64 = AtomicU64::new(0);
static WRITES: AtomicU64 = AtomicU64::new(0);
static BUFFERS_RELEASED: AtomicU64 = AtomicU64::new(0);

/// One payload every write points into (LiteCore hands over a refcounted buffer; here it is
/// static and `release_buffer` only counts, so the host costs nothing per message). The client
/// sends slices of the same bytes, so the echo is byte-for-byte what it sent.
fn payload() -> &'static [u8] {
    static P: OnceLock<Vec<u8>> = OnceLock::new();
    P.get_or_init(|| (0..MIB).map(|i| (i * 31 % 251) as u8).collect())
}

/// # Safety
/// `s` must be a socket made by [`l_accept`] that has not been freed.
unsafe fn fake<'a>(s: *mut C4Socket) -> &'a FakeSocket {
    // SAFETY: per the function's contract, `s` is a live `Box<FakeSocket>`.
    unsafe { &*(s as *const FakeSocket) }
}

/// The replicator's writer: sends back what is queued while less than the send window is
/// unacknowledged.
fn pump(s: *mut C4Socket) {
    // SAFETY: called from inside litecore-ws callbacks, which hold a reference.
    let f = unsafe { fake(s) };
    loop {
        let size = {
            let mut e = f.echo.lock().unwrap();
            if e.in_flight >= SEND_WINDOW {
                return;
            }
            let Some(size) = e.queue.pop_front() else {
                return;
            };
            e.in_flight += size;
            size
        };
        WRITES.fetch_add(1, Ordering::Relaxed);
        let data = LcwsSliceResult {
            buf: payload().as_ptr().cast(),
            size,
        };
        // SAFETY: a live socket; `data` points into the static payload, which the fake's
        // release function does not free.
        unsafe { lcws_socket_write(s, data) };
    }
}

unsafe extern "C" fn h_got_http_response(_s: *mut C4Socket, _status: c_int, _h: LcwsSlice) {}

unsafe extern "C" fn h_opened(_s: *mut C4Socket) {
    OPENED.fetch_add(1, Ordering::Relaxed);
}

unsafe extern "C" fn h_closed(s: *mut C4Socket, err: LcwsError) {
    CLOSED.fetch_add(1, Ordering::Relaxed);
    if err.code == 0 {
        CLOSED_CLEAN.fetch_add(1, Ordering::Relaxed);
    }
    // The replicator stops when its socket closes: report it, and litecore-ws calls `release`.
    // SAFETY: litecore-ws holds a reference during its callbacks.
    let c = unsafe { fake(s) }
        .connection
        .swap(std::ptr::null_mut(), Ordering::AcqRel);
    if !c.is_null() {
        // SAFETY: the connection pointer `accept` was given, reported Stopped exactly once.
        unsafe { lcws_connection_report(c, LcwsActivity::Stopped as c_int) };
    }
}

unsafe extern "C" fn h_close_requested(s: *mut C4Socket, status: c_int, msg: LcwsSlice) {
    // LiteCore answers the peer's Close at once, from inside this call.
    // SAFETY: `s` is the live socket of this host call; `msg` is valid during it.
    unsafe { lcws_socket_request_close(s, status, msg) };
}

unsafe extern "C" fn h_completed_write(s: *mut C4Socket, n: usize) {
    // SAFETY: litecore-ws holds a reference during its callbacks.
    unsafe { fake(s) }.echo.lock().unwrap().in_flight -= n;
    pump(s);
}

unsafe extern "C" fn h_received(s: *mut C4Socket, data: LcwsSlice) {
    let n = data.size;
    // SAFETY: the live socket of this host call.
    unsafe { lcws_socket_completed_receive(s, n) };
    // SAFETY: litecore-ws holds a reference during its callbacks.
    unsafe { fake(s) }.echo.lock().unwrap().queue.push_back(n);
    pump(s);
}

unsafe extern "C" fn h_set_native(s: *mut C4Socket, h: *mut c_void) {
    // SAFETY: a live socket.
    unsafe { fake(s) }.native.store(h, Ordering::Release);
}

unsafe extern "C" fn h_get_native(s: *mut C4Socket) -> *mut c_void {
    // SAFETY: called by litecore-ws on live sockets.
    unsafe { fake(s) }.native.load(Ordering::Acquire)
}

unsafe extern "C" fn h_retain(s: *mut C4Socket) -> *mut C4Socket {
    // SAFETY: a live socket.
    unsafe { fake(s) }.refs.fetch_add(1, Ordering::AcqRel);
    s
}

unsafe extern "C" fn h_release(s: *mut C4Socket) {
    // SAFETY: the caller owns one reference, so the socket is live.
    if unsafe { fake(s) }.refs.fetch_sub(1, Ordering::AcqRel) == 1 {
        // The last reference: LiteCore's destructor calls the factory's dispose, then frees.
        // SAFETY: still allocated; nothing else uses it any more.
        unsafe { lcws_socket_dispose(s) };
        // SAFETY: made by `Box::into_raw` in `l_accept`; this is its last use.
        drop(unsafe { Box::from_raw(s as *mut FakeSocket) });
        FREED.fetch_add(1, Ordering::Relaxed);
    }
}

unsafe extern "C" fn h_release_buffer(_buf: *const c_void) {
    BUFFERS_RELEASED.fetch_add(1, Ordering::Relaxed);
}

fn install_host() {
    let table = LcwsHostTable {
        struct_size: std::mem::size_of::<LcwsHostTable>(),
        got_http_response: Some(h_got_http_response),
        opened: Some(h_opened),
        closed: Some(h_closed),
        close_requested: Some(h_close_requested),
        completed_write: Some(h_completed_write),
        received: Some(h_received),
        set_native_handle: Some(h_set_native),
        get_native_handle: Some(h_get_native),
        retain: Some(h_retain),
        release: Some(h_release),
        release_buffer: Some(h_release_buffer),
        got_peer_certificate: None,
        error_make: None,
        get_cookies: None,
        set_cookie: None,
        log: None,
        log_context: std::ptr::null_mut(),
    };
    // SAFETY: a complete table whose entries have the documented signatures.
    assert_eq!(unsafe { lcws_set_host(&table) }, LcwsStatus::Ok);
}

/// `LcwsListenerConfig.accept`: what `c4socket_fromNative` and starting a passive replicator
/// do, reduced to what litecore-ws sees of it: a socket around the native handle, opened.
unsafe extern "C" fn l_accept(_ctx: *mut c_void, incoming: *const LcwsIncoming) -> *mut c_void {
    // SAFETY: litecore-ws passes a valid `LcwsIncoming` for the duration of the call.
    let inc = unsafe { &*incoming };
    ACCEPTED.fetch_add(1, Ordering::Relaxed);
    let s = Box::into_raw(Box::new(FakeSocket {
        native: AtomicPtr::new(inc.native_handle),
        refs: AtomicUsize::new(1),
        connection: AtomicPtr::new(inc.connection),
        echo: Mutex::new(Echo::default()),
    }))
    .cast::<C4Socket>();
    // SAFETY: a live socket whose native handle is the listener's; the peer address is valid
    // during this call; an incoming socket has no options.
    unsafe {
        lcws_socket_open(
            s,
            &inc.peer,
            LcwsSlice::from_bytes(&[]),
            std::ptr::null_mut(),
        )
    };
    s.cast()
}

/// `LcwsListenerConfig.release`: the replicator stopped; LiteCore drops its socket reference.
unsafe extern "C" fn l_release(_ctx: *mut c_void, token: *mut c_void) {
    RELEASED.fetch_add(1, Ordering::Relaxed);
    // SAFETY: `token` is the socket `l_accept` made; this drops the host's own reference.
    unsafe { h_release(token.cast()) };
}

/// A running litecore-ws listener.
struct Lcws {
    listener: *mut LcwsListener,
    port: u16,
}

impl Lcws {
    fn start(tls: Option<(&str, &str)>) -> Lcws {
        // SAFETY: all-zero is a valid config (NULL slices, no callbacks, defaults).
        let mut c: LcwsListenerConfig = unsafe { std::mem::zeroed() };
        c.struct_size = std::mem::size_of::<LcwsListenerConfig>();
        c.network_interface = LcwsSlice::from_bytes(b"127.0.0.1");
        c.disable_tls = tls.is_none();
        if let Some((chain, key)) = tls {
            c.certificate = LcwsSlice::from_bytes(chain.as_bytes());
            c.private_key = LcwsSlice::from_bytes(key.as_bytes());
        }
        c.allow_push = true;
        c.allow_pull = true;
        c.max_connections = 4096;
        c.accept = Some(l_accept);
        c.release = Some(l_release);
        let mut listener = std::ptr::null_mut();
        // SAFETY: all-zero is a valid LcwsError to be written over.
        let mut err: LcwsError = unsafe { std::mem::zeroed() };
        // SAFETY: a complete config whose slices outlive the call; `out` and `out_error` are
        // writable.
        let status = unsafe { lcws_listener_start(&c, &mut listener, &mut err) };
        assert_eq!(
            status,
            LcwsStatus::Ok,
            "lcws_listener_start: {:?}",
            err.code
        );
        // SAFETY: a live listener; the slices outlive the call.
        let status = unsafe {
            lcws_listener_share(
                listener,
                LcwsSlice::from_bytes(DATABASE.as_bytes()),
                0x1000 as *mut c_void,
                LcwsSlice::from_bytes(PROTOCOL.as_bytes()),
            )
        };
        assert_eq!(status, LcwsStatus::Ok);
        // SAFETY: a live listener.
        let port = unsafe { lcws_listener_port(listener) };
        Lcws { listener, port }
    }

    /// Connections whose replicator was not released yet.
    fn connections(&self) -> usize {
        let (mut n, mut active) = (0usize, 0usize);
        // SAFETY: a live listener; both outputs writable.
        unsafe { lcws_listener_status(self.listener, &mut n, &mut active) };
        n
    }
}

impl Drop for Lcws {
    fn drop(&mut self) {
        // SAFETY: the listener from `start`, freed once.
        unsafe { lcws_listener_free(self.listener) };
    }
}

// ─────────────────────────────────────────── the raw server ─────────────────────────────────

fn raw_rt() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("raw-server")
            .enable_all()
            .build()
            .unwrap()
    })
}

/// Connections the raw server is serving (accepted, not yet finished).
static RAW_LIVE: AtomicUsize = AtomicUsize::new(0);

/// A plain tokio-tungstenite server on 127.0.0.1: returns its port.
fn start_raw(tls: Option<Arc<rustls::ServerConfig>>) -> u16 {
    let std_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    std_listener.set_nonblocking(true).unwrap();
    let port = std_listener.local_addr().unwrap().port();
    let rt = raw_rt();
    let _context = rt.enter();
    let listener = TcpListener::from_std(std_listener).unwrap();
    let acceptor = tls.map(tokio_rustls::TlsAcceptor::from);
    rt.spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                continue;
            };
            let _ = tcp.set_nodelay(true);
            RAW_LIVE.fetch_add(1, Ordering::AcqRel);
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                match acceptor {
                    Some(a) => {
                        if let Ok(s) = a.accept(tcp).await {
                            raw_serve(s).await;
                        }
                    }
                    None => raw_serve(tcp).await,
                }
                RAW_LIVE.fetch_sub(1, Ordering::AcqRel);
            });
        }
    });
    port
}

/// The upgrade with the subprotocol chosen from the client's list, then an echo of every
/// message, as a replicator answering would.
async fn raw_serve<S>(stream: S)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
    // The signature is tungstenite's (`Callback`); the large error type is not ours to change.
    #[allow(clippy::result_large_err)]
    let callback = |req: &Request, mut resp: Response| -> Result<Response, ErrorResponse> {
        let offered = req
            .headers()
            .get_all("Sec-WebSocket-Protocol")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .any(|p| p.trim() == PROTOCOL);
        if offered {
            resp.headers_mut()
                .insert("Sec-WebSocket-Protocol", PROTOCOL.parse().unwrap());
        }
        Ok(resp)
    };
    let config = WebSocketConfig::default().max_message_size(Some(64 * MIB));
    let Ok(mut ws) =
        tokio_tungstenite::accept_hdr_async_with_config(stream, callback, Some(config)).await
    else {
        return;
    };
    while let Some(Ok(m)) = ws.next().await {
        if (m.is_binary() || m.is_text()) && ws.send(m).await.is_err() {
            return;
        }
    }
}

// ─────────────────────────────────────────── the client (child process) ─────────────────────

type ClientWs = WebSocketStream<MaybeTlsStream<TcpStream>>;

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

struct Client {
    rt: tokio::runtime::Runtime,
    ca_der: rustls::pki_types::CertificateDer<'static>,
    /// One TLS configuration (and session cache) per server port, so that each server
    /// resumes its own sessions.
    tls: HashMap<u16, Arc<rustls::ClientConfig>>,
    held: Vec<ClientWs>,
}

impl Client {
    fn tls_for(&mut self, port: u16) -> Arc<rustls::ClientConfig> {
        let ca = self.ca_der.clone();
        self.tls
            .entry(port)
            .or_insert_with(|| {
                let mut roots = rustls::RootCertStore::empty();
                roots.add(ca).unwrap();
                Arc::new(
                    rustls::ClientConfig::builder_with_provider(provider())
                        .with_safe_default_protocol_versions()
                        .unwrap()
                        .with_root_certificates(roots)
                        .with_no_client_auth(),
                )
            })
            .clone()
    }
}

async fn client_connect(port: u16, tls: Option<Arc<rustls::ClientConfig>>) -> ClientWs {
    let tcp = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    tcp.set_nodelay(true).unwrap();
    let stream = match tls {
        Some(config) => {
            let name =
                rustls::pki_types::ServerName::IpAddress(std::net::Ipv4Addr::LOCALHOST.into());
            let tls = tokio_rustls::TlsConnector::from(config)
                .connect(name, tcp)
                .await
                .unwrap();
            MaybeTlsStream::Rustls(tls)
        }
        None => MaybeTlsStream::Plain(tcp),
    };
    let mut req = format!("ws://127.0.0.1:{port}{PATH}")
        .into_client_request()
        .unwrap();
    req.headers_mut()
        .insert("Sec-WebSocket-Protocol", PROTOCOL.parse().unwrap());
    let config = WebSocketConfig::default().max_message_size(Some(16 * MIB));
    let (ws, response) = tokio_tungstenite::client_async_with_config(req, stream, Some(config))
        .await
        .unwrap();
    assert_eq!(
        response.headers().get("Sec-WebSocket-Protocol").unwrap(),
        PROTOCOL
    );
    ws
}

/// Closes as a LiteCore client does: 1000 (Normal), then waits for the server's Close.
async fn client_close(mut ws: ClientWs) {
    use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
    use tokio_tungstenite::tungstenite::protocol::CloseFrame;
    let normal = CloseFrame {
        code: CloseCode::Normal,
        reason: "".into(),
    };
    let _ = ws.close(Some(normal)).await;
    while let Some(Ok(_)) = ws.next().await {}
}

/// Opens `n` connections, `concurrency` at a time, and keeps them. Returns the seconds from
/// the first TCP connect to the last 101.
async fn client_open_many(
    port: u16,
    tls: Option<Arc<rustls::ClientConfig>>,
    n: usize,
    concurrency: usize,
) -> (f64, Vec<ClientWs>) {
    let next = Arc::new(AtomicUsize::new(0));
    let t0 = Instant::now();
    let tasks: Vec<_> = (0..concurrency)
        .map(|_| {
            let (next, tls) = (next.clone(), tls.clone());
            tokio::spawn(async move {
                let mut mine = Vec::new();
                while next.fetch_add(1, Ordering::AcqRel) < n {
                    mine.push(client_connect(port, tls.clone()).await);
                }
                mine
            })
        })
        .collect();
    let mut all = Vec::with_capacity(n);
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    (t0.elapsed().as_secs_f64(), all)
}

/// Sends `count` messages of `size` bytes from a writer task while reading the echoes: the
/// seconds until every byte came back.
async fn client_throughput(ws: ClientWs, size: usize, count: u64) -> (f64, ClientWs) {
    let (mut sink, mut stream) = ws.split();
    let data = bytes::Bytes::from_static(payload()).slice(..size);
    let t0 = Instant::now();
    let writer = tokio::spawn(async move {
        for _ in 0..count {
            sink.send(Message::Binary(data.clone())).await.unwrap();
        }
        sink
    });
    let mut got = 0u64;
    while got < count * size as u64 {
        match stream.next().await {
            Some(Ok(Message::Binary(b))) => got += b.len() as u64,
            Some(Ok(_)) => {}
            other => panic!("client: {other:?}"),
        }
    }
    let secs = t0.elapsed().as_secs_f64();
    let sink = writer.await.unwrap();
    (secs, sink.reunite(stream).unwrap())
}

/// The client process: one command per line on stdin, one answer per line on stdout.
///
/// `conn PORT TLS` (one connect, timed, then closed) · `open PORT TLS N CONCURRENCY` (N kept
/// open) · `closeall` · `tput PORT TLS SIZE COUNT` · `quit`.
fn client_main(ca_pem: &str) {
    use rustls::pki_types::pem::PemObject;
    raise_nofile();
    let mut client = Client {
        rt: tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("client")
            .enable_all()
            .build()
            .unwrap(),
        ca_der: rustls::pki_types::CertificateDer::from_pem_file(ca_pem).unwrap(),
        tls: HashMap::new(),
        held: Vec::new(),
    };
    let stdin = std::io::stdin();
    let mut out = std::io::stdout();
    for line in stdin.lock().lines() {
        let line = line.unwrap();
        let w: Vec<&str> = line.split_whitespace().collect();
        let num = |i: usize| -> usize { w[i].parse().unwrap() };
        let tls = |c: &mut Client| (w.get(2) == Some(&"1")).then(|| c.tls_for(num(1) as u16));
        let answer = match w.first().copied() {
            Some("conn") => {
                let config = tls(&mut client);
                client.rt.block_on(async {
                    let t0 = Instant::now();
                    let ws = client_connect(num(1) as u16, config).await;
                    let dt = t0.elapsed().as_secs_f64();
                    client_close(ws).await;
                    format!("{dt}")
                })
            }
            Some("open") => {
                let config = tls(&mut client);
                let (secs, opened) =
                    client
                        .rt
                        .block_on(client_open_many(num(1) as u16, config, num(3), num(4)));
                client.held.extend(opened);
                format!("{secs}")
            }
            Some("closeall") => {
                let held = std::mem::take(&mut client.held);
                client.rt.block_on(async {
                    let tasks: Vec<_> = held
                        .into_iter()
                        .map(|ws| tokio::spawn(client_close(ws)))
                        .collect();
                    for t in tasks {
                        t.await.unwrap();
                    }
                });
                "ok".into()
            }
            Some("tput") => {
                let config = tls(&mut client);
                client.rt.block_on(async {
                    let ws = client_connect(num(1) as u16, config).await;
                    let (secs, ws) = client_throughput(ws, num(3), num(4) as u64).await;
                    client_close(ws).await;
                    format!("{secs}")
                })
            }
            Some("quit") | None => return,
            Some(other) => panic!("client: unknown command {other}"),
        };
        writeln!(out, "{answer}").unwrap();
        out.flush().unwrap();
    }
}

/// The parent's end of the client process.
struct ClientProcess {
    child: Child,
    to: ChildStdin,
    from: BufReader<ChildStdout>,
}

impl ClientProcess {
    fn start(ca_pem_file: &std::path::Path) -> ClientProcess {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .arg("--client")
            .arg(ca_pem_file)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("start the client process");
        let to = child.stdin.take().unwrap();
        let from = BufReader::new(child.stdout.take().unwrap());
        ClientProcess { child, to, from }
    }

    fn ask(&mut self, command: &str) -> String {
        writeln!(self.to, "{command}").unwrap();
        self.to.flush().unwrap();
        let mut line = String::new();
        self.from.read_line(&mut line).unwrap();
        assert!(!line.is_empty(), "the client process died on {command:?}");
        line.trim().to_string()
    }

    fn secs(&mut self, command: &str) -> f64 {
        self.ask(command).parse().unwrap()
    }
}

impl Drop for ClientProcess {
    fn drop(&mut self) {
        let _ = writeln!(self.to, "quit");
        let _ = self.to.flush();
        let _ = self.child.wait();
    }
}

// ─────────────────────────────────────────── the servers under test ─────────────────────────

#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
enum Server {
    Lcws,
    Raw,
}

impl Server {
    /// Its name for `--server`.
    fn flag(self) -> &'static str {
        match self {
            Server::Lcws => "lcws",
            Server::Raw => "raw",
        }
    }

    fn name(self) -> &'static str {
        match self {
            Server::Lcws => "litecore-ws",
            Server::Raw => "tokio-tungstenite",
        }
    }
}

struct Env {
    lcws_ws: Lcws,
    lcws_wss: Lcws,
    raw_ws: u16,
    raw_wss: u16,
    client: ClientProcess,
}

impl Env {
    fn port(&self, server: Server, tls: bool) -> u16 {
        match (server, tls) {
            (Server::Lcws, false) => self.lcws_ws.port,
            (Server::Lcws, true) => self.lcws_wss.port,
            (Server::Raw, false) => self.raw_ws,
            (Server::Raw, true) => self.raw_wss,
        }
    }

    /// Waits until the server has forgotten every connection (litecore-ws: every replicator
    /// released and every socket freed).
    fn wait_idle(&self, server: Server) {
        let t0 = Instant::now();
        loop {
            let idle = match server {
                Server::Lcws => {
                    self.lcws_ws.connections() == 0
                        && self.lcws_wss.connections() == 0
                        && FREED.load(Ordering::Acquire) == ACCEPTED.load(Ordering::Acquire)
                }
                Server::Raw => RAW_LIVE.load(Ordering::Acquire) == 0,
            };
            if idle {
                return;
            }
            assert!(t0.elapsed() < WAIT, "{} never went idle", server.name());
            std::thread::sleep(Duration::from_millis(2));
        }
    }
}

fn start_env() -> (Env, std::path::PathBuf) {
    use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.distinguished_name
        .push(DnType::CommonName, "litecore-ws bench CA");
    let ca = CertifiedIssuer::self_signed(p, KeyPair::generate().unwrap()).unwrap();
    let key = KeyPair::generate().unwrap();
    let mut lp =
        CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()]).unwrap();
    lp.distinguished_name.push(DnType::CommonName, "localhost");
    let leaf = lp.signed_by(&key, &ca).unwrap();
    let chain_pem = format!("{}{}", leaf.pem(), ca.pem());
    let key_pem = key.serialize_pem();
    let dir = std::env::temp_dir().join(format!("lcws-listener-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ca_file = dir.join("ca.pem");
    std::fs::write(&ca_file, ca.pem()).unwrap();

    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(chain_pem.as_bytes())
        .collect::<Result<_, _>>()
        .unwrap();
    let mut raw_tls = rustls::ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            certs,
            PrivateKeyDer::from_pem_slice(key_pem.as_bytes()).unwrap(),
        )
        .unwrap();
    // As the listener's configuration.
    raw_tls.alpn_protocols = vec![b"http/1.1".to_vec()];
    let env = Env {
        lcws_ws: Lcws::start(None),
        lcws_wss: Lcws::start(Some((&chain_pem, &key_pem))),
        raw_ws: start_raw(None),
        raw_wss: start_raw(Some(Arc::new(raw_tls))),
        client: ClientProcess::start(&ca_file),
    };
    (env, dir)
}

fn scheme(tls: bool) -> &'static str {
    if tls {
        "wss"
    } else {
        "ws"
    }
}

fn human(n: usize) -> String {
    if n >= MIB {
        format!("{} MiB", n / MIB)
    } else {
        format!("{} KiB", n / KIB)
    }
}

/// The two servers in the order of round `i` (litecore-ws first on even rounds).
fn order(i: usize) -> [Server; 2] {
    if i % 2 == 0 {
        [Server::Lcws, Server::Raw]
    } else {
        [Server::Raw, Server::Lcws]
    }
}

/// "median× (min–max)" of per-round ratios.
fn ratio_text(ratios: &mut [f64]) -> String {
    let m = median(ratios);
    format!(
        "**{m:.2}×** ({:.2}–{:.2})",
        ratios[0],
        ratios[ratios.len() - 1]
    )
}

// ─────────────────────────────────────────── 1. accept rate ─────────────────────────────────

fn accept_rate(env: &mut Env, cfg: &Cfg) {
    let (n, c) = (cfg.accept_n, cfg.accept_concurrency);
    println!(
        "\n## 1. Accept rate ({} rounds of {n} connections, {c} in flight; interleaved)\n",
        cfg.rounds
    );
    println!("conns/s = connections upgraded per second, from the client's first TCP connect to its last 101 (the connections stay open until the round ends, then all close). CPU = the server process's user+sys time per connection during the round.\n");
    println!(
        "| scheme | server | conns/s | CPU µs/conn | ratio conns/s (rounds) | ratio CPU/conn |"
    );
    println!("|---|---|---:|---:|---:|---:|");
    for tls in [false, true] {
        let mut samples: HashMap<&str, Vec<(f64, f64)>> = HashMap::new();
        for i in 0..=cfg.rounds {
            for server in order(i) {
                let port = env.port(server, tls);
                let cpu0 = cpu_seconds();
                let secs = env
                    .client
                    .secs(&format!("open {port} {} {n} {c}", u8::from(tls)));
                let cpu = cpu_seconds() - cpu0;
                env.client.ask("closeall");
                env.wait_idle(server);
                // Round 0 warms up (TLS session caches, the blocking pool).
                if i > 0 {
                    samples
                        .entry(server.name())
                        .or_default()
                        .push((n as f64 / secs, cpu / n as f64));
                }
            }
        }
        let lcws = &samples[Server::Lcws.name()];
        let raw = &samples[Server::Raw.name()];
        let mut rate_ratio: Vec<f64> = lcws.iter().zip(raw).map(|(a, b)| a.0 / b.0).collect();
        let mut cpu_ratio: Vec<f64> = lcws.iter().zip(raw).map(|(a, b)| a.1 / b.1).collect();
        for server in [Server::Lcws, Server::Raw] {
            let s = &samples[server.name()];
            let mut rate: Vec<f64> = s.iter().map(|x| x.0).collect();
            let mut cpu: Vec<f64> = s.iter().map(|x| x.1).collect();
            let (r1, r2) = if server == Server::Lcws {
                (
                    ratio_text(&mut rate_ratio),
                    format!("{:.2}×", median(&mut cpu_ratio)),
                )
            } else {
                (String::new(), String::new())
            };
            println!(
                "| {} | {} | {:.0} | {:.0} | {r1} | {r2} |",
                scheme(tls),
                server.name(),
                median(&mut rate),
                median(&mut cpu) * 1e6
            );
        }
    }
}

// ─────────────────────────────────────────── 2. connect latency ─────────────────────────────

fn latency(env: &mut Env, cfg: &Cfg) {
    let n = cfg.lat_trials;
    println!("\n## 2. Connect latency ({n} trials per server, alternating)\n");
    println!("From the client's TCP connect to the 101 it reads (TCP, TLS, the upgrade request and, for litecore-ws, the hand-over to the host and LiteCore's `open`); each connection is then closed.\n");
    println!("| scheme | server | p50 (µs) | p99 (µs) | ratio p50 | ratio p99 |");
    println!("|---|---|---:|---:|---:|---:|");
    for tls in [false, true] {
        let mut times: HashMap<Server, Vec<f64>> = HashMap::new();
        for i in 0..n + 20 {
            for server in order(i) {
                let port = env.port(server, tls);
                let dt = env.client.secs(&format!("conn {port} {}", u8::from(tls)));
                if i >= 20 {
                    times.entry(server).or_default().push(dt);
                }
            }
        }
        let mut a = times.remove(&Server::Lcws).unwrap();
        let mut b = times.remove(&Server::Raw).unwrap();
        let (a50, a99) = (
            percentile(&mut a, 0.5) * 1e6,
            percentile(&mut a, 0.99) * 1e6,
        );
        let (b50, b99) = (
            percentile(&mut b, 0.5) * 1e6,
            percentile(&mut b, 0.99) * 1e6,
        );
        println!(
            "| {} | litecore-ws | {a50:.0} | {a99:.0} | **{:.2}×** | {:.2}× |",
            scheme(tls),
            a50 / b50,
            a99 / b99
        );
        println!(
            "| {} | tokio-tungstenite | {b50:.0} | {b99:.0} | | |",
            scheme(tls)
        );
    }
    env.wait_idle(Server::Lcws);
    env.wait_idle(Server::Raw);
}

// ─────────────────────────────────────────── 3. throughput ──────────────────────────────────

fn throughput(env: &mut Env, cfg: &Cfg) {
    println!(
        "\n## 3. Echo throughput ({} rounds, interleaved pairs)\n",
        cfg.rounds
    );
    println!("The client (a separate process) sends from a writer task while it reads the echoes; MB/s = payload sent per second (10⁶ B), timed by the client. CPU = the server process's user+sys time per GB sent (its connection's setup and close included). litecore-ws's fake LiteCore acknowledges each message at once (`completedReceive`) and writes one of the same size back within a 64 KiB send window, from a shared buffer (no copy).\n");
    println!("| scheme | message | server | msgs/s | MB/s | CPU s/GB | ratio MB/s (rounds) | ratio CPU/GB |");
    println!("|---|---|---|---:|---:|---:|---:|---:|");
    for tls in [false, true] {
        if cfg.only_scheme.as_deref().is_some_and(|s| s != scheme(tls)) {
            continue;
        }
        for &(size, bytes) in &cfg.tput_bytes {
            if cfg.only_size.is_some_and(|s| s != size) {
                continue;
            }
            let count = (bytes / size) as u64;
            let mut samples: HashMap<Server, Vec<(f64, f64)>> = HashMap::new();
            for i in 0..cfg.rounds {
                for server in order(i) {
                    if cfg
                        .only_server
                        .as_deref()
                        .is_some_and(|s| s != server.flag())
                    {
                        continue;
                    }
                    let port = env.port(server, tls);
                    let cpu0 = cpu_seconds();
                    let secs = env
                        .client
                        .secs(&format!("tput {port} {} {size} {count}", u8::from(tls)));
                    let cpu = cpu_seconds() - cpu0;
                    env.wait_idle(server);
                    let mb = count as f64 * size as f64 / 1e6;
                    samples
                        .entry(server)
                        .or_default()
                        .push((mb / secs, cpu / (mb / 1e3)));
                }
            }
            let pair = (samples.get(&Server::Lcws), samples.get(&Server::Raw));
            let (mut rt, mut rc) = match pair {
                (Some(a), Some(b)) => (
                    a.iter().zip(b).map(|(x, y)| x.0 / y.0).collect::<Vec<_>>(),
                    a.iter().zip(b).map(|(x, y)| x.1 / y.1).collect::<Vec<_>>(),
                ),
                _ => (Vec::new(), Vec::new()),
            };
            for server in [Server::Lcws, Server::Raw] {
                let Some(s) = samples.get(&server) else {
                    continue;
                };
                let mut mbs: Vec<f64> = s.iter().map(|x| x.0).collect();
                let mut cpg: Vec<f64> = s.iter().map(|x| x.1).collect();
                let m = median(&mut mbs);
                let (r1, r2) = if server == Server::Lcws && !rt.is_empty() {
                    let goal = if size >= 64 * KIB {
                        let mark = if median(&mut rt) >= 0.9 { "✓" } else { "✗" };
                        format!(" ≥ 0.9 {mark}")
                    } else {
                        " (information)".to_string()
                    };
                    (
                        format!("{}{goal}", ratio_text(&mut rt)),
                        format!("{:.2}×", median(&mut rc)),
                    )
                } else {
                    (String::new(), String::new())
                };
                println!(
                    "| {} | {} | {} | {:.0} | {m:.0} | {:.2} | {r1} | {r2} |",
                    scheme(tls),
                    human(size),
                    server.name(),
                    m * 1e6 / size as f64,
                    median(&mut cpg),
                );
            }
        }
    }
}

// ─────────────────────────────────────────── 4. idle sockets ────────────────────────────────

fn scale(env: &mut Env, cfg: &Cfg) {
    let n = cfg.scale_n;
    println!("\n## 4. {n} concurrent incoming sockets, idle\n");
    println!("Threads of the server process (its main thread, the raw server's 2 workers, litecore-ws's lcws-worker threads: 2 workers plus its blocking pool of at most 4) before opening, with every socket open, and after all closed. RSS per idle socket = (VmRSS with all {n} open and idle − VmRSS before) / {n}, both after malloc_trim.\n");
    println!("| scheme | server | threads before → open → after | lcws-worker threads | open all (s) | RSS per idle socket | goal |");
    println!("|---|---|---|---|---:|---:|---|");
    for tls in [false, true] {
        for server in [Server::Lcws, Server::Raw] {
            env.wait_idle(server);
            trim_heap();
            std::thread::sleep(Duration::from_millis(200));
            let (t_before, w_before) = (threads(), threads_named("lcws-worker"));
            let rss_before = rss_kib();
            let opened0 = OPENED.load(Ordering::Acquire);
            let port = env.port(server, tls);
            let secs = env.client.secs(&format!(
                "open {port} {} {n} {}",
                u8::from(tls),
                cfg.accept_concurrency
            ));
            // (`opened` follows the 101 the client reads: counted once all are idle.)
            std::thread::sleep(Duration::from_millis(500));
            if server == Server::Lcws {
                assert_eq!(OPENED.load(Ordering::Acquire) - opened0, n as u64);
            }
            trim_heap();
            let rss_open = rss_kib();
            let (t_open, w_open) = (threads(), threads_named("lcws-worker"));
            env.client.ask("closeall");
            env.wait_idle(server);
            std::thread::sleep(Duration::from_millis(300));
            let (t_after, w_after) = (threads(), threads_named("lcws-worker"));
            let per = (rss_open as f64 - rss_before as f64) / n as f64;
            let goal = if server == Server::Lcws {
                if per <= 64.0 {
                    "≤ 64 KiB ✓"
                } else {
                    "≤ 64 KiB ✗"
                }
            } else {
                ""
            };
            println!(
                "| {} | {} | {t_before} → {t_open} → {t_after} | {w_before} → {w_open} → {w_after} | {secs:.2} | {per:.1} KiB | {goal} |",
                scheme(tls),
                server.name()
            );
        }
    }
}

// ─────────────────────────────────────────── main ───────────────────────────────────────────

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--client") {
        client_main(&args[i + 1]);
        return;
    }
    raise_nofile();
    let cfg = Cfg::from_args();
    // Made before anything is measured (13 M instructions; only litecore-ws's host uses it).
    payload();
    install_host();
    let (mut env, dir) = start_env();
    let date = Command::new("date")
        .args(["-u", "+%Y-%m-%d %H:%M UTC"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    println!(
        "# litecore-ws listener benchmarks ({:?} mode, {date})",
        cfg.mode
    );
    println!(
        "\nlitecore-ws {} listener through its C ABI (a fake LiteCore in Rust opens each socket it is handed, acknowledges each message at once and echoes it within a 64 KiB send window) vs. a plain tokio-tungstenite 0.29 server (accept_hdr_async with the subprotocol, then an echo loop; 2-worker runtime; rustls for wss), both in this process. Client: tokio-tungstenite in a separate process on 127.0.0.1. CPUs online: {}. Load average at start: {}.",
        env!("CARGO_PKG_VERSION"),
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        loadavg()
    );
    let started = Instant::now();
    if cfg.wants("accept") {
        accept_rate(&mut env, &cfg);
    }
    if cfg.wants("lat") {
        latency(&mut env, &cfg);
    }
    if cfg.wants("tput") {
        throughput(&mut env, &cfg);
    }
    if cfg.wants("scale") {
        scale(&mut env, &cfg);
    }
    env.wait_idle(Server::Lcws);
    println!(
        "\nlitecore-ws: {} connections accepted, {} opened, {} closed ({} clean), {} released, {} sockets freed; writes {}, buffers released {}. Load average at end: {}; total time {:.0} s",
        ACCEPTED.load(Ordering::Relaxed),
        OPENED.load(Ordering::Relaxed),
        CLOSED.load(Ordering::Relaxed),
        CLOSED_CLEAN.load(Ordering::Relaxed),
        RELEASED.load(Ordering::Relaxed),
        FREED.load(Ordering::Relaxed),
        WRITES.load(Ordering::Relaxed),
        BUFFERS_RELEASED.load(Ordering::Relaxed),
        loadavg(),
        started.elapsed().as_secs_f64()
    );
    assert_eq!(
        WRITES.load(Ordering::Relaxed),
        BUFFERS_RELEASED.load(Ordering::Relaxed)
    );
    assert_eq!(
        ACCEPTED.load(Ordering::Relaxed),
        FREED.load(Ordering::Relaxed)
    );
    drop(env);
    let _ = std::fs::remove_dir_all(dir);
}
