//! Benchmarks of litecore-ws driven through its C ABI by a fake LiteCore written in
//! Rust, against a plain tokio-tungstenite client doing the same work, in one run.
//!
//! ```sh
//! cargo bench --bench transport                 # default (~2-3 min)
//! cargo bench --bench transport -- --quick      # smaller volumes, fewer trials
//! cargo bench --bench transport -- --full       # bigger volumes, more rounds
//! cargo bench --bench transport -- --only tput,lat,mem,scale
//! ```
//! (`LCWS_BENCH=quick|full` does the same as the flags.)
//!
//! The echo/flood server is this same executable started again as a child process
//! (`--serve`), so its CPU time and memory are not counted in the client's figures. Both clients
//! talk to the same server. Machines are shared and noisy: every comparison is made in pairs,
//! interleaved (A B, B A, ...), and the figures are medians; ratios are medians of the per-round
//! ratios.

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use litecore_ws::ffi::exports::{
    lcws_set_host, lcws_socket_completed_receive, lcws_socket_dispose, lcws_socket_open,
    lcws_socket_request_close, lcws_socket_write, LcwsStatus,
};
use litecore_ws::ffi::host::LcwsHostTable;
use litecore_ws::ffi::types::{C4Socket, LcwsAddress, LcwsError, LcwsSlice, LcwsSliceResult};
use litecore_ws::internals::Encoder;
use std::ffi::{c_int, c_void};
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicPtr, AtomicU64, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Condvar, Mutex, OnceLock};
use std::time::{Duration, Instant};
use tokio::net::{TcpListener, TcpStream};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// Process figures (CPU, RSS, threads) and statistics, shared with `benches/listener.rs`.
mod common;
use common::*;

const KIB: usize = 1024;
const MIB: usize = 1024 * 1024;
/// LiteCore's send window: it keeps writing while less than this is not yet `completedWrite`.
const SEND_WINDOW: usize = 64 * KIB;
const PROTOCOL: &str = "BLIP_3+CBMobile_3";
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
    /// Bytes pushed (one way) per throughput phase, per message size.
    tput_bytes: [(usize, usize); 3],
    lat_trials: usize,
    flood: [usize; 2],
    flood_msg: usize,
    slow_ack_rate: f64,
    scale_n: usize,
    scale_secs: u64,
    parts: Vec<String>,
    /// Throughput filters (for profiling one case): scheme, message size, client.
    only_scheme: Option<String>,
    only_size: Option<usize>,
    only_client: Option<String>,
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
        let parts = args
            .iter()
            .position(|a| a == "--only")
            .and_then(|i| args.get(i + 1))
            .map(|s| s.split(',').map(str::to_string).collect())
            .unwrap_or_else(|| {
                ["tput", "lat", "mem", "scale"]
                    .iter()
                    .map(|s| s.to_string())
                    .collect()
            });
        let flag = |name: &str| {
            args.iter()
                .position(|a| a == name)
                .and_then(|i| args.get(i + 1))
                .cloned()
        };
        let (rounds, scale_vol, lat_trials, flood, scale_secs) = match mode {
            Mode::Quick => (3, 1, 200, [20 * MIB, 200 * MIB], 2),
            Mode::Default => (7, 4, 1000, [100 * MIB, 1024 * MIB], 3),
            Mode::Full => (9, 16, 3000, [100 * MIB, 1024 * MIB], 5),
        };
        let rounds = flag("--rounds")
            .and_then(|r| r.parse().ok())
            .unwrap_or(rounds);
        let lat_trials = flag("--trials")
            .and_then(|r| r.parse().ok())
            .unwrap_or(lat_trials);
        Cfg {
            only_scheme: flag("--scheme"),
            only_size: flag("--size").and_then(|s| s.parse().ok()),
            only_client: flag("--client"),
            mode,
            rounds,
            tput_bytes: [
                (KIB, 8 * MIB * scale_vol),
                (64 * KIB, 64 * MIB * scale_vol),
                (MIB, 64 * MIB * scale_vol),
            ],
            lat_trials,
            flood,
            flood_msg: 64 * KIB,
            slow_ack_rate: 150.0 * MIB as f64,
            scale_n: 1000,
            scale_secs,
            parts,
        }
    }

    fn wants(&self, part: &str) -> bool {
        self.parts.iter().any(|p| p == part)
    }
}

// ─────────────────────────────────────────── the fake LiteCore ──────────────────────────────

/// What several sockets report to the thread that waits for them.
#[derive(Default)]
struct GroupState {
    opened: usize,
    closed: usize,
    closed_ok: usize,
    done: usize,
    last_error: Option<(u8, i32)>,
}

#[derive(Default)]
struct Group {
    state: Mutex<GroupState>,
    cv: Condvar,
}

impl Group {
    fn update(&self, f: impl FnOnce(&mut GroupState)) {
        f(&mut self.state.lock().unwrap());
        self.cv.notify_all();
    }

    fn wait(&self, what: &str, cond: impl Fn(&GroupState) -> bool) {
        let guard = self.state.lock().unwrap();
        let (g, timeout) = self
            .cv
            .wait_timeout_while(guard, WAIT, |s| !cond(s))
            .unwrap();
        if timeout.timed_out() {
            panic!(
                "timed out waiting for {what} (opened {}, closed {}, done {}, last error {:?})",
                g.opened, g.closed, g.done, g.last_error
            );
        }
    }

