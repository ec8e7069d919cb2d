//! The default trust anchors, used when a replicator gives no `rootCerts`: Mozilla's roots
//! (webpki-roots, compiled in) plus the system's CA bundle when the machine has one. The
//! environment variable `LCWS_TLS_ROOTS` picks `webpki`, `system` or `both` (the default).
//!
//! The system bundle is the file named by `SSL_CERT_FILE`, else the first that exists of the
//! usual distribution paths. It is read once per process; certificates in it that cannot be
//! anchors are skipped.

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;
use rustls::RootCertStore;
use std::sync::OnceLock;

/// Where Linux distributions keep their CA bundle (Debian/Ubuntu first).
const SYSTEM_BUNDLES: &[&str] = &[
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/ca-bundle.pem",
    "/etc/pki/tls/cacert.pem",
    "/etc/ssl/cert.pem",
];

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

/// The system CA bundle's certificates (empty when there is none).
fn system_certs() -> &'static [CertificateDer<'static>] {
    static CERTS: OnceLock<Vec<CertificateDer<'static>>> = OnceLock::new();
    CERTS.get_or_init(|| {
        let from_env = std::env::var_os("SSL_CERT_FILE").map(std::path::PathBuf::from);
        let path = from_env
            .into_iter()
            .chain(SYSTEM_BUNDLES.iter().map(std::path::PathBuf::from))
            .find(|p| p.is_file());
        let Some(path) = path else {
            return Vec::new();
        };
        match std::fs::read(&path) {
            Ok(bytes) => CertificateDer::pem_slice_iter(&bytes)
                .filter_map(Result::ok)
                .collect(),
            Err(_) => Vec::new(),
        }
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
