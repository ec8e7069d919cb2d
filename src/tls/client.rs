//! TLS configurations of outgoing connections: the trust policy the replicator's options ask
//! for, the client certificate of `auth.type = "Client Cert"`, one shared configuration per
//! distinct TLS option set (so sessions resume), and the handshake with its error mapping.

use super::{certinfo, identity, parse_certificates, provider, roots, verifier};
use crate::error::{NetworkCode, Stage, TransportError};
use crate::options::{AuthType, Options};
use rustls::client::ResolvesClientCert;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::ServerName;
use rustls::sign::CertifiedKey;
use rustls::{ClientConfig, RootCertStore, SignatureScheme};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;

/// The trust policy the options ask for (see [`verifier`] for the precedence).
fn policy(options: &Options) -> Result<verifier::Policy, TransportError> {
    use verifier::Policy;
    if options.accept_all_certs {
        return Ok(Policy::AcceptAll);
    }
    if let Some(pinned) = &options.pinned_cert {
        let pins = parse_pins(pinned)?;
        return Ok(Policy::Pinned {
            certs: pins.certs,
            keys: pins.keys,
        });
    }
    if options.only_self_signed_server {
        return Ok(Policy::SelfSignedOnly);
    }
    let (roots, own_roots) = match &options.root_certs {
        Some(bytes) => {
            let certs = parse_certificates("rootCerts", bytes)?;
            let mut roots = RootCertStore::empty();
            for cert in &certs {
                roots.add(cert.clone()).map_err(|e| {
                    TransportError::invalid_parameter(format!(
                        "replicator option 'rootCerts' holds a certificate that cannot be a trust anchor: {e}"
                    ))
                })?;
            }
            (roots, certs.iter().map(|c| c.as_ref().to_vec()).collect())
        }
        None => (
            roots::default_store(roots::DefaultRoots::from_env()),
            Vec::new(),
        ),
    };
    let webpki =
        rustls::client::WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider())
            .build()
            .map_err(setup_error)?;
    Ok(Policy::Anchors { webpki, own_roots })
}

/// What `pinnedCert` holds: certificates and public keys (SubjectPublicKeyInfo), DER.
struct Pins {
    certs: Vec<Vec<u8>>,
    keys: Vec<Vec<u8>>,
}

/// `pinnedCert`: certificates (PEM or DER) and/or public keys (PEM `PUBLIC KEY` or DER
/// SubjectPublicKeyInfo).
fn parse_pins(bytes: &[u8]) -> Result<Pins, TransportError> {
    use rustls::pki_types::pem::SectionKind;
    let bad = |detail: &str| {
        TransportError::invalid_parameter(format!("replicator option 'pinnedCert' {detail}"))
    };
    let (mut certs, mut keys) = (Vec::new(), Vec::new());
    if bytes.windows(10).any(|w| w == b"-----BEGIN") {
        for section in <(SectionKind, Vec<u8>)>::pem_slice_iter(bytes) {
            match section.map_err(|e| bad(&format!("holds malformed PEM: {e}")))? {
                (SectionKind::Certificate, der) => certs.push(der),
                (SectionKind::PublicKey, der) => keys.push(der),
                _ => {}
            }
        }
    } else if certinfo::CertInfo::parse(bytes).is_some() {
        certs.push(bytes.to_vec());
    } else if certinfo::is_public_key(bytes) {
        keys.push(bytes.to_vec());
    } else {
        return Err(bad(
            "is neither a certificate nor a public key (PEM or DER)",
        ));
    }
    if certs.is_empty() && keys.is_empty() {
        return Err(bad("holds no PEM CERTIFICATE or PUBLIC KEY block"));
    }
    Ok(Pins { certs, keys })
}

/// The client identity for `auth.type = "Client Cert"`, shared by every connection of a
/// configuration (rustls resumes a TLS session only with the very resolver and verifier that
/// made it). When the server asks for a certificate it marks the probe of the handshake being
/// polled ([`identity::CURRENT_PROBE`], set by [`handshake`]).
#[derive(Debug)]
struct ConfiguredIdentity(Option<Arc<CertifiedKey>>);