    fn get<R>(&self, f: impl FnOnce(&GroupState) -> R) -> R {
        f(&self.state.lock().unwrap())
    }
}

/// How the host acknowledges received data.
enum Ack {
    /// `completedReceive` from inside `received` (a host that keeps up).
    Immediate,
    /// Handed to a rate-limited thread (a slow host).
    Slow(Mutex<mpsc::Sender<(usize, usize)>>),
}

/// LiteCore's `C4Socket` as this fake host models it. Its address is the `C4Socket*` litecore-ws
/// sees.
struct FakeSocket {
    native: AtomicPtr<c_void>,
    refs: AtomicUsize,
    group: Arc<Group>,
    ack: Ack,
    msg_size: AtomicUsize,
    to_write: AtomicU64,
    in_flight: AtomicUsize,
    pump: Mutex<()>,
    recv_bytes: AtomicU64,
    recv_target: AtomicU64,
    unacked: AtomicI64,
    peak_unacked: AtomicI64,
}

/// One message payload shared by every write (LiteCore hands over a refcounted buffer; here the
/// buffer is static and `release_buffer` only counts, so the host costs nothing per message).
fn payload() -> &'static [u8] {
    static P: OnceLock<Vec<u8>> = OnceLock::new();
    P.get_or_init(|| (0..MIB).map(|i| (i * 31 % 251) as u8).collect())
}

static WRITES: AtomicU64 = AtomicU64::new(0);
static RELEASES: AtomicU64 = AtomicU64::new(0);
static CLOSED_CALLS: AtomicU64 = AtomicU64::new(0);

/// # Safety
/// `s` must be a socket made by [`open_lcws`] that has not been freed.
unsafe fn fake<'a>(s: *mut C4Socket) -> &'a FakeSocket {
    // SAFETY: per the function's contract, `s` is a live `Box<FakeSocket>`.
    unsafe { &*(s as *const FakeSocket) }
}

/// LiteCore's BLIP writer: keeps writing while less than the send window is unacknowledged.
fn pump(s: *mut C4Socket) {
    // SAFETY: only called for live sockets (by the host before its release, or from inside a
    // litecore-ws callback, which holds a reference).
    let f = unsafe { fake(s) };
    let _one_writer = f.pump.lock().unwrap();
    let size = f.msg_size.load(Ordering::Relaxed);
    while f.in_flight.load(Ordering::Acquire) < SEND_WINDOW {
        if f.to_write
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| n.checked_sub(1))
            .is_err()
        {
            break;
        }
        f.in_flight.fetch_add(size, Ordering::AcqRel);
        WRITES.fetch_add(1, Ordering::Relaxed);
        let data = LcwsSliceResult {
            buf: payload().as_ptr().cast(),
            size,
        };
        // SAFETY: `s` is a live fake socket; `data` points into the static payload and the
        // fake's release function ignores it.
        unsafe { lcws_socket_write(s, data) };
    }
}

unsafe extern "C" fn h_got_http_response(_s: *mut C4Socket, _status: c_int, _h: LcwsSlice) {}

unsafe extern "C" fn h_opened(s: *mut C4Socket) {
    // SAFETY: litecore-ws holds a reference during its callbacks.
    let f = unsafe { fake(s) };
    f.group.update(|g| g.opened += 1);
}

unsafe extern "C" fn h_closed(s: *mut C4Socket, err: LcwsError) {
    CLOSED_CALLS.fetch_add(1, Ordering::Relaxed);
    // SAFETY: litecore-ws holds a reference during its callbacks.
    let f = unsafe { fake(s) };
    f.group.update(|g| {
        g.closed += 1;
        if err.code == 0 {
            g.closed_ok += 1;
        } else {
            g.last_error = Some((err.domain, err.code));
        }
    });
}

unsafe extern "C" fn h_close_requested(s: *mut C4Socket, status: c_int, msg: LcwsSlice) {
    // LiteCore answers the peer's Close at once, from inside this call.
    // SAFETY: `s` is the live socket of this host call; `msg` is valid during it.
    unsafe { lcws_socket_request_close(s, status, msg) };
}

unsafe extern "C" fn h_completed_write(s: *mut C4Socket, n: usize) {
    // SAFETY: litecore-ws holds a reference during its callbacks.
    let f = unsafe { fake(s) };
    f.in_flight.fetch_sub(n, Ordering::AcqRel);
    pump(s);
}

unsafe extern "C" fn h_received(s: *mut C4Socket, data: LcwsSlice) {
    // SAFETY: litecore-ws holds a reference during its callbacks.
    let f = unsafe { fake(s) };
    let n = data.size;
    let unacked = f.unacked.fetch_add(n as i64, Ordering::AcqRel) + n as i64;
    f.peak_unacked.fetch_max(unacked, Ordering::AcqRel);
    let before = f.recv_bytes.fetch_add(n as u64, Ordering::AcqRel);
    let target = f.recv_target.load(Ordering::Acquire);
    if before < target && before + n as u64 >= target {
        f.group.update(|g| g.done += 1);
    }
    match &f.ack {
        Ack::Immediate => {
            f.unacked.fetch_sub(n as i64, Ordering::AcqRel);
            // SAFETY: `s` is the live socket of this host call.
            unsafe { lcws_socket_completed_receive(s, n) };
        }
        Ack::Slow(tx) => {
            let _ = tx.lock().unwrap().send((s as usize, n));
        }
    }
}

