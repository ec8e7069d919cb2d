//! The client role: a socket LiteCore opened to reach Sync Gateway or a peer.
//!
//! [`run`] is the socket's work: DNS and TCP ([`tcp`]), directly or through a proxy ([`proxy`]),
//! TLS for wss (`tls::client`), the HTTP upgrade ([`request`], [`response`]) with
//! authentication, cookies ([`cookies`]) and redirects ([`redirect`]), `gotHTTPResponse`, then
//! `opened` and the open socket's [`Session`]. A `requestClose` while connecting aborts the
//! attempt at once.

pub mod cookies;
pub mod proxy;
pub mod redirect;
pub mod request;
pub mod response;
pub mod tcp;

use crate::address::Address;
use crate::error::{NetworkCode, Stage, TransportError};
use crate::litecore::{Command, LiteCoreSocket, Progress};
use crate::options::{AuthType, Options};
use crate::socket::close::close_before_open;
use crate::socket::session::{self, Session, Settings};
use crate::stream::Stream;
use crate::{lcws_log, log::Level, socket, tls};
use std::time::{Duration, Instant};
use tokio::io::AsyncWriteExt;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::handshake::client::generate_key;
use tokio_tungstenite::tungstenite::protocol::Role;
use tokio_tungstenite::WebSocketStream;

/// LiteCore's own connect timeout; the transport gives up at the same moment.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);

/// Most redirects followed (LiteCore's built-in transport stops after 10 too).
pub const MAX_REDIRECTS: usize = 10;

/// The socket's work in the client role: connect, open, run; returns what `closed` reports.
pub async fn run(
    id: u64,
    host: &mut dyn LiteCoreSocket,
    address: Address,
    options: Options,
    commands: &mut mpsc::UnboundedReceiver<Command>,
) -> Option<TransportError> {
    let started = Instant::now();
    lcws_log!(
        Level::Info,
        Some(id),
        "connecting to {}://{}:{}{}",
        address.scheme,
        address.host,
        address.port,
        address.path
    );
    let ws = match connect_phase(id, host, &address, &options, commands).await {
        Err(e) => return Some(e),
        Ok(None) => return None,
        Ok(Some(ws)) => ws,
    };
    lcws_log!(
        Level::Info,
        Some(id),
        "opened after {:?}",
        started.elapsed()
    );
    host.opened();
    socket::test_panic_hook(id, "open");
    let settings = Settings {
        heartbeat: options.heartbeat(),
        mirror_message_types: options.mirror_message_types,
    };
    Session::new(id, host, ws, settings).run(commands).await
}

/// Connects and upgrades, while watching the command queue so that `requestClose` aborts the
/// attempt at once. `Ok(None)`: LiteCore asked to close cleanly before the connection opened.
async fn connect_phase(
    id: u64,
    host: &mut dyn LiteCoreSocket,
    address: &Address,
    options: &Options,
    commands: &mut mpsc::UnboundedReceiver<Command>,
) -> Result<Option<WebSocketStream<Stream>>, TransportError> {
    let establish = tokio::time::timeout(CONNECT_TIMEOUT, establish(id, host, address, options));
    tokio::pin!(establish);
    loop {
        tokio::select! {
            result = &mut establish => {
                return match result {
                    Ok(r) => r.map(Some),
                    Err(_) => Err(TransportError::network(
                        NetworkCode::Timeout,
                        format!("connecting to {}:{} timed out after {CONNECT_TIMEOUT:?}", address.host, address.port),
                    )),
                };
            }
            command = commands.recv() => match command {
                Some(Command::RequestClose { status, message }) => {
                    lcws_log!(Level::Info, Some(id), "close requested ({status}) while connecting: aborting");
                    return close_before_open(status, &message).map(|()| None);
                }
                Some(Command::GoAway { code, reason }) => {
                    return Err(TransportError::websocket(i32::from(code), reason));
                }
                Some(Command::Abort(e)) => return Err(e),
                Some(Command::Write(_)) => {
                    lcws_log!(Level::Warning, Some(id), "write before the socket opened: dropped");
                }
                Some(Command::CompletedReceive(_)) => {}
                // Every sender is gone: the handle was disposed. Nobody is listening any more.
                None => return Err(TransportError::network(NetworkCode::ConnectionAborted, "socket disposed while connecting")),
            }
        }
    }
}

