//! Fuzzes certificate input: `parse_certificates` (PEM or DER from rootCerts / pinnedCert) and
//! the X.509 reading of each certificate (`CertInfo::parse`, validity, key detection).

#![no_main]

use libfuzzer_sys::fuzz_target;
use litecore_ws::internals::{is_public_key, parse_certificates, CertInfo};

fuzz_target!(|data: &[u8]| {
    let _ = is_public_key(data);
    if let Ok(certs) = parse_certificates("pinnedCert", data) {
        assert!(!certs.is_empty());
        for der in &certs {
            if let Some(info) = CertInfo::parse(der) {
                let _ = info.check_validity(0);
                let _ = info.check_validity(i64::MAX);
                let _ = info.check_validity(i64::MIN);
            }
        }
    }
    if let Some(info) = CertInfo::parse(data) {
        let _ = info.check_validity(1_700_000_000);
    }
});