unsafe extern "C" fn h_set_native(s: *mut C4Socket, h: *mut c_void) {
    // SAFETY: litecore-ws calls this during `open`, on a live socket.
    unsafe { fake(s) }.native.store(h, Ordering::Release);
}

unsafe extern "C" fn h_get_native(s: *mut C4Socket) -> *mut c_void {
    // SAFETY: called by litecore-ws from factory callbacks the host makes on live sockets.
    unsafe { fake(s) }.native.load(Ordering::Acquire)
}

unsafe extern "C" fn h_retain(s: *mut C4Socket) -> *mut C4Socket {
    // SAFETY: a live socket (during `open`).
    unsafe { fake(s) }.refs.fetch_add(1, Ordering::AcqRel);
    s
}

unsafe extern "C" fn h_release(s: *mut C4Socket) {
    // SAFETY: the caller owns one reference, so the socket is live.
    if unsafe { fake(s) }.refs.fetch_sub(1, Ordering::AcqRel) == 1 {
        // The last reference: LiteCore's destructor calls the factory's dispose, then frees.
        // SAFETY: the socket is still allocated; nothing else uses it any more.
        unsafe { lcws_socket_dispose(s) };
        // SAFETY: the socket came from `Box::into_raw` in `open_lcws`; this is its last use.
        drop(unsafe { Box::from_raw(s as *mut FakeSocket) });
    }
}

unsafe extern "C" fn h_release_buffer(_buf: *const c_void) {
    RELEASES.fetch_add(1, Ordering::Relaxed);
}

fn install_host() {
    static ONCE: OnceLock<()> = OnceLock::new();
    ONCE.get_or_init(|| {
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
        let status = unsafe { lcws_set_host(&table) };
        assert_eq!(status, LcwsStatus::Ok);
    });
}

/// A socket the host opened; the host owns one reference until [`LcSocket::release`].
struct LcSocket(*mut C4Socket);

impl LcSocket {
    fn f(&self) -> &FakeSocket {
        // SAFETY: the host's own reference keeps the socket alive until `release`.
        unsafe { fake(self.0) }
    }

    /// Sends `count` messages of `size` bytes and expects `expect` bytes back.
    fn send(&self, size: usize, count: u64, expect: u64) {
        let f = self.f();
        f.msg_size.store(size, Ordering::Relaxed);
        f.recv_target.fetch_add(expect, Ordering::AcqRel);
        f.to_write.fetch_add(count, Ordering::AcqRel);
        pump(self.0);
    }

    fn request_close(&self) {
        // SAFETY: the bench holds a reference to the socket; the message outlives the call.
        unsafe { lcws_socket_request_close(self.0, 1000, LcwsSlice::from_bytes(b"bye")) };
    }

    fn release(self) {
        // SAFETY: drops the host's own reference, exactly once (consumes self).
        unsafe { h_release(self.0) };
    }
}

/// Options LiteCore would pass to `open`: `WS-Protocols`, plus `rootCerts` for wss.
fn lcws_options(root_pem: Option<&[u8]>) -> Vec<u8> {
    let mut e = Encoder::new();
    e.begin_dict();
    e.write_key(b"WS-Protocols");
    e.write_string(PROTOCOL.as_bytes());
    if let Some(pem) = root_pem {
        e.write_key(b"rootCerts");
        e.write_data(pem);
    }
    e.end_dict();
    e.finish().expect("options dict")
}

fn open_lcws(env: &Env, tls: bool, path: &str, group: &Arc<Group>, ack: Ack) -> LcSocket {
    let s = Box::into_raw(Box::new(FakeSocket {
        native: AtomicPtr::new(std::ptr::null_mut()),
        refs: AtomicUsize::new(1),
        group: group.clone(),
        ack,
        msg_size: AtomicUsize::new(0),
        to_write: AtomicU64::new(0),
        in_flight: AtomicUsize::new(0),
        pump: Mutex::new(()),
        recv_bytes: AtomicU64::new(0),
        recv_target: AtomicU64::new(0),
        unacked: AtomicI64::new(0),
        peak_unacked: AtomicI64::new(0),
    }))
    .cast::<C4Socket>();
    let (scheme, port, opts) = if tls {
        ("wss", env.wss_port, &env.opts_wss)
    } else {
        ("ws", env.ws_port, &env.opts_ws)
    };
    let addr = LcwsAddress {
        scheme: LcwsSlice::from_bytes(scheme.as_bytes()),
        hostname: LcwsSlice::from_bytes(b"127.0.0.1"),
        port,
        path: LcwsSlice::from_bytes(path.as_bytes()),
    };
    // SAFETY: `s` is a live fake socket; the address and options outlive the call.
    unsafe { lcws_socket_open(s, &addr, LcwsSlice::from_bytes(opts), std::ptr::null_mut()) };
    LcSocket(s)
}

// ─────────────────────────────────────────── the raw client ─────────────────────────────────

type RawWs = WebSocketStream<MaybeTlsStream<TcpStream>>;

fn raw_rt() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("raw-worker")
            .enable_all()
            .build()
            .unwrap()
    })
}

