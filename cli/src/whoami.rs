//! After a successful upgrade: who did SG take the credentials for? `GET /{db}/_session` with the
//! same credentials tells a user from a guest. Made of the library's pieces: its connect
//! (`proxy::connect`: the same proxy choice, DNS, TCP and `networkInterface`), its TLS
//! configuration and handshake, its request builder (the upgrade request's credential and
//! cookie headers, without the WebSocket ones) and its response reader.

use litecore_ws::internals::request::{build_request, Attempt, UpgradeRequest};
use litecore_ws::internals::response::{read_error_body, read_response};
use litecore_ws::internals::{
    proxy, tls_client_config, tls_handshake, Address, Options, Stream, TransportError,
};
use serde_json::Value;
use std::time::Duration;
use tokio::io::AsyncWriteExt;

/// What `GET /{db}/_session` said about who the credentials are.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WhoAmI {
    User(String),
    Guest,
    /// The follow-up failed or was not understood: why.
    Unknown(String),
}

/// Asks the server at `target` (where the upgrade succeeded) who the credentials belong to.
/// `original` is the replicator's URL: credentials go only to its origin, as in the upgrade;
/// `hold_credentials` when the upgrade succeeded without sending them (`challengeAuth` and no
/// challenge).
pub async fn ask(
    target: &Address,
    original: &Address,
    options: &Options,
    hold_credentials: bool,
) -> WhoAmI {
    match fetch(target, original, options, hold_credentials).await {
        Ok(w) => w,
        Err(e) => WhoAmI::Unknown(e.message),
    }
}

async fn fetch(
    target: &Address,
    original: &Address,
    options: &Options,
    hold_credentials: bool,
) -> Result<WhoAmI, TransportError> {
    let db = database_name(target);
    let address = Address {
        path: format!("/{db}/_session"),
        ..target.clone()
    };
    let session_options = Options {
        ws_protocols: Vec::new(),
        ..options.clone()
    };
    let attempt = Attempt {
        same_origin: target.same_origin(original),
        hold_credentials,
        stored_cookies: None,
    };
    let request = build_request(&address, &session_options, "unused", &attempt)?;
    let (stream, _route) = proxy::connect(1, &address, options, &mut |_| {}).await?;
    let mut stream = if address.is_tls() {
        let config = tls_client_config(options)?;
        Stream::Tls(Box::new(
            tls_handshake(stream, &address.host, config).await?,
        ))
    } else {
        stream
    };
    stream
        .write_all(&plain_get(&request))
        .await
        .map_err(|e| TransportError::websocket(1006, format!("sending GET: {e}")))?;
    let (response, mut body) = read_response(&mut stream).await?;
    if response.status != 200 {
        return Ok(WhoAmI::Unknown(format!(
            "GET /{db}/_session answered HTTP {}",
            response.status
        )));
    }
    read_error_body(&mut stream, &response, &mut body, Duration::from_secs(2)).await;
    Ok(session_user(&body))
}

/// The user named by a `_session` answer: `userCtx.name` (null = guest).
pub fn session_user(body: &[u8]) -> WhoAmI {
    let Ok(v) = serde_json::from_slice::<Value>(body) else {
        return WhoAmI::Unknown("the _session answer is not JSON".into());
    };
    match v.pointer("/userCtx/name") {
        Some(Value::String(name)) if !name.is_empty() => WhoAmI::User(name.clone()),
        Some(Value::Null) | Some(Value::String(_)) => WhoAmI::Guest,
        _ => WhoAmI::Unknown("the _session answer has no userCtx.name".into()),
    }
}

/// The upgrade request turned into a plain `GET`: the same request line and credential headers,
/// without the WebSocket headers, with `Connection: close`.
fn plain_get(request: &UpgradeRequest) -> Vec<u8> {
    let mut out = Vec::new();
    for line in request.bytes.split(|&b| b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            continue;
        }
        let name = line
            .split(|&b| b == b':')
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase();
        if name.starts_with(b"sec-websocket-") || name == b"connection" || name == b"upgrade" {
            continue;
        }
        out.extend_from_slice(line);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"Connection: close\r\n\r\n");
    out
}

/// The database name: the path's first segment (`/db/_blipsync` → `db`).
pub fn database_name(address: &Address) -> String {
    address
        .path
        .trim_start_matches('/')
        .split(['/', '?'])
        .next()
        .unwrap_or("")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helpers() {
        assert_eq!(
            session_user(br#"{"ok":true,"userCtx":{"channels":{},"name":"bob"}}"#),
            WhoAmI::User("bob".into())
        );
        assert_eq!(session_user(br#"{"userCtx":{"name":null}}"#), WhoAmI::Guest);
        assert!(matches!(session_user(b"<html>"), WhoAmI::Unknown(_)));
        let a = crate::args::parse_check_url("ws://h:1/my-db").unwrap();
        assert_eq!(database_name(&a), "my-db");
        let req = UpgradeRequest {
            bytes: b"GET /db/_session HTTP/1.1\r\nHost: h\r\nAuthorization: Basic eA==\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: k\r\n\r\n".to_vec(),
            key: "k".into(),
            protocols: vec![],
            masked: String::new(),
        };
        assert_eq!(
            plain_get(&req),
            b"GET /db/_session HTTP/1.1\r\nHost: h\r\nAuthorization: Basic eA==\r\nConnection: close\r\n\r\n".to_vec()
        );
    }
}
