//! How an entry's Merkle leaf hash is derived from the body the log
//! stores. By default the leaf is the whole body (RFC 6962 leaf hash of
//! the stored bytes, as tlog-tiles and Rekor v2 have it). A personality
//! whose stored entries carry more than the hashed leaf (the C2SP
//! static-ct-api `TileLeaf`: the RFC 6962 leaf followed by the
//! precertificate and the chain fingerprints) says which part is hashed.
//! A leaf module: it imports nothing of the crate.

use keyless_tlog::Hash;

/// Derives the leaf hash of a stored entry. Used when an entry is
/// submitted and when the log recovers its last partial tile, so it must
/// be a pure function of the body.
pub trait LeafHasher: Send + Sync + std::fmt::Debug {
    /// The Merkle leaf hash of `body`, or `None` if `body` is not an
    /// entry this log can hash (the submission is refused; at recovery
    /// the log is reported corrupt).
    fn leaf_hash(&self, body: &[u8]) -> Option<Hash>;
}

/// The default: RFC 6962 leaf hash of the whole body.
#[derive(Debug, Clone, Copy, Default)]
pub struct WholeBody;

impl LeafHasher for WholeBody {
    fn leaf_hash(&self, body: &[u8]) -> Option<Hash> {
        Some(keyless_tlog::leaf_hash(body))
    }
}

/// Rewrites an entry once the sequencer has given it its index, for a
/// personality whose stored entries carry their own index (the C2SP
/// static-ct-api `leaf_index` SCT extension is inside the leaf). Called
/// on the sequencer thread for every new entry, in index order, before
/// the entry is hashed into the tree. It cannot fail: the index is
/// already taken, so it must handle every body the log's
/// [`LeafHasher`] accepted, and return the new body with the leaf hash
/// that hasher gives for it.
pub trait IndexStamper: Send + Sync + std::fmt::Debug {
    fn stamp(&self, index: u64, body: Vec<u8>) -> (Vec<u8>, Hash);
}
