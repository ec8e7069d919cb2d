//! TLS configurations of the listener: its identity (the app's certificate chain and key, or an
//! anonymous self-signed one generated at start, as Couchbase Lite's listener does) and what it
//! asks of clients (nothing, or a certificate that chains to the app's roots and/or that the
//! app's callback accepts).

use super::{identity, parse_certificates, provider};
use crate::error::TransportError;
use rustls::client::danger::HandshakeSignatureValid;
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::pki_types::{CertificateDer, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::server::WebPkiClientVerifier;
use rustls::{
    CertificateError, DigitallySignedStruct, DistinguishedName, Error, RootCertStore, ServerConfig,
    SignatureScheme,
};
use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;

/// The listener's own certificate.
pub enum Identity {
    /// The app's chain (leaf first) and private key, PEM or DER.
    Given { chain: Vec<u8>, key: Vec<u8> },
    /// A self-signed certificate made at start (ECDSA P-256) for these host names and addresses;
    /// peers pin it (the app reads it from the listener).
    Generated {
        names: Vec<String>,
        addresses: Vec<IpAddr>,
    },
}

/// Decides on a client's certificate (leaf, DER) during the TLS handshake: `false` refuses it
/// with an alert.
pub type CertJudge = Arc<dyn Fn(&[u8]) -> bool + Send + Sync>;

/// What the listener asks of clients at the TLS level.
#[derive(Default)]
pub struct ClientCerts {
    /// Clients must present a certificate.
    pub required: bool,
    /// It must chain to one of these (PEM or DER), when given.
    pub roots: Option<Vec<u8>>,
    /// And the app must accept it, when given.
    pub judge: Option<CertJudge>,
}

/// A ready server configuration and the certificate it presents.
pub struct ServerTls {
    pub config: Arc<ServerConfig>,
    /// The leaf certificate (DER), for the app to hand to peers that pin it.
    pub certificate: Vec<u8>,
}

const NAMES: identity::Names = identity::Names {
    cert: "the listener's TLS 'certificate'",
    key: "the listener's TLS 'key'",
};

/// Builds the listener's TLS configuration.
pub fn config(identity: Identity, clients: ClientCerts) -> Result<ServerTls, TransportError> {
    let certified = match identity {
        Identity::Given { chain, key } => identity::load(&provider(), &chain, &key, NAMES)?,
        Identity::Generated { names, addresses } => generate(names, addresses)?,
    };
    let certificate = certified
        .cert
        .first()
        .map(|c| c.as_ref().to_vec())
        .unwrap_or_default();
    let builder = ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(setup_error)?;
    let builder = if clients.required {
        builder.with_client_cert_verifier(client_verifier(clients)?)
    } else {
        builder.with_no_client_auth()
    };
    let mut config =
        builder.with_cert_resolver(Arc::new(rustls::sign::SingleCertAndKey::from(certified)));
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(ServerTls {
        config: Arc::new(config),
        certificate,
    })
}

fn setup_error(e: impl fmt::Display) -> TransportError {
    TransportError::invalid_parameter(format!("the listener's TLS setup failed: {e}"))
}

/// A self-signed ECDSA P-256 certificate (rcgen's default validity: 1975 to 4096, so a peer's
/// clock never makes it expire or not yet valid).
fn generate(
    names: Vec<String>,
    addresses: Vec<IpAddr>,
) -> Result<Arc<rustls::sign::CertifiedKey>, TransportError> {
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).map_err(setup_error)?;
    let mut params = rcgen::CertificateParams::new(names).map_err(setup_error)?;
    params
        .subject_alt_names
        .extend(addresses.into_iter().map(rcgen::SanType::IpAddress));
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "litecore-ws listener");
    let cert = params.self_signed(&key).map_err(setup_error)?;
    identity::load(&provider(), cert.der(), &key.serialize_der(), NAMES)
}

