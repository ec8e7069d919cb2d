//! The default trust anchors, used when a replicator gives no `rootCerts`: Mozilla's roots
//! (webpki-roots, compiled in) plus the platform's trust store. The environment variable
//! `LCWS_TLS_ROOTS` picks `webpki`, `system` or `both` (the default).
//!
//! The platform's store is read by `rustls-native-certs`, once per process: on Linux and other
//! Unix systems the CA bundle named by `SSL_CERT_FILE` and the directory `SSL_CERT_DIR` (as
//! OpenSSL reads them), else the distribution's bundle; the keychain on macOS; the system store
//! on Windows. Certificates that cannot be anchors are skipped.

use rustls::pki_types::CertificateDer;
use rustls::RootCertStore;
use std::sync::OnceLock;

/// Which default anchors to use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DefaultRoots {
    Webpki,
    System,
    Both,
}

impl DefaultRoots {
    /// From `LCWS_TLS_ROOTS` (read at each call, so a host can set it before opening sockets);
    /// unknown values fall back to `Both`.
    pub fn from_env() -> Self {
        match std::env::var("LCWS_TLS_ROOTS")
            .unwrap_or_default()
            .to_ascii_lowercase()
            .as_str()
        {
            "webpki" | "mozilla" => DefaultRoots::Webpki,
            "system" => DefaultRoots::System,
            _ => DefaultRoots::Both,
        }
    }

    pub fn tag(self) -> u8 {
        self as u8
    }
}

/// The platform's trust anchors (empty when it has none or they cannot be read; the reasons
/// are logged once).
fn system_certs() -> &'static [CertificateDer<'static>] {
    static CERTS: OnceLock<Vec<CertificateDer<'static>>> = OnceLock::new();
    CERTS.get_or_init(|| {
        let found = rustls_native_certs::load_native_certs();
        for e in &found.errors {
            crate::lcws_log!(
                crate::log::Level::Warning,
                None,
                "reading the system's trust store: {e}"
            );
        }
        found.certs
    })
}

/// The default anchors for `which`.
pub fn default_store(which: DefaultRoots) -> RootCertStore {
    let mut roots = RootCertStore::empty();
    if which != DefaultRoots::System {
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    }
    if which != DefaultRoots::Webpki {
        roots.add_parsable_certificates(system_certs().iter().cloned());
    }
    if roots.is_empty() {
        // `system` on a machine without a bundle: Mozilla's roots rather than trusting nothing.
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    }
    roots
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_choice_has_anchors() {
        let mozilla = default_store(DefaultRoots::Webpki).len();
        assert!(mozilla > 100, "{mozilla}");
        // With or without a system store (CI machines have Debian's), never an empty store.
        assert!(!default_store(DefaultRoots::System).is_empty());
        assert!(default_store(DefaultRoots::Both).len() >= mozilla);
    }
}
