//! TLS for `wss`, both roles: rustls with an explicit crypto provider (ring). litecore-ws never
//! installs a process-wide provider; that choice belongs to the host application.
//!
//! [`client`] builds the configurations of outgoing connections; the rest is shared: certificate
//! parsing, the crypto provider, certificate facts ([`certinfo`]), key loading ([`identity`]),
//! default trust anchors ([`roots`]), the server-certificate policies ([`verifier`]).
//!
//! Trust: `rootCerts` (PEM or DER, one or several certificates) replaces the default anchors
//! (Mozilla's roots plus the system bundle, [`roots`]); `pinnedCert`, `onlySelfSignedServer` and
//! `acceptAllCerts` select other policies ([`verifier`]). SNI always; hostname verification
//! except where a policy says otherwise. `auth.type = "Client Cert"` presents a client
//! certificate ([`identity`]). Client configurations are built once per distinct TLS option set
//! and shared across sockets.

pub mod certinfo;
pub mod client;
pub mod identity;
pub mod roots;
pub mod server;
pub mod verifier;

use crate::error::TransportError;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;
use std::sync::{Arc, OnceLock};

/// Parses one or more certificates given as PEM text or as a single DER certificate. `what`
/// names the setting in errors: a replicator option's key (`rootCerts`), or a phrase with a
/// space in it for other settings (`the listener's 'certificate'`).
pub fn parse_certificates(
    what: &str,
    bytes: &[u8],
) -> Result<Vec<CertificateDer<'static>>, TransportError> {
    let bad = |detail: String| {
        TransportError::invalid_parameter(format!("{} {detail}", setting_name(what)))
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

/// How errors name a setting: `replicator option 'key'` for a bare option key, else as given.
pub(crate) fn setting_name(what: &str) -> String {
    if what.contains(' ') {
        what.to_string()
    } else {
        format!("replicator option '{what}'")
    }
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

/// The crypto provider of every configuration litecore-ws builds (never installed process-wide).
pub(crate) fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    static PROVIDER: OnceLock<Arc<rustls::crypto::CryptoProvider>> = OnceLock::new();
    PROVIDER
        .get_or_init(|| Arc::new(rustls::crypto::ring::default_provider()))
        .clone()
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
}
