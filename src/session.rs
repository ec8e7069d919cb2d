//! An open WebSocket: messages both ways, flow control, heartbeat and the close handshake.
//!
//! Runs inside the socket's actor, one task per socket. Writes wait in a queue that the actor's
//! loop drives next to reading, so a slow peer never blocks reading or LiteCore's commands; a
//! message counts as written once its bytes were flushed to the OS socket, and only then does
//! the actor call `completedWrite` (LiteCore's 64 KiB send window depends on that). Keeping the
//! sink in the same task (rather than a writer task and two channels) saves two thread hand-offs
//! per message, which is most of the cost of a small message.

use crate::connection::{Command, LiteCoreSocket, WriteBuffer};
use crate::error::{close_code, NetworkCode, TransportError};
use crate::lcws_log;
use crate::log::Level;
use bytes::Bytes;
use futures_util::{Sink, SinkExt, StreamExt};
use std::collections::VecDeque;
use std::future::poll_fn;
use std::task::{ready, Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::mpsc;
use tokio::time::{sleep_until, Instant};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, WebSocketConfig};
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::WebSocketStream;

/// Largest message accepted from the peer; bigger ones close the connection with 1009.
/// (LiteCore applies no limit in no-framing mode; BLIP frames are ~16 KiB.)
pub const MAX_MESSAGE_SIZE: usize = 16 * 1024 * 1024;
/// Reading pauses while LiteCore has not acknowledged (`completedReceive`) this many received
/// bytes, as LiteCore's built-in transport does with its 64 KiB buffer. Memory per socket is
/// bounded by this plus one message.
pub const READ_PAUSE_THRESHOLD: usize = 64 * 1024;
/// How long to wait for the peer's Close after sending ours (LiteCore's own close timeout).
pub const CLOSE_TIMEOUT: Duration = Duration::from_secs(5);
/// Longest wait for a Pong (LiteCore 3.4+); shorter when the heartbeat is shorter.
pub const MAX_PONG_TIMEOUT: Duration = Duration::from_secs(20);

/// tungstenite settings: messages written straight through (so "flushed" means "handed to the
/// OS"), the message size limit, and a modest read buffer.
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

/// The close code to put on the wire for LiteCore's `requestClose` status. LiteCore passes
/// statuses that are not legal close codes (504 on its connect timeout, HTTP-like codes):
/// client-side problems become 1008 (policy), anything else 1011 (internal error).
pub fn wire_close_code(status: i32) -> u16 {
    match status {
        1000..=1003 | 1007..=1011 | 3000..=4999 => status as u16,
        400..=499 => close_code::POLICY_ERROR as u16,
        _ => close_code::CANT_FULFILL as u16,
    }
}

/// A Close reason is at most 123 bytes (125 minus the code), cut at a character boundary.
fn close_reason(message: &str) -> String {
    let mut end = message.len().min(123);
    while !message.is_char_boundary(end) {
        end -= 1;
    }
    message[..end].to_string()
}

/// Keeps LiteCore's buffer alive inside a `Bytes` (zero-copy); releasing on drop.
struct Owned(Box<dyn WriteBuffer>);
impl AsRef<[u8]> for Owned {
    fn as_ref(&self) -> &[u8] {
        (*self.0).as_ref()
    }
}

/// What waits to be written.
enum Outgoing {
    /// A LiteCore message; `ack` bytes are reported once flushed (0 for control frames).
    Message(Message, usize),
    /// Flush whatever tungstenite queued (the automatic reply to a peer's Close).
    Flush,
}

/// Messages waiting for the sink, and the byte count of the one being flushed.
#[derive(Default)]
struct WriteQueue {
    pending: VecDeque<Outgoing>,
    in_flight: Option<usize>,
}

impl WriteQueue {
    fn push(&mut self, item: Outgoing) {
        self.pending.push_back(item);
    }

    /// Forgets the messages not yet handed to the sink.
    fn drop_pending(&mut self) {
        self.pending.clear();
    }

    fn is_idle(&self) -> bool {
        self.in_flight.is_none() && self.pending.is_empty()
    }