async fn raw_connect(env: &Env, tls: bool, path: &str) -> RawWs {
    let port = if tls { env.wss_port } else { env.ws_port };
    let tcp = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    tcp.set_nodelay(true).unwrap();
    let stream = if tls {
        let name = rustls::pki_types::ServerName::IpAddress(std::net::Ipv4Addr::LOCALHOST.into());
        let tls = tokio_rustls::TlsConnector::from(env.raw_tls.clone())
            .connect(name, tcp)
            .await
            .unwrap();
        MaybeTlsStream::Rustls(tls)
    } else {
        MaybeTlsStream::Plain(tcp)
    };
    let mut req = format!("ws://127.0.0.1:{port}{path}")
        .into_client_request()
        .unwrap();
    req.headers_mut()
        .insert("Sec-WebSocket-Protocol", PROTOCOL.parse().unwrap());
    let config = WebSocketConfig::default().max_message_size(Some(16 * MIB));
    let (ws, _) = tokio_tungstenite::client_async_with_config(req, stream, Some(config))
        .await
        .unwrap();
    ws
}

async fn raw_close(mut ws: RawWs) {
    let _ = ws.close(None).await;
    while let Some(Ok(_)) = ws.next().await {}
}

// ─────────────────────────────────────────── the server (child process) ─────────────────────

struct Env {
    ws_port: u16,
    wss_port: u16,
    opts_ws: Vec<u8>,
    opts_wss: Vec<u8>,
    raw_tls: Arc<rustls::ClientConfig>,
    _server: ServerProcess,
}

struct ServerProcess(Child);

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn start_env() -> Env {
    use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
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
    let dir = std::env::temp_dir().join(format!("lcws-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let chain = dir.join("chain.pem");
    let key_file = dir.join("key.pem");
    std::fs::write(&chain, format!("{}{}", leaf.pem(), ca.pem())).unwrap();
    std::fs::write(&key_file, key.serialize_pem()).unwrap();

    let mut child = Command::new(std::env::current_exe().unwrap())
        .arg("--serve")
        .arg(&chain)
        .arg(&key_file)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("start the echo server");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    let mut it = line.split_whitespace().skip(1);
    let ws_port: u16 = it.next().and_then(|p| p.parse().ok()).expect("READY line");
    let wss_port: u16 = it.next().and_then(|p| p.parse().ok()).expect("READY line");

    let mut roots = rustls::RootCertStore::empty();
    roots.add(ca.der().clone()).unwrap();
    let raw_tls = rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let ca_pem = ca.pem();
    Env {
        ws_port,
        wss_port,
        opts_ws: lcws_options(None),
        opts_wss: lcws_options(Some(ca_pem.as_bytes())),
        raw_tls: Arc::new(raw_tls),
        _server: ServerProcess(child),
    }
}

fn serve(chain: &str, key: &str) {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    raise_nofile();
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(chain)
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let key = PrivateKeyDer::from_pem_file(key).unwrap();
    let config = rustls::ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    // The parent holds our stdin: when it goes away, so do we.
    std::thread::spawn(|| {
        let mut sink = Vec::new();
        let _ = std::io::stdin().read_to_end(&mut sink);
        std::process::exit(0);
    });
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        let plain = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let tls = TcpListener::bind("127.0.0.1:0").await.unwrap();
        println!(
            "READY {} {}",
            plain.local_addr().unwrap().port(),
            tls.local_addr().unwrap().port()
        );
        std::io::stdout().flush().unwrap();
        tokio::spawn(async move {
            loop {
                let Ok((tcp, _)) = plain.accept().await else {
                    continue;
                };
                let _ = tcp.set_nodelay(true);
                tokio::spawn(serve_ws(tcp));
            }
        });
        loop {
            let Ok((tcp, _)) = tls.accept().await else {
                continue;
            };
            let _ = tcp.set_nodelay(true);
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                if let Ok(s) = acceptor.accept(tcp).await {
                    serve_ws(s).await;
                }
            });
        }
    });
}

/// `/echo`: echoes every message. `/flood?bytes=N&size=S`: after the client's first message,
/// sends N bytes in binary messages of S bytes as fast as the connection takes them, then Close.
async fn serve_ws<S>(stream: S)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
    let mut path = String::new();
    // The signature is tungstenite's (`Callback`); the large error type is not ours to change.
    #[allow(clippy::result_large_err)]
    let callback = |req: &Request, mut resp: Response| -> Result<Response, ErrorResponse> {
        path = req.uri().to_string();
        if let Some(p) = req.headers().get("Sec-WebSocket-Protocol") {
            let first = p.to_str().unwrap_or("").split(',').next().unwrap_or("");
            if let Ok(v) = first.trim().parse() {
                resp.headers_mut().insert("Sec-WebSocket-Protocol", v);
            }
        }
        Ok(resp)
    };
    let config = WebSocketConfig::default().max_message_size(Some(64 * MIB));
    let Ok(mut ws) =
        tokio_tungstenite::accept_hdr_async_with_config(stream, callback, Some(config)).await
    else {
        return;
    };
    if let Some(query) = path.strip_prefix("/flood?") {
        let mut total = 0usize;
        let mut size = 64 * KIB;
        for kv in query.split('&') {
            match kv.split_once('=') {
                Some(("bytes", v)) => total = v.parse().unwrap_or(0),
                Some(("size", v)) => size = v.parse().unwrap_or(size),
                _ => {}
            }
        }
        let data = Bytes::from_static(payload()).slice(..size);
        if !matches!(ws.next().await, Some(Ok(_))) {
            return;
        }
        let mut sent = 0;
        while sent < total {
            if ws.send(Message::Binary(data.clone())).await.is_err() {
                return;
            }
            sent += size;
        }
        let normal = tokio_tungstenite::tungstenite::protocol::CloseFrame {
            code: tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode::Normal,
            reason: "flood done".into(),
        };
        let _ = ws.close(Some(normal)).await;
        while let Some(Ok(_)) = ws.next().await {}
        return;
    }
    while let Some(Ok(m)) = ws.next().await {
        if (m.is_binary() || m.is_text()) && ws.send(m).await.is_err() {
            return;
        }
    }
}

