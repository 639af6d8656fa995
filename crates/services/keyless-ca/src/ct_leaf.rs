//! The C2SP static-ct-api `TileLeaf`: what the CT log stores per entry
//! and serves in its data tiles (`/ct/tile/data/<N>`).
//!
//! ```text
//! struct {
//!     TimestampedEntry timestamped_entry;        // RFC 6962 §3.4
//!     select (entry_type) {
//!         case x509_entry: Empty;
//!         case precert_entry: ASN.1Cert pre_certificate;
//!     };
//!     Fingerprint certificate_chain<0..2^16-1>;   // SHA-256 of each issuer
//! } TileLeaf;
//! ```
//!
//! The Merkle leaf is RFC 6962's `MerkleTreeLeaf` (v1, timestamped_entry)
//! = `00 00 || timestamped_entry`, a part of the stored entry:
//! [`TileLeafHasher`] tells the log core which part.

use keyless_log::{IndexStamper, LeafHasher};
use keyless_tlog::Hash;
use thiserror::Error;

/// RFC 6962 `LogEntryType`.
pub const X509_ENTRY: u16 = 0;
/// RFC 6962 `LogEntryType`.
pub const PRECERT_ENTRY: u16 = 1;

/// A `TileLeaf` that does not parse.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[error("malformed TileLeaf: {0}")]
pub struct TileLeafError(&'static str);

/// The entry a `TileLeaf` logs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LeafEntry<'a> {
    /// An `add-chain` certificate (DER).
    X509 { certificate: &'a [u8] },
    /// An `add-pre-chain` precertificate: the signed `PreCert` (issuer
    /// key hash, TBS without poison) and the submitted precertificate.
    Precert {
        issuer_key_hash: [u8; 32],
        tbs_certificate: &'a [u8],
        pre_certificate: &'a [u8],
    },
}

/// One parsed `TileLeaf`, borrowing from the data tile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TileLeaf<'a> {
    /// The RFC 6962 `TimestampedEntry`, as encoded.
    pub timestamped_entry: &'a [u8],
    /// Milliseconds since the Unix epoch (the SCT's timestamp).
    pub timestamp: u64,
    pub entry: LeafEntry<'a>,
    /// The SCT's `CtExtensions`.
    pub extensions: &'a [u8],
    /// SHA-256 of each issuer in the submitted chain, issuer first.
    pub chain: Vec<[u8; 32]>,
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], TileLeafError> {
        if self.0.len() < n {
            return Err(TileLeafError(what));
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }
    fn uint(&mut self, bytes: usize, what: &'static str) -> Result<u64, TileLeafError> {
        Ok(self
            .take(bytes, what)?
            .iter()
            .fold(0u64, |acc, b| (acc << 8) | u64::from(*b)))
    }
    fn vec(&mut self, len_bytes: usize, what: &'static str) -> Result<&'a [u8], TileLeafError> {
        let n = usize::try_from(self.uint(len_bytes, what)?).map_err(|_| TileLeafError(what))?;
        self.take(n, what)
    }
}

impl<'a> TileLeaf<'a> {
    /// Parse the first `TileLeaf` of `data`; returns it and the rest.
    pub fn parse_one(data: &'a [u8]) -> Result<(Self, &'a [u8]), TileLeafError> {
        let mut r = Reader(data);
        let timestamp = r.uint(8, "truncated timestamp")?;
        let entry_type = r.uint(2, "truncated entry type")?;
        let entry = match u16::try_from(entry_type) {
            Ok(X509_ENTRY) => LeafEntry::X509 {
                certificate: r.vec(3, "truncated certificate")?,
            },
            Ok(PRECERT_ENTRY) => {
                let ikh = r.take(32, "truncated issuer key hash")?;
                let mut issuer_key_hash = [0u8; 32];
                issuer_key_hash.copy_from_slice(ikh);
                LeafEntry::Precert {
                    issuer_key_hash,
                    tbs_certificate: r.vec(3, "truncated TBS certificate")?,
                    pre_certificate: &[],
                }
            }
            _ => return Err(TileLeafError("unknown entry type")),
        };
        let extensions = r.vec(2, "truncated extensions")?;
        let te_len = data.len() - r.0.len();
        let timestamped_entry = &data[..te_len];
        let entry = match entry {
            LeafEntry::Precert {
                issuer_key_hash,
                tbs_certificate,
                ..
            } => LeafEntry::Precert {
                issuer_key_hash,
                tbs_certificate,
                pre_certificate: r.vec(3, "truncated precertificate")?,
            },
            x509 => x509,
        };
        let fps = r.vec(2, "truncated chain")?;
        if fps.len() % 32 != 0 {
            return Err(TileLeafError("chain is not a list of SHA-256 fingerprints"));
        }
        let chain = fps
            .chunks_exact(32)
            .map(|c| {
                let mut f = [0u8; 32];
                f.copy_from_slice(c);
                f
            })
            .collect();
        Ok((
            Self {
                timestamped_entry,
                timestamp,
                entry,
                extensions,
                chain,
            },
            r.0,
        ))
    }

    /// Parse a whole data tile: `TileLeaf`s back to back, nothing after.
    pub fn parse_tile(mut data: &'a [u8]) -> Result<Vec<Self>, TileLeafError> {
        let mut out = Vec::new();
        while !data.is_empty() {
            let (leaf, rest) = Self::parse_one(data)?;
            out.push(leaf);
            data = rest;
        }
        Ok(out)
    }

    /// RFC 6962 `MerkleTreeLeaf`: version v1, leaf type timestamped_entry.
    pub fn merkle_tree_leaf(&self) -> Vec<u8> {
        let mut leaf = Vec::with_capacity(2 + self.timestamped_entry.len());
        leaf.extend_from_slice(&[0, 0]);
        leaf.extend_from_slice(self.timestamped_entry);
        leaf
    }

    /// The RFC 6962 leaf hash of [`Self::merkle_tree_leaf`].
    pub fn leaf_hash(&self) -> Hash {
        keyless_tlog::leaf_hash(&self.merkle_tree_leaf())
    }
}

fn put_vec(out: &mut Vec<u8>, len_bytes: usize, data: &[u8]) -> Result<(), TileLeafError> {
    let len = data.len() as u64;
    if len >> (8 * len_bytes) != 0 {
        return Err(TileLeafError("field too long for its length prefix"));
    }
    out.extend_from_slice(&len.to_be_bytes()[8 - len_bytes..]);
    out.extend_from_slice(data);
    Ok(())
}

/// Build a `TileLeaf` from the SCT's signed data (`00 00 ||
/// timestamped_entry`, which is the `MerkleTreeLeaf` too), the submitted
/// precertificate (precert entries only) and the issuers' fingerprints.
pub(crate) fn encode(
    signed_data: &[u8],
    pre_certificate: Option<&[u8]>,
    chain: &[[u8; 32]],
) -> Result<Vec<u8>, TileLeafError> {
    let te = signed_data
        .get(2..)
        .ok_or(TileLeafError("signed data shorter than its header"))?;
    let mut out = Vec::with_capacity(
        te.len() + pre_certificate.map_or(0, |p| p.len() + 3) + 2 + 32 * chain.len(),
    );
    out.extend_from_slice(te);
    if let Some(p) = pre_certificate {
        put_vec(&mut out, 3, p)?;
    }
    put_vec(&mut out, 2, &chain.concat())?;
    Ok(out)
}

/// The RFC 6962 `MerkleTreeLeaf` of an x509 entry (which is also the SCT's
/// signed data: its first two bytes, v1 and certificate_timestamp, are the
/// same zeros as v1 and timestamped_entry).
pub(crate) fn x509_signed_data(
    timestamp: u64,
    certificate: &[u8],
    extensions: &[u8],
) -> Result<Vec<u8>, TileLeafError> {
    let mut out = Vec::with_capacity(2 + 8 + 2 + 3 + certificate.len() + 2 + extensions.len());
    out.extend_from_slice(&[0, 0]);
    out.extend_from_slice(&timestamp.to_be_bytes());
    out.extend_from_slice(&X509_ENTRY.to_be_bytes());
    put_vec(&mut out, 3, certificate)?;
    put_vec(&mut out, 2, extensions)?;
    Ok(out)
}

/// The static-ct-api `leaf_index` SCT extension of entry `index`, as the
/// whole `CtExtensions` list: type 0, a u16 length of 5, the index as a
/// big-endian 40-bit integer (8 bytes; indices past 2^40 cannot occur in
/// a log of this size and keep their low 40 bits).
pub fn leaf_index_extensions(index: u64) -> [u8; 8] {
    let b = index.to_be_bytes();
    [0, 0, 5, b[3], b[4], b[5], b[6], b[7]]
}

/// Replace the empty extensions at the end of `signed` (the SCT's signed
/// data = `00 00 || timestamped_entry`, built with no extensions) by
/// `extensions`.
pub(crate) fn with_extensions(signed: &[u8], extensions: &[u8]) -> Vec<u8> {
    let head = &signed[..signed.len().saturating_sub(2)];
    let mut out = Vec::with_capacity(head.len() + 2 + extensions.len());
    out.extend_from_slice(head);
    out.extend_from_slice(&(extensions.len() as u16).to_be_bytes());
    out.extend_from_slice(extensions);
    out
}

/// The log core's [`IndexStamper`] for `TileLeaf` entries: once the entry
/// has its index, its timestamped entry gets the `leaf_index` extension
/// (which the SCT, signed after the commit, carries too).
#[derive(Debug, Clone, Copy, Default)]
pub struct TileLeafStamper;

impl IndexStamper for TileLeafStamper {
    fn stamp(&self, index: u64, body: Vec<u8>) -> (Vec<u8>, Hash) {
        let Ok((leaf, _)) = TileLeaf::parse_one(&body) else {
            // Not reached: the log's TileLeafHasher refused such a body
            // at submission. Stored as is, it fails the recovery check.
            let hash = keyless_tlog::leaf_hash(&body);
            return (body, hash);
        };
        let te = leaf.timestamped_entry;
        let head = &te[..te.len() - 2 - leaf.extensions.len()];
        let ext = leaf_index_extensions(index);
        let mut out = Vec::with_capacity(body.len() + ext.len());
        out.extend_from_slice(head);
        out.extend_from_slice(&(ext.len() as u16).to_be_bytes());
        out.extend_from_slice(&ext);
        let merkle = [&[0u8, 0][..], &out].concat();
        // The precertificate and chain after the timestamped entry.
        out.extend_from_slice(&body[te.len()..]);
        (out, keyless_tlog::leaf_hash(&merkle))
    }
}

/// The log core's [`LeafHasher`] for `TileLeaf` entries: the leaf is the
/// `MerkleTreeLeaf` inside; an entry with trailing bytes is refused.
#[derive(Debug, Clone, Copy, Default)]
pub struct TileLeafHasher;

impl LeafHasher for TileLeafHasher {
    fn leaf_hash(&self, body: &[u8]) -> Option<Hash> {
        match TileLeaf::parse_one(body) {
            Ok((leaf, [])) => Some(leaf.leaf_hash()),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tile_leaves_round_trip_and_hash_their_merkle_leaf() {
        let signed = keyless_x509::precert_signed_data(7, &[9u8; 32], b"tbs", &[]).unwrap();
        let pre = encode(&signed, Some(b"precert"), &[[1u8; 32], [2u8; 32]]).unwrap();
        let cert_signed = x509_signed_data(8, b"cert", &[]).unwrap();
        let x509 = encode(&cert_signed, None, &[[3u8; 32]]).unwrap();
        let tile = [pre.clone(), x509.clone()].concat();
        let leaves = TileLeaf::parse_tile(&tile).unwrap();
        assert_eq!(leaves.len(), 2);
        assert_eq!(leaves[0].timestamp, 7);
        assert_eq!(
            leaves[0].entry,
            LeafEntry::Precert {
                issuer_key_hash: [9u8; 32],
                tbs_certificate: b"tbs",
                pre_certificate: b"precert"
            }
        );
        assert_eq!(leaves[0].chain, vec![[1u8; 32], [2u8; 32]]);
        assert_eq!(leaves[0].merkle_tree_leaf(), signed);
        assert_eq!(
            leaves[1].entry,
            LeafEntry::X509 {
                certificate: b"cert"
            }
        );
        assert_eq!(leaves[1].merkle_tree_leaf(), cert_signed);
        assert_eq!(
            TileLeafHasher.leaf_hash(&pre),
            Some(keyless_tlog::leaf_hash(&signed))
        );
        // Trailing bytes, truncation and bad fingerprints are refused.
        assert_eq!(TileLeafHasher.leaf_hash(&tile), None);
        assert_eq!(TileLeafHasher.leaf_hash(&pre[..pre.len() - 1]), None);
        let mut odd = x509.clone();
        odd.truncate(odd.len() - 34);
        odd.extend_from_slice(&[0, 31]);
        odd.extend_from_slice(&[0u8; 31]);
        assert!(TileLeaf::parse_one(&odd).is_err());
    }

    #[test]
    fn the_stamper_adds_the_leaf_index_extension() {
        let signed = keyless_x509::precert_signed_data(7, &[9u8; 32], b"tbs", &[]).unwrap();
        let body = encode(&signed, Some(b"precert"), &[[1u8; 32]]).unwrap();
        let (stamped, hash) = TileLeafStamper.stamp(0x01_0203_0405, body);
        let (leaf, rest) = TileLeaf::parse_one(&stamped).unwrap();
        assert!(rest.is_empty());
        assert_eq!(leaf.extensions, &[0, 0, 5, 1, 2, 3, 4, 5]);
        assert_eq!(leaf.chain, vec![[1u8; 32]]);
        assert!(matches!(
            leaf.entry,
            LeafEntry::Precert {
                pre_certificate: b"precert",
                ..
            }
        ));
        // The leaf is what the SCT signs with the same extensions.
        let ext = leaf_index_extensions(0x01_0203_0405);
        let signed_ext = keyless_x509::precert_signed_data(7, &[9u8; 32], b"tbs", &ext).unwrap();
        assert_eq!(with_extensions(&signed, &ext), signed_ext);
        assert_eq!(leaf.merkle_tree_leaf(), signed_ext);
        assert_eq!(hash, keyless_tlog::leaf_hash(&signed_ext));
        assert_eq!(TileLeafHasher.leaf_hash(&stamped), Some(hash));
    }
}
