//! RFC 6962 §2.1 hashing.
//!
//! Leaves and interior nodes are hashed with different one-byte prefixes so
//! that a leaf can never be passed off as an interior node (second-preimage
//! protection). Everything here is SHA-256, the only hash Rekor and the C2SP
//! tlog specs use.

use keyless_crypto::{sha256, sha256_concat};

/// A SHA-256 Merkle tree hash.
pub type Hash = [u8; 32];

/// The root of the empty tree: SHA-256 of the empty string (RFC 6962 §2.1).
pub const EMPTY_ROOT: Hash = [
    0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4, 0xc8, 0x99, 0x6f, 0xb9, 0x24,
    0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b, 0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55,
];

/// `SHA-256(0x00 || data)`: the hash of a log entry as it sits in the tree.
pub fn leaf_hash(data: &[u8]) -> Hash {
    sha256_concat(&[&[0x00], data])
}

/// `SHA-256(0x01 || left || right)`: the hash of an interior node.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut buf = [0u8; 65];
    buf[0] = 0x01;
    buf[1..33].copy_from_slice(left);
    buf[33..].copy_from_slice(right);
    sha256(&buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_root_is_sha256_of_nothing() {
        assert_eq!(EMPTY_ROOT, sha256(b""));
    }

    #[test]
    fn rfc6962_known_answers() {
        // From the RFC 6962 test vectors used by certificate-transparency-go.
        assert_eq!(
            crate::hex::hex(&leaf_hash(b"")),
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
        );
        // Root of the two-leaf tree of the first two vector leaves, "" and 0x00.
        let l0 = leaf_hash(b"");
        let l1 = leaf_hash(&[0x00]);
        assert_eq!(
            crate::hex::hex(&node_hash(&l0, &l1)),
            "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"
        );
    }
}
