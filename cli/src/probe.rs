//! Runs the library's own connect path (`client::run`, what a socket LiteCore opened runs) with
//! a recording LiteCore side, and keeps what it saw: each connect-path step
//! ([`Progress`]) with the time it arrived, `gotPeerCertificate`, `gotHTTPResponse`, `opened`,
//! the peer's close request and what `closed` would report. After `opened` it asks for a clean
//! close (`requestClose(1000)`), as a replicator that stops would, and records how it ended.

use litecore_ws::internals::proxy::ProxyServer;
use litecore_ws::internals::response::Response;
use litecore_ws::internals::{
    decode, run_client, Address, Command, LiteCoreSocket, Options, Progress, TransportError,
};
use std::net::SocketAddr;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::time::Instant;

/// A connect-path step, owned (the library lends it only for the call).
#[derive(Clone, Debug)]
pub enum Event {
    Resolved {
        host: String,
        addrs: Vec<SocketAddr>,
        proxy: Option<String>,
    },
    TcpFailed {
        addr: SocketAddr,
        error: TransportError,
        proxy: Option<String>,
    },
    TcpConnected {
        addr: SocketAddr,
        proxy: Option<String>,
    },
    ProxyTunnel {
        proxy: ProxyServer,
        status: u16,
        reason: String,
    },
    Tls(TlsInfo),
    RequestSent(String),
    Response(Response),
    Redirect {
        status: u16,
        to: Address,
    },
    ChallengeRetry,
}

/// What the TLS handshake with the server established.
#[derive(Clone, Debug, Default)]
pub struct TlsInfo {
    pub version: Option<String>,
    pub cipher: Option<String>,
    pub alpn: Option<String>,
    /// The server's chain, leaf first, DER.
    pub chain: Vec<Vec<u8>>,
}

impl From<&Progress<'_>> for Event {
    fn from(p: &Progress<'_>) -> Event {
        let owned = |s: Option<&str>| s.map(str::to_owned);
        match *p {
            Progress::Resolved { host, addrs, proxy } => Event::Resolved {
                host: host.to_owned(),
                addrs: addrs.to_vec(),
                proxy: owned(proxy),
            },
            Progress::TcpFailed { addr, error, proxy } => Event::TcpFailed {
                addr,
                error: error.clone(),
                proxy: owned(proxy),
            },
            Progress::TcpConnected { addr, proxy } => Event::TcpConnected {
                addr,
                proxy: owned(proxy),
            },
            Progress::ProxyTunnel {
                proxy,
                status,
                reason,
            } => Event::ProxyTunnel {
                proxy: proxy.clone(),
                status,
                reason: reason.to_owned(),
            },
            Progress::TlsEstablished {
                version,
                cipher_suite,
                alpn,
                chain,
            } => Event::Tls(TlsInfo {
                version: version.map(|v| match v {
                    rustls::ProtocolVersion::TLSv1_3 => "TLS 1.3".to_string(),
                    rustls::ProtocolVersion::TLSv1_2 => "TLS 1.2".to_string(),
                    other => format!("{other:?}"),
                }),
                cipher: cipher_suite.map(|s| format!("{s:?}")),
                alpn: alpn.map(|a| String::from_utf8_lossy(a).into_owned()),
                chain: chain.iter().map(|c| c.as_ref().to_vec()).collect(),
            }),
            Progress::RequestSent { masked } => Event::RequestSent(masked.to_owned()),
            Progress::ResponseReceived { response } => Event::Response(response.clone()),
            Progress::Redirect { status, to } => Event::Redirect {
                status,
                to: to.clone(),
            },
            Progress::ChallengeRetry => Event::ChallengeRetry,
        }
    }
}

/// Everything one run of the connect path told its LiteCore side. Times are from the start.
#[derive(Clone, Debug, Default)]
pub struct Record {
    pub events: Vec<(Duration, Event)>,
    /// `gotPeerCertificate`: the leaf (DER) and the host name.
    pub peer_certificate: Option<(Vec<u8>, String)>,
    /// `gotHTTPResponse`: the status and how many headers the Fleece dict held.
    pub got_http_response: Option<(i32, usize)>,
    pub opened: Option<Duration>,
    /// `closeRequested`: the server closed first (status, reason).
    pub peer_close: Option<(i32, String)>,
    /// When the run ended (`closed` would be called then).
    pub ended: Option<Duration>,
    /// What `closed` reports (`None`: clean, or not ended: see `timed_out`).
    pub error: Option<TransportError>,
    /// The check's own `--timeout` stopped the run.
    pub timed_out: bool,
}

/// How the recording side answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// As LiteCore would: accept the certificate, close cleanly once open.
    Check,
    /// Only to see the server's certificates: refuse them in `gotPeerCertificate`, so the
    /// library stops before sending anything.
    ShowCertificates,
}

/// The recording LiteCore side.
struct Recorder {
    start: Instant,
    mode: Mode,
    commands: mpsc::UnboundedSender<Command>,
    record: Record,
}

impl Recorder {
    fn now(&self) -> Duration {
        self.start.elapsed()
    }
}

impl LiteCoreSocket for Recorder {
    fn got_http_response(&mut self, status: i32, headers_fleece: &[u8]) {
        let count = decode(headers_fleece)
            .ok()
            .and_then(|v| v.as_dict().map(<[_]>::len))
            .unwrap_or(0);
        self.record.got_http_response = Some((status, count));
    }

    fn opened(&mut self) {
        self.record.opened = Some(self.now());
        // Stop as a replicator does: a clean close.
        let _ = self.commands.send(Command::RequestClose {
            status: 1000,
            message: String::new(),
        });
    }

    fn close_requested(&mut self, status: i32, message: &[u8]) {
        self.record.peer_close = Some((status, String::from_utf8_lossy(message).into_owned()));
        // LiteCore answers with requestClose of the same status.
        let _ = self.commands.send(Command::RequestClose {
            status,
            message: String::new(),
        });
    }

    fn completed_write(&mut self, _byte_count: usize) {}

    fn received(&mut self, _data: &[u8]) {}

    fn peer_certificate(&mut self, der: &[u8], host: &str) -> bool {
        self.record.peer_certificate = Some((der.to_vec(), host.to_string()));
        self.mode == Mode::Check
    }

    fn progress(&mut self, event: Progress<'_>) {
        let at = self.now();
        self.record.events.push((at, Event::from(&event)));
    }

    fn closed(self: Box<Self>, _error: Option<&TransportError>) {}
}

/// Runs the library's connect path to `address` with `options` until the socket ends or
/// `deadline`; returns what it recorded.
pub async fn run(address: &Address, options: &Options, deadline: Instant, mode: Mode) -> Record {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let mut recorder = Recorder {
        start: Instant::now(),
        mode,
        commands: tx,
        record: Record::default(),
    };
    let outcome = tokio::time::timeout_at(
        deadline,
        run_client(1, &mut recorder, address.clone(), options.clone(), &mut rx),
    )
    .await;
    let ended = recorder.now();
    let mut record = recorder.record;
    match outcome {
        Ok(error) => {
            record.ended = Some(ended);
            record.error = error;
        }
        Err(_) => record.timed_out = true,
    }
    record
}