// ─────────────────────────────────────────── 1. throughput ──────────────────────────────────

struct Sample {
    secs: f64,
    cpu: f64,
}

fn lcws_throughput(env: &Env, tls: bool, size: usize, count: u64) -> Sample {
    let group = Arc::new(Group::default());
    let s = open_lcws(env, tls, "/echo", &group, Ack::Immediate);
    group.wait("opened", |g| g.opened == 1 || g.closed > 0);
    let releases = RELEASES.load(Ordering::Relaxed);
    let (cpu0, t0) = (cpu_seconds(), Instant::now());
    s.send(size, count, count * size as u64);
    group.wait("echoes", |g| g.done == 1 || g.closed > 0);
    let sample = Sample {
        secs: t0.elapsed().as_secs_f64(),
        cpu: cpu_seconds() - cpu0,
    };
    s.request_close();
    group.wait("closed", |g| g.closed == 1);
    assert_eq!(
        group.get(|g| g.closed_ok),
        1,
        "{:?}",
        group.get(|g| g.last_error)
    );
    assert_eq!(RELEASES.load(Ordering::Relaxed) - releases, count);
    s.release();
    sample
}

fn raw_throughput(env: &Env, tls: bool, size: usize, count: u64) -> Sample {
    raw_rt().block_on(async {
        let ws = raw_connect(env, tls, "/echo").await;
        let (mut sink, mut stream) = ws.split();
        let data = Bytes::from_static(payload()).slice(..size);
        let (cpu0, t0) = (cpu_seconds(), Instant::now());
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
                other => panic!("raw client: {other:?}"),
            }
        }
        let sample = Sample {
            secs: t0.elapsed().as_secs_f64(),
            cpu: cpu_seconds() - cpu0,
        };
        let sink = writer.await.unwrap();
        raw_close(sink.reunite(stream).unwrap()).await;
        sample
    })
}

fn throughput(env: &Env, cfg: &Cfg) {
    println!("\n## 1. Throughput (echo over loopback; a message each way)\n");
    println!(
        "{} rounds, A/B interleaved; median per client; ratio = median of per-round ratios.",
        cfg.rounds
    );
    println!("MB/s = payload bytes sent per second (1 MB = 10^6 B; the same bytes come back).");
    println!("CPU s/GB = this process's user+sys seconds per GB sent (host + transport; the echo server is another process).\n");
    println!("Ratio columns: median of the per-round ratios litecore-ws/raw, (min–max over the rounds) in brackets.\n");
    if cfg.mode == Mode::Quick {
        println!("(quick mode: phases of a few tens of ms and 3 rounds; ratios are indicative only, and a ✗ here means little. Use the default or --full mode to judge the goals.)\n");
    }
    println!("| scheme | msg size | volume | client | msgs/s | MB/s | CPU s/GB | ratio MB/s (goal) | ratio CPU/GB |");
    println!("|---|---|---|---|---:|---:|---:|---:|---:|");
    let run_lcws = cfg.only_client.as_deref() != Some("raw");
    let run_raw = cfg.only_client.as_deref() != Some("lcws");
    for tls in [false, true] {
        let scheme = if tls { "wss" } else { "ws" };
        if cfg.only_scheme.as_deref().is_some_and(|s| s != scheme) {
            continue;
        }
        for &(size, bytes) in &cfg.tput_bytes {
            if cfg.only_size.is_some_and(|s| s != size) {
                continue;
            }
            let count = (bytes / size) as u64;
            if !(run_lcws && run_raw) {
                // One client only (profiling): no pairs, no ratios.
                let s = if run_lcws {
                    lcws_throughput(env, tls, size, count)
                } else {
                    raw_throughput(env, tls, size, count)
                };
                println!(
                    "{scheme} {} x {count}: {:.0} MB/s, {:.2} CPU s/GB",
                    human(size),
                    (count as usize * size) as f64 / s.secs / 1e6,
                    s.cpu / ((count as usize * size) as f64 / 1e9)
                );
                continue;
            }
            // Warm-up (connection set-up paths, allocator), not counted.
            lcws_throughput(env, tls, size, count.div_ceil(8));
            raw_throughput(env, tls, size, count.div_ceil(8));
            let (mut a, mut b) = (Vec::new(), Vec::new());
            for r in 0..cfg.rounds {
                if r % 2 == 0 {
                    a.push(lcws_throughput(env, tls, size, count));
                    b.push(raw_throughput(env, tls, size, count));
                } else {
                    b.push(raw_throughput(env, tls, size, count));
                    a.push(lcws_throughput(env, tls, size, count));
                }
            }
            let vol = (count as usize * size) as f64;
            let mbs = |s: &Sample| vol / s.secs / 1e6;
            let cpg = |s: &Sample| s.cpu / (vol / 1e9);
            let mut ratio_t: Vec<f64> = a.iter().zip(&b).map(|(x, y)| mbs(x) / mbs(y)).collect();
            let mut ratio_c: Vec<f64> = a.iter().zip(&b).map(|(x, y)| cpg(x) / cpg(y)).collect();
            let (rt, rc) = (median(&mut ratio_t), median(&mut ratio_c));
            for (name, v) in [("litecore-ws", &a), ("tokio-tungstenite", &b)] {
                let mut m: Vec<f64> = v.iter().map(mbs).collect();
                let mut c: Vec<f64> = v.iter().map(cpg).collect();
                let m = median(&mut m);
                let c = median(&mut c);
                let goal = if size < 64 * KIB { 0.8 } else { 0.9 };
                let mark = if rt >= goal { "✓" } else { "✗" };
                let (r1, r2) = if name == "litecore-ws" {
                    (
                        format!(
                            "**{rt:.2}×** ({:.2}–{:.2}) ≥ {goal} {mark}",
                            ratio_t[0],
                            ratio_t[ratio_t.len() - 1]
                        ),
                        format!(
                            "{rc:.2}× ({:.2}–{:.2})",
                            ratio_c[0],
                            ratio_c[ratio_c.len() - 1]
                        ),
                    )
                } else {
                    (String::new(), String::new())
                };
                println!(
                    "| {scheme} | {} | {} MiB | {name} | {:.0} | {m:.0} | {c:.2} | {r1} | {r2} |",
                    human(size),
                    count as usize * size / MIB,
                    m * 1e6 / size as f64,
                );
            }
        }
    }
}

