//! DNS and TCP: the first step of every connection (to Sync Gateway or to a proxy), with the
//! `networkInterface` option.
//!
//! `networkInterface` names an interface (`eth0`, `wlan0`, `lo`) or one of this host's IP
//! addresses. litecore-ws binds the socket to that address (for a name: the interface's address
//! of the target's family) before connecting, which needs no privilege (SO_BINDTODEVICE would).
//! An unknown name, or an address this host does not have, is `{Network, 27 UnknownInterface}`.

use crate::error::{NetworkCode, Stage, TransportError};
use crate::interfaces::interface_addresses;
use crate::litecore::Progress;
use crate::options::Options;
use crate::{lcws_log, log::Level};
use std::io;
use std::net::{IpAddr, SocketAddr};
use tokio::net::{TcpSocket, TcpStream};

/// DNS, then TCP to each resolved address in turn (TCP_NODELAY on), from `networkInterface` when
/// the options name one. `proxy` names the proxy being reached, for error messages. Each step is
/// reported to `progress` (`Resolved`, `TcpFailed`, `TcpConnected`).
pub async fn connect(
    id: u64,
    host: &str,
    port: u16,
    proxy: Option<&str>,
    options: &Options,
    progress: &mut (dyn FnMut(Progress<'_>) + Send),
) -> Result<(TcpStream, SocketAddr), TransportError> {
    let local = local_addresses(options.network_interface.as_deref())?;
    let addrs = resolve(host, port).await.map_err(|e| match proxy {
        Some(what) => TransportError::new(e.domain, e.code, format!("{what}: {}", e.message)),
        None => e,
    })?;
    progress(Progress::Resolved {
        host,
        addrs: &addrs,
        proxy,
    });
    let mut last_err = None;
    for addr in &addrs {
        lcws_log!(Level::Verbose, Some(id), "TCP connect to {addr}");
        let error = match connect_one(*addr, local.as_deref()).await {
            Ok(stream) => {
                // BLIP frames are small and latency-sensitive.
                let _ = stream.set_nodelay(true);
                progress(Progress::TcpConnected { addr: *addr, proxy });
                return Ok((stream, *addr));
            }
            Err(Failure::Bind(e)) => e,
            Err(Failure::Connect(e)) => {
                let what = match proxy {
                    Some(what) => format!("connect to {what} ({addr})"),
                    None => format!("connect to {addr}"),
                };
                TransportError::from_io(&e, Stage::Connect, &what)
            }
        };
        progress(Progress::TcpFailed {
            addr: *addr,
            error: &error,
            proxy,
        });
        last_err = Some(error);
    }
    Err(last_err.expect("resolve returns at least one address"))
}

enum Failure {
    Bind(TransportError),
    Connect(io::Error),
}

/// The local addresses `networkInterface` allows (`None`: any).
fn local_addresses(interface: Option<&str>) -> Result<Option<Vec<IpAddr>>, TransportError> {
    let Some(name) = interface else {
        return Ok(None);
    };
    if let Ok(ip) = name.parse::<IpAddr>() {
        return Ok(Some(vec![ip]));
    }
    match interface_addresses(name) {
        None => Err(TransportError::network(
            NetworkCode::UnknownInterface,
            format!("networkInterface {name:?}: no such network interface"),
        )),
        Some(addrs) if addrs.is_empty() => Err(TransportError::network(
            NetworkCode::UnknownInterface,
            format!("networkInterface {name:?} has no IP address"),
        )),
        Some(addrs) => Ok(Some(addrs)),
    }
}

async fn connect_one(addr: SocketAddr, local: Option<&[IpAddr]>) -> Result<TcpStream, Failure> {
    let Some(local) = local else {
        return TcpStream::connect(addr).await.map_err(Failure::Connect);
    };
    let Some(from) = local
        .iter()
        .find(|ip| ip.is_ipv4() == addr.is_ipv4())
        .copied()
    else {
        return Err(Failure::Bind(TransportError::network(
            NetworkCode::UnknownInterface,
            format!(
                "networkInterface has no {} address to reach {addr}",
                if addr.is_ipv4() { "IPv4" } else { "IPv6" }
            ),
        )));
    };
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()
    } else {
        TcpSocket::new_v6()
    }
    .map_err(Failure::Connect)?;
    socket.bind(SocketAddr::new(from, 0)).map_err(|e| {
        Failure::Bind(TransportError::network(
            NetworkCode::UnknownInterface,
            format!("networkInterface: cannot use local address {from}: {e}"),
        ))
    })?;
    socket.connect(addr).await.map_err(Failure::Connect)
}

/// Resolves `host` (IP literals without a lookup; LiteCore passes IPv6 without brackets).
pub async fn resolve(host: &str, port: u16) -> Result<Vec<SocketAddr>, TransportError> {
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Ok(vec![SocketAddr::new(ip, port)]);
    }
    match tokio::net::lookup_host((host, port)).await {
        Ok(iter) => {
            let addrs: Vec<SocketAddr> = iter.collect();
            if addrs.is_empty() {
                Err(TransportError::network(
                    NetworkCode::UnknownHost,
                    format!("no addresses found for host {host:?}"),
                ))
            } else {
                Ok(addrs)
            }
        }
        Err(e) => Err(dns_error(host, &e)),
    }
}

/// getaddrinfo's answers reach us only as text through std; "no such name" is permanent for this
/// name (UnknownHost), anything else (no DNS server, temporary failure) is a DNS failure.
fn dns_error(host: &str, e: &io::Error) -> TransportError {
    let text = e.to_string();
    let unknown = [
        "Name or service not known",
        "No address associated",
        "nodename nor servname",
        "not known",
    ]
    .iter()
    .any(|s| text.contains(s));
    let code = if unknown {
        NetworkCode::UnknownHost
    } else {
        NetworkCode::DnsFailure
    };
    TransportError::network(code, format!("DNS lookup of {host:?} failed: {text}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dns_error_classification() {
        let e = dns_error(
            "nope.invalid",
            &io::Error::other("failed to lookup address information: Name or service not known"),
        );
        assert_eq!(e.code, NetworkCode::UnknownHost as i32);
        let e = dns_error(
            "x",
            &io::Error::other("Temporary failure in name resolution"),
        );
        assert_eq!(e.code, NetworkCode::DnsFailure as i32);
    }

    #[tokio::test]
    async fn network_interface_binds_or_refuses() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let with = |iface: &str| Options {
            network_interface: Some(iface.into()),
            ..Options::default()
        };
        for ok in ["lo", "127.0.0.1"] {
            let (stream, _) = connect(1, "127.0.0.1", port, None, &with(ok), &mut |_| {})
                .await
                .unwrap();
            assert!(stream.local_addr().unwrap().ip().is_loopback());
        }
        for bad in ["nosuchif0", "192.0.2.1"] {
            let e = connect(1, "127.0.0.1", port, None, &with(bad), &mut |_| {})
                .await
                .unwrap_err();
            assert_eq!(
                e.code,
                NetworkCode::UnknownInterface as i32,
                "{bad}: {}",
                e.message
            );
        }
    }
}