    /// Moves the queue forward; ready with a message's `ack` once it is flushed. Pending with
    /// nothing to do (the actor's loop polls again after queueing more).
    fn poll_flushed<Si>(
        &mut self,
        sink: &mut Si,
        cx: &mut Context<'_>,
    ) -> Poll<Result<usize, tungstenite::Error>>
    where
        Si: Sink<Message, Error = tungstenite::Error> + Unpin,
    {
        if self.in_flight.is_none() {
            if self.pending.is_empty() {
                return Poll::Pending;
            }
            ready!(sink.poll_ready_unpin(cx))?;
            match self.pending.pop_front() {
                Some(Outgoing::Message(message, ack)) => {
                    self.in_flight = Some(ack);
                    sink.start_send_unpin(message)?;
                }
                Some(Outgoing::Flush) | None => self.in_flight = Some(0),
            }
        }
        ready!(sink.poll_flush_unpin(cx))?;
        Poll::Ready(Ok(self.in_flight.take().unwrap_or(0)))
    }
}

/// In `poll_io`, reading goes first on one turn of this many.
const READS_FIRST_EVERY: u32 = 4;

/// What the socket's I/O produced in one turn.
enum Io {
    /// The peer's next message (or the end of the stream).
    Incoming(Option<Result<Message, tungstenite::Error>>),
    /// A queued write was flushed (its `ack` bytes) or failed.
    Written(Result<usize, tungstenite::Error>),
}

/// Polls reading (when `reading`) and the write queue, the two taking turns at going first (see
/// [`READS_FIRST_EVERY`]): a peer that keeps sending cannot hold back our writes, and LiteCore
/// writing without pause cannot hold back reading (and with it the peer's Pongs and Close).
fn poll_io<St, Si>(
    stream: &mut St,
    sink: &mut Si,
    writes: &mut WriteQueue,
    reading: bool,
    turn: &mut u32,
    cx: &mut Context<'_>,
) -> Poll<Io>
where
    St: futures_util::Stream<Item = Result<Message, tungstenite::Error>> + Unpin,
    Si: Sink<Message, Error = tungstenite::Error> + Unpin,
{
    // Writes first on most turns (they were queued by LiteCore and complete in one poll when the
    // socket has room), reads first on every READS_FIRST_EVERY-th: each side gets its turn
    // without polling the other needlessly every time.
    *turn = turn.wrapping_add(1);
    let reads_first = *turn % READS_FIRST_EVERY == 0;
    for read_now in [reads_first, !reads_first] {
        if read_now {
            if reading {
                if let Poll::Ready(incoming) = stream.poll_next_unpin(cx) {
                    return Poll::Ready(Io::Incoming(incoming));
                }
            }
        } else if !writes.is_idle() {
            if let Poll::Ready(written) = writes.poll_flushed(sink, cx) {
                return Poll::Ready(Io::Written(written));
            }
        }
    }
    Poll::Pending
}

#[derive(PartialEq, Eq, Clone, Copy, Debug)]
enum Phase {
    Open,
    /// We sent a Close; waiting for the peer's.
    Closing,
    /// The peer sent a Close; waiting for LiteCore's `requestClose` and the end of TCP.
    PeerClosed,
}

