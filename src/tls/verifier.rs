//! Which server certificates a socket accepts: the replicator's TLS options as one rustls
//! `ServerCertVerifier`.
//!
//! Precedence when several options are set: `acceptAllCerts` > `pinnedCert` >
//! `onlySelfSignedServer` > trust anchors (`rootCerts`, else the default stores).
//! Handshake signatures are always verified, whatever the policy.

use super::certinfo::CertInfo;
use crate::error::{CertRejection, NetworkCode};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, Error, OtherError, SignatureScheme};
use std::sync::Arc;

/// The trust decision a socket's options ask for.
#[derive(Debug)]
pub enum Policy {
    /// Chains to these anchors (webpki), hostname checked. `own_roots` holds the DER of every
    /// `rootCerts` certificate: a server certificate listed there is accepted as its own root
    /// (webpki refuses a CA:TRUE certificate as an end entity, yet `openssl req -x509` makes
    /// exactly that), with its validity period and hostname still checked.
    Anchors {
        webpki: Arc<WebPkiServerVerifier>,
        own_roots: Vec<Vec<u8>>,
    },
    /// `pinnedCert`: the leaf or any chain certificate equals one of `certs`, or the leaf's public
    /// key equals one of `keys`. No CA needed; validity period checked.
    Pinned {
        certs: Vec<Vec<u8>>,
        keys: Vec<Vec<u8>>,
    },
    /// `onlySelfSignedServer`: a self-signed leaf only, validity period checked, no hostname
    /// check (what LiteCore's built-in transport does).
    SelfSignedOnly,
    /// `acceptAllCerts`: no certificate validation.
    AcceptAll,
}

#[derive(Debug)]
pub struct ServerPolicy {
    policy: Policy,
    algorithms: WebPkiSupportedAlgorithms,
}

impl ServerPolicy {
    pub fn new(policy: Policy, algorithms: WebPkiSupportedAlgorithms) -> Self {
        ServerPolicy { policy, algorithms }
    }
}

/// A rejection rustls carries to the handshake's caller, where error.rs turns it into the
/// C4Error with this code and message.
fn reject(code: NetworkCode, message: String) -> Error {
    Error::InvalidCertificate(CertificateError::Other(OtherError(Arc::new(
        CertRejection { code, message },
    ))))
}

fn leaf_info(der: &CertificateDer<'_>) -> Result<CertInfo, Error> {
    CertInfo::parse(der.as_ref()).ok_or_else(|| {
        reject(
            NetworkCode::TlsCertUntrusted,
            "the server's certificate cannot be parsed".into(),
        )
    })
}

fn check_validity(leaf: &CertInfo, now: UnixTime) -> Result<(), Error> {
    leaf.check_validity(now.as_secs() as i64)
        .map_err(|(code, message)| reject(code, message))
}

/// webpki's verdict, restated with the certificate's subject (and date, for validity errors).
fn describe(e: Error, leaf: &CertInfo, server_name: &ServerName<'_>) -> Error {
    let Error::InvalidCertificate(kind) = &e else {
        return e;
    };
    let subject = &leaf.subject;
    let (code, message) = match kind {
        CertificateError::Expired | CertificateError::ExpiredContext { .. } => (
            NetworkCode::TlsCertExpired,
            format!("certificate '{subject}' expired on {}", leaf.not_after),
        ),
        CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => (
            NetworkCode::TlsCertUntrusted,
            format!(
                "certificate '{subject}' is not valid before {}",
                leaf.not_before
            ),
        ),
        // A self-signed certificate nobody listed as a root: webpki says UnknownIssuer or, for a
        // CA:TRUE one (`openssl req -x509`), CaUsedAsEndEntity. Either way: unknown root.
        CertificateError::UnknownIssuer | CertificateError::Other(_) if leaf.self_signed => (
            NetworkCode::TlsCertUnknownRoot,
            format!(
                "certificate '{subject}' is self-signed and not trusted: trust it with rootCerts, pinnedCert or onlySelfSignedServer"
            ),
        ),
        CertificateError::UnknownIssuer => (
            NetworkCode::TlsCertUnknownRoot,
            format!(
                "certificate '{subject}' (issuer '{}') does not chain to a trusted root",
                leaf.issuer,
            ),
        ),
        CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => (
            NetworkCode::TlsCertNameMismatch,
            format!(
                "certificate '{subject}' is not valid for {}",
                server_name.to_str()
            ),
        ),
        CertificateError::Revoked => (
            NetworkCode::TlsCertRevoked,
            format!("certificate '{subject}' is revoked"),
        ),
        other => (
            NetworkCode::TlsCertUntrusted,
            format!("certificate '{subject}' is not trusted: {other:?}"),
        ),
    };
    reject(code, message)
}

impl ServerCertVerifier for ServerPolicy {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, Error> {
        match &self.policy {
            Policy::AcceptAll => Ok(ServerCertVerified::assertion()),
            Policy::Pinned { certs, keys } => {
                let leaf = leaf_info(end_entity)?;
                let cert_pinned = std::iter::once(end_entity)
                    .chain(intermediates)
                    .any(|c| certs.iter().any(|p| p.as_slice() == c.as_ref()));
                let key_pinned = keys.contains(&leaf.spki);
                if !cert_pinned && !key_pinned {
                    return Err(reject(
                        NetworkCode::TlsCertUntrusted,
                        format!("certificate '{}' does not match pinnedCert", leaf.subject),
                    ));
                }
                check_validity(&leaf, now)?;
                Ok(ServerCertVerified::assertion())
            }
            Policy::SelfSignedOnly => {
                let leaf = leaf_info(end_entity)?;
                if !leaf.self_signed {
                    return Err(reject(
                        NetworkCode::TlsCertUntrusted,
                        format!(
                            "certificate '{}' is issued by '{}', but onlySelfSignedServer accepts only a self-signed certificate",
                            leaf.subject, leaf.issuer
                        ),
                    ));
                }
                check_validity(&leaf, now)?;
                Ok(ServerCertVerified::assertion())
            }
            Policy::Anchors { webpki, own_roots } => {
                match webpki.verify_server_cert(
                    end_entity,
                    intermediates,
                    server_name,
                    ocsp_response,
                    now,
                ) {
                    Ok(verified) => Ok(verified),
                    Err(e) => {
                        let leaf = leaf_info(end_entity)?;
                        if own_roots
                            .iter()
                            .any(|r| r.as_slice() == end_entity.as_ref())
                        {
                            check_validity(&leaf, now)?;
                            let parsed = rustls::server::ParsedCertificate::try_from(end_entity)?;
                            rustls::client::verify_server_name(&parsed, server_name)
                                .map_err(|e| describe(e, &leaf, server_name))?;
                            return Ok(ServerCertVerified::assertion());
                        }
                        Err(describe(e, &leaf, server_name))
                    }
                }
            }
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}
