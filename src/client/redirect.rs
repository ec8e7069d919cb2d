//! Following a redirect: where a 3xx answer's `Location` points, and whether it may be followed.

use super::response::Response;
use crate::address::Address;
use crate::error::{NetworkCode, TransportError};

/// Where a redirect answer points. `Location` may be a path on the same server or an absolute
/// `http(s)` / `ws(s)` URL (http maps to ws, https to wss). Going from wss to ws is refused:
/// `{Network, 12 InvalidRedirect}`, as is anything unparseable.
pub fn target(current: &Address, response: &Response) -> Result<Address, TransportError> {
    let invalid = |why: String| TransportError::network(NetworkCode::InvalidRedirect, why);
    let location = response
        .header_str("location")
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .ok_or_else(|| invalid(format!("HTTP {} without a Location", response.status)))?;
    let next = if location.starts_with('/') {
        Address {
            path: location.to_string(),
            ..current.clone()
        }
    } else {
        parse_url(location)
            .ok_or_else(|| invalid(format!("cannot follow the redirect to {location:?}")))?
    };
    if current.is_tls() && !next.is_tls() {
        return Err(invalid(format!(
            "refusing a redirect from wss to {location:?} (not encrypted)"
        )));
    }
    next.validate()
        .map_err(|e| invalid(format!("redirect to {location:?}: {}", e.message)))?;
    Ok(next)
}

/// Parses `scheme://host[:port]/path` for ws, wss, http and https (http → ws, https → wss).
pub fn parse_url(url: &str) -> Option<Address> {
    let (scheme, rest) = url.split_once("://")?;
    let scheme = match scheme.to_ascii_lowercase().as_str() {
        "ws" | "http" => "ws",
        "wss" | "https" => "wss",
        _ => return None,
    };
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    if authority.contains('@') {
        return None; // credentials in a redirect URL are not followed
    }
    let default_port = if scheme == "wss" { 443 } else { 80 };
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (host, after) = v6.split_once(']')?;
        let port = match after.strip_prefix(':') {
            Some(p) => p.parse().ok()?,
            None if after.is_empty() => default_port,
            None => return None,
        };
        (host.to_string(), port)
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h.to_string(), p.parse().ok()?),
            None => (authority.to_string(), default_port),
        }
    };
    Some(Address {
        scheme: scheme.into(),
        host,
        port,
        path: path.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::client::response::test_response as response;

    #[test]
    fn redirects() {
        let here = Address {
            scheme: "wss".into(),
            host: "sg".into(),
            port: 4984,
            path: "/db/_blipsync".into(),
        };
        let r = |status: u16, location: &str| {
            target(&here, &response(status, &[("Location", location)]))
        };
        let next = r(307, "/other/_blipsync").unwrap();
        assert_eq!(
            (next.host.as_str(), next.port, next.path.as_str()),
            ("sg", 4984, "/other/_blipsync")
        );
        let next = r(301, "https://b.example:8443/db/_blipsync?x=1").unwrap();
        assert_eq!(
            (next.scheme.as_str(), next.host.as_str(), next.port),
            ("wss", "b.example", 8443)
        );
        assert_eq!(next.path, "/db/_blipsync?x=1");
        let next = r(302, "wss://[::1]/db").unwrap();
        assert_eq!(
            (next.host.as_str(), next.port, next.path.as_str()),
            ("::1", 443, "/db")
        );
        for bad in [
            "ws://sg/db",
            "http://sg/db",
            "ftp://x/y",
            "relative/path",
            "https://u:p@h/db",
            "https://h:99999/",
        ] {
            assert_eq!(r(302, bad).unwrap_err().code, 12, "{bad}");
        }
        assert_eq!(target(&here, &response(302, &[])).unwrap_err().code, 12);
        // From ws, going up to wss is fine.
        let plain = Address {
            scheme: "ws".into(),
            ..here.clone()
        };
        let up = target(&plain, &response(302, &[("Location", "https://sg/db")])).unwrap();
        assert!(up.is_tls());
    }
}
