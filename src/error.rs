//! How a socket ends, in LiteCore's terms.
//!
//! Every failure becomes a [`TransportError`]: a C4Error domain, a code and a message. The codes
//! decide whether LiteCore's replicator retries (`C4Error::mayBeTransient` /
//! `mayBeNetworkDependent`), so the mapping here keeps each failure in the class LiteCore retries
//! it by (transient, network-dependent or permanent):
//! Network-domain codes are preferred over POSIX errno values, which differ across platforms.
//!
//! This module is the one table: I/O and DNS ([`TransportError::from_io`]), TLS
//! ([`TransportError::from_tls`]), WebSocket ([`TransportError::from_websocket`]) and HTTP
//! ([`TransportError::websocket`] with the status) and proxy
//! ([`TransportError::from_proxy_status`]) failures all map here.

use std::fmt;
use std::io;
use tokio_tungstenite::tungstenite;

/// `C4ErrorDomain` values used by a transport.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Domain {
    LiteCore = 1,
    Posix = 2,
    Network = 5,
    WebSocket = 6,
}

/// `C4NetworkErrorCode` (domain 5). 16–26 exist from LiteCore 3.0, 27 from 3.1.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(i32)]
pub enum NetworkCode {
    DnsFailure = 1,
    UnknownHost = 2,
    Timeout = 3,
    InvalidUrl = 4,
    TooManyRedirects = 5,
    TlsHandshakeFailed = 6,
    TlsCertExpired = 7,
    TlsCertUntrusted = 8,
    TlsCertRequiredByPeer = 9,
    TlsCertRejectedByPeer = 10,
    TlsCertUnknownRoot = 11,
    InvalidRedirect = 12,
    Unknown = 13,
    TlsCertRevoked = 14,
    TlsCertNameMismatch = 15,
    NetworkReset = 16,
    ConnectionAborted = 17,
    ConnectionReset = 18,
    ConnectionRefused = 19,
    NetworkDown = 20,
    NetworkUnreachable = 21,
    NotConnected = 22,
    HostDown = 23,
    HostUnreachable = 24,
    AddressNotAvailable = 25,
    BrokenPipe = 26,
    UnknownInterface = 27,
}

/// LiteCore-domain codes a transport reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(i32)]
pub enum LiteCoreCode {
    InvalidParameter = 9,
    /// A bug in litecore-ws (a panic caught in a socket's task).
    UnexpectedError = 10,
    Unsupported = 19,
}

/// WebSocket close codes (domain 6) that the transport itself produces.
pub mod close_code {
    pub const NORMAL: i32 = 1000;
    pub const GOING_AWAY: i32 = 1001;
    pub const PROTOCOL_ERROR: i32 = 1002;
    pub const NO_CODE: i32 = 1005;
    pub const ABNORMAL: i32 = 1006;
    pub const BAD_MESSAGE_FORMAT: i32 = 1007;
    pub const POLICY_ERROR: i32 = 1008;
    pub const MESSAGE_TOO_BIG: i32 = 1009;
    pub const CANT_FULFILL: i32 = 1011;
    /// LiteCore's "app-defined transient error": the peer may come back (LiteCore retries).
    pub const APP_TRANSIENT: i32 = 4001;
}

/// A server certificate refused by litecore-ws's trust policy (tls/verifier.rs): the code and a
/// message naming the certificate, carried through rustls as `CertificateError::Other`.
#[derive(Debug)]
pub struct CertRejection {
    pub code: NetworkCode,
    pub message: String,
}

impl fmt::Display for CertRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for CertRejection {}

/// Message prefixes for the client-certificate failures (also used when the kind is inferred from
/// the server's CertificateRequest, tls.rs).
pub const CLIENT_CERT_REQUIRED: &str =
    "the server requires a client certificate (auth.type \"Client Cert\"): ";
pub const CLIENT_CERT_REJECTED: &str = "the server refused our client certificate: ";

/// Where in the connection a failure happened; the same I/O error means different things
/// before and after the WebSocket opened (a reset while open is an abnormal close).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    Connect,
    Handshake,
    Open,
}

