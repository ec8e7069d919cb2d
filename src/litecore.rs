//! The LiteCore side of a socket, as litecore-ws's code sees it: the calls it makes into
//! LiteCore ([`LiteCoreSocket`], implemented over the host table by `ffi::host` and by
//! recorders in tests and the `litecore-ws check` command) and the work LiteCore's factory
//! callbacks hand to a socket's task ([`Command`]).

use crate::address::Address;
use crate::client::proxy::ProxyServer;
use crate::client::response::Response;
use crate::error::TransportError;
use rustls::pki_types::CertificateDer;
use rustls::{CipherSuite, ProtocolVersion};
use std::net::SocketAddr;

/// A step of the client's connect path, in the order it happens ([`LiteCoreSocket::progress`]).
/// LiteCore has no such callback: this is for diagnostics (`litecore-ws check`), which times
/// each step as the event arrives. Nothing here carries a secret: the request is the masked
/// text, and a response's `Set-Cookie` values are only ever shown through
/// [`Response::masked`].
///
/// One attempt is `Resolved`, `TcpFailed`…, `TcpConnected`, (through a proxy) `ProxyTunnel`,
/// (wss) `TlsEstablished`, `RequestSent`, `ResponseReceived`; a `Redirect` or `ChallengeRetry`
/// starts the next attempt.
#[derive(Debug)]
pub enum Progress<'a> {
    /// DNS gave `addrs` for `host` (an IP literal is its own answer, without a lookup).
    /// `proxy` names the proxy being reached ("HTTP proxy p:3128"), `None` for the server.
    Resolved {
        host: &'a str,
        addrs: &'a [SocketAddr],
        proxy: Option<&'a str>,
    },
    /// A TCP connect to one of the resolved addresses failed; the next one is tried.
    TcpFailed {
        addr: SocketAddr,
        error: &'a TransportError,
        proxy: Option<&'a str>,
    },
    /// TCP connected to `addr`: the server itself, or the proxy that `proxy` names.
    TcpConnected {
        addr: SocketAddr,
        proxy: Option<&'a str>,
    },
    /// The proxy answered our CONNECT (2xx opens the tunnel; anything else fails the attempt).
    ProxyTunnel {
        proxy: &'a ProxyServer,
        status: u16,
        reason: &'a str,
    },
    /// TLS with the server is up and its certificate passed the trust policy (before the app's
    /// `gotPeerCertificate`). `chain` is the server's chain, leaf first, DER.
    TlsEstablished {
        version: Option<ProtocolVersion>,
        cipher_suite: Option<CipherSuite>,
        alpn: Option<&'a [u8]>,
        chain: &'a [CertificateDer<'static>],
    },
    /// The upgrade request went out; `masked` is its text with credentials masked.
    RequestSent { masked: &'a str },
    /// The server's answer head.
    ResponseReceived { response: &'a Response },
    /// The answer was a redirect, followed to `to`.
    Redirect { status: u16, to: &'a Address },
    /// A 401 with a Basic challenge (`challengeAuth`): retrying with the credentials.
    ChallengeRetry,
}

/// The LiteCore side of one socket, as the actor sees it. Implemented by the FFI layer over the
/// host table (and by fakes in tests).
pub trait LiteCoreSocket: Send + 'static {
    fn got_http_response(&mut self, status: i32, headers_fleece: &[u8]);
    fn opened(&mut self);
    fn close_requested(&mut self, status: i32, message: &[u8]);
    fn completed_write(&mut self, byte_count: usize);
    fn received(&mut self, data: &[u8]);
    /// The server's certificate (leaf, DER) after TLS validation, before anything is sent
    /// (`c4socket_gotPeerCertificate`); `false` refuses it.
    fn peer_certificate(&mut self, _der: &[u8], _host: &str) -> bool {
        true
    }
    /// The database's stored cookies for `address` (`c4db_getCookies`), when the factory carries
    /// a database.
    fn stored_cookies(&mut self, _address: &Address) -> Option<Vec<u8>> {
        None
    }
    /// Stores one `Set-Cookie` value received from `address` (`c4db_setCookie`), when the
    /// factory carries a database.
    fn store_cookie(
        &mut self,
        _set_cookie: &[u8],
        _address: &Address,
        _accept_parent_domain: bool,
    ) {
    }
    /// A step of the connect path (diagnostics only; LiteCore has no such callback).
    fn progress(&mut self, _event: Progress<'_>) {}
    /// Reports the end of the socket (`None` = clean close) and drops the transport's reference
    /// to it. Consumes `self`: nothing can reach the socket afterwards.
    fn closed(self: Box<Self>, error: Option<&TransportError>);
}

/// A message LiteCore handed to `write`; dropping it releases LiteCore's buffer.
pub trait WriteBuffer: AsRef<[u8]> + Send + 'static {}

/// Work a factory callback hands to the socket's task.
pub enum Command {
    Write(Box<dyn WriteBuffer>),
    CompletedReceive(usize),
    RequestClose {
        status: i32,
        message: String,
    },
    /// litecore-ws itself closes an open socket (a listener stopping): a Close frame with this
    /// code, the peer's answer awaited, then `closed` with `{WebSocket, code}`. Before the socket
    /// opened it acts like `Abort` with that error.
    GoAway {
        code: u16,
        reason: String,
    },
    /// Stop now with this error (library shutdown, refused calls).
    Abort(TransportError),
}

/// Test buffers: plain vectors.
#[cfg(test)]
impl WriteBuffer for Vec<u8> {}
