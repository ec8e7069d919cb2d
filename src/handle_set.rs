//! The set of live socket handles' addresses that the C boundary checks on every call (kept out
//! of `ffi/` because cbindgen reads that folder and cannot read this type).

use std::collections::HashSet;
use std::hash::{BuildHasherDefault, Hasher};

/// Every write and `completedReceive` looks its socket up here, so the key (an address we made,
/// never chosen by a peer, so no flooding defence is needed) is hashed with a few arithmetic
/// steps instead of SipHash.
pub type HandleSet = HashSet<usize, BuildHasherDefault<AddressHasher>>;

/// The hasher of [`HandleSet`]: SplitMix64's finalizer over the address.
#[derive(Default)]
pub struct AddressHasher(u64);

impl Hasher for AddressHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(u64::from(b));
        }
    }
    fn write_u64(&mut self, n: u64) {
        // SplitMix64's finalizer: two multiplies, and every output bit (the table uses the low
        // ones for the bucket, the high ones for its tag) depends on every bit of the address.
        let mut x = self.0 ^ n;
        x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        self.0 = x ^ (x >> 31);
    }
    fn write_usize(&mut self, n: usize) {
        self.write_u64(n as u64);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn address_hash_spreads_neighbouring_addresses() {
        use std::hash::BuildHasher;
        let build = BuildHasherDefault::<AddressHasher>::default();
        // Boxes 64 bytes apart, as the allocator hands out SocketHandles.
        let hashes: Vec<u64> = (0..1024usize)
            .map(|i| build.hash_one(0x5555_0000_1000 + i * 64))
            .collect();
        let low: HashSet<u64> = hashes.iter().map(|h| h & 0x3ff).collect();
        let top: HashSet<u64> = hashes.iter().map(|h| h >> 57).collect();
        assert!(
            low.len() > 600,
            "bucket bits: {} distinct of 1024",
            low.len()
        );
        assert_eq!(top.len(), 128, "tag bits: every value used");
        let mut set = HandleSet::default();
        assert!(set.insert(0x1000) && set.contains(&0x1000) && !set.contains(&0x1040));
    }
}
