//! HTTP/1.1 heads, for both roles: reading one from a stream that may trickle it in pieces
//! (the client reads the server's answer, the listener reads the client's upgrade request), and
//! the limits that keep a hostile peer from making either side work or buffer without bound.

use crate::error::{close_code, Stage, TransportError};
use tokio::io::{AsyncRead, AsyncReadExt};

/// Largest head accepted by default (request or status line plus headers).
pub const MAX_HEAD_BYTES: usize = 64 * 1024;
/// Most headers accepted in one head.
pub const MAX_HEADERS: usize = 128;

/// A head that does not parse, or breaks a limit: a protocol error (1002).
pub fn protocol_error(message: String) -> TransportError {
    TransportError::websocket(close_code::PROTOCOL_ERROR, message)
}

/// RFC 9110 `token`: what a header name, a cookie name or a method may contain.
pub fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// True when `value` can be written as a header value: no CR, LF or NUL, which would let it
/// start a new header line (header injection).
pub fn is_clean_value(value: &[u8]) -> bool {
    !value.iter().any(|&c| c == b'\r' || c == b'\n' || c == 0)
}

/// Decides when a growing response head is worth parsing, which parses the whole
/// buffer each time: when the new bytes complete a blank line after some content (the end of
/// a head: `\n\n` or `\n\r\n`), when the buffer has doubled since the last parse (garbage
/// is reported after the first bytes) and past the size limit. However a peer splits its head
/// (byte by byte, even), the work stays linear in its size.
pub(crate) struct ParseSchedule {
    /// Past this size every read is a parse (which then refuses the head).
    limit: usize,
    parsed_len: usize,
    searched: usize,
    /// Where the first byte that is not CR or LF is, once seen.
    content: Option<usize>,
}

impl ParseSchedule {
    pub(crate) fn new(limit: usize) -> Self {
        ParseSchedule {
            limit,
            parsed_len: 0,
            searched: 0,
            content: None,
        }
    }

    /// Whether bytes arrived since the last parse (at the end of the stream: worth a last one).
    pub(crate) fn unparsed(&self, buf: &[u8]) -> bool {
        buf.len() > self.parsed_len
    }

    /// Called after each read with the whole buffer; true when it should be parsed now.
    pub(crate) fn due(&mut self, buf: &[u8]) -> bool {
        let from = self.searched;
        self.searched = buf.len();
        if self.content.is_none() {
            self.content = buf[from..]
                .iter()
                .position(|&b| b != b'\r' && b != b'\n')
                .map(|p| from + p);
        }
        let ends = self.content.is_some_and(|content| {
            let start = from.saturating_sub(2).max(content);
            buf[start..]
                .iter()
                .enumerate()
                .filter(|&(_, &b)| b == b'\n')
                .any(|(i, _)| {
                    let after = &buf[start + i + 1..];
                    after.starts_with(b"\n") || after.starts_with(b"\r\n")
                })
        });
        if ends || buf.len() >= 2 * self.parsed_len || buf.len() > self.limit {
            self.parsed_len = buf.len();
            true
        } else {
            false
        }
    }
}

/// Decodes `%XX` escapes (a URL's user and password, a request path's segment); `None` for a
/// malformed escape.
pub fn percent_decode(s: &str) -> Option<Vec<u8>> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = std::str::from_utf8(b.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    Some(out)
}

/// Reads one head from `stream`: `parse` is tried on the bytes read so far when
/// [`ParseSchedule`] says it is worth it, and returns the head and its length once complete
/// (`None` while incomplete). Returns the head and the bytes read past it. `what` names the head
/// in errors ("the HTTP response", "the upgrade request"); `eof` is the error when the peer
/// closes before a whole head arrived.
pub async fn read_head<S, T>(
    stream: &mut S,
    limit: usize,
    what: &str,
    parse: impl Fn(&[u8]) -> Result<Option<(T, usize)>, TransportError>,
    eof: impl FnOnce() -> TransportError,
) -> Result<(T, Vec<u8>), TransportError>
where
    S: AsyncRead + Unpin,
{
    let mut buf: Vec<u8> = Vec::with_capacity(1024);
    let mut chunk = [0u8; 4096];
    let mut schedule = ParseSchedule::new(limit);
    loop {
        let n = stream.read(&mut chunk).await.map_err(|e| {
            TransportError::from_io(&e, Stage::Handshake, &format!("reading {what}"))
        })?;
        if n == 0 {
            // What arrived since the last parse may already say what is wrong with it.
            if schedule.unparsed(&buf) {
                if let Some((head, len)) = parse(&buf)? {
                    return Ok((head, buf[len..].to_vec()));
                }
            }
            return Err(eof());
        }
        buf.extend_from_slice(&chunk[..n]);
        if schedule.due(&buf) {
            if let Some((head, len)) = parse(&buf)? {
                return Ok((head, buf[len..].to_vec()));
            }
        }
    }
}

/// The error for a head still incomplete at `len` bytes, past `limit`; `None` within it.
pub fn too_long(what: &str, len: usize, limit: usize) -> Option<TransportError> {
    (len > limit).then(|| protocol_error(format!("{what} head exceeds {limit} bytes")))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// How many times `ParseSchedule` asks for a parse when `head` arrives `step` bytes a read.
    fn parses(head: &[u8], step: usize) -> usize {
        let mut schedule = ParseSchedule::new(MAX_HEAD_BYTES);
        (step..=head.len() + step - 1)
            .step_by(step)
            .filter(|&end| schedule.due(&head[..end.min(head.len())]))
            .count()
    }

    #[test]
    fn parse_schedule_stays_linear_for_any_split() {
        let answer = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n";
        // Byte by byte: the doublings (1, 2, 4, ... 64) and the blank line at the end.
        assert_eq!(parses(answer, 1), 8);
        assert_eq!(parses(answer, answer.len()), 1);
        // A head of 50 short header lines, trickled: a line end alone is not a reason to parse.
        let many: Vec<u8> = [
            &b"HTTP/1.1 404 Not Found\r\n"[..],
            &b"X-A: b\r\n".repeat(50),
            b"\r\n",
        ]
        .concat();
        assert!(parses(&many, 1) <= 11, "{}", parses(&many, 1));
        // Blank lines alone (or before the status line) never end a head: 64 KiB of CRLF costs
        // one parse per doubling, not one per line.
        let blank = b"\r\n".repeat(MAX_HEAD_BYTES / 2);
        assert!(parses(&blank, 1) <= 18, "{}", parses(&blank, 1));
        // Past the limit every read is a parse (which then fails the head at once).
        let mut schedule = ParseSchedule::new(MAX_HEAD_BYTES);
        let long = vec![b'x'; MAX_HEAD_BYTES + 2];
        schedule.due(&long[..MAX_HEAD_BYTES]);
        assert!(schedule.due(&long[..MAX_HEAD_BYTES + 1]));
    }
}