/// DNS, TCP, TLS (wss), the HTTP upgrade and `gotHTTPResponse`, including one Basic challenge
/// round trip (`challengeAuth`) and up to [`MAX_REDIRECTS`] redirects. `gotHTTPResponse` is called
/// once, with the answer that ended the attempts.
async fn establish(
    id: u64,
    host: &mut dyn LiteCoreSocket,
    address: &Address,
    options: &Options,
) -> Result<WebSocketStream<Stream>, TransportError> {
    let challenge_auth = options.auth.as_ref().is_some_and(|a| {
        a.challenge_auth
            && a.kind == AuthType::Basic
            && a.username.is_some()
            && a.password.is_some()
    });
    let mut hold_credentials = challenge_auth;
    let mut target = address.clone();
    let mut redirects = 0;
    // Server certificates the app already accepted (gotPeerCertificate): a challenge retry or a
    // redirect to the same server asks again only for a certificate it has not seen.
    let mut accepted_certs: Vec<Vec<u8>> = Vec::new();
    loop {
        let attempt = request::Attempt {
            same_origin: target.same_origin(address),
            hold_credentials,
            stored_cookies: host.stored_cookies(&target),
        };
        let request = request::build_request(&target, options, &generate_key(), &attempt)?;
        let (mut stream, response, mut rest) =
            exchange(id, host, &mut accepted_certs, &target, options, &request).await?;
        for (name, value) in &response.headers {
            if name.eq_ignore_ascii_case("set-cookie") {
                host.store_cookie(value, &target, options.accept_parent_domain_cookies);
            }
        }
        match response.status {
            101 => {
                host.got_http_response(101, &response.headers_fleece());
                response::validate_upgrade(&request, &response)?;
                return Ok(WebSocketStream::from_partially_read(
                    stream,
                    rest,
                    Role::Client,
                    Some(session::websocket_config()),
                )
                .await);
            }
            401 if hold_credentials && response::asks_for_basic(&response) => {
                lcws_log!(
                    Level::Info,
                    Some(id),
                    "401 with a Basic challenge: retrying with credentials"
                );
                host.progress(Progress::ChallengeRetry);
                hold_credentials = false;
                continue;
            }
            301 | 302 | 303 | 307 | 308 => {
                let next = match redirect::target(&target, &response) {
                    Ok(next) if redirects < MAX_REDIRECTS => next,
                    Ok(_) => {
                        host.got_http_response(response.status as i32, &response.headers_fleece());
                        return Err(TransportError::network(
                            NetworkCode::TooManyRedirects,
                            format!("more than {MAX_REDIRECTS} redirects"),
                        ));
                    }
                    Err(e) => {
                        host.got_http_response(response.status as i32, &response.headers_fleece());
                        return Err(e);
                    }
                };
                redirects += 1;
                lcws_log!(
                    Level::Info,
                    Some(id),
                    "HTTP {} redirect to {}://{}:{}{}",
                    response.status,
                    next.scheme,
                    next.host,
                    next.port,
                    next.path
                );
                host.progress(Progress::Redirect {
                    status: response.status,
                    to: &next,
                });
                target = next;
                continue;
            }
            status => {
                response::read_error_body(
                    &mut stream,
                    &response,
                    &mut rest,
                    Duration::from_secs(2),
                )
                .await;
                host.got_http_response(status as i32, &response.headers_fleece());
                return Err(response::upgrade_refused(&response, &rest));
            }
        }
    }
}

