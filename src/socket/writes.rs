//! The socket's outgoing side: messages queued for the sink and flushed one at a time (a message
//! counts as written once its bytes reached the OS socket, which is when LiteCore hears
//! `completedWrite`), and the one poll that lets reading and writing take turns.

use crate::litecore::WriteBuffer;
use futures_util::{Sink, SinkExt, StreamExt};
use std::collections::VecDeque;
use std::task::{ready, Context, Poll};
use tokio_tungstenite::tungstenite::{self, Message};

/// Keeps LiteCore's buffer alive inside a `Bytes` (zero-copy); releasing on drop.
pub(super) struct Owned(pub(super) Box<dyn WriteBuffer>);
impl AsRef<[u8]> for Owned {
    fn as_ref(&self) -> &[u8] {
        (*self.0).as_ref()
    }
}

/// What waits to be written.
pub(super) enum Outgoing {
    /// A LiteCore message; `ack` bytes are reported once flushed (0 for control frames).
    Message(Message, usize),
    /// Flush whatever tungstenite queued (the automatic reply to a peer's Close).
    Flush,
}

/// Messages waiting for the sink, and the byte count of the one being flushed.
#[derive(Default)]
pub(super) struct WriteQueue {
    pending: VecDeque<Outgoing>,
    in_flight: Option<usize>,
}

impl WriteQueue {
    pub(super) fn push(&mut self, item: Outgoing) {
        self.pending.push_back(item);
    }

    /// Forgets the messages not yet handed to the sink.
    pub(super) fn drop_pending(&mut self) {
        self.pending.clear();
    }

    pub(super) fn is_idle(&self) -> bool {
        self.in_flight.is_none() && self.pending.is_empty()
    }

    /// Moves the queue forward; ready with a message's `ack` once it is flushed. Pending with
    /// nothing to do (the actor's loop polls again after queueing more).
    pub(super) fn poll_flushed<Si>(
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
pub(super) enum Io {
    /// The peer's next message (or the end of the stream).
    Incoming(Option<Result<Message, tungstenite::Error>>),
    /// A queued write was flushed (its `ack` bytes) or failed.
    Written(Result<usize, tungstenite::Error>),
}

/// Polls reading (when `reading`) and the write queue, the two taking turns at going first (see
/// [`READS_FIRST_EVERY`]): a peer that keeps sending cannot hold back our writes, and LiteCore
/// writing without pause cannot hold back reading (and with it the peer's Pongs and Close).
pub(super) fn poll_io<St, Si>(
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