/// Why a socket ended: what `c4socket_closed` receives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TransportError {
    pub domain: Domain,
    pub code: i32,
    pub message: String,
}

impl TransportError {
    pub fn new(domain: Domain, code: i32, message: impl Into<String>) -> Self {
        TransportError {
            domain,
            code,
            message: message.into(),
        }
    }

    pub fn network(code: NetworkCode, message: impl Into<String>) -> Self {
        Self::new(Domain::Network, code as i32, message)
    }

    pub fn litecore(code: LiteCoreCode, message: impl Into<String>) -> Self {
        Self::new(Domain::LiteCore, code as i32, message)
    }

    pub fn invalid_parameter(message: impl Into<String>) -> Self {
        Self::litecore(LiteCoreCode::InvalidParameter, message)
    }

    /// A WebSocket close code or an HTTP status (300–599).
    pub fn websocket(code: i32, message: impl Into<String>) -> Self {
        Self::new(Domain::WebSocket, code, message)
    }

    /// Maps an OS-level I/O error. `what` says what was being done ("connect to 127.0.0.1:80").
    /// A TLS error carried inside it (an alert after the handshake, e.g. TLS 1.3's
    /// certificate_required, arrives on the first read) keeps its TLS code.
    pub fn from_io(err: &io::Error, stage: Stage, what: &str) -> Self {
        if let Some(tls) = err
            .get_ref()
            .and_then(|e| e.downcast_ref::<rustls::Error>())
        {
            let mut e = Self::from_tls(tls, "the server");
            e.message = format!("{what}: {}", e.message);
            return e;
        }
        let message = format!("{what}: {err}");
        let code = match io_network_code(err) {
            Some(code) => code,
            None => return Self::network(NetworkCode::Unknown, message),
        };
        // Once the WebSocket is open, losing TCP without a Close frame is an abnormal close
        // (1006, transient). A plain EPIPE/BrokenPipe would not be retried by LiteCore.
        if stage == Stage::Open
            && matches!(
                code,
                NetworkCode::ConnectionReset
                    | NetworkCode::BrokenPipe
                    | NetworkCode::ConnectionAborted
                    | NetworkCode::NotConnected
            )
        {
            return Self::websocket(close_code::ABNORMAL, message);
        }
        Self::network(code, message)
    }

    /// Maps a TLS failure to the Network code LiteCore expects for its kind.
    pub fn from_tls(e: &rustls::Error, host: &str) -> Self {
        use rustls::{AlertDescription as A, CertificateError as C, Error as E};
        if let E::InvalidCertificate(C::Other(other)) = e {
            if let Some(r) = other.0.downcast_ref::<CertRejection>() {
                return Self::network(r.code, format!("TLS handshake with {host}: {}", r.message));
            }
        }
        let code = match e {
            E::InvalidCertificate(c) => match c {
                C::Expired | C::ExpiredContext { .. } => NetworkCode::TlsCertExpired,
                C::NotValidYet | C::NotValidYetContext { .. } => NetworkCode::TlsCertUntrusted,
                C::UnknownIssuer => NetworkCode::TlsCertUnknownRoot,
                C::NotValidForName | C::NotValidForNameContext { .. } => {
                    NetworkCode::TlsCertNameMismatch
                }
                C::Revoked => NetworkCode::TlsCertRevoked,
                _ => NetworkCode::TlsCertUntrusted,
            },
            E::AlertReceived(A::CertificateRequired) => NetworkCode::TlsCertRequiredByPeer,
            // AccessDenied: a certificate the peer could verify but whose holder it refuses (what
            // rustls sends when the application's verifier says no).
            E::AlertReceived(
                A::BadCertificate
                | A::UnknownCA
                | A::CertificateUnknown
                | A::UnsupportedCertificate
                | A::CertificateRevoked
                | A::CertificateExpired
                | A::AccessDenied,
            ) => NetworkCode::TlsCertRejectedByPeer,
            _ => NetworkCode::TlsHandshakeFailed,
        };
        let why = match code {
            NetworkCode::TlsCertRequiredByPeer => CLIENT_CERT_REQUIRED,
            NetworkCode::TlsCertRejectedByPeer => CLIENT_CERT_REJECTED,
            _ => "",
        };
        Self::network(code, format!("TLS handshake with {host}: {why}{e}"))
    }