/// One HTTP exchange: connect (directly or through a proxy: [`proxy::connect`]), TLS for wss,
/// send the request, read the response head.
async fn exchange(
    id: u64,
    host: &mut dyn LiteCoreSocket,
    accepted_certs: &mut Vec<Vec<u8>>,
    target: &Address,
    options: &Options,
    request: &request::UpgradeRequest,
) -> Result<(Stream, response::Response, Vec<u8>), TransportError> {
    let tls_config = if target.is_tls() {
        Some(tls::client::config(options)?)
    } else {
        None
    };
    let (stream, route) = proxy::connect(id, target, options, &mut |p| host.progress(p)).await?;
    lcws_log!(Level::Verbose, Some(id), "connected {route}");
    let mut stream = match tls_config {
        Some(config) => {
            if options.accept_all_certs {
                lcws_log!(
                    Level::Warning,
                    Some(id),
                    "acceptAllCerts: the certificate of {} is NOT validated; anyone on the path can read and change this replication",
                    target.host
                );
            }
            let tls = tls::client::handshake(stream, &target.host, config).await?;
            let (_, session) = tls.get_ref();
            lcws_log!(
                Level::Verbose,
                Some(id),
                "TLS {:?}, {:?}",
                session.protocol_version(),
                session.negotiated_cipher_suite().map(|c| c.suite())
            );
            host.progress(Progress::TlsEstablished {
                version: session.protocol_version(),
                cipher_suite: session.negotiated_cipher_suite().map(|c| c.suite()),
                alpn: session.alpn_protocol(),
                chain: session.peer_certificates().unwrap_or_default(),
            });
            let leaf = session.peer_certificates().and_then(|c| c.first());
            if let Some(leaf) = leaf.filter(|l| !accepted_certs.iter().any(|a| a == l.as_ref())) {
                if !host.peer_certificate(leaf.as_ref(), &target.host) {
                    return Err(TransportError::network(
                        NetworkCode::TlsCertUntrusted,
                        format!("the app refused the certificate of {}", target.host),
                    ));
                }
                accepted_certs.push(leaf.as_ref().to_vec());
            }
            Stream::Tls(Box::new(tls))
        }
        None => stream,
    };
    lcws_log!(
        Level::Verbose,
        Some(id),
        "request:\n{}",
        request.masked.trim_end()
    );
    stream.write_all(&request.bytes).await.map_err(|e| {
        TransportError::from_io(&e, Stage::Handshake, "sending the upgrade request")
    })?;
    host.progress(Progress::RequestSent {
        masked: &request.masked,
    });
    let (response, rest) = response::read_response(&mut stream).await?;
    host.progress(Progress::ResponseReceived {
        response: &response,
    });
    lcws_log!(
        Level::Info,
        Some(id),
        "HTTP {} {}",
        response.status,
        response.reason
    );
    lcws_log!(Level::Verbose, Some(id), "response:\n{}", response.masked());
    Ok((stream, response, rest))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::options::{Proxy, ProxyType};
    use futures_util::StreamExt;
    use tokio::io::AsyncReadExt;

    /// Records the progress events by name, and closes once open (as `litecore-ws check` does).
    struct Steps {
        names: Vec<String>,
        commands: mpsc::UnboundedSender<Command>,
    }

    impl LiteCoreSocket for Steps {
        fn got_http_response(&mut self, status: i32, _headers: &[u8]) {
            self.names.push(format!("gotHTTPResponse {status}"));
        }
        fn opened(&mut self) {
            self.names.push("opened".into());
            let _ = self.commands.send(Command::RequestClose {
                status: 1000,
                message: String::new(),
            });
        }
        fn close_requested(&mut self, _status: i32, _message: &[u8]) {}
        fn completed_write(&mut self, _byte_count: usize) {}
        fn received(&mut self, _data: &[u8]) {}
        fn progress(&mut self, event: Progress<'_>) {
            self.names.push(match event {
                Progress::Resolved { .. } => "resolved".into(),
                Progress::TcpFailed { .. } => "tcp failed".into(),
                Progress::TcpConnected { proxy, .. } => format!("tcp connected {proxy:?}"),
                Progress::ProxyTunnel { status, .. } => format!("tunnel {status}"),
                Progress::TlsEstablished { .. } => "tls".into(),
                Progress::RequestSent { masked } => {
                    format!("request {}", masked.lines().next().unwrap_or(""))
                }
                Progress::ResponseReceived { response } => format!("response {}", response.status),
                Progress::Redirect { status, to } => format!("redirect {status} {}", to.path),
                Progress::ChallengeRetry => "challenge".into(),
            });
        }
        fn closed(self: Box<Self>, _error: Option<&TransportError>) {}
    }

    /// The events come in connect-path order, a redirect starting the next attempt.
    #[tokio::test]
    async fn progress_follows_the_connect_path() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = tokio::spawn(async move {
            let (mut first, _) = listener.accept().await.unwrap();
            let mut buf = Vec::new();
            let mut chunk = [0u8; 1024];
            while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                let n = first.read(&mut chunk).await.unwrap();
                assert!(n > 0);
                buf.extend_from_slice(&chunk[..n]);
            }
            first
                .write_all(b"HTTP/1.1 307 Temporary Redirect\r\nLocation: /db/_blipsync\r\nContent-Length: 0\r\n\r\n")
                .await
                .unwrap();
            let (second, _) = listener.accept().await.unwrap();
            let mut ws = tokio_tungstenite::accept_async(second).await.unwrap();
            while let Some(Ok(_)) = ws.next().await {}
        });
        let (tx, mut rx) = mpsc::unbounded_channel();
        let mut steps = Steps {
            names: Vec::new(),
            commands: tx,
        };
        let address = Address {
            scheme: "ws".into(),
            host: "127.0.0.1".into(),
            port,
            path: "/old/_blipsync".into(),
        };
        // No proxy, whatever the environment says.
        let options = Options {
            proxy: Some(Proxy {
                kind: ProxyType::None,
                host: None,
                port: None,
                username: None,
                password: None,
            }),
            ..Options::default()
        };
        let result = run(1, &mut steps, address, options, &mut rx).await;
        assert_eq!(result, None);
        server.await.unwrap();
        assert_eq!(
            steps.names,
            [
                "resolved",
                "tcp connected None",
                "request GET /old/_blipsync HTTP/1.1",
                "response 307",
                "redirect 307 /db/_blipsync",
                "resolved",
                "tcp connected None",
                "request GET /db/_blipsync HTTP/1.1",
                "response 101",
                "gotHTTPResponse 101",
                "opened",
            ]
        );
    }
}