fn human(n: usize) -> String {
    if n >= MIB {
        format!("{} MiB", n / MIB)
    } else {
        format!("{} KiB", n / KIB)
    }
}

// ─────────────────────────────────────────── 2. latency ─────────────────────────────────────

fn lcws_connect(env: &Env, tls: bool) -> f64 {
    let group = Arc::new(Group::default());
    let t0 = Instant::now();
    let s = open_lcws(env, tls, "/echo", &group, Ack::Immediate);
    group.wait("opened", |g| g.opened == 1 || g.closed > 0);
    let dt = t0.elapsed().as_secs_f64();
    s.request_close();
    group.wait("closed", |g| g.closed == 1);
    s.release();
    dt
}

fn raw_connect_time(env: &Env, tls: bool) -> f64 {
    raw_rt().block_on(async {
        let t0 = Instant::now();
        let ws = raw_connect(env, tls, "/echo").await;
        let dt = t0.elapsed().as_secs_f64();
        raw_close(ws).await;
        dt
    })
}

fn latency(env: &Env, cfg: &Cfg) {
    let n = cfg.lat_trials;
    println!("\n## 2. Latency ({n} trials each, interleaved A/B)\n");
    println!("connect = from the call (`lcws_socket_open` / TCP connect) to `opened` / the upgraded stream: TCP + TLS + HTTP upgrade.");
    println!("round trip = one 1 KiB message to the echo server and back, on an open connection; the waiting thread is woken by the transport in both cases.\n");
    println!("| what | scheme | client | p50 (µs) | p99 (µs) | ratio p50 | ratio p99 |");
    println!("|---|---|---|---:|---:|---:|---:|");
    for tls in [false, true] {
        let scheme = if tls { "wss" } else { "ws" };
        let (mut a, mut b) = (Vec::with_capacity(n), Vec::with_capacity(n));
        for _ in 0..10 {
            lcws_connect(env, tls);
            raw_connect_time(env, tls);
        }
        for i in 0..n {
            if i % 2 == 0 {
                a.push(lcws_connect(env, tls));
                b.push(raw_connect_time(env, tls));
            } else {
                b.push(raw_connect_time(env, tls));
                a.push(lcws_connect(env, tls));
            }
        }
        print_latency("connect", scheme, &mut a, &mut b);

        // Round trips on one connection per client.
        let group = Arc::new(Group::default());
        let s = open_lcws(env, tls, "/echo", &group, Ack::Immediate);
        group.wait("opened", |g| g.opened == 1 || g.closed > 0);
        let mut raw = raw_rt().block_on(raw_connect(env, tls, "/echo"));
        let data = Bytes::from_static(payload()).slice(..KIB);
        let lcws_rtt = |k: usize| {
            let t0 = Instant::now();
            s.send(KIB, 1, KIB as u64);
            group.wait("echo", |g| g.done >= k);
            t0.elapsed().as_secs_f64()
        };
        let mut raw_rtt = || {
            raw_rt().block_on(async {
                let t0 = Instant::now();
                raw.send(Message::Binary(data.clone())).await.unwrap();
                loop {
                    if let Some(Ok(Message::Binary(_))) = raw.next().await {
                        break;
                    }
                }
                t0.elapsed().as_secs_f64()
            })
        };
        let (mut a, mut b) = (Vec::with_capacity(n), Vec::with_capacity(n));
        let mut k = 0;
        for i in 0..n + 20 {
            k += 1;
            let (x, y) = if i % 2 == 0 {
                let x = lcws_rtt(k);
                (x, raw_rtt())
            } else {
                let y = raw_rtt();
                (lcws_rtt(k), y)
            };
            if i >= 20 {
                a.push(x);
                b.push(y);
            }
        }
        print_latency("round trip", scheme, &mut a, &mut b);
        s.request_close();
        group.wait("closed", |g| g.closed == 1);
        s.release();
        raw_rt().block_on(raw_close(raw));
    }
}