fn client_verifier(clients: ClientCerts) -> Result<Arc<dyn ClientCertVerifier>, TransportError> {
    let algorithms = provider().signature_verification_algorithms;
    let inner: Arc<dyn ClientCertVerifier> = match &clients.roots {
        Some(bytes) => {
            let mut roots = RootCertStore::empty();
            for cert in parse_certificates("the listener's TLS 'rootClientCerts'", bytes)? {
                roots.add(cert).map_err(|e| {
                    TransportError::invalid_parameter(format!(
                        "the listener's TLS 'rootClientCerts' holds a certificate that cannot be a trust anchor: {e}"
                    ))
                })?;
            }
            WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider())
                .build()
                .map_err(setup_error)?
        }
        None if clients.judge.is_some() => Arc::new(AnyCertificate { algorithms }),
        None => {
            return Err(TransportError::invalid_parameter(
                "the listener requires client certificates but has neither 'rootClientCerts' nor a certificate callback to judge them",
            ))
        }
    };
    Ok(Arc::new(JudgedByApp {
        inner,
        judge: clients.judge,
    }))
}

/// Any certificate whose holder proves the key (the handshake signature is always checked);
/// the app's judge decides on it.
#[derive(Debug)]
struct AnyCertificate {
    algorithms: WebPkiSupportedAlgorithms,
}

impl ClientCertVerifier for AnyCertificate {
    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }

    fn verify_client_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, Error> {
        Ok(ClientCertVerified::assertion())
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

/// The inner verifier's checks, then the app's judgement of the leaf.
struct JudgedByApp {
    inner: Arc<dyn ClientCertVerifier>,
    judge: Option<CertJudge>,
}

impl fmt::Debug for JudgedByApp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JudgedByApp")
            .field("inner", &self.inner)
            .field("judge", &self.judge.is_some())
            .finish()
    }
}

impl ClientCertVerifier for JudgedByApp {
    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        self.inner.root_hint_subjects()
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<ClientCertVerified, Error> {
        let verified = self
            .inner
            .verify_client_cert(end_entity, intermediates, now)?;
        match &self.judge {
            Some(judge) if !judge(end_entity.as_ref()) => Err(Error::InvalidCertificate(
                CertificateError::ApplicationVerificationFailure,
            )),
            _ => Ok(verified),
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }

    fn client_auth_mandatory(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tls::certinfo::CertInfo;

    fn generated() -> Identity {
        Identity::Generated {
            names: vec!["localhost".into()],
            addresses: vec!["127.0.0.1".parse().unwrap()],
        }
    }

    #[test]
    fn generated_identity_is_self_signed_and_readable() {
        let tls = config(generated(), ClientCerts::default()).unwrap();
        let info = CertInfo::parse(&tls.certificate).expect("a DER certificate");
        assert!(info.self_signed, "{info:?}");
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64;
        assert!(info.check_validity(now).is_ok());
        // Each start makes a new key pair.
        let again = config(generated(), ClientCerts::default()).unwrap();
        assert_ne!(tls.certificate, again.certificate);
    }

    #[test]
    fn given_identity_must_match_its_key() {
        let a = rcgen::generate_simple_self_signed(vec!["a".into()]).unwrap();
        let b = rcgen::generate_simple_self_signed(vec!["b".into()]).unwrap();
        let ok = config(
            Identity::Given {
                chain: a.cert.pem().into_bytes(),
                key: a.signing_key.serialize_pem().into_bytes(),
            },
            ClientCerts::default(),
        );
        assert!(ok.is_ok());
        let mismatched = config(
            Identity::Given {
                chain: a.cert.pem().into_bytes(),
                key: b.signing_key.serialize_pem().into_bytes(),
            },
            ClientCerts::default(),
        );
        let e = mismatched.err().expect("a mismatch");
        assert_eq!(e.code, 9);
        assert!(e.message.contains("listener"), "{}", e.message);
    }

    #[test]
    fn required_client_certs_need_roots_or_a_judge() {
        let e = config(
            generated(),
            ClientCerts {
                required: true,
                ..ClientCerts::default()
            },
        )
        .err()
        .expect("refused");
        assert!(e.message.contains("rootClientCerts"), "{}", e.message);
        let judged = config(
            generated(),
            ClientCerts {
                required: true,
                roots: None,
                judge: Some(Arc::new(|_| true)),
            },
        );
        assert!(judged.is_ok());
    }
}
