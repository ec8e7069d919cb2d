//! What litecore-ws reads from a certificate itself (subject, issuer, validity, public key,
//! self-signature, subject alternative names), for the trust policies webpki does not cover, for
//! error messages that name the certificate, and for `litecore-ws check`'s display of a chain.

use crate::error::NetworkCode;
use x509_parser::prelude::{FromDer, X509Certificate};

/// The parts of an X.509 certificate the trust policies (and `litecore-ws check`) look at.
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
    /// Basic constraints say CA:TRUE.
    pub is_ca: bool,
    /// Subject alternative names as `DNS:name`, `IP:address`, `email:…`, `URI:…`.
    pub sans: Vec<String>,
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
            is_ca: cert.is_ca(),
            sans: subject_alt_names(&cert),
        })
    }

    /// Start of the validity period, Unix seconds.
    pub fn not_before_unix(&self) -> i64 {
        self.not_before_secs
    }

    /// End of the validity period, Unix seconds.
    pub fn not_after_unix(&self) -> i64 {
        self.not_after_secs
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

/// The subject alternative names, as text; an unreadable extension is one entry saying so.
fn subject_alt_names(cert: &X509Certificate<'_>) -> Vec<String> {
    use x509_parser::extensions::GeneralName;
    match cert.subject_alternative_name() {
        Ok(Some(ext)) => ext
            .value
            .general_names
            .iter()
            .map(|n| match n {
                GeneralName::DNSName(d) => format!("DNS:{d}"),
                GeneralName::IPAddress(ip) => match <[u8; 4]>::try_from(*ip) {
                    Ok(v4) => format!("IP:{}", std::net::Ipv4Addr::from(v4)),
                    Err(_) => match <[u8; 16]>::try_from(*ip) {
                        Ok(v6) => format!("IP:{}", std::net::Ipv6Addr::from(v6)),
                        Err(_) => "IP:?".to_string(),
                    },
                },
                GeneralName::RFC822Name(m) => format!("email:{m}"),
                GeneralName::URI(u) => format!("URI:{u}"),
                other => format!("{other:?}"),
            })
            .collect(),
        Ok(None) => Vec::new(),
        Err(e) => vec![format!("(invalid SAN extension: {e})")],
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
    fn names_validity_and_self_signature() {
        let key = rcgen::KeyPair::generate().unwrap();
        let mut params =
            rcgen::CertificateParams::new(vec!["localhost".into(), "127.0.0.1".into()]).unwrap();
        params.not_before = rcgen::date_time_ymd(2020, 1, 1);
        params.not_after = rcgen::date_time_ymd(2021, 1, 1);
        let cert = params.self_signed(&key).unwrap();
        let info = CertInfo::parse(cert.der()).unwrap();
        assert_eq!(info.sans, ["DNS:localhost", "IP:127.0.0.1"]);
        assert!(info.self_signed && !info.is_ca);
        assert_eq!(info.not_before_unix(), 1_577_836_800);
        assert_eq!(info.not_after_unix(), 1_609_459_200);
        assert_eq!(info.check_validity(1_600_000_000), Ok(()));
        assert!(info.check_validity(1_700_000_000).is_err());
    }

    #[test]
    fn garbage_is_not_a_certificate_or_key() {
        assert!(CertInfo::parse(b"").is_none());
        assert!(CertInfo::parse(&[0x30, 0x03, 1, 2, 3]).is_none());
        assert!(!is_public_key(b"\x30\x00"));
    }
}
