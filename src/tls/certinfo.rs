//! What litecore-ws reads from a certificate itself (subject, issuer, validity, public key,
//! self-signature), for the trust policies webpki does not cover and for error messages that
//! name the certificate.

use crate::error::NetworkCode;
use x509_parser::prelude::{FromDer, X509Certificate};

/// The parts of an X.509 certificate the trust policies look at.
#[derive(Debug, Clone)]
pub struct CertInfo {
    pub subject: String,
    pub issuer: String,
    pub not_before: String,
    pub not_after: String,
    not_before_secs: i64,
    not_after_secs: i64,
    /// SubjectPublicKeyInfo, DER.
    pub spki: Vec<u8>,
    /// Issuer equals subject and the certificate's signature verifies with its own key.
    pub self_signed: bool,
}

impl CertInfo {
    /// Parses a DER certificate; `None` when it is not one.
    pub fn parse(der: &[u8]) -> Option<CertInfo> {
        let (rest, cert) = X509Certificate::from_der(der).ok()?;
        if !rest.is_empty() {
            return None;
        }
        let validity = cert.validity();
        let same_name = cert.subject().as_raw() == cert.issuer().as_raw();
        Some(CertInfo {
            subject: name_or_placeholder(cert.subject().to_string()),
            issuer: name_or_placeholder(cert.issuer().to_string()),
            not_before: validity.not_before.to_string(),
            not_after: validity.not_after.to_string(),
            not_before_secs: validity.not_before.timestamp(),
            not_after_secs: validity.not_after.timestamp(),
            spki: cert.public_key().raw.to_vec(),
            self_signed: same_name && cert.verify_signature(None).is_ok(),
        })
    }

    /// Checks the validity period at `now` (Unix seconds): `Err((code, message))` outside it.
    pub fn check_validity(&self, now: i64) -> Result<(), (NetworkCode, String)> {
        if now > self.not_after_secs {
            return Err((
                NetworkCode::TlsCertExpired,
                format!(
                    "certificate '{}' expired on {}",
                    self.subject, self.not_after
                ),
            ));
        }
        if now < self.not_before_secs {
            return Err((
                NetworkCode::TlsCertUntrusted,
                format!(
                    "certificate '{}' is not valid before {}",
                    self.subject, self.not_before
                ),
            ));
        }
        Ok(())
    }
}

fn name_or_placeholder(name: String) -> String {
    if name.is_empty() {
        "(empty name)".into()
    } else {
        name
    }
}

/// True when `der` is a DER SubjectPublicKeyInfo (a public key, as `pinnedCert` may hold).
pub fn is_public_key(der: &[u8]) -> bool {
    use x509_parser::x509::SubjectPublicKeyInfo;
    matches!(SubjectPublicKeyInfo::from_der(der), Ok((rest, _)) if rest.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_is_not_a_certificate_or_key() {
        assert!(CertInfo::parse(b"").is_none());
        assert!(CertInfo::parse(&[0x30, 0x03, 1, 2, 3]).is_none());
        assert!(!is_public_key(b"\x30\x00"));
    }
}