    /// Maps a proxy's non-2xx answer to `CONNECT`. `proxy` names it ("HTTP proxy p:3128"),
    /// `target` is the `host:port` asked for, `sent_credentials` whether `Proxy-Authorization`
    /// went with the request. The proxy is not the server: these end the attempt before the
    /// upgrade, without `gotHTTPResponse`.
    ///
    /// | proxy answer | C4Error | why |
    /// |---|---|---|
    /// | 407, or 401 (tinyproxy's answer to a wrong password) | `{WebSocket, 407}` | as LiteCore's built-in; permanent |
    /// | 403 (e.g. port not allowed by the proxy) | `{WebSocket, 403}` | permanent: configuration |
    /// | 408, 429, 502, 503, 504 | `{WebSocket, same}` | transient: LiteCore retries |
    /// | other 5xx (tinyproxy: 500 "Unable to connect" when the server is down) | `{WebSocket, 502}` | the proxy's gateway failure, transient like one |
    /// | 1xx, 3xx, other 4xx | `{WebSocket, 1002}` for 1xx, else `{WebSocket, same}` | permanent |
    pub fn from_proxy_status(
        status: u16,
        reason: &str,
        proxy: &str,
        target: &str,
        sent_credentials: bool,
    ) -> Self {
        let answer = if reason.is_empty() {
            format!("HTTP {status}")
        } else {
            format!("HTTP {status} {reason}")
        };
        match status {
            401 | 407 if sent_credentials => Self::websocket(
                407,
                format!("proxy authentication failed: {proxy} refused the proxy credentials ({answer})"),
            ),
            401 | 407 => Self::websocket(
                407,
                format!("proxy authentication required: {proxy} asks for credentials and none are configured ({answer})"),
            ),
            403 => Self::websocket(
                403,
                format!("{proxy} refused a tunnel to {target} ({answer}); does the proxy allow that port?"),
            ),
            408 | 429 | 502 | 503 | 504 => Self::websocket(
                status as i32,
                format!("{proxy} could not open a tunnel to {target} ({answer})"),
            ),
            500..=599 => Self::websocket(
                502,
                format!("{proxy} could not open a tunnel to {target} ({answer}; reported as 502)"),
            ),
            100..=199 => Self::websocket(
                close_code::PROTOCOL_ERROR,
                format!("{proxy} answered CONNECT with {answer}"),
            ),
            _ => Self::websocket(
                status as i32,
                format!("{proxy} refused a tunnel to {target} ({answer})"),
            ),
        }
    }

    /// Maps a WebSocket-layer failure while the socket is open.
    pub fn from_websocket(e: &tungstenite::Error, what: &str) -> Self {
        use tungstenite::error::{CapacityError, ProtocolError};
        use tungstenite::Error as E;
        match e {
            E::Io(io) => Self::from_io(io, Stage::Open, what),
            E::ConnectionClosed | E::AlreadyClosed => Self::websocket(
                close_code::ABNORMAL,
                "the connection closed without a Close frame",
            ),
            E::Protocol(ProtocolError::ResetWithoutClosingHandshake) => Self::websocket(
                close_code::ABNORMAL,
                "the connection was reset without a Close frame",
            ),
            E::Capacity(CapacityError::MessageTooLong { size, max_size }) => Self::websocket(
                close_code::MESSAGE_TOO_BIG,
                format!("received a message of {size} bytes; the limit is {max_size}"),
            ),
            E::Utf8(_) => Self::websocket(
                close_code::BAD_MESSAGE_FORMAT,
                "received a text message that is not UTF-8",
            ),
            E::Protocol(p) => Self::websocket(
                close_code::PROTOCOL_ERROR,
                format!("WebSocket protocol error: {p}"),
            ),
            other => Self::websocket(
                close_code::PROTOCOL_ERROR,
                format!("WebSocket error: {other}"),
            ),
        }
    }
}

