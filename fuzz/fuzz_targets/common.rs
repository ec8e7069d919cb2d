//! Shared by the targets: checks of the HTTP requests they build, and an in-memory reader that
//! hands out bytes in chunks (for the targets that read HTTP heads).

#![allow(dead_code)]

use std::future::Future;
use std::pin::{pin, Pin};
use std::task::{Context, Poll, Waker};
use tokio::io::{AsyncRead, ReadBuf};

/// Hands out `data` at most `chunk` bytes per read; never pending.
pub struct Chunked<'a> {
    pub data: &'a [u8],
    pub chunk: usize,
}

impl AsyncRead for Chunked<'_> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let n = self.chunk.min(self.data.len()).min(buf.remaining());
        buf.put_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Poll::Ready(Ok(()))
    }
}

/// Polls a future that never waits (it reads a [`Chunked`]) to its end.
pub fn now<F: Future>(f: F) -> F::Output {
    let mut f = pin!(f);
    match f.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(r) => r,
        Poll::Pending => panic!("pending on a reader that never is"),
    }
}

/// Asserts that `bytes` is one well-formed HTTP request head: lines ending in CRLF, no lone CR
/// or LF and no NUL anywhere, no empty line before the final one, the request line first
/// (`<METHOD> <target> HTTP/1.1`), then `name: value` lines whose names are RFC 7230 tokens.
/// Returns the number of header lines.
pub fn assert_request_head(bytes: &[u8], method: &str) -> usize {
    assert!(
        bytes.ends_with(b"\r\n\r\n"),
        "request head does not end with an empty line: {:?}",
        String::from_utf8_lossy(bytes)
    );
    let head = &bytes[..bytes.len() - 2];
    let mut lines = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i < head.len() {
        match head[i] {
            b'\r' => {
                assert!(
                    head.get(i + 1) == Some(&b'\n'),
                    "lone CR at byte {i} in {:?}",
                    String::from_utf8_lossy(bytes)
                );
                lines.push(&head[start..i]);
                i += 2;
                start = i;
            }
            b'\n' => panic!("lone LF at byte {i} in {:?}", String::from_utf8_lossy(bytes)),
            0 => panic!("NUL at byte {i} in {:?}", String::from_utf8_lossy(bytes)),
            _ => i += 1,
        }
    }
    assert_eq!(start, head.len(), "the head ends inside a line");
    let (request_line, headers) = lines.split_first().expect("a request line");
    let request_line = String::from_utf8_lossy(request_line);
    assert!(
        request_line.starts_with(&format!("{method} ")) && request_line.ends_with(" HTTP/1.1"),
        "bad request line {request_line:?}"
    );
    assert_eq!(
        request_line.matches(' ').count(),
        2,
        "request line with a space in its target: {request_line:?}"
    );
    for line in headers {
        assert!(!line.is_empty(), "empty line inside the head");
        let colon = line
            .iter()
            .position(|&b| b == b':')
            .unwrap_or_else(|| panic!("header line without ':' {:?}", String::from_utf8_lossy(line)));
        assert!(
            is_token(&line[..colon]),
            "header name is not a token: {:?}",
            String::from_utf8_lossy(line)
        );
    }
    headers.len()
}

pub fn is_token(b: &[u8]) -> bool {
    !b.is_empty()
        && b.iter()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(b))
}