/// Runs an open socket until it ends; returns the error `closed` reports (None = clean).
pub async fn run<S>(
    id: u64,
    host: &mut dyn LiteCoreSocket,
    ws: WebSocketStream<S>,
    commands: &mut mpsc::UnboundedReceiver<Command>,
    heartbeat: Duration,
    mirror_message_types: bool,
) -> Option<TransportError>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (mut sink, mut stream) = ws.split();
    let mut writes = WriteQueue::default();

    let mut phase = Phase::Open;
    let mut peer_status: Option<(i32, String)> = None;
    let mut unacked: usize = 0;
    let pong_wait = pong_timeout(heartbeat);
    let mut awaiting_pong = false;
    // The heartbeat: a Ping goes out once nothing was read for `heartbeat`. Reading only moves
    // `last_heard`; the timer is created once and re-armed when it fires early, because building
    // a timer per message costs more than the message.
    let mut last_heard = Instant::now();
    let heartbeat_timer = sleep_until(last_heard + heartbeat);
    tokio::pin!(heartbeat_timer);
    // Re-armed when a close handshake starts (the phase leaves Open); unused before.
    let close_timer = sleep_until(last_heard + CLOSE_TIMEOUT);
    tokio::pin!(close_timer);
    // With `mirror_message_types`: whether each received, not yet echoed message was text.
    let mut received_types: VecDeque<bool> = Default::default();
    let mut io_turn: u32 = 0;

    let result = loop {
        let paused = unacked >= READ_PAUSE_THRESHOLD;
        let reading = !paused || phase != Phase::Open;
        // LiteCore's commands first (they are cheap and batch writes); then reading and writing,
        // which take turns (`poll_io`).
        tokio::select! {
            biased;
            command = commands.recv() => match command {
                Some(Command::Write(buf)) => {
                    if phase != Phase::Open {
                        lcws_log!(Level::Verbose, Some(id), "write after close started: dropped");
                        continue; // dropping `buf` releases LiteCore's buffer
                    }
                    let len = (*buf).as_ref().len();
                    let bytes = Bytes::from_owner(Owned(buf));
                    let as_text = mirror_message_types && received_types.pop_front() == Some(true);
                    let message = match as_text {
                        true => match tungstenite::Utf8Bytes::try_from(bytes.clone()) {
                            Ok(text) => Message::Text(text),
                            Err(_) => Message::Binary(bytes),
                        },
                        false => Message::Binary(bytes),
                    };
                    writes.push(Outgoing::Message(message, len));
                }
                Some(Command::CompletedReceive(n)) => {
                    let was_paused = unacked >= READ_PAUSE_THRESHOLD;
                    unacked = unacked.saturating_sub(n);
                    if was_paused && unacked < READ_PAUSE_THRESHOLD && !awaiting_pong {
                        // Not reading was our choice, not the peer's silence.
                        last_heard = Instant::now();
                    }
                }
                Some(Command::RequestClose { status, message }) => match phase {
                    Phase::Open => {
                        let code = wire_close_code(status);
                        lcws_log!(Level::Info, Some(id), "closing: requestClose({status}) -> Close({code})");
                        let frame = CloseFrame { code: CloseCode::from(code), reason: close_reason(&message).into() };
                        writes.push(Outgoing::Message(Message::Close(Some(frame)), 0));
                        phase = Phase::Closing;
                        close_timer.as_mut().reset(Instant::now() + CLOSE_TIMEOUT);
                    }
                    Phase::PeerClosed => {
                        // LiteCore's answer to our closeRequested: tungstenite queued the echo.
                        writes.push(Outgoing::Flush);
                    }
                    Phase::Closing => {}
                },
                Some(Command::Abort(e)) => break Some(e),
                None => break Some(TransportError::network(NetworkCode::ConnectionAborted, "socket disposed while open")),
            },
            io = poll_fn(|cx| poll_io(&mut stream, &mut sink, &mut writes, reading, &mut io_turn, cx)), if reading || !writes.is_idle() => match io {
            Io::Written(written) => match written {
                Ok(n) => {
                    if n > 0 {
                        host.completed_write(n);
                    }
                }
                Err(e) => {
                    if phase != Phase::Open {
                        // The peer may drop TCP right after its Close: that ends a close handshake.
                        if let Some(end) = finished_close(phase, &peer_status) { break end; }
                    }
                    break Some(TransportError::from_websocket(&e, "write"));
                }
            },
            Io::Incoming(incoming) => match incoming {
                Some(Ok(message)) => {
                    if !awaiting_pong {
                        last_heard = Instant::now();
                    }
                    match message {
                        Message::Binary(data) => {
                            if mirror_message_types && !data.is_empty() { received_types.push_back(false); }
                            deliver(host, &data, &mut unacked)
                        }
                        Message::Text(text) => {
                            if mirror_message_types && !text.is_empty() { received_types.push_back(true); }
                            deliver(host, text.as_bytes(), &mut unacked)
                        }
                        Message::Pong(_) => {
                            awaiting_pong = false;
                            last_heard = Instant::now();
                        }
                        Message::Ping(_) | Message::Frame(_) => {}
                        Message::Close(frame) => {
                            let (status, reason) = frame
                                .map(|f| (u16::from(f.code) as i32, f.reason.to_string()))
                                .unwrap_or((close_code::NO_CODE, String::new()));
                            match phase {
                                Phase::Open => {
                                    lcws_log!(Level::Info, Some(id), "peer sent Close({status}, {reason:?})");
                                    peer_status = Some((status, reason.clone()));
                                    phase = Phase::PeerClosed;
                                    // tungstenite refuses to send anything after the peer's
                                    // Close, and a refused message would end the loop before
                                    // our echo went out: queued messages are dropped (releasing
                                    // LiteCore's buffers), what is being flushed finishes.
                                    writes.drop_pending();
                                    close_timer.as_mut().reset(Instant::now() + CLOSE_TIMEOUT);
                                    // LiteCore calls requestClose back from inside this call.
                                    host.close_requested(status, reason.as_bytes());
                                }
                                Phase::Closing => {
                                    lcws_log!(Level::Info, Some(id), "peer acknowledged our Close ({status})");
                                    break None;
                                }
                                Phase::PeerClosed => {}
                            }
                        }
                    }
                }
                Some(Err(e)) => {
                    if let Some(end) = finished_close(phase, &peer_status) {
                        if matches!(e, tungstenite::Error::ConnectionClosed | tungstenite::Error::AlreadyClosed | tungstenite::Error::Io(_) | tungstenite::Error::Protocol(tungstenite::error::ProtocolError::ResetWithoutClosingHandshake)) {
                            break end;
                        }
                    }
                    let err = TransportError::from_websocket(&e, "read");
                    // Tell the peer why, when the protocol allows (best effort).
                    if let Some(code) = close_code_for(&err) {
                        let frame = CloseFrame { code: CloseCode::from(code), reason: close_reason(&err.message).into() };
                        writes.push(Outgoing::Message(Message::Close(Some(frame)), 0));
                        let send_close = poll_fn(|cx| loop {
                            match writes.poll_flushed(&mut sink, cx) {
                                Poll::Ready(Ok(_)) if !writes.is_idle() => continue,
                                other => return other.map(|_| ()),
                            }
                        });
                        let _ = tokio::time::timeout(Duration::from_millis(200), send_close).await;
                    }
                    break Some(err);
                }
                None => {
                    if let Some(end) = finished_close(phase, &peer_status) { break end; }
                    break Some(TransportError::websocket(close_code::ABNORMAL, "the connection closed without a Close frame"));
                }
            },
            },
            _ = &mut close_timer, if phase != Phase::Open => {
                if let Some(end) = finished_close(Phase::PeerClosed, &peer_status).filter(|_| phase == Phase::PeerClosed) {
                    break end; // we echoed; the peer just did not drop TCP
                }
                break Some(TransportError::network(NetworkCode::Timeout, format!("the peer did not answer our Close within {CLOSE_TIMEOUT:?}")));
            }
            _ = &mut heartbeat_timer, if phase == Phase::Open && !paused => {
                let now = Instant::now();
                if !awaiting_pong && last_heard + heartbeat > now {
                    // Something was read since the timer was armed.
                    heartbeat_timer.as_mut().reset(last_heard + heartbeat);
                    continue;
                }
                if awaiting_pong {
                    break Some(TransportError::network(NetworkCode::Timeout, format!("no Pong within {pong_wait:?} of our Ping (heartbeat {heartbeat:?})")));
                }
                lcws_log!(Level::Verbose, Some(id), "idle for {heartbeat:?}: sending Ping");
                writes.push(Outgoing::Message(Message::Ping(Bytes::new()), 0));
                awaiting_pong = true;
                heartbeat_timer.as_mut().reset(now + pong_wait);
            }
        }
    };
    result
}

