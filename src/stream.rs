//! The byte stream under a WebSocket, for both roles: plain TCP, TLS as a client (wss directly,
//! to an HTTPS proxy, or wss through an HTTPS proxy, which is TLS inside TLS) or TLS as a
//! server (the listener's wss).

use std::fmt;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

/// A connected byte stream.
pub enum Stream {
    Tcp(TcpStream),
    /// Our TLS client session over another stream.
    Tls(Box<tokio_rustls::client::TlsStream<Stream>>),
    /// Our TLS server session over an accepted connection.
    ServerTls(Box<tokio_rustls::server::TlsStream<TcpStream>>),
}

impl fmt::Debug for Stream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Stream::Tcp(_) => f.write_str("Stream::Tcp"),
            Stream::Tls(inner) => write!(f, "Stream::Tls({:?})", inner.get_ref().0),
            Stream::ServerTls(_) => f.write_str("Stream::ServerTls"),
        }
    }
}

/// Runs `$body` with `$s` bound to the pinned inner stream of whichever variant `$self` is.
macro_rules! each_variant {
    ($self:expr, $s:ident => $body:expr) => {
        match $self.get_mut() {
            Stream::Tcp(inner) => {
                let $s = Pin::new(inner);
                $body
            }
            Stream::Tls(inner) => {
                let $s = Pin::new(inner.as_mut());
                $body
            }
            Stream::ServerTls(inner) => {
                let $s = Pin::new(inner.as_mut());
                $body
            }
        }
    };
}

impl AsyncRead for Stream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        each_variant!(self, s => s.poll_read(cx, buf))
    }
}

impl AsyncWrite for Stream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        each_variant!(self, s => s.poll_write(cx, buf))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        each_variant!(self, s => s.poll_write_vectored(cx, bufs))
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            Stream::Tcp(s) => s.is_write_vectored(),
            Stream::Tls(s) => s.is_write_vectored(),
            Stream::ServerTls(s) => s.is_write_vectored(),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        each_variant!(self, s => s.poll_flush(cx))
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        each_variant!(self, s => s.poll_shutdown(cx))
    }
}
