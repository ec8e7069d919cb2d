//! Where a socket connects to, or where an incoming one came from: a copy of LiteCore's
//! `C4Address` (scheme `ws`/`wss`, host without IPv6 brackets, port, request path).

use crate::error::{NetworkCode, TransportError};

/// A copy of LiteCore's `C4Address`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Address {
    pub scheme: String,
    pub host: String,
    pub port: u16,
    pub path: String,
}

impl Address {
    pub fn is_tls(&self) -> bool {
        self.scheme.eq_ignore_ascii_case("wss")
    }

    /// Same scheme, host and port: where credentials may go.
    pub fn same_origin(&self, other: &Address) -> bool {
        self.is_tls() == other.is_tls()
            && self.host.eq_ignore_ascii_case(&other.host)
            && self.port == other.port
    }

    /// Checks what LiteCore guarantees, so a binding that passes garbage gets a clear error.
    pub fn validate(&self) -> Result<(), TransportError> {
        let bad = |what: &str| TransportError::network(NetworkCode::InvalidUrl, what.to_string());
        if !self.scheme.eq_ignore_ascii_case("ws") && !self.scheme.eq_ignore_ascii_case("wss") {
            return Err(bad(&format!(
                "unsupported URL scheme {:?} (expected ws or wss)",
                self.scheme
            )));
        }
        if self.host.is_empty() {
            return Err(bad("the address has no host name"));
        }
        if self
            .host
            .bytes()
            .any(|b| b <= b' ' || b == b'/' || b == 0x7f)
        {
            return Err(bad(&format!("invalid host name {:?}", self.host)));
        }
        if self.port == 0 {
            return Err(bad("the address has port 0"));
        }
        if !self.path.starts_with('/') || self.path.bytes().any(|b| b <= b' ' || b == 0x7f) {
            return Err(bad(&format!("invalid request path {:?}", self.path)));
        }
        Ok(())
    }
}

/// An SG replication address for unit tests: `scheme://host:port/db/_blipsync`.
#[cfg(test)]
pub(crate) fn test_address(scheme: &str, host: &str, port: u16) -> Address {
    Address {
        scheme: scheme.into(),
        host: host.into(),
        port,
        path: "/db/_blipsync".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(scheme: &str, host: &str, port: u16, path: &str) -> Address {
        Address {
            scheme: scheme.into(),
            host: host.into(),
            port,
            path: path.into(),
        }
    }

    #[test]
    fn address_validation() {
        assert!(addr("ws", "localhost", 4984, "/db/_blipsync")
            .validate()
            .is_ok());
        assert!(addr("WSS", "::1", 443, "/db/_blipsync?x=1")
            .validate()
            .is_ok());
        for bad in [
            addr("http", "h", 80, "/"),
            addr("ws", "", 80, "/"),
            addr("ws", "h h", 80, "/"),
            addr("ws", "h", 0, "/"),
            addr("ws", "h", 80, "db"),
            addr("ws", "h", 80, "/a\r\nX: y"),
        ] {
            let e = bad.validate().unwrap_err();
            assert_eq!(e.code, NetworkCode::InvalidUrl as i32, "{bad:?}");
        }
    }
}
