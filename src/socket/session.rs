//! An open WebSocket, in either role: messages both ways, flow control, heartbeat and the close
//! handshake.
//!
//! A [`Session`] is driven by its socket's task. Each turn of [`Session::run`] waits for one
//! event and hands it to the method for that event: a LiteCore command
//! ([`Session::on_command`]), a frame from the peer ([`Session::on_frame`]), a flushed write
//! ([`Session::on_written`]), or a timer ([`Session::on_heartbeat`],
//! [`Session::on_close_timeout`]). Writes wait in a queue that the same turn drives next to
//! reading, so a slow peer never blocks reading or LiteCore's commands; a message counts as
//! written once its bytes were flushed to the OS socket, and only then does LiteCore hear
//! `completedWrite` (its 64 KiB send window depends on that). Keeping the sink in the socket's
//! own task (rather than a writer task and two channels) saves two thread hand-offs per message,
//! which is most of the cost of a small message.
//!
//! The role is the WebSocket stream's: a client masks what it sends, a server refuses unmasked
//! frames (1002); everything else here is the same for both.

use super::close::{close_reason, wire_close_code};
use super::writes::{poll_io, Io, Outgoing, Owned, WriteQueue};
use crate::error::{close_code, Domain, NetworkCode, TransportError};
use crate::lcws_log;
use crate::litecore::{Command, LiteCoreSocket};
use crate::log::Level;
use bytes::Bytes;
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::StreamExt;
use std::collections::VecDeque;
use std::future::poll_fn;
use std::pin::Pin;
use std::task::Poll;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::mpsc;
use tokio::time::{sleep_until, Instant, Sleep};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, WebSocketConfig};
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::WebSocketStream;

/// Largest message accepted from the peer; bigger ones close the connection with 1009.
/// (LiteCore applies no limit in no-framing mode; BLIP frames are ~16 KiB.)
pub const MAX_MESSAGE_SIZE: usize = crate::limits::LCWS_MAX_MESSAGE_SIZE as usize;
/// Reading pauses while LiteCore has not acknowledged (`completedReceive`) this many received
/// bytes, as LiteCore's built-in transport does with its 64 KiB buffer. Memory per socket is
/// bounded by this plus one message.
pub const READ_PAUSE_THRESHOLD: usize = crate::limits::LCWS_READ_PAUSE_THRESHOLD as usize;
/// How long to wait for the peer's Close after sending ours (LiteCore's own close timeout).
pub const CLOSE_TIMEOUT: Duration = Duration::from_secs(5);
/// Longest wait for a Pong (LiteCore 3.4+); shorter when the heartbeat is shorter.
pub const MAX_PONG_TIMEOUT: Duration = Duration::from_secs(20);

/// tungstenite settings: messages written straight through (so "flushed" means "handed to the
/// OS"), the message size limit, and a modest read buffer. The same for both roles.
pub fn websocket_config() -> WebSocketConfig {
    WebSocketConfig::default()
        .max_message_size(Some(MAX_MESSAGE_SIZE))
        .max_frame_size(Some(MAX_MESSAGE_SIZE))
        .write_buffer_size(0)
        .read_buffer_size(32 * 1024)
}

/// The pong deadline for a heartbeat interval: min(20 s, heartbeat − 1 s), at least 1 s.
pub fn pong_timeout(heartbeat: Duration) -> Duration {
    MAX_PONG_TIMEOUT
        .min(heartbeat.saturating_sub(Duration::from_secs(1)))
        .max(Duration::from_secs(1))
}

/// How a session behaves, from the replicator's options (client) or the listener's
/// configuration (server).
#[derive(Clone, Copy, Debug)]
pub struct Settings {
    /// A Ping goes out after this long without hearing from the peer.
    pub heartbeat: Duration,
    /// Echo-style peers (conformance tests): a message LiteCore writes goes out as text when the
    /// message it answers came in as text.
    pub mirror_message_types: bool,
}