impl ResolvesClientCert for ConfiguredIdentity {
    fn resolve(&self, _hints: &[&[u8]], _schemes: &[SignatureScheme]) -> Option<Arc<CertifiedKey>> {
        let _ = identity::CURRENT_PROBE.try_with(|p| p.mark_asked());
        self.0.clone()
    }
    fn has_certs(&self) -> bool {
        self.0.is_some()
    }
}

fn client_identity(options: &Options) -> Result<Option<Arc<CertifiedKey>>, TransportError> {
    let Some(auth) = options
        .auth
        .as_ref()
        .filter(|a| a.kind == AuthType::ClientCert)
    else {
        return Ok(None);
    };
    match (&auth.client_cert, &auth.client_cert_key) {
        (Some(cert), Some(key)) => identity::load(&provider(), cert, key.expose(), identity::CLIENT_CERT).map(Some),
        _ => Err(TransportError::invalid_parameter(
            "replicator option 'auth' of type \"Client Cert\" needs both 'clientCert' and 'clientCertKey'",
        )),
    }
}

/// What makes two option sets need different TLS configurations: the cache key. Key material
/// is hashed, so the cache holds no copy of a private key.
fn cache_key(options: &Options) -> Vec<u8> {
    let mut key = vec![
        roots::DefaultRoots::from_env().tag(),
        options.accept_all_certs as u8,
        options.only_self_signed_server as u8,
    ];
    let mut field = |bytes: Option<&[u8]>| match bytes {
        Some(b) => {
            key.push(1);
            key.extend_from_slice(&(b.len() as u64).to_le_bytes());
            key.extend_from_slice(b);
        }
        None => key.push(0),
    };
    field(options.root_certs.as_deref());
    field(options.pinned_cert.as_deref());
    let auth = options
        .auth
        .as_ref()
        .filter(|a| a.kind == AuthType::ClientCert);
    field(auth.and_then(|a| a.client_cert.as_deref()));
    let key_hash = auth
        .and_then(|a| a.client_cert_key.as_ref())
        .map(|k| ring::digest::digest(&ring::digest::SHA256, k.expose()));
    field(key_hash.as_ref().map(|d| d.as_ref()));
    key
}

/// Configurations built once per key (a distinct TLS option set) and shared by every socket
/// that has it: rustls resumes a session only with the configuration that made it. Bounded,
/// since a process sees only a handful of distinct sets; past the bound it starts over.
struct ConfigCache {
    configs: Mutex<Option<HashMap<Vec<u8>, Arc<ClientConfig>>>>,
    bound: usize,
}

impl ConfigCache {
    const fn new(bound: usize) -> Self {
        ConfigCache {
            configs: Mutex::new(None),
            bound,
        }
    }

    fn get_or_build(
        &self,
        key: Vec<u8>,
        build: impl FnOnce() -> Result<ClientConfig, TransportError>,
    ) -> Result<Arc<ClientConfig>, TransportError> {
        let lock = || self.configs.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(found) = lock().as_ref().and_then(|m| m.get(&key)) {
            return Ok(found.clone());
        }
        // Built outside the lock: loading roots and keys takes a while.
        let mut config = build()?;
        // Sync Gateway speaks HTTP/2 only when configured to; the upgrade needs HTTP/1.1.
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        let config = Arc::new(config);
        let mut guard = lock();
        let map = guard.get_or_insert_with(HashMap::new);
        if map.len() >= self.bound {
            map.clear();
        }
        map.insert(key, config.clone());
        Ok(config)
    }
}

fn setup_error(e: impl std::fmt::Display) -> TransportError {
    TransportError::network(NetworkCode::TlsHandshakeFailed, format!("TLS setup: {e}"))
}

/// The client configuration for these options, built once per distinct TLS option set and
/// shared by every socket that has it.
pub fn config(options: &Options) -> Result<Arc<ClientConfig>, TransportError> {
    static CACHE: ConfigCache = ConfigCache::new(64);
    CACHE.get_or_build(cache_key(options), || {
        let verifier = verifier::ServerPolicy::new(
            policy(options)?,
            provider().signature_verification_algorithms,
        );
        let identity = client_identity(options)?;
        Ok(ClientConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .map_err(setup_error)?
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(verifier))
            .with_client_cert_resolver(Arc::new(ConfiguredIdentity(identity))))
    })
}

