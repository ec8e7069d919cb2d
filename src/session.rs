//! An open WebSocket: messages both ways, flow control, heartbeat and the close handshake.
//!
//! Runs inside the socket's actor. Writing happens in a helper task that owns the sink, so a
//! slow peer never blocks reading or LiteCore's commands; it reports each message once the
//! bytes were flushed to the OS socket, and only then does the actor call `completedWrite`
//! (LiteCore's 64 KiB send window depends on that).

use crate::connection::{Command, LiteCoreSocket, WriteBuffer};
use crate::error::{close_code, NetworkCode, TransportError};
use crate::lcws_log;
use crate::log::Level;
use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
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

/// What the writer task is asked to send.
enum Outgoing {
    /// A LiteCore message; `ack` bytes are reported once flushed (0 for control frames).
    Message(Message, usize),
    /// Flush whatever tungstenite queued (the automatic reply to a peer's Close).
    Flush,
}

/// What the writer task reports back.
enum Written {
    Flushed(usize),
    Failed(tungstenite::Error),
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
    let (out_tx, mut out_rx) = mpsc::unbounded_channel::<Outgoing>();
    let (done_tx, mut done_rx) = mpsc::unbounded_channel::<Written>();
    let writer = tokio::spawn(async move {
        while let Some(item) = out_rx.recv().await {
            let (result, ack) = match item {
                Outgoing::Message(m, ack) => (sink.send(m).await, ack),
                Outgoing::Flush => (sink.flush().await, 0),
            };
            let report = match result {
                Ok(()) => Written::Flushed(ack),
                Err(e) => Written::Failed(e),
            };
            if done_tx.send(report).is_err() {
                break;
            }
        }
        // Dropping the sink (with the stream half gone too) closes TCP.
    });

    let mut phase = Phase::Open;
    let mut peer_status: Option<(i32, String)> = None;
    let mut unacked: usize = 0;
    let pong_wait = pong_timeout(heartbeat);
    let mut awaiting_pong = false;
    let mut timer = Instant::now() + heartbeat;
    let mut close_deadline: Option<Instant> = None;
    // With `mirror_message_types`: whether each received, not yet echoed message was text.
    let mut received_types: std::collections::VecDeque<bool> = Default::default();

    let result = loop {
        let paused = unacked >= READ_PAUSE_THRESHOLD;
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
                    let _ = out_tx.send(Outgoing::Message(message, len));
                }
                Some(Command::CompletedReceive(n)) => {
                    let was_paused = unacked >= READ_PAUSE_THRESHOLD;
                    unacked = unacked.saturating_sub(n);
                    if was_paused && unacked < READ_PAUSE_THRESHOLD && !awaiting_pong {
                        // Not reading was our choice, not the peer's silence.
                        timer = Instant::now() + heartbeat;
                    }
                }
                Some(Command::RequestClose { status, message }) => match phase {
                    Phase::Open => {
                        let code = wire_close_code(status);
                        lcws_log!(Level::Info, Some(id), "closing: requestClose({status}) -> Close({code})");
                        let frame = CloseFrame { code: CloseCode::from(code), reason: close_reason(&message).into() };
                        let _ = out_tx.send(Outgoing::Message(Message::Close(Some(frame)), 0));
                        phase = Phase::Closing;
                        close_deadline = Some(Instant::now() + CLOSE_TIMEOUT);
                    }
                    Phase::PeerClosed => {
                        // LiteCore's answer to our closeRequested: tungstenite queued the echo.
                        let _ = out_tx.send(Outgoing::Flush);
                    }
                    Phase::Closing => {}
                },
                Some(Command::Abort(e)) => break Some(e),
                None => break Some(TransportError::network(NetworkCode::ConnectionAborted, "socket disposed while open")),
            },
            written = done_rx.recv() => match written {
                Some(Written::Flushed(n)) => {
                    if n > 0 {
                        host.completed_write(n);
                    }
                }
                Some(Written::Failed(e)) => {
                    if phase != Phase::Open {
                        // The peer may drop TCP right after its Close: that ends a close handshake.
                        if let Some(end) = finished_close(phase, &peer_status) { break end; }
                    }
                    break Some(TransportError::from_websocket(&e, "write"));
                }
                None => break Some(TransportError::websocket(close_code::ABNORMAL, "writer stopped")),
            },
            incoming = stream.next(), if !paused || phase != Phase::Open => match incoming {
                Some(Ok(message)) => {
                    if !awaiting_pong {
                        timer = Instant::now() + heartbeat;
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
                            timer = Instant::now() + heartbeat;
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
                                    close_deadline = Some(Instant::now() + CLOSE_TIMEOUT);
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
                        let _ = out_tx.send(Outgoing::Message(Message::Close(Some(frame)), 0));
                        let _ = tokio::time::timeout(Duration::from_millis(200), done_rx.recv()).await;
                    }
                    break Some(err);
                }
                None => {
                    if let Some(end) = finished_close(phase, &peer_status) { break end; }
                    break Some(TransportError::websocket(close_code::ABNORMAL, "the connection closed without a Close frame"));
                }
            },
            _ = sleep_until(close_deadline.unwrap_or_else(far_future)), if close_deadline.is_some() => {
                if let Some(end) = finished_close(Phase::PeerClosed, &peer_status).filter(|_| phase == Phase::PeerClosed) {
                    break end; // we echoed; the peer just did not drop TCP
                }
                break Some(TransportError::network(NetworkCode::Timeout, format!("the peer did not answer our Close within {CLOSE_TIMEOUT:?}")));
            }
            _ = sleep_until(timer), if phase == Phase::Open && !paused => {
                if awaiting_pong {
                    break Some(TransportError::network(NetworkCode::Timeout, format!("no Pong within {pong_wait:?} of our Ping (heartbeat {heartbeat:?})")));
                }
                lcws_log!(Level::Verbose, Some(id), "idle for {heartbeat:?}: sending Ping");
                let _ = out_tx.send(Outgoing::Message(Message::Ping(Bytes::new()), 0));
                awaiting_pong = true;
                timer = Instant::now() + pong_wait;
            }
        }
    };
    writer.abort();
    result
}

fn far_future() -> Instant {
    Instant::now() + Duration::from_secs(86400 * 365)
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

    #[test]
    fn close_reasons_fit_a_control_frame() {
        let long = "é".repeat(100);
        let r = close_reason(&long);
        assert!(r.len() <= 123 && long.starts_with(&r));
    }
}