#[derive(PartialEq, Eq, Clone, Copy, Debug)]
enum Phase {
    Open,
    /// We sent a Close; waiting for the peer's.
    Closing,
    /// The peer sent a Close; waiting for LiteCore's `requestClose` and the end of TCP.
    PeerClosed,
}

/// What an event handler decided.
enum Step {
    Continue,
    /// The session is over; `closed` reports this.
    End(Option<TransportError>),
    /// The session failed: tell the peer why (a Close frame, when the protocol allows), then end
    /// with this error.
    Fail(TransportError),
}

type Sink<S> = SplitSink<WebSocketStream<S>, Message>;
type Source<S> = SplitStream<WebSocketStream<S>>;

/// One open WebSocket and its LiteCore side.
pub struct Session<'h, S> {
    id: u64,
    host: &'h mut dyn LiteCoreSocket,
    sink: Sink<S>,
    source: Source<S>,
    writes: WriteQueue,
    io_turn: u32,
    phase: Phase,
    /// The peer's Close (status, reason), once received.
    peer_status: Option<(i32, String)>,
    /// What `closed` reports when a close handshake that we started for our own reasons (a
    /// listener stopping) completes; `None` for LiteCore's own `requestClose`.
    own_close_error: Option<TransportError>,
    /// Bytes given to `received` and not yet acknowledged by `completedReceive`.
    unacked: usize,
    settings: Settings,
    pong_wait: Duration,
    awaiting_pong: bool,
    /// The heartbeat: a Ping goes out once nothing was read for `heartbeat`. Reading only moves
    /// `last_heard`; the timer is created once and re-armed when it fires early, because building
    /// a timer per message costs more than the message.
    last_heard: Instant,
    heartbeat_timer: Pin<Box<Sleep>>,
    /// Armed when a close handshake starts (the phase leaves Open); unused before.
    close_timer: Pin<Box<Sleep>>,
    /// With `mirror_message_types`: whether each received, not yet echoed message was text.
    received_types: VecDeque<bool>,
}