fn print_latency(what: &str, scheme: &str, a: &mut [f64], b: &mut [f64]) {
    let (a50, a99) = (percentile(a, 0.5) * 1e6, percentile(a, 0.99) * 1e6);
    let (b50, b99) = (percentile(b, 0.5) * 1e6, percentile(b, 0.99) * 1e6);
    println!(
        "| {what} | {scheme} | litecore-ws | {a50:.0} | {a99:.0} | **{:.2}×** | {:.2}× |",
        a50 / b50,
        a99 / b99
    );
    println!("| {what} | {scheme} | tokio-tungstenite | {b50:.0} | {b99:.0} | | |");
}

// ─────────────────────────────────────────── 3. memory under a slow host ────────────────────

struct MemResult {
    total: usize,
    secs: f64,
    peak_unacked: i64,
    rss_growth_sampled: i64,
    rss_growth_hwm: Option<i64>,
}

fn flood(env: &Env, total: usize, msg: usize, rate: f64) -> MemResult {
    let (tx, rx) = mpsc::channel::<(usize, usize)>();
    let group = Arc::new(Group::default());
    let path = format!("/flood?bytes={total}&size={msg}");
    let s = open_lcws(env, false, &path, &group, Ack::Slow(Mutex::new(tx)));
    group.wait("opened", |g| g.opened == 1 || g.closed > 0);
    std::thread::sleep(Duration::from_millis(100));
    // The slow host: acknowledges at `rate` bytes/s from its own thread.
    let acker = std::thread::spawn(move || {
        let start = Instant::now();
        let mut acked = 0f64;
        while let Ok((sock, n)) = rx.recv() {
            acked += n as f64;
            let due = start + Duration::from_secs_f64(acked / rate);
            if let Some(wait) = due.checked_duration_since(Instant::now()) {
                std::thread::sleep(wait);
            }
            let sock = sock as *mut C4Socket;
            // SAFETY: the host keeps its reference until this thread has been joined.
            unsafe { fake(sock) }
                .unacked
                .fetch_sub(n as i64, Ordering::AcqRel);
            // SAFETY: the bench holds a reference to the socket.
            unsafe { lcws_socket_completed_receive(sock, n) };
        }
    });
    let stop = Arc::new(AtomicBool::new(false));
    trim_heap();
    let base = rss_kib() as i64;
    let hwm_ok = reset_hwm();
    let sampler = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let mut peak = 0i64;
            while !stop.load(Ordering::Relaxed) {
                peak = peak.max(rss_kib() as i64);
                std::thread::sleep(Duration::from_millis(2));
            }
            peak
        })
    };
    let t0 = Instant::now();
    s.send(2, 1, total as u64); // "go"
    group.wait("flood", |g| g.done == 1 || g.closed > 0);
    let secs = t0.elapsed().as_secs_f64();
    group.wait("closed", |g| g.closed == 1);
    stop.store(true, Ordering::Relaxed);
    let peak = sampler.join().unwrap();
    let hwm = status_field("VmHWM") as i64;
    let peak_unacked = s.f().peak_unacked.load(Ordering::Acquire);
    // Replace the sender inside the socket so the acker's channel closes, then join it.
    if let Ack::Slow(tx) = &s.f().ack {
        *tx.lock().unwrap() = mpsc::channel().0;
    }
    acker.join().unwrap();
    assert_eq!(
        group.get(|g| g.closed_ok),
        1,
        "{:?}",
        group.get(|g| g.last_error)
    );
    s.release();
    MemResult {
        total,
        secs,
        peak_unacked,
        rss_growth_sampled: (peak - base) * 1024,
        rss_growth_hwm: hwm_ok.then_some((hwm - base) * 1024),
    }
}

fn memory(env: &Env, cfg: &Cfg) {
    let msg = cfg.flood_msg;
    println!("\n## 3. Memory under a slow host (ws; the peer floods {} messages; the host acknowledges at {:.0} MiB/s from another thread)\n",
        human(msg), cfg.slow_ack_rate / MIB as f64);
    if cfg.mode == Mode::Quick {
        println!("(quick mode: smaller transfers than the default 100 MiB / 1 GiB)\n");
    }
    println!("buffered = received but not yet acknowledged bytes, as the host sees them (litecore-ws exposes no counter of its own).");
    println!("RSS growth = peak VmRSS (sampled every 2 ms) minus VmRSS before the flood; VmHWM column: VmHWM after a reset via /proc/self/clear_refs.\n");
    println!("| transfer | time (s) | peak buffered | goal ≤ | peak RSS growth (sampled) | (VmHWM) | goal ≤ |");
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for &total in &cfg.flood {
        let r = flood(env, total, msg, cfg.slow_ack_rate);
        let goal_buf = 64 * KIB + msg;
        let goal_rss = 4 * MIB + msg;
        println!(
            "| {} | {:.1} | {} KiB {} | {} KiB | {} KiB {} | {} | {} KiB |",
            human(r.total),
            r.secs,
            r.peak_unacked / 1024,
            if r.peak_unacked as usize <= goal_buf {
                "✓"
            } else {
                "✗"
            },
            goal_buf / KIB,
            r.rss_growth_sampled / 1024,
            if r.rss_growth_sampled as usize <= goal_rss {
                "✓"
            } else {
                "✗"
            },
            r.rss_growth_hwm
                .map_or("n/a".to_string(), |h| format!("{} KiB", h / 1024)),
            goal_rss / KIB,
        );
    }
}