/// The Network-domain code for an I/O error, by kind and then by errno.
fn io_network_code(err: &io::Error) -> Option<NetworkCode> {
    use io::ErrorKind as K;
    let by_kind = match err.kind() {
        K::ConnectionRefused => Some(NetworkCode::ConnectionRefused),
        K::ConnectionReset => Some(NetworkCode::ConnectionReset),
        K::ConnectionAborted => Some(NetworkCode::ConnectionAborted),
        K::TimedOut => Some(NetworkCode::Timeout),
        K::NotConnected => Some(NetworkCode::NotConnected),
        K::AddrNotAvailable => Some(NetworkCode::AddressNotAvailable),
        K::BrokenPipe => Some(NetworkCode::BrokenPipe),
        K::UnexpectedEof => Some(NetworkCode::ConnectionReset),
        K::NetworkUnreachable => Some(NetworkCode::NetworkUnreachable),
        K::HostUnreachable => Some(NetworkCode::HostUnreachable),
        K::NetworkDown => Some(NetworkCode::NetworkDown),
        _ => None,
    };
    by_kind.or_else(|| match err.raw_os_error()? {
        libc::ENETRESET => Some(NetworkCode::NetworkReset),
        libc::EHOSTDOWN => Some(NetworkCode::HostDown),
        libc::EHOSTUNREACH => Some(NetworkCode::HostUnreachable),
        libc::ENETUNREACH => Some(NetworkCode::NetworkUnreachable),
        libc::ENETDOWN => Some(NetworkCode::NetworkDown),
        libc::ENODEV => Some(NetworkCode::UnknownInterface),
        _ => None,
    })
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{{{:?}, {}}} {}", self.domain, self.code, self.message)
    }
}

impl std::error::Error for TransportError {}

#[cfg(test)]
mod tests {
    use super::*;

    fn io(kind: io::ErrorKind) -> io::Error {
        io::Error::new(kind, "x")
    }

    #[test]
    fn io_errors_during_connect_keep_network_codes() {
        let rows = [
            (io::ErrorKind::ConnectionRefused, 19),
            (io::ErrorKind::ConnectionReset, 18),
            (io::ErrorKind::ConnectionAborted, 17),
            (io::ErrorKind::TimedOut, 3),
            (io::ErrorKind::NotConnected, 22),
            (io::ErrorKind::AddrNotAvailable, 25),
            (io::ErrorKind::BrokenPipe, 26),
            (io::ErrorKind::NetworkUnreachable, 21),
            (io::ErrorKind::HostUnreachable, 24),
            (io::ErrorKind::NetworkDown, 20),
        ];
        for (kind, code) in rows {
            let e = TransportError::from_io(&io(kind), Stage::Connect, "connect");
            assert_eq!((e.domain, e.code), (Domain::Network, code), "{kind:?}");
        }
    }

    #[test]
    fn errno_fallbacks() {
        let rows = [
            (libc::ENETRESET, 16),
            (libc::EHOSTDOWN, 23),
            (libc::ENODEV, 27),
            (libc::ECONNREFUSED, 19),
        ];
        for (errno, code) in rows {
            let e =
                TransportError::from_io(&io::Error::from_raw_os_error(errno), Stage::Connect, "c");
            assert_eq!((e.domain, e.code), (Domain::Network, code), "errno {errno}");
        }
    }

    #[test]
    fn lost_connection_while_open_is_abnormal_close() {
        for kind in [
            io::ErrorKind::ConnectionReset,
            io::ErrorKind::BrokenPipe,
            io::ErrorKind::ConnectionAborted,
        ] {
            let e = TransportError::from_io(&io(kind), Stage::Open, "read");
            assert_eq!((e.domain, e.code), (Domain::WebSocket, 1006), "{kind:?}");
        }
        // A timeout stays a timeout.
        let e = TransportError::from_io(&io(io::ErrorKind::TimedOut), Stage::Open, "read");
        assert_eq!((e.domain, e.code), (Domain::Network, 3));
    }

