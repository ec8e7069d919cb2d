//! The client certificate (`auth.type = "Client Cert"`, `auth.clientCert`, `auth.clientCertKey`)
//! and a per-connection probe that remembers whether the server asked for one, so a refused
//! handshake can be reported as "certificate required" or "certificate rejected". The probe is
//! reached through a task-local, so every connection shares the configuration's resolver and
//! TLS sessions can be resumed.

use super::parse_certificates;
use crate::error::TransportError;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::PrivateKeyDer;
use rustls::sign::CertifiedKey;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// Where a certificate and its key came from, for error messages: the replicator options
/// (`auth.clientCert`, `auth.clientCertKey`) or the listener's TLS configuration.
#[derive(Clone, Copy)]
pub struct Names {
    pub cert: &'static str,
    pub key: &'static str,
}

/// The client certificate of a replicator (`auth.type = "Client Cert"`).
pub const CLIENT_CERT: Names = Names {
    cert: "auth.clientCert",
    key: "auth.clientCertKey",
};

/// Loads a certificate chain and its private key (PEM or DER; RSA, ECDSA or Ed25519 keys in
/// PKCS#8, PKCS#1 or SEC1 form) and checks that they belong together.
pub fn load(
    provider: &CryptoProvider,
    cert: &[u8],
    key: &[u8],
    names: Names,
) -> Result<Arc<CertifiedKey>, TransportError> {
    let chain = parse_certificates(names.cert, cert)?;
    let bad_key = |detail: &str| {
        TransportError::invalid_parameter(format!("{} {detail}", super::setting_name(names.key)))
    };
    let key_der: PrivateKeyDer<'static> = if key.windows(10).any(|w| w == b"-----BEGIN") {
        PrivateKeyDer::from_pem_slice(key)
            .map_err(|_| bad_key("holds no readable PEM private key"))?
    } else {
        PrivateKeyDer::try_from(key.to_vec())
            .map_err(|_| bad_key("is neither PEM nor a DER private key"))?
    };
    let signing = provider
        .key_provider
        .load_private_key(key_der)
        .map_err(|e| bad_key(&format!("is not a usable key: {e}")))?;
    let certified = CertifiedKey::new(chain, signing);
    // Any other outcome means the check could not be made (a key type that cannot tell, an
    // X.509 v1 certificate webpki does not parse): the peer judges the certificate.
    if let Err(rustls::Error::InconsistentKeys(rustls::InconsistentKeys::KeyMismatch)) =
        certified.keys_match()
    {
        return Err(TransportError::invalid_parameter(format!(
            "{} and {} do not match: the key is not the certificate's",
            super::setting_name(names.cert),
            super::setting_name(names.key)
        )));
    }
    Ok(Arc::new(certified))
}

tokio::task_local! {
    /// The probe of the TLS handshake being polled on this task (set by `tls::handshake`); the
    /// configuration's shared certificate resolver marks it when the server asks for a
    /// certificate.
    pub static CURRENT_PROBE: Arc<ClientCertProbe>;
}

/// Per connection: whether we have a certificate to offer, and whether the server asked for one.
#[derive(Debug)]
pub struct ClientCertProbe {
    offered: bool,
    asked: AtomicBool,
}

impl ClientCertProbe {
    pub fn new(offered: bool) -> Self {
        ClientCertProbe {
            offered,
            asked: AtomicBool::new(false),
        }
    }

    /// Records that the server sent a CertificateRequest.
    pub fn mark_asked(&self) {
        self.asked.store(true, Ordering::Relaxed);
    }

    /// The server sent a CertificateRequest.
    pub fn asked(&self) -> bool {
        self.asked.load(Ordering::Relaxed)
    }

    /// We have a certificate to offer.
    pub fn offered(&self) -> bool {
        self.offered
    }
}