impl<'h, S> Session<'h, S>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    pub fn new(
        id: u64,
        host: &'h mut dyn LiteCoreSocket,
        ws: WebSocketStream<S>,
        settings: Settings,
    ) -> Self {
        let (sink, source) = ws.split();
        let now = Instant::now();
        Session {
            id,
            host,
            sink,
            source,
            writes: WriteQueue::default(),
            io_turn: 0,
            phase: Phase::Open,
            peer_status: None,
            own_close_error: None,
            unacked: 0,
            settings,
            pong_wait: pong_timeout(settings.heartbeat),
            awaiting_pong: false,
            last_heard: now,
            heartbeat_timer: Box::pin(sleep_until(now + settings.heartbeat)),
            close_timer: Box::pin(sleep_until(now + CLOSE_TIMEOUT)),
            received_types: VecDeque::new(),
        }
    }

    fn paused(&self) -> bool {
        self.unacked >= READ_PAUSE_THRESHOLD
    }

    /// Runs the socket until it ends; returns the error `closed` reports (None = clean).
    pub async fn run(
        mut self,
        commands: &mut mpsc::UnboundedReceiver<Command>,
    ) -> Option<TransportError> {
        loop {
            let paused = self.paused();
            // While closing, reading continues regardless of LiteCore's backlog: the peer's
            // Close must get through.
            let reading = !paused || self.phase != Phase::Open;
            let open = self.phase == Phase::Open;
            // LiteCore's commands first (they are cheap and batch writes); then reading and
            // writing, which take turns (`poll_io`).
            let step = tokio::select! {
                biased;
                command = commands.recv() => self.on_command(command),
                io = poll_fn(|cx| poll_io(&mut self.source, &mut self.sink, &mut self.writes, reading, &mut self.io_turn, cx)),
                    if reading || !self.writes.is_idle() => match io {
                    Io::Written(written) => self.on_written(written),
                    Io::Incoming(frame) => self.on_frame(frame),
                },
                _ = &mut self.close_timer, if !open => self.on_close_timeout(),
                _ = &mut self.heartbeat_timer, if open && !paused => self.on_heartbeat(),
            };
            match step {
                Step::Continue => {}
                Step::End(result) => return result,
                Step::Fail(err) => {
                    self.tell_peer(&err).await;
                    return Some(err);
                }
            }
        }
    }

    /// A LiteCore command (or the end of the queue: the socket was disposed).
    fn on_command(&mut self, command: Option<Command>) -> Step {
        let id = self.id;
        match command {
            Some(Command::Write(buf)) => {
                if self.phase != Phase::Open {
                    lcws_log!(
                        Level::Verbose,
                        Some(id),
                        "write after close started: dropped"
                    );
                    return Step::Continue; // dropping `buf` releases LiteCore's buffer
                }
                let len = (*buf).as_ref().len();
                let bytes = Bytes::from_owner(Owned(buf));
                let as_text = self.settings.mirror_message_types
                    && self.received_types.pop_front() == Some(true);
                let message = match as_text {
                    true => match tungstenite::Utf8Bytes::try_from(bytes.clone()) {
                        Ok(text) => Message::Text(text),
                        Err(_) => Message::Binary(bytes),
                    },
                    false => Message::Binary(bytes),
                };
                self.writes.push(Outgoing::Message(message, len));
            }
            Some(Command::CompletedReceive(n)) => {
                let was_paused = self.paused();
                self.unacked = self.unacked.saturating_sub(n);
                if was_paused && !self.paused() && !self.awaiting_pong {
                    // Not reading was our choice, not the peer's silence.
                    self.last_heard = Instant::now();
                }
            }
            Some(Command::RequestClose { status, message }) => match self.phase {
                Phase::Open => {
                    let code = wire_close_code(status);
                    lcws_log!(
                        Level::Info,
                        Some(id),
                        "closing: requestClose({status}) -> Close({code})"
                    );
                    self.start_close(code, &message);
                }
                Phase::PeerClosed => {
                    // LiteCore's answer to our closeRequested: tungstenite queued the echo.
                    self.writes.push(Outgoing::Flush);
                }
                Phase::Closing => {}
            },
            Some(Command::GoAway { code, reason }) => {
                if self.phase == Phase::Open {
                    lcws_log!(Level::Info, Some(id), "closing with {code}: {reason}");
                    self.own_close_error =
                        Some(TransportError::websocket(i32::from(code), reason.clone()));
                    self.start_close(code, &reason);
                }
            }
            Some(Command::Abort(e)) => return Step::End(Some(e)),
            None => {
                return Step::End(Some(TransportError::network(
                    NetworkCode::ConnectionAborted,
                    "socket disposed while open",
                )))
            }
        }
        Step::Continue
    }

    /// Sends our Close and waits (up to [`CLOSE_TIMEOUT`]) for the peer's.
    fn start_close(&mut self, code: u16, reason: &str) {
        let frame = CloseFrame {
            code: CloseCode::from(code),
            reason: close_reason(reason).into(),
        };
        self.writes
            .push(Outgoing::Message(Message::Close(Some(frame)), 0));
        self.phase = Phase::Closing;
        self.close_timer
            .as_mut()
            .reset(Instant::now() + CLOSE_TIMEOUT);
    }

    /// A queued write was flushed (`n` LiteCore bytes; 0 for control frames) or failed.
    fn on_written(&mut self, written: Result<usize, tungstenite::Error>) -> Step {
        match written {
            Ok(n) => {
                if n > 0 {
                    self.host.completed_write(n);
                }
                Step::Continue
            }
            Err(e) => {
                // The peer may drop TCP right after its Close: that ends a close handshake.
                if let Some(end) = self.finished_close() {
                    return Step::End(end);
                }
                Step::End(Some(TransportError::from_websocket(&e, "write")))
            }
        }
    }

    /// The peer's next frame, a read error, or the end of the stream.
    fn on_frame(&mut self, frame: Option<Result<Message, tungstenite::Error>>) -> Step {
        let message = match frame {
            Some(Ok(message)) => message,
            Some(Err(e)) => {
                let ends_handshake = matches!(
                    e,
                    tungstenite::Error::ConnectionClosed
                        | tungstenite::Error::AlreadyClosed
                        | tungstenite::Error::Io(_)
                        | tungstenite::Error::Protocol(
                            tungstenite::error::ProtocolError::ResetWithoutClosingHandshake
                        )
                );
                if ends_handshake {
                    if let Some(end) = self.finished_close() {
                        return Step::End(end);
                    }
                }
                return Step::Fail(TransportError::from_websocket(&e, "read"));
            }
            None => {
                if let Some(end) = self.finished_close() {
                    return Step::End(end);
                }
                return Step::End(Some(TransportError::websocket(
                    close_code::ABNORMAL,
                    "the connection closed without a Close frame",
                )));
            }
        };
        if !self.awaiting_pong {
            self.last_heard = Instant::now();
        }
        match message {
            Message::Binary(data) => self.deliver(&data, false),
            Message::Text(text) => self.deliver(text.as_bytes(), true),
            Message::Pong(_) => {
                self.awaiting_pong = false;
                self.last_heard = Instant::now();
            }
            // tungstenite answers Pings itself.
            Message::Ping(_) | Message::Frame(_) => {}
            Message::Close(frame) => return self.on_peer_close(frame),
        }
        Step::Continue
    }

    fn on_peer_close(&mut self, frame: Option<CloseFrame>) -> Step {
        let (status, reason) = frame
            .map(|f| (u16::from(f.code) as i32, f.reason.to_string()))
            .unwrap_or((close_code::NO_CODE, String::new()));
        match self.phase {
            Phase::Open => {
                lcws_log!(
                    Level::Info,
                    Some(self.id),
                    "peer sent Close({status}, {reason:?})"
                );
                self.peer_status = Some((status, reason.clone()));
                self.phase = Phase::PeerClosed;
                // tungstenite refuses to send anything after the peer's Close, and a refused
                // message would end the loop before our echo went out: queued messages are
                // dropped (releasing LiteCore's buffers), what is being flushed finishes.
                self.writes.drop_pending();
                self.close_timer
                    .as_mut()
                    .reset(Instant::now() + CLOSE_TIMEOUT);
                // LiteCore calls requestClose back from inside this call.
                self.host.close_requested(status, reason.as_bytes());
                Step::Continue
            }
            Phase::Closing => {
                lcws_log!(
                    Level::Info,
                    Some(self.id),
                    "peer acknowledged our Close ({status})"
                );
                Step::End(self.own_close_error.take())
            }
            Phase::PeerClosed => Step::Continue,
        }
    }

    /// The close timer fired: the handshake did not finish in time.
    fn on_close_timeout(&mut self) -> Step {
        if self.phase == Phase::PeerClosed {
            // We echoed; the peer just did not drop TCP.
            if let Some(end) = self.finished_close() {
                return Step::End(end);
            }
        }
        Step::End(Some(TransportError::network(
            NetworkCode::Timeout,
            format!("the peer did not answer our Close within {CLOSE_TIMEOUT:?}"),
        )))
    }

    /// The heartbeat timer fired: send a Ping after silence, or give up on a missing Pong.
    fn on_heartbeat(&mut self) -> Step {
        let now = Instant::now();
        let heartbeat = self.settings.heartbeat;
        if !self.awaiting_pong && self.last_heard + heartbeat > now {
            // Something was read since the timer was armed.
            self.heartbeat_timer
                .as_mut()
                .reset(self.last_heard + heartbeat);
            return Step::Continue;
        }
        if self.awaiting_pong {
            return Step::End(Some(TransportError::network(
                NetworkCode::Timeout,
                format!(
                    "no Pong within {:?} of our Ping (heartbeat {heartbeat:?})",
                    self.pong_wait
                ),
            )));
        }
        lcws_log!(
            Level::Verbose,
            Some(self.id),
            "idle for {heartbeat:?}: sending Ping"
        );
        self.writes
            .push(Outgoing::Message(Message::Ping(Bytes::new()), 0));
        self.awaiting_pong = true;
        self.heartbeat_timer.as_mut().reset(now + self.pong_wait);
        Step::Continue
    }

    /// The outcome of a close handshake that ended (TCP closed after the Close exchange).
    /// `None` when no handshake was under way.
    fn finished_close(&mut self) -> Option<Option<TransportError>> {
        match self.phase {
            Phase::Open => None,
            Phase::Closing => Some(self.own_close_error.take()),
            Phase::PeerClosed => Some(match &self.peer_status {
                Some((status, _)) if *status == close_code::NORMAL => None,
                Some((status, reason)) => Some(TransportError::websocket(
                    *status,
                    if reason.is_empty() {
                        "closed by peer".to_string()
                    } else {
                        reason.clone()
                    },
                )),
                None => None,
            }),
        }
    }

    /// Hands one received message to LiteCore. Empty messages are dropped: LiteCore would read
    /// an empty slice as "peer shut down" and call the (NULL) `close`.
    fn deliver(&mut self, data: &[u8], text: bool) {
        if data.is_empty() {
            return;
        }
        if self.settings.mirror_message_types {
            self.received_types.push_back(text);
        }
        self.unacked += data.len();
        self.host.received(data);
    }

    /// Tells the peer why we end (bad frames 1002, bad UTF-8 1007, too big 1009), best effort and
    /// briefly: the peer may be what is broken.
    async fn tell_peer(&mut self, err: &TransportError) {
        let code = match (err.domain, err.code) {
            (Domain::WebSocket, c @ (1002 | 1007 | 1009)) => c as u16,
            _ => return,
        };
        let frame = CloseFrame {
            code: CloseCode::from(code),
            reason: close_reason(&err.message).into(),
        };
        self.writes
            .push(Outgoing::Message(Message::Close(Some(frame)), 0));
        let (writes, sink) = (&mut self.writes, &mut self.sink);
        let send_close = poll_fn(|cx| loop {
            match writes.poll_flushed(sink, cx) {
                Poll::Ready(Ok(_)) if !writes.is_idle() => continue,
                other => return other.map(|_| ()),
            }
        });
        let _ = tokio::time::timeout(Duration::from_millis(200), send_close).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::litecore::WriteBuffer;
    use futures_util::SinkExt;

    #[test]
    fn pong_timeouts() {
        assert_eq!(
            pong_timeout(Duration::from_secs(300)),
            Duration::from_secs(20)
        );
        assert_eq!(pong_timeout(Duration::from_secs(3)), Duration::from_secs(2));
        assert_eq!(pong_timeout(Duration::from_secs(1)), Duration::from_secs(1));
    }

    /// What the session under test told LiteCore.
    #[derive(Default)]
    struct Calls {
        received: Vec<Vec<u8>>,
        completed_write: usize,
        close_requested: Vec<i32>,
        /// 'w' per completedWrite, 'r' per received, in order.
        order: String,
    }

    struct RecordingHost(std::sync::Arc<std::sync::Mutex<Calls>>);

    impl LiteCoreSocket for RecordingHost {
        fn got_http_response(&mut self, _: i32, _: &[u8]) {}
        fn opened(&mut self) {}
        fn close_requested(&mut self, status: i32, _: &[u8]) {
            self.0.lock().unwrap().close_requested.push(status);
        }
        fn completed_write(&mut self, n: usize) {
            let mut calls = self.0.lock().unwrap();
            calls.completed_write += n;
            calls.order.push('w');
        }
        fn received(&mut self, data: &[u8]) {
            let mut calls = self.0.lock().unwrap();
            calls.received.push(data.to_vec());
            calls.order.push('r');
        }
        fn closed(self: Box<Self>, _: Option<&TransportError>) {}
    }

    /// A LiteCore buffer that counts its release.
    struct Counted(Vec<u8>, std::sync::Arc<std::sync::atomic::AtomicUsize>);
    impl AsRef<[u8]> for Counted {
        fn as_ref(&self) -> &[u8] {
            &self.0
        }
    }
    impl Drop for Counted {
        fn drop(&mut self) {
            self.1.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
    }
    impl WriteBuffer for Counted {}

    type Peer = WebSocketStream<tokio::io::DuplexStream>;
    type Task = tokio::task::JoinHandle<Option<TransportError>>;

    /// The session's task, LiteCore's command channel, what the session told LiteCore, and the
    /// peer's end.
    type Started = (
        Task,
        mpsc::UnboundedSender<Command>,
        std::sync::Arc<std::sync::Mutex<Calls>>,
        Peer,
    );

    /// A session on one end of an in-memory pipe, a tungstenite peer on the other, each in the
    /// given role.
    async fn start_in_role(
        heartbeat: Duration,
        pipe_bytes: usize,
        ours: tungstenite::protocol::Role,
    ) -> Started {
        use tungstenite::protocol::Role;
        let theirs = match ours {
            Role::Client => Role::Server,
            Role::Server => Role::Client,
        };
        let (our_io, peer_io) = tokio::io::duplex(pipe_bytes);
        let ws = WebSocketStream::from_raw_socket(our_io, ours, Some(websocket_config())).await;
        let peer = WebSocketStream::from_raw_socket(peer_io, theirs, None).await;
        let calls = std::sync::Arc::new(std::sync::Mutex::new(Calls::default()));
        let (tx, mut rx) = mpsc::unbounded_channel();
        let host_calls = calls.clone();
        let task = tokio::spawn(async move {
            let mut host = RecordingHost(host_calls);
            let settings = Settings {
                heartbeat,
                mirror_message_types: false,
            };
            Session::new(7, &mut host, ws, settings).run(&mut rx).await
        });
        (task, tx, calls, peer)
    }

    /// A client session and a server peer.
    async fn start(heartbeat: Duration) -> Started {
        start_with_pipe(heartbeat, 256 * 1024).await
    }

    /// The same over a pipe holding `pipe_bytes` each way (small: writes block soon).
    async fn start_with_pipe(heartbeat: Duration, pipe_bytes: usize) -> Started {
        start_in_role(heartbeat, pipe_bytes, tungstenite::protocol::Role::Client).await
    }

    /// Reads what the peer gets within `wait` (virtual time), counting Pings.
    async fn peer_reads(peer: &mut Peer, wait: Duration) -> (Vec<Message>, usize) {
        let mut got = Vec::new();
        let mut pings = 0;
        let _ = tokio::time::timeout(wait, async {
            while let Some(Ok(m)) = peer.next().await {
                if m.is_ping() {
                    pings += 1;
                } else {
                    got.push(m);
                }
            }
        })
        .await;
        (got, pings)
    }

    /// LiteCore's requestClose(1000): the peer gets our Close, and once it hangs up the
    /// session ends cleanly.
    async fn close_cleanly(tx: &mpsc::UnboundedSender<Command>, mut peer: Peer, task: Task) {
        tx.send(Command::RequestClose {
            status: 1000,
            message: "bye".into(),
        })
        .unwrap();
        let (got, _) = peer_reads(&mut peer, Duration::from_secs(1)).await;
        assert!(matches!(got.last(), Some(Message::Close(_))), "{got:?}");
        drop(peer);
        assert!(task.await.unwrap().is_none());
    }

    #[tokio::test(start_paused = true)]
    async fn reading_postpones_the_ping_and_silence_brings_it() {
        let heartbeat = Duration::from_secs(2);
        let (task, tx, calls, mut peer) = start(heartbeat).await;
        // A message every 500 ms for 6 s: three heartbeats long, yet never idle.
        for i in 0..12u8 {
            peer.send(Message::binary(vec![i; 10])).await.unwrap();
            let (_, pings) = peer_reads(&mut peer, Duration::from_millis(500)).await;
            assert_eq!(pings, 0, "Ping while the peer was talking (message {i})");
        }
        assert_eq!(calls.lock().unwrap().received.len(), 12);
        // Silence: the Ping comes one heartbeat after the last message, not before.
        let (_, pings) = peer_reads(&mut peer, Duration::from_millis(1400)).await;
        assert_eq!(pings, 0, "Ping before a heartbeat of silence");
        let (_, pings) = peer_reads(&mut peer, Duration::from_millis(200)).await;
        assert_eq!(pings, 1, "no Ping after a heartbeat of silence");
        // Our peer answered with a Pong (tungstenite does it while reading), so no timeout;
        // a clean close ends the session.
        close_cleanly(&tx, peer, task).await;
    }

    #[tokio::test(start_paused = true)]
    async fn peer_close_with_writes_queued_still_gets_our_echo() {
        // Messages still queued when the peer's Close arrives cannot be sent any more (tungstenite
        // refuses them): they are dropped, each LiteCore buffer released once, and the close
        // handshake completes with our echo.
        let (task, tx, calls, mut peer) = start_with_pipe(Duration::from_secs(300), 4096).await;
        let released = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        for i in 0..40u8 {
            let buffer = Counted(vec![i; 1000], released.clone());
            tx.send(Command::Write(Box::new(buffer))).unwrap();
        }
        // The pipe holds 4 KiB and the peer is not reading: most writes wait in the queue.
        tokio::time::sleep(Duration::from_millis(10)).await;
        peer.send(Message::Close(Some(CloseFrame {
            code: CloseCode::Normal,
            reason: "done".into(),
        })))
        .await
        .unwrap();
        while calls.lock().unwrap().close_requested.is_empty() {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        assert_eq!(calls.lock().unwrap().close_requested, vec![1000]);
        // LiteCore answers closeRequested with requestClose.
        tx.send(Command::RequestClose {
            status: 1000,
            message: String::new(),
        })
        .unwrap();
        // The peer gets what was already on its way, then our Close: a clean handshake.
        let mut got_close = false;
        loop {
            match peer.next().await {
                Some(Ok(Message::Binary(_))) => assert!(!got_close, "data after our Close"),
                Some(Ok(Message::Close(_))) => got_close = true,
                Some(Ok(other)) => panic!("unexpected {other:?}"),
                None | Some(Err(tungstenite::Error::ConnectionClosed)) => break,
                Some(Err(e)) => panic!("the close handshake broke: {e}"),
            }
        }
        assert!(got_close, "our Close echo never arrived");
        assert!(task.await.unwrap().is_none());
        drop(tx);
        assert_eq!(released.load(std::sync::atomic::Ordering::SeqCst), 40);
    }

    #[tokio::test(start_paused = true)]
    async fn reading_and_writing_take_turns() {
        // The peer's messages wait in the pipe while LiteCore has 2,000 writes queued on a link
        // that never blocks: reading must not wait until every write is out.
        let (task, tx, calls, mut peer) =
            start_with_pipe(Duration::from_secs(300), 4 * 1024 * 1024).await;
        for i in 0..10u8 {
            peer.send(Message::binary(vec![i; 100])).await.unwrap();
        }
        for _ in 0..2000 {
            tx.send(Command::Write(Box::new(vec![7u8; 100]))).unwrap();
        }
        let reader = tokio::spawn(async move {
            let mut n = 0;
            while n < 2000 {
                if let Some(Ok(Message::Binary(_))) = peer.next().await {
                    n += 1;
                }
            }
            peer
        });
        let peer = reader.await.unwrap();
        let order = calls.lock().unwrap().order.clone();
        assert_eq!(order.matches('r').count(), 10);
        let last_read = order.rfind('r').unwrap();
        // With reads first on one turn of 4: about 40 writes before the tenth read.
        assert!(
            last_read < 100,
            "the 10 messages were read only after {} writes",
            order[..last_read].matches('w').count()
        );
        close_cleanly(&tx, peer, task).await;
    }

    #[tokio::test(start_paused = true)]
    async fn unanswered_ping_times_out() {
        let heartbeat = Duration::from_secs(3);
        let (task, _tx, _calls, peer) = start(heartbeat).await;
        // The peer never reads, so it never answers the Ping.
        let started = Instant::now();
        let err = task.await.unwrap().expect("a timeout");
        assert_eq!(err.code, NetworkCode::Timeout as i32, "{err:?}");
        // Ping after 3 s, Pong deadline 2 s later.
        assert_eq!(started.elapsed().as_secs(), 5);
        drop(peer);
    }

    #[tokio::test(start_paused = true)]
    async fn writes_reach_the_peer_in_order_and_are_acknowledged() {
        let (task, tx, calls, mut peer) = start(Duration::from_secs(300)).await;
        let mut sent = 0;
        for i in 0..200usize {
            let body = vec![(i % 251) as u8; 1 + i * 97];
            sent += body.len();
            tx.send(Command::Write(Box::new(body))).unwrap();
        }
        for i in 0..200usize {
            let m = peer.next().await.unwrap().unwrap();
            assert_eq!(
                m.into_data().as_ref(),
                vec![(i % 251) as u8; 1 + i * 97].as_slice()
            );
        }
        close_cleanly(&tx, peer, task).await;
        assert_eq!(calls.lock().unwrap().completed_write, sent);
    }

    #[tokio::test(start_paused = true)]
    async fn server_role_echoes_and_pings_too() {
        // The same session as a server: a client peer's messages arrive, ours reach it unmasked,
        // and the server side sends its own heartbeat Pings.
        let heartbeat = Duration::from_secs(2);
        let (task, tx, calls, mut peer) =
            start_in_role(heartbeat, 256 * 1024, tungstenite::protocol::Role::Server).await;
        peer.send(Message::binary(vec![1u8; 10])).await.unwrap();
        tx.send(Command::Write(Box::new(vec![2u8; 20]))).unwrap();
        let (got, _) = peer_reads(&mut peer, Duration::from_millis(100)).await;
        assert_eq!(got, vec![Message::binary(vec![2u8; 20])]);
        assert_eq!(calls.lock().unwrap().received, vec![vec![1u8; 10]]);
        let (_, pings) = peer_reads(&mut peer, Duration::from_secs(3)).await;
        assert_eq!(pings, 1, "the server side sent no heartbeat Ping");
        close_cleanly(&tx, peer, task).await;
    }

    #[tokio::test(start_paused = true)]
    async fn go_away_closes_with_our_code_and_reports_it() {
        let (task, tx, _calls, mut peer) = start_in_role(
            Duration::from_secs(300),
            256 * 1024,
            tungstenite::protocol::Role::Server,
        )
        .await;
        tx.send(Command::GoAway {
            code: 1001,
            reason: "listener stopped".into(),
        })
        .unwrap();
        // The peer (tungstenite) reads our Close and answers it; then the session ends.
        let (got, _) = peer_reads(&mut peer, Duration::from_secs(1)).await;
        match got.last() {
            Some(Message::Close(Some(f))) => assert_eq!(u16::from(f.code), 1001),
            other => panic!("no Close(1001): {other:?}"),
        }
        drop(peer);
        let err = task.await.unwrap().expect("an error for LiteCore");
        assert_eq!((err.domain, err.code), (Domain::WebSocket, 1001));
    }
}
