//! The LiteCore side of a socket, as litecore-ws's code sees it: the calls it makes into
//! LiteCore ([`LiteCoreSocket`], implemented over the host table by `ffi::host` and by
//! recorders in tests and the `check` command) and the work LiteCore's factory callbacks hand to
//! a socket's task ([`Command`]).

use crate::address::Address;
use crate::error::TransportError;

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
