//! TLS for `wss`: rustls with an explicit crypto provider (ring). litecore-ws never installs a
//! process-wide provider; that choice belongs to the host application.
//!
//! Trust: the `rootCerts` option (PEM or DER, one or several certificates) replaces the default
//! anchors, which are Mozilla's roots from webpki-roots. Hostname verification and SNI always.
//! Client configurations are built once per distinct trust set and shared across sockets.

use crate::error::{NetworkCode, Stage, TransportError};
use crate::options::Options;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{ClientConfig, RootCertStore};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;

/// Parses one or more certificates given as PEM text or as a single DER certificate.
pub fn parse_certificates(
    what: &str,
    bytes: &[u8],
) -> Result<Vec<CertificateDer<'static>>, TransportError> {
    let bad = |detail: String| {
        TransportError::invalid_parameter(format!("replicator option '{what}' {detail}"))
    };
    if bytes.is_empty() {
        return Err(bad("is empty".into()));
    }
    if bytes.starts_with(b"-----BEGIN") || bytes.windows(10).any(|w| w == b"-----BEGIN") {
        let certs: Result<Vec<_>, _> = CertificateDer::pem_slice_iter(bytes).collect();
        let certs = certs.map_err(|e| bad(format!("holds malformed PEM: {e}")))?;
        if certs.is_empty() {
            return Err(bad("holds no PEM CERTIFICATE block".into()));
        }
        return Ok(certs);
    }
    // DER: one ASN.1 SEQUENCE spanning the whole value. (Its contents are parsed when the
    // certificate is used, e.g. by RootCertStore::add.)
    if !is_der_sequence(bytes) {
        return Err(bad("is neither PEM nor a DER certificate".into()));
    }
    Ok(vec![CertificateDer::from(bytes.to_vec())])
}

/// True when `bytes` is exactly one DER SEQUENCE (tag 0x30 and a length matching the size).
fn is_der_sequence(bytes: &[u8]) -> bool {
    let (len, header) = match bytes {
        [0x30, n, ..] if *n < 0x80 => (*n as usize, 2),
        [0x30, n, rest @ ..] if (0x81..=0x84).contains(n) => {
            let k = (*n - 0x80) as usize;
            if rest.len() < k {
                return false;
            }
            (
                rest[..k]
                    .iter()
                    .fold(0usize, |acc, b| (acc << 8) | *b as usize),
                2 + k,
            )
        }
        _ => return false,
    };
    header + len == bytes.len()
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    static PROVIDER: OnceLock<Arc<rustls::crypto::CryptoProvider>> = OnceLock::new();
    PROVIDER
        .get_or_init(|| Arc::new(rustls::crypto::ring::default_provider()))
        .clone()
}

fn build_config(roots: RootCertStore) -> Result<Arc<ClientConfig>, TransportError> {
    let mut config = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| {
            TransportError::network(NetworkCode::TlsHandshakeFailed, format!("TLS setup: {e}"))
        })?
        .with_root_certificates(roots)
        .with_no_client_auth();
    // Sync Gateway speaks HTTP/2 only when configured to; the upgrade needs HTTP/1.1.
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// The client configuration for these options (cached by trust set).
pub fn client_config(options: &Options) -> Result<Arc<ClientConfig>, TransportError> {
    config_for(options, false)
}

/// The configuration for TLS to an HTTPS proxy: Mozilla's roots *plus* `rootCerts` (which may be
/// there for a private Sync Gateway CA while the proxy has a public certificate, or the reverse).
pub fn proxy_client_config(options: &Options) -> Result<Arc<ClientConfig>, TransportError> {
    config_for(options, true)
}

fn config_for(options: &Options, with_defaults: bool) -> Result<Arc<ClientConfig>, TransportError> {
    static CACHE: OnceLock<Mutex<HashMap<Vec<u8>, Arc<ClientConfig>>>> = OnceLock::new();
    let mut key = vec![
        u8::from(with_defaults),
        u8::from(options.root_certs.is_some()),
    ];
    key.extend_from_slice(options.root_certs.as_deref().unwrap_or_default());
    let cache = CACHE.get_or_init(|| Mutex::new(HashMap::new()));
    if let Some(found) = cache.lock().unwrap_or_else(|p| p.into_inner()).get(&key) {
        return Ok(found.clone());
    }
    let mut roots = RootCertStore::empty();
    if let Some(bytes) = &options.root_certs {
        for cert in parse_certificates("rootCerts", bytes)? {
            roots.add(cert).map_err(|e| {
                TransportError::invalid_parameter(format!(
                    "replicator option 'rootCerts' holds a certificate that cannot be a trust anchor: {e}"
                ))
            })?;
        }
    }
    if with_defaults || options.root_certs.is_none() {
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    }
    let config = build_config(roots)?;
    let mut guard = cache.lock().unwrap_or_else(|p| p.into_inner());
    // Bounded: a process sees only a handful of distinct trust sets.
    if guard.len() >= 64 {
        guard.clear();
    }
    guard.insert(key, config.clone());
    Ok(config)
}

/// The TLS handshake over an established connection (TCP, or a tunnel through a proxy, which
/// may itself be TLS).
pub async fn handshake<IO: AsyncRead + AsyncWrite + Unpin>(
    io: IO,
    host: &str,
    config: Arc<ClientConfig>,
) -> Result<TlsStream<IO>, TransportError> {
    let name = ServerName::try_from(host.to_string()).map_err(|_| {
        TransportError::network(
            NetworkCode::InvalidUrl,
            format!("{host:?} is not a valid TLS server name"),
        )
    })?;
    TlsConnector::from(config)
        .connect(name, io)
        .await
        .map_err(|e| map_handshake_error(&e, host))
}

/// Maps a failed TLS handshake to the Network code LiteCore expects for its kind.
pub fn map_handshake_error(e: &std::io::Error, host: &str) -> TransportError {
    let Some(tls) = e
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
    else {
        return TransportError::from_io(e, Stage::Handshake, &format!("TLS handshake with {host}"));
    };
    TransportError::from_tls(tls, host)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn certificate_parsing_rejects_garbage() {
        for bad in [
            &b""[..],
            b"hello",
            b"-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n",
            &[0x30, 0x82, 0x03, 0x1c, 1, 2, 3],
        ] {
            let e = parse_certificates("rootCerts", bad).unwrap_err();
            assert_eq!(e.code, 9, "{bad:?}");
            assert!(e.message.contains("rootCerts"));
        }
    }

    #[test]
    fn configs_are_shared_per_trust_set() {
        let o = Options::default();
        let a = client_config(&o).unwrap();
        let b = client_config(&o).unwrap();
        assert!(Arc::ptr_eq(&a, &b));
        assert_eq!(a.alpn_protocols, vec![b"http/1.1".to_vec()]);
    }
}
