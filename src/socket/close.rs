//! Close codes: what goes into a Close frame for LiteCore's `requestClose` status, and what
//! `closed` reports when LiteCore asks to close before the socket opened.

use crate::error::{close_code, NetworkCode, TransportError};

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
pub fn close_reason(message: &str) -> String {
    let mut end = message.len().min(123);
    while !message.is_char_boundary(end) {
        end -= 1;
    }
    message[..end].to_string()
}

/// The result `closed` reports when LiteCore's `requestClose` arrives before the socket opened.
/// A normal stop (1000/1001) is a clean close; LiteCore's connect timeout (504) is a Network
/// timeout; anything else is passed on in the WebSocket domain.
pub fn close_before_open(status: i32, message: &str) -> Result<(), TransportError> {
    match status {
        close_code::NORMAL | close_code::GOING_AWAY => Ok(()),
        504 => Err(TransportError::network(
            NetworkCode::Timeout,
            if message.is_empty() {
                "connect timed out"
            } else {
                message
            },
        )),
        _ => Err(TransportError::websocket(
            status,
            if message.is_empty() {
                "closed before the connection opened".to_string()
            } else {
                message.to_string()
            },
        )),
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
    fn close_reasons_fit_a_control_frame() {
        let long = "é".repeat(100);
        let r = close_reason(&long);
        assert!(r.len() <= 123 && long.starts_with(&r));
    }

    #[test]
    fn close_before_open_mapping() {
        assert_eq!(close_before_open(1000, ""), Ok(()));
        assert_eq!(close_before_open(1001, "bye"), Ok(()));
        let e = close_before_open(504, "Timed out").unwrap_err();
        assert_eq!(
            (e.domain, e.code, e.message.as_str()),
            (crate::error::Domain::Network, 3, "Timed out")
        );
        let e = close_before_open(4002, "").unwrap_err();
        assert_eq!((e.domain, e.code), (crate::error::Domain::WebSocket, 4002));
    }
}