/// The configuration for TLS to an HTTPS proxy: the default anchors *plus* `rootCerts` (which may
/// be there for a private Sync Gateway CA while the proxy has a public certificate, or the
/// reverse), webpki's usual checks, no client certificate. The server-side policies
/// (`pinnedCert`, `onlySelfSignedServer`, `acceptAllCerts`) are about Sync Gateway, not the proxy.
pub fn proxy_config(options: &Options) -> Result<Arc<ClientConfig>, TransportError> {
    static CACHE: ConfigCache = ConfigCache::new(16);
    let mut key = vec![roots::DefaultRoots::from_env().tag()];
    key.extend_from_slice(options.root_certs.as_deref().unwrap_or_default());
    CACHE.get_or_build(key, || {
        let mut roots = roots::default_store(roots::DefaultRoots::from_env());
        if let Some(bytes) = &options.root_certs {
            roots.add_parsable_certificates(parse_certificates("rootCerts", bytes)?);
        }
        Ok(ClientConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .map_err(setup_error)?
            .with_root_certificates(roots)
            // No certificate to offer, but a proxy that asks for one is still noticed
            // (`handshake`).
            .with_client_cert_resolver(Arc::new(ConfiguredIdentity(None))))
    })
}

/// The TLS handshake over an established connection (TCP, or a tunnel through a proxy, which
/// may itself be TLS). The server's certificate is judged by
/// the configuration's policy; a refusal that follows the server's request for a client
/// certificate is reported as "required by peer" (none offered) or "rejected by peer".
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
    // The configuration is used as it is (a per-connection copy with its own resolver would
    // make every session impossible to resume); the per-connection probe is reached through a
    // task-local while the handshake is polled.
    let probe = Arc::new(identity::ClientCertProbe::new(
        config.client_auth_cert_resolver.has_certs(),
    ));
    let connect = TlsConnector::from(config).connect(name, io);
    match identity::CURRENT_PROBE.scope(probe.clone(), connect).await {
        Ok(stream) => Ok(stream),
        Err(e) => Err(client_cert_failure(
            map_handshake_error(&e, host),
            &probe,
            host,
        )),
    }
}