    #[test]
    fn tls_errors_map_to_their_own_codes() {
        use rustls::{AlertDescription as A, CertificateError as C, Error as E};
        let rows = [
            (E::InvalidCertificate(C::Expired), 7),
            (E::InvalidCertificate(C::NotValidYet), 8),
            (E::InvalidCertificate(C::UnknownIssuer), 11),
            (E::InvalidCertificate(C::NotValidForName), 15),
            (E::InvalidCertificate(C::Revoked), 14),
            (E::InvalidCertificate(C::BadSignature), 8),
            (E::AlertReceived(A::CertificateRequired), 9),
            (E::AlertReceived(A::BadCertificate), 10),
            (E::AlertReceived(A::UnknownCA), 10),
            (E::AlertReceived(A::AccessDenied), 10),
            (E::AlertReceived(A::HandshakeFailure), 6),
            (E::HandshakeNotComplete, 6),
        ];
        for (err, code) in rows {
            let t = TransportError::from_tls(&err, "h");
            assert_eq!((t.domain, t.code), (Domain::Network, code), "{err:?}");
            assert!(t.message.contains("TLS handshake with h"));
        }
    }

    #[test]
    fn websocket_errors_map_to_close_codes() {
        use tungstenite::error::{CapacityError, ProtocolError};
        use tungstenite::Error as E;
        let rows: Vec<(E, Domain, i32)> = vec![
            (E::ConnectionClosed, Domain::WebSocket, 1006),
            (E::AlreadyClosed, Domain::WebSocket, 1006),
            (
                E::Protocol(ProtocolError::ResetWithoutClosingHandshake),
                Domain::WebSocket,
                1006,
            ),
            (
                E::Protocol(ProtocolError::InvalidOpcode(15)),
                Domain::WebSocket,
                1002,
            ),
            (
                E::Protocol(ProtocolError::NonZeroReservedBits),
                Domain::WebSocket,
                1002,
            ),
            (
                E::Capacity(CapacityError::MessageTooLong {
                    size: 2,
                    max_size: 1,
                }),
                Domain::WebSocket,
                1009,
            ),
            (E::Utf8("invalid UTF-8".into()), Domain::WebSocket, 1007),
            (
                E::Io(io(io::ErrorKind::ConnectionReset)),
                Domain::WebSocket,
                1006,
            ),
            (E::Io(io(io::ErrorKind::TimedOut)), Domain::Network, 3),
        ];
        for (err, domain, code) in rows {
            let t = TransportError::from_websocket(&err, "read");
            assert_eq!((t.domain, t.code), (domain, code), "{err:?}");
        }
    }

    #[test]
    fn proxy_answers_map_to_websocket_codes() {
        let rows: &[(u16, bool, i32, &str)] = &[
            (407, false, 407, "proxy authentication required"),
            (407, true, 407, "proxy authentication failed"),
            (401, true, 407, "proxy authentication failed"),
            (401, false, 407, "proxy authentication required"),
            (403, true, 403, "does the proxy allow that port"),
            (408, false, 408, "could not open a tunnel"),
            (429, false, 429, "could not open a tunnel"),
            (502, false, 502, "could not open a tunnel"),
            (503, false, 503, "could not open a tunnel"),
            (504, false, 504, "could not open a tunnel"),
            (500, false, 502, "reported as 502"),
            (505, false, 502, "reported as 502"),
            (400, false, 400, "refused a tunnel"),
            (405, false, 405, "refused a tunnel"),
            (301, false, 301, "refused a tunnel"),
            (100, false, 1002, "answered CONNECT"),
        ];
        for (status, sent, code, text) in rows {
            let e = TransportError::from_proxy_status(
                *status,
                "Why",
                "HTTP proxy p:1",
                "sg:4984",
                *sent,
            );
            assert_eq!((e.domain, e.code), (Domain::WebSocket, *code), "{status}");
            assert!(e.message.contains(text), "{status}: {}", e.message);
            assert!(
                e.message.contains("HTTP proxy p:1"),
                "{status}: {}",
                e.message
            );
        }
    }

    #[test]
    fn unknown_io_errors_are_network_unknown_with_message() {
        let e =
            TransportError::from_io(&io(io::ErrorKind::Other), Stage::Connect, "connect to h:1");
        assert_eq!((e.domain, e.code), (Domain::Network, 13));
        assert!(e.message.starts_with("connect to h:1: "));
    }
}
