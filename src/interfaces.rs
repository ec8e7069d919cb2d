//! The addresses of this host's network interfaces (`getifaddrs`), which std does not wrap: the
//! client's `networkInterface` option, and the listener's bind address and URLs, need them.
//!
//! The one module outside `ffi/` allowed `unsafe` (each block with its SAFETY line): it is an OS
//! call, not the C boundary, and keeping it here keeps the connect path free of `ffi` imports.

#![allow(unsafe_code)]

use std::ffi::CStr;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// One entry of the interface list: its name and, for IPv4/IPv6 entries, its address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InterfaceAddress {
    pub interface: String,
    pub ip: Option<IpAddr>,
}

/// Every interface entry of this host, in the order the OS lists them. Empty when the list
/// cannot be read.
pub fn all() -> Vec<InterfaceAddress> {
    let mut head: *mut libc::ifaddrs = std::ptr::null_mut();
    // SAFETY: getifaddrs writes a list head we own until freeifaddrs; on failure it writes nothing.
    if unsafe { libc::getifaddrs(&mut head) } != 0 {
        return Vec::new();
    }
    let mut out = Vec::new();
    let mut cur = head;
    while !cur.is_null() {
        // SAFETY: `cur` is a node of the list getifaddrs returned, alive until freeifaddrs.
        let ifa = unsafe { &*cur };
        cur = ifa.ifa_next;
        if ifa.ifa_name.is_null() {
            continue;
        }
        // SAFETY: ifa_name is a NUL-terminated string owned by the list.
        let name = unsafe { CStr::from_ptr(ifa.ifa_name) }
            .to_string_lossy()
            .into_owned();
        let ip = if ifa.ifa_addr.is_null() {
            None
        } else {
            // SAFETY: ifa_addr points to a sockaddr whose sa_family says which struct it is.
            match i32::from(unsafe { (*ifa.ifa_addr).sa_family }) {
                libc::AF_INET => {
                    // SAFETY: family AF_INET: the storage is a sockaddr_in.
                    let sin = unsafe { &*ifa.ifa_addr.cast::<libc::sockaddr_in>() };
                    Some(IpAddr::V4(Ipv4Addr::from(u32::from_be(
                        sin.sin_addr.s_addr,
                    ))))
                }
                libc::AF_INET6 => {
                    // SAFETY: family AF_INET6: the storage is a sockaddr_in6.
                    let sin6 = unsafe { &*ifa.ifa_addr.cast::<libc::sockaddr_in6>() };
                    Some(IpAddr::V6(Ipv6Addr::from(sin6.sin6_addr.s6_addr)))
                }
                _ => None,
            }
        };
        out.push(InterfaceAddress {
            interface: name,
            ip,
        });
    }
    // SAFETY: `head` came from a successful getifaddrs and is freed once.
    unsafe { libc::freeifaddrs(head) };
    out
}

/// The IP addresses of the network interface named `name`. `None` when no interface has that
/// name; an empty list when it exists without an IP address.
pub fn interface_addresses(name: &str) -> Option<Vec<IpAddr>> {
    let entries: Vec<InterfaceAddress> =
        all().into_iter().filter(|e| e.interface == name).collect();
    (!entries.is_empty()).then(|| entries.into_iter().filter_map(|e| e.ip).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_has_its_address_and_bogus_names_have_none() {
        let lo = interface_addresses("lo").expect("Linux has lo");
        assert!(lo.contains(&IpAddr::V4(Ipv4Addr::LOCALHOST)), "{lo:?}");
        assert_eq!(interface_addresses("nosuchif0"), None);
        assert!(all()
            .iter()
            .any(|e| e.interface == "lo" && e.ip == Some(IpAddr::V4(Ipv4Addr::LOCALHOST))));
    }
}