/// A generic handshake failure right after the server asked for a client certificate (TLS 1.2
/// servers answer a missing or refused certificate with handshake_failure) is reported as what it
/// is: "required by peer" when we had none to offer, "rejected by peer" when ours was refused.
fn client_cert_failure(
    mapped: TransportError,
    probe: &identity::ClientCertProbe,
    host: &str,
) -> TransportError {
    let generic = mapped.domain == crate::error::Domain::Network
        && mapped.code == NetworkCode::TlsHandshakeFailed as i32;
    if !probe.asked() || !generic {
        return mapped;
    }
    let (code, why) = if probe.offered() {
        (
            NetworkCode::TlsCertRejectedByPeer,
            crate::error::CLIENT_CERT_REJECTED,
        )
    } else {
        (
            NetworkCode::TlsCertRequiredByPeer,
            crate::error::CLIENT_CERT_REQUIRED,
        )
    };
    let prefix = format!("TLS handshake with {host}: ");
    let detail = mapped
        .message
        .strip_prefix(&prefix)
        .unwrap_or(&mapped.message);
    TransportError::network(code, format!("{prefix}{why}{detail}"))
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
    use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
    use rustls::client::danger::ServerCertVerifier;
    use rustls::pki_types::{CertificateDer, UnixTime};

    struct Made {
        der: CertificateDer<'static>,
        pem: String,
        spki: Vec<u8>,
    }

    fn ca(name: &str) -> CertifiedIssuer<'static, KeyPair> {
        let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
        p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        p.distinguished_name.push(DnType::CommonName, name);
        CertifiedIssuer::self_signed(p, KeyPair::generate().unwrap()).unwrap()
    }

    fn params(names: &[&str], cn: &str, years: (i32, i32)) -> CertificateParams {
        let mut p = CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())
            .unwrap();
        p.distinguished_name.push(DnType::CommonName, cn);
        p.not_before = rcgen::date_time_ymd(years.0, 1, 1);
        p.not_after = rcgen::date_time_ymd(years.1, 1, 1);
        p
    }

    fn leaf(issuer: &CertifiedIssuer<'static, KeyPair>, cn: &str, years: (i32, i32)) -> Made {
        let key = KeyPair::generate().unwrap();
        let cert = params(&["localhost"], cn, years)
            .signed_by(&key, issuer)
            .unwrap();
        Made {
            der: cert.der().clone(),
            pem: cert.pem(),
            spki: rcgen::PublicKeyData::subject_public_key_info(&key),
        }
    }

    /// `openssl req -x509` style: self-signed and CA:TRUE.
    fn self_signed_ca_style(years: (i32, i32)) -> Made {
        let key = KeyPair::generate().unwrap();
        let mut p = params(&["localhost"], "localhost", years);
        p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let cert = p.self_signed(&key).unwrap();
        Made {
            der: cert.der().clone(),
            pem: cert.pem(),
            spki: rcgen::PublicKeyData::subject_public_key_info(&key),
        }
    }

    const NOW: (i32, i32) = (2000, 2100);

    /// Runs the policy of `options` on a server chain for `host`: Ok, or the C4Error (code, message).
    fn judge(
        options: &Options,
        chain: &[&CertificateDer<'static>],
        host: &str,
    ) -> Result<(), (i32, String)> {
        let v = verifier::ServerPolicy::new(
            policy(options).map_err(|e| (e.code, e.message))?,
            provider().signature_verification_algorithms,
        );
        let name = ServerName::try_from(host.to_string()).unwrap();
        let intermediates: Vec<CertificateDer<'static>> =
            chain[1..].iter().map(|c| (*c).clone()).collect();
        v.verify_server_cert(chain[0], &intermediates, &name, &[], UnixTime::now())
            .map(|_| ())
            .map_err(|e| {
                let t = TransportError::from_tls(&e, host);
                (t.code, t.message)
            })
    }

    fn with_roots(pem: &str) -> Options {
        Options {
            root_certs: Some(pem.as_bytes().to_vec()),
            ..Options::default()
        }
    }

    #[test]
    fn anchors_chain_name_and_dates() {
        let root = ca("Test Root");
        let good = leaf(&root, "good", NOW);
        let o = with_roots(&root.pem());
        assert_eq!(judge(&o, &[&good.der], "localhost"), Ok(()));
        let (code, msg) = judge(&o, &[&good.der], "other.example").unwrap_err();
        assert_eq!(code, 15, "{msg}");
        assert!(
            msg.contains("CN=good") && msg.contains("other.example"),
            "{msg}"
        );
        let old = leaf(&root, "old", (2001, 2002));
        let (code, msg) = judge(&o, &[&old.der], "localhost").unwrap_err();
        assert_eq!(code, 7, "{msg}");
        assert!(
            msg.contains("CN=old") && msg.contains("expired on"),
            "{msg}"
        );
        let future = leaf(&root, "future", (2090, 2095));
        let (code, msg) = judge(&o, &[&future.der], "localhost").unwrap_err();
        assert_eq!(code, 8, "{msg}");
        assert!(msg.contains("not valid before"), "{msg}");
        // Another CA: unknown root.
        let stranger = leaf(&ca("Other Root"), "stranger", NOW);
        let (code, msg) = judge(&o, &[&stranger.der], "localhost").unwrap_err();
        assert_eq!(code, 11, "{msg}");
        assert!(msg.contains("CN=Other Root"), "{msg}");
    }

    #[test]
    fn self_signed_ca_certificate_as_its_own_root() {
        let me = self_signed_ca_style(NOW);
        let o = with_roots(&me.pem);
        assert_eq!(judge(&o, &[&me.der], "localhost"), Ok(()));
        assert_eq!(judge(&o, &[&me.der], "wrong.example").unwrap_err().0, 15);
        let old = self_signed_ca_style((2001, 2002));
        assert_eq!(
            judge(&with_roots(&old.pem), &[&old.der], "localhost")
                .unwrap_err()
                .0,
            7
        );
        // Without it in rootCerts: unknown root, and the message says how to trust it.
        let (code, msg) = judge(&with_roots(&ca("X").pem()), &[&me.der], "localhost").unwrap_err();
        assert_eq!(code, 11);
        assert!(msg.contains("self-signed"), "{msg}");
    }

    #[test]
    fn pinned_certificate_or_key() {
        let root = ca("Pin Root");
        let server = leaf(&root, "pinned", NOW);
        let other = leaf(&root, "other", NOW);
        let pin = |bytes: &[u8]| Options {
            pinned_cert: Some(bytes.to_vec()),
            ..Options::default()
        };
        // The leaf, as DER and as PEM; any host name (the pin is the identity).
        assert_eq!(
            judge(&pin(server.der.as_ref()), &[&server.der], "any.example"),
            Ok(())
        );
        assert_eq!(
            judge(&pin(server.pem.as_bytes()), &[&server.der], "localhost"),
            Ok(())
        );
        // A certificate of the chain (the CA sent as an intermediate).
        assert_eq!(
            judge(
                &pin(root.der().as_ref()),
                &[&server.der, root.der()],
                "localhost"
            ),
            Ok(())
        );
        // The leaf's public key, DER and PEM.
        assert_eq!(
            judge(&pin(&server.spki), &[&server.der], "localhost"),
            Ok(())
        );
        let key_pem = format!(
            "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n",
            base64::Engine::encode(&base64::engine::general_purpose::STANDARD, &server.spki)
        );
        assert_eq!(
            judge(&pin(key_pem.as_bytes()), &[&server.der], "localhost"),
            Ok(())
        );
        // Mismatch: untrusted, naming the certificate.
        let (code, msg) = judge(&pin(other.der.as_ref()), &[&server.der], "localhost").unwrap_err();
        assert_eq!(code, 8);
        assert!(
            msg.contains("CN=pinned") && msg.contains("pinnedCert"),
            "{msg}"
        );
        // Expiry still checked.
        let old = leaf(&root, "old", (2001, 2002));
        assert_eq!(
            judge(&pin(old.der.as_ref()), &[&old.der], "localhost")
                .unwrap_err()
                .0,
            7
        );
        // Garbage pins are refused when the options are read.
        for bad in [
            &b"junk"[..],
            b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
        ] {
            let e = policy(&pin(bad)).unwrap_err();
            assert_eq!(
                (e.domain, e.code),
                (crate::error::Domain::LiteCore, 9),
                "{}",
                e.message
            );
            assert!(e.message.contains("pinnedCert"));
        }
    }

    #[test]
    fn only_self_signed_and_accept_all() {
        let me = self_signed_ca_style(NOW);
        let issued = leaf(&ca("Some CA"), "issued", NOW);
        let o = Options {
            only_self_signed_server: true,
            ..Options::default()
        };
        assert_eq!(judge(&o, &[&me.der], "localhost"), Ok(()));
        assert_eq!(judge(&o, &[&me.der], "no-hostname-check.example"), Ok(()));
        let (code, msg) = judge(&o, &[&issued.der], "localhost").unwrap_err();
        assert_eq!(code, 8);
        assert!(
            msg.contains("onlySelfSignedServer") && msg.contains("CN=Some CA"),
            "{msg}"
        );
        let old = self_signed_ca_style((2001, 2002));
        assert_eq!(judge(&o, &[&old.der], "localhost").unwrap_err().0, 7);
        let all = Options {
            accept_all_certs: true,
            ..Options::default()
        };
        assert_eq!(judge(&all, &[&old.der], "whatever.example"), Ok(()));
    }

    #[test]
    fn client_identity_loading() {
        let root = ca("Client Root");
        let key = KeyPair::generate().unwrap();
        let cert = params(&[], "client", NOW).signed_by(&key, &root).unwrap();
        let auth = crate::options::Auth {
            kind: AuthType::ClientCert,
            client_cert: Some(cert.pem().into_bytes()),
            client_cert_key: Some(crate::options::Secret(key.serialize_pem().into_bytes())),
            ..Default::default()
        };
        let mut o = Options {
            auth: Some(auth),
            ..Options::default()
        };
        assert!(client_identity(&o).unwrap().is_some());
        // DER forms.
        let a = o.auth.as_mut().unwrap();
        a.client_cert = Some(cert.der().to_vec());
        a.client_cert_key = Some(crate::options::Secret(key.serialize_der()));
        assert!(client_identity(&o).unwrap().is_some());
        // Someone else's key.
        let a = o.auth.as_mut().unwrap();
        a.client_cert_key = Some(crate::options::Secret(
            KeyPair::generate().unwrap().serialize_der(),
        ));
        let e = client_identity(&o).unwrap_err();
        assert_eq!(e.code, 9);
        assert!(e.message.contains("do not match"), "{}", e.message);
        // Garbage key; missing key.
        let a = o.auth.as_mut().unwrap();
        a.client_cert_key = Some(crate::options::Secret(b"nope".to_vec()));
        assert!(client_identity(&o)
            .unwrap_err()
            .message
            .contains("clientCertKey"));
        o.auth.as_mut().unwrap().client_cert_key = None;
        assert!(client_identity(&o)
            .unwrap_err()
            .message
            .contains("needs both"));
    }

    #[test]
    fn configs_are_shared_per_tls_option_set() {
        let root = ca("Cache Root");
        let a = config(&with_roots(&root.pem())).unwrap();
        let b = config(&with_roots(&root.pem())).unwrap();
        assert!(Arc::ptr_eq(&a, &b));
        let pinned = Options {
            pinned_cert: Some(root.der().to_vec()),
            ..Options::default()
        };
        assert!(!Arc::ptr_eq(&a, &config(&pinned).unwrap()));
    }

    #[test]
    fn default_configs_are_shared_and_offer_http11() {
        let o = Options::default();
        let a = config(&o).unwrap();
        let b = config(&o).unwrap();
        assert!(Arc::ptr_eq(&a, &b));
        assert_eq!(a.alpn_protocols, vec![b"http/1.1".to_vec()]);
    }
    /// Found by the transport benchmark (benches/transport.rs): a per-connection copy of the
    /// configuration with its own certificate resolver made rustls refuse every stored session,
    /// so each wss connection paid a full handshake (certificate chain and signature checks).
    /// A second connection with the same options must resume, and still see the server's
    /// certificate (for `gotPeerCertificate`).
    #[tokio::test]
    async fn second_connection_resumes_the_tls_session() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let root = ca("Resume Root");
        let key = KeyPair::generate().unwrap();
        let cert = params(&["localhost"], "resume", NOW)
            .signed_by(&key, &root)
            .unwrap();
        let server = rustls::ServerConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(
                vec![cert.der().clone()],
                rustls::pki_types::PrivateKeyDer::try_from(key.serialize_der()).unwrap(),
            )
            .unwrap();
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(server));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                if let Ok(mut tls) = acceptor.accept(tcp).await {
                    // Session tickets go out with the first data.
                    let _ = tls.write_all(b"x").await;
                    let _ = tls.flush().await;
                    let mut rest = Vec::new();
                    let _ = tls.read_to_end(&mut rest).await;
                }
            }
        });
        let options = with_roots(&root.pem());
        let mut kinds = Vec::new();
        for _ in 0..2 {
            let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
            let mut tls = handshake(tcp, "localhost", config(&options).unwrap())
                .await
                .unwrap();
            let mut one = [0u8; 1];
            tls.read_exact(&mut one).await.unwrap();
            let (_, session) = tls.get_ref();
            assert!(session.peer_certificates().is_some_and(|c| !c.is_empty()));
            kinds.push(session.handshake_kind());
            let _ = tls.shutdown().await;
        }
        assert_eq!(
            kinds,
            vec![
                Some(rustls::HandshakeKind::Full),
                Some(rustls::HandshakeKind::Resumed)
            ]
        );
    }
}
