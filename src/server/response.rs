//! What the listener answers: `101 Switching Protocols` with `Sec-WebSocket-Accept` and the one
//! chosen subprotocol, or a refusal with a JSON body shaped like Sync Gateway's
//! (`{"error":"Unauthorized","reason":"Login required"}`), whose `reason` LiteCore clients report.

use super::request::Refusal;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;

/// The status line's reason phrase for the statuses the listener uses.
fn reason_phrase(status: u16) -> &'static str {
    match status {
        101 => "Switching Protocols",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        426 => "Upgrade Required",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Error",
    }
}

/// The 101 answer for a client's `Sec-WebSocket-Key`, with the chosen subprotocol.
pub fn switching_protocols(key: &str, protocol: &str, server: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Accept: {}\r\nSec-WebSocket-Protocol: {protocol}\r\nServer: {server}\r\n\r\n",
        derive_accept_key(key.as_bytes())
    )
    .into_bytes()
}

/// A refusal: status line, the refusal's headers, a JSON body, and `Connection: close` (the
/// listener closes after answering).
pub fn refusal(refusal: &Refusal, server: &str) -> Vec<u8> {
    let phrase = reason_phrase(refusal.status);
    let body = format!(
        "{{\"error\":{},\"reason\":{}}}",
        json_string(phrase),
        json_string(&refusal.reason)
    );
    let mut out = format!("HTTP/1.1 {} {phrase}\r\n", refusal.status);
    for (name, value) in &refusal.headers {
        out.push_str(&format!("{name}: {}\r\n", one_line(value)));
    }
    out.push_str(&format!(
        "Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\nServer: {server}\r\n\r\n{body}",
        body.len()
    ));
    out.into_bytes()
}

/// A header value on one line (a reason may quote what a client sent).
fn one_line(value: &str) -> String {
    value.replace(['\r', '\n', '\0'], " ")
}

/// A JSON string literal.
fn json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::response::{failure_message, read_response};

    #[test]
    fn accept_key_is_rfc_6455s() {
        let r = String::from_utf8(switching_protocols(
            "dGhlIHNhbXBsZSBub25jZQ==",
            "BLIP_3+CBMobile_3",
            "x",
        ))
        .unwrap();
        assert!(
            r.contains("\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"),
            "{r}"
        );
        assert!(r.contains("\r\nSec-WebSocket-Protocol: BLIP_3+CBMobile_3\r\n"));
    }

    #[tokio::test]
    async fn refusals_read_back_as_litecore_would() {
        // The client side of this crate reads what the server side writes: status, headers and
        // the JSON reason, quotes and line breaks included.
        let r = Refusal::new(401, "Login required for \"db\"\nplease")
            .with_header("WWW-Authenticate", "Basic realm=\"litecore-ws\"");
        let bytes = refusal(&r, "litecore-ws/0");
        let mut input: &[u8] = &bytes;
        let (response, body) = read_response(&mut input).await.unwrap();
        assert_eq!(response.status, 401);
        assert_eq!(
            response.header("www-authenticate"),
            Some(&b"Basic realm=\"litecore-ws\""[..])
        );
        assert_eq!(
            failure_message(&response, &body),
            "Login required for \"db\"\nplease"
        );
    }
}