// ─────────────────────────────────────────── 4. scale ───────────────────────────────────────

fn scale(env: &Env, cfg: &Cfg) {
    let n = cfg.scale_n;
    println!(
        "\n## 4. Scale: {n} concurrent sockets, one 1 KiB echo per socket per second for {} s\n",
        cfg.scale_secs
    );
    println!("| scheme | threads before → while open → after (lcws-worker) | open all (s) | round of {n} echoes, worst (ms) | RSS per idle socket | close all (s) | `closed` calls |");
    println!("|---|---|---:|---:|---:|---:|---|");
    for tls in [false, true] {
        trim_heap();
        std::thread::sleep(Duration::from_millis(100));
        let threads_before = threads();
        let rss_before = rss_kib();
        let group = Arc::new(Group::default());
        let closed0 = CLOSED_CALLS.load(Ordering::Relaxed);
        let t0 = Instant::now();
        let socks: Vec<LcSocket> = (0..n)
            .map(|_| open_lcws(env, tls, "/echo", &group, Ack::Immediate))
            .collect();
        group.wait("all opened", |g| g.opened + g.closed >= n);
        let open_secs = t0.elapsed().as_secs_f64();
        assert_eq!(
            group.get(|g| g.opened),
            n,
            "{:?}",
            group.get(|g| g.last_error)
        );
        std::thread::sleep(Duration::from_millis(300));
        let rss_idle = rss_kib();
        let mut threads_max = threads();
        let mut workers_max = threads_named("lcws-worker");
        let mut worst = 0f64;
        for sec in 0..cfg.scale_secs {
            let tick = Instant::now();
            for s in &socks {
                s.send(KIB, 1, KIB as u64);
            }
            group.wait("echo round", |g| g.done >= n * (sec as usize + 1));
            worst = worst.max(tick.elapsed().as_secs_f64());
            threads_max = threads_max.max(threads());
            workers_max = workers_max.max(threads_named("lcws-worker"));
            if let Some(rest) = Duration::from_secs(1).checked_sub(tick.elapsed()) {
                std::thread::sleep(rest);
            }
        }
        let t1 = Instant::now();
        for s in &socks {
            s.request_close();
        }
        group.wait("all closed", |g| g.closed >= n);
        let close_secs = t1.elapsed().as_secs_f64();
        std::thread::sleep(Duration::from_millis(300));
        let closed_calls = CLOSED_CALLS.load(Ordering::Relaxed) - closed0;
        let clean = group.get(|g| g.closed_ok);
        for s in socks {
            s.release();
        }
        let per_socket = (rss_idle as f64 - rss_before as f64) * 1024.0 / n as f64;
        println!(
            "| {} | {threads_before} → {threads_max} → {} ({workers_max}) | {open_secs:.2} | {:.0} | {:.1} KiB | {close_secs:.2} | {closed_calls} ({clean} clean) |",
            if tls { "wss" } else { "ws" },
            threads(),
            worst * 1e3,
            per_socket / 1024.0,
        );
    }
    println!("\n\"before\" counts the bench's own threads (main; the raw client's 2 workers when the other parts ran) and litecore-ws's 2 lcws-worker threads (started by earlier sockets). RSS per idle socket = (VmRSS with all sockets open and idle − VmRSS before, after malloc_trim) / {n}; the server's memory is in its own process.");
}

// ─────────────────────────────────────────── main ───────────────────────────────────────────

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--serve") {
        serve(&args[i + 1], &args[i + 2]);
        return;
    }
    raise_nofile();
    let cfg = Cfg::from_args();
    install_host();
    let env = start_env();
    let date = Command::new("date")
        .args(["-u", "+%Y-%m-%d %H:%M UTC"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    println!(
        "# litecore-ws transport benchmarks ({:?} mode, {date})",
        cfg.mode
    );
    println!(
        "\nlitecore-ws {} through its C ABI (a fake LiteCore in Rust: completedReceive at once, writes within a 64 KiB send window counted by completedWrite) vs. a plain tokio-tungstenite 0.29 client (2-worker tokio runtime, rustls for wss). Server: tokio-tungstenite echo/flood in a separate process on 127.0.0.1. CPUs online: {}.",
        env!("CARGO_PKG_VERSION"),
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    let started = Instant::now();
    if cfg.wants("tput") {
        throughput(&env, &cfg);
    }
    if cfg.wants("lat") {
        latency(&env, &cfg);
    }
    if cfg.wants("mem") {
        memory(&env, &cfg);
    }
    if cfg.wants("scale") {
        scale(&env, &cfg);
    }
    println!(
        "\nwrites {}, buffers released {}; total time {:.0} s",
        WRITES.load(Ordering::Relaxed),
        RELEASES.load(Ordering::Relaxed),
        started.elapsed().as_secs_f64()
    );
    assert_eq!(
        WRITES.load(Ordering::Relaxed),
        RELEASES.load(Ordering::Relaxed)
    );
}