/// The outcome of a close handshake that ended (TCP closed after the Close exchange).
/// `None` when no handshake was under way.
fn finished_close(
    phase: Phase,
    peer_status: &Option<(i32, String)>,
) -> Option<Option<TransportError>> {
    match phase {
        Phase::Open => None,
        Phase::Closing => Some(None),
        Phase::PeerClosed => Some(match peer_status {
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

/// Hands one received message to LiteCore. Empty messages are dropped: LiteCore would read an
/// empty slice as "peer shut down" and call the (NULL) `close`.
fn deliver(host: &mut dyn LiteCoreSocket, data: &[u8], unacked: &mut usize) {
    if data.is_empty() {
        return;
    }
    *unacked += data.len();
    host.received(data);
}

/// The Close code to send when ending the connection for `err`, if one should be sent.
fn close_code_for(err: &TransportError) -> Option<u16> {
    match (err.domain, err.code) {
        (crate::error::Domain::WebSocket, c @ (1002 | 1007 | 1009)) => Some(c as u16),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_codes() {
        assert_eq!(wire_close_code(1000), 1000);
        assert_eq!(wire_close_code(4001), 4001);
        assert_eq!(wire_close_code(504), 1011);
        assert_eq!(wire_close_code(401), 1008);
        assert_eq!(wire_close_code(1005), 1011);
        assert_eq!(wire_close_code(1006), 1011);
        assert_eq!(wire_close_code(-1), 1011);
    }

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

    impl WriteBuffer for Vec<u8> {}

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

    type Server = WebSocketStream<tokio::io::DuplexStream>;
    type Task = tokio::task::JoinHandle<Option<TransportError>>;

    /// The session's task, LiteCore's command channel, what the session told LiteCore, and the
    /// server end.
    type Started = (
        Task,
        mpsc::UnboundedSender<Command>,
        std::sync::Arc<std::sync::Mutex<Calls>>,
        Server,
    );

    /// A session on one end of an in-memory pipe, a tungstenite server on the other.
    async fn start(heartbeat: Duration) -> Started {
        start_with_pipe(heartbeat, 256 * 1024).await
    }

    /// The same over a pipe holding `pipe_bytes` each way (small: writes block soon).
    async fn start_with_pipe(heartbeat: Duration, pipe_bytes: usize) -> Started {
        use tokio_tungstenite::tungstenite::protocol::Role;
        let (client_io, server_io) = tokio::io::duplex(pipe_bytes);
        let client =
            WebSocketStream::from_raw_socket(client_io, Role::Client, Some(websocket_config()))
                .await;
        let server = WebSocketStream::from_raw_socket(server_io, Role::Server, None).await;
        let calls = std::sync::Arc::new(std::sync::Mutex::new(Calls::default()));
        let (tx, mut rx) = mpsc::unbounded_channel();
        let host_calls = calls.clone();
        let task = tokio::spawn(async move {
            let mut host = RecordingHost(host_calls);
            run(7, &mut host, client, &mut rx, heartbeat, false).await
        });
        (task, tx, calls, server)
    }

    /// Reads what the server gets within `wait` (virtual time), counting Pings.
    async fn server_reads(server: &mut Server, wait: Duration) -> (Vec<Message>, usize) {
        let mut got = Vec::new();
        let mut pings = 0;
        let _ = tokio::time::timeout(wait, async {
            while let Some(Ok(m)) = server.next().await {
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

    /// LiteCore's requestClose(1000): the server gets our Close, and once it hangs up the
    /// session ends cleanly.
    async fn close_cleanly(tx: &mpsc::UnboundedSender<Command>, mut server: Server, task: Task) {
        tx.send(Command::RequestClose {
            status: 1000,
            message: "bye".into(),
        })
        .unwrap();
        let (got, _) = server_reads(&mut server, Duration::from_secs(1)).await;
        assert!(matches!(got.last(), Some(Message::Close(_))), "{got:?}");
        drop(server);
        assert!(task.await.unwrap().is_none());
    }

    #[tokio::test(start_paused = true)]
    async fn reading_postpones_the_ping_and_silence_brings_it() {
        let heartbeat = Duration::from_secs(2);
        let (task, tx, calls, mut server) = start(heartbeat).await;
        // A message every 500 ms for 6 s: three heartbeats long, yet never idle.
        for i in 0..12u8 {
            server.send(Message::binary(vec![i; 10])).await.unwrap();
            let (_, pings) = server_reads(&mut server, Duration::from_millis(500)).await;
            assert_eq!(pings, 0, "Ping while the peer was talking (message {i})");
        }
        assert_eq!(calls.lock().unwrap().received.len(), 12);
        // Silence: the Ping comes one heartbeat after the last message, not before.
        let (_, pings) = server_reads(&mut server, Duration::from_millis(1400)).await;
        assert_eq!(pings, 0, "Ping before a heartbeat of silence");
        let (_, pings) = server_reads(&mut server, Duration::from_millis(200)).await;
        assert_eq!(pings, 1, "no Ping after a heartbeat of silence");
        // Our server answered with a Pong (tungstenite does it while reading), so no timeout;
        // a clean close ends the session.
        close_cleanly(&tx, server, task).await;
    }

    #[tokio::test(start_paused = true)]
    async fn peer_close_with_writes_queued_still_gets_our_echo() {
        // Messages still queued when the peer's Close arrives cannot be sent any more (tungstenite
        // refuses them): they are dropped, each LiteCore buffer released once, and the close
        // handshake completes with our echo.
        let (task, tx, calls, mut server) = start_with_pipe(Duration::from_secs(300), 4096).await;
        let released = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        for i in 0..40u8 {
            let buffer = Counted(vec![i; 1000], released.clone());
            tx.send(Command::Write(Box::new(buffer))).unwrap();
        }
        // The pipe holds 4 KiB and the server is not reading: most writes wait in the queue.
        tokio::time::sleep(Duration::from_millis(10)).await;
        server
            .send(Message::Close(Some(CloseFrame {
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
        // The server gets what was already on its way, then our Close: a clean handshake.
        let mut got_close = false;
        loop {
            match server.next().await {
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
        let (task, tx, calls, mut server) =
            start_with_pipe(Duration::from_secs(300), 4 * 1024 * 1024).await;
        for i in 0..10u8 {
            server.send(Message::binary(vec![i; 100])).await.unwrap();
        }
        for _ in 0..2000 {
            tx.send(Command::Write(Box::new(vec![7u8; 100]))).unwrap();
        }
        let reader = tokio::spawn(async move {
            let mut n = 0;
            while n < 2000 {
                if let Some(Ok(Message::Binary(_))) = server.next().await {
                    n += 1;
                }
            }
            server
        });
        let server = reader.await.unwrap();
        let order = calls.lock().unwrap().order.clone();
        assert_eq!(order.matches('r').count(), 10);
        let last_read = order.rfind('r').unwrap();
        // With reads first on one turn of 4: about 40 writes before the tenth read.
        assert!(
            last_read < 100,
            "the 10 messages were read only after {} writes",
            order[..last_read].matches('w').count()
        );
        close_cleanly(&tx, server, task).await;
    }

    #[tokio::test(start_paused = true)]
    async fn unanswered_ping_times_out() {
        let heartbeat = Duration::from_secs(3);
        let (task, _tx, _calls, server) = start(heartbeat).await;
        // The server never reads, so it never answers the Ping.
        let started = Instant::now();
        let err = task.await.unwrap().expect("a timeout");
        assert_eq!(err.code, NetworkCode::Timeout as i32, "{err:?}");
        // Ping after 3 s, Pong deadline 2 s later.
        assert_eq!(started.elapsed().as_secs(), 5);
        drop(server);
    }

    #[tokio::test(start_paused = true)]
    async fn writes_reach_the_peer_in_order_and_are_acknowledged() {
        let (task, tx, calls, mut server) = start(Duration::from_secs(300)).await;
        let mut sent = 0;
        for i in 0..200usize {
            let body = vec![(i % 251) as u8; 1 + i * 97];
            sent += body.len();
            tx.send(Command::Write(Box::new(body))).unwrap();
        }
        for i in 0..200usize {
            let m = server.next().await.unwrap().unwrap();
            assert_eq!(
                m.into_data().as_ref(),
                vec![(i % 251) as u8; 1 + i * 97].as_slice()
            );
        }
        close_cleanly(&tx, server, task).await;
        assert_eq!(calls.lock().unwrap().completed_write, sent);
    }

    #[test]
    fn close_reasons_fit_a_control_frame() {
        let long = "é".repeat(100);
        let r = close_reason(&long);
        assert!(r.len() <= 123 && long.starts_with(&r));
    }
}
