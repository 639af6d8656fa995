//! RFC 6962 Certificate Transparency: the SCT type (defined in
//! [`crate::sct`], re-exported here), the submitter trait, and an
//! in-memory log.
//!
//! The CA submits each precertificate here before it signs the final
//! certificate (fail-closed: no SCT, no certificate). The log checks the
//! chain, appends a Merkle leaf and answers with a v1 SCT signed by its
//! own ECDSA P-256 key; the log ID is SHA-256 of that key's SPKI. The SCT
//! wire encoding and the signed entry are keyless-x509's, shared with the
//! verifier.
//!
//! [`CtLog`] keeps its tree in memory, and only as its right edge
//! ([`CompactTree`]): enough to append and to sign tree heads in O(log n),
//! not to serve entries or proofs, and lost on restart. Tests and
//! embedders use it; the CA's server logs through
//! [`crate::DurableCtLog`], which commits each entry to the durable log
//! core before its SCT is returned.

use std::sync::{Arc, Mutex};

use keyless_crypto::{PublicKey, SigningKey};
use keyless_tlog::Hash;
use keyless_x509::Certificate;

use crate::ct_front::{now_ms, CtFront};
use crate::error::CtError;
pub use crate::sct::SignedCertificateTimestamp;

fn u16_len(n: usize) -> Result<[u8; 2], CtError> {
    u16::try_from(n)
        .map(u16::to_be_bytes)
        .map_err(|_| CtError::FieldTooLong)
}

/// Anything that turns a precertificate chain into an SCT: the in-process
/// log, or (later) a client for a remote one.
pub trait CtSubmitter: Send + Sync {
    /// RFC 6962 §4.1 `add-pre-chain`: `chain[0]` is the precertificate,
    /// then its issuer, up to a root.
    fn add_pre_chain(&self, chain: &[Vec<u8>]) -> Result<SignedCertificateTimestamp, CtError>;

    /// The same, submitted by the CA that has just signed `chain[0]` itself,
    /// in this process. A log may skip re-verifying that one signature (it
    /// was made a moment ago with the key the CA holds); everything else is
    /// checked as for [`CtSubmitter::add_pre_chain`]. The default is exactly
    /// `add_pre_chain`, which is what a remote log must do.
    fn add_own_pre_chain(&self, chain: &[Vec<u8>]) -> Result<SignedCertificateTimestamp, CtError> {
        self.add_pre_chain(chain)
    }
}

/// The RFC 6962 Merkle tree of the log, kept as its right edge: the roots
/// of the perfect subtrees that make up the first `size` leaves, largest
/// first (one per set bit of `size`). Appending merges equal-sized
/// subtrees (amortized O(1) hashes), and the root of the whole tree takes
/// at most one hash per subtree (O(log n)). Leaf hashes are not kept, so
/// `get-sth` cannot rehash every leaf: its cost does not grow with the
/// number of entries.
#[derive(Debug, Clone, Default)]
pub struct CompactTree {
    size: u64,
    /// `(height, root)` of each perfect subtree, largest (leftmost) first.
    edge: Vec<(u32, Hash)>,
}

impl CompactTree {
    /// An empty tree.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of leaves.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Number of subtree roots kept: the number of set bits of the size.
    pub fn edge_len(&self) -> usize {
        self.edge.len()
    }

    /// Append one leaf hash.
    pub fn push(&mut self, leaf: Hash) {
        let mut node = (0u32, leaf);
        while let Some(&(height, left)) = self.edge.last() {
            if height != node.0 {
                break;
            }
            self.edge.pop();
            node = (height + 1, keyless_tlog::node_hash(&left, &node.1));
        }
        self.edge.push(node);
        self.size += 1;
    }

    /// RFC 6962 §2.1 Merkle tree hash of all leaves: the subtree roots
    /// folded from the right, `edge_len() - 1` node hashes.
    pub fn root(&self) -> Hash {
        let mut nodes = self.edge.iter().rev().map(|(_, h)| *h);
        let Some(mut acc) = nodes.next() else {
            return keyless_tlog::EMPTY_ROOT;
        };
        for left in nodes {
            acc = keyless_tlog::node_hash(&left, &acc);
        }
        acc
    }
}

/// The in-memory CT log: for tests and embedders that need SCTs but no
/// durable log. The CA's server uses [`crate::DurableCtLog`].
pub struct CtLog {
    front: CtFront,
    /// The tree, and its root as of its current size (computed by the
    /// first `get-sth` after a change, reused until the next append).
    tree: Mutex<(CompactTree, Option<Hash>)>,
}

impl std::fmt::Debug for CtLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CtLog")
            .field("log_id", &hex::encode(self.front.log_id()))
            .finish_non_exhaustive()
    }
}

/// The RFC 6962 §3.5 signed tree head of (`size`, `root`) at `ts` (ms):
/// the DER signature wrapped as `digitally-signed` (SHA-256, ECDSA).
pub(crate) fn sign_tree_head(
    key: &SigningKey,
    ts: u64,
    size: u64,
    root: &Hash,
) -> Result<Vec<u8>, CtError> {
    let mut data = vec![0u8, 1u8];
    data.extend_from_slice(&ts.to_be_bytes());
    data.extend_from_slice(&size.to_be_bytes());
    data.extend_from_slice(root);
    let sig = key.sign(&data).map_err(CtError::Sign)?;
    let mut ds = vec![4, 3];
    ds.extend_from_slice(&u16_len(sig.len())?);
    ds.extend_from_slice(&sig);
    Ok(ds)
}

impl CtLog {
    /// A log that accepts chains ending at one of `roots`.
    pub fn new(key: SigningKey, roots: Vec<Certificate>) -> Self {
        Self {
            front: CtFront::new(Arc::new(key), roots),
            tree: Mutex::new((CompactTree::new(), None)),
        }
    }

    pub fn public_key(&self) -> &PublicKey {
        self.front.public_key()
    }

    /// SHA-256 of the log's SPKI (RFC 6962 §3.2 LogID).
    pub fn log_id(&self) -> [u8; 32] {
        self.front.log_id()
    }

    /// Number of entries logged so far.
    pub fn size(&self) -> usize {
        self.tree.lock().map(|t| t.0.size() as usize).unwrap_or(0)
    }

    /// Current tree size and RFC 6962 root hash, from the tree's right
    /// edge ([`CompactTree`]), cached until the next append. Fails (rather
    /// than answer an empty tree) if the log state is poisoned.
    pub fn tree_head(&self) -> Result<(u64, Hash), CtError> {
        let mut guard = self
            .tree
            .lock()
            .map_err(|_| CtError::Unavailable("log state poisoned".into()))?;
        let (tree, cached) = &mut *guard;
        let root = *cached.get_or_insert_with(|| tree.root());
        Ok((tree.size(), root))
    }

    /// A signed tree head (RFC 6962 §3.5): size, timestamp (ms), root, and
    /// the DER signature over the TreeHeadSignature struct.
    pub fn signed_tree_head(&self) -> Result<(u64, u64, Hash, Vec<u8>), CtError> {
        let (size, root) = self.tree_head()?;
        let ts = now_ms();
        let ds = sign_tree_head(self.front.key(), ts, size, &root)?;
        Ok((size, ts, root, ds))
    }

    /// `add-pre-chain`, verifying the precertificate's signature unless
    /// the CA in this process submits what it has just signed.
    fn submit(
        &self,
        chain: &[Vec<u8>],
        verify_precert_signature: bool,
    ) -> Result<SignedCertificateTimestamp, CtError> {
        let prepared = self.front.prepare(chain, verify_precert_signature)?;
        // No extensions: this log does not serve its entries by index.
        let sct = self
            .front
            .sct(prepared.timestamp, &prepared.leaf, Vec::new())?;
        let hash = keyless_tlog::leaf_hash(&prepared.leaf);
        let mut guard = self
            .tree
            .lock()
            .map_err(|_| CtError::Unavailable("log state poisoned".into()))?;
        guard.0.push(hash);
        guard.1 = None;
        Ok(sct)
    }
}

impl CtSubmitter for CtLog {
    fn add_pre_chain(&self, chain: &[Vec<u8>]) -> Result<SignedCertificateTimestamp, CtError> {
        self.submit(chain, true)
    }

    fn add_own_pre_chain(&self, chain: &[Vec<u8>]) -> Result<SignedCertificateTimestamp, CtError> {
        self.submit(chain, false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leaf(i: u64) -> Hash {
        keyless_tlog::leaf_hash(&i.to_be_bytes())
    }

    #[test]
    fn compact_tree_root_is_the_rfc6962_root_at_every_size() {
        let mut tree = CompactTree::new();
        let mut leaves = Vec::new();
        assert_eq!(tree.root(), keyless_tlog::proof::root_from_leaves(&leaves));
        for i in 0..300u64 {
            tree.push(leaf(i));
            leaves.push(leaf(i));
            assert_eq!(tree.size(), leaves.len() as u64);
            assert_eq!(
                tree.root(),
                keyless_tlog::proof::root_from_leaves(&leaves),
                "size {}",
                i + 1
            );
            // What a root costs: one kept node per set bit of the size,
            // whatever the number of leaves.
            assert_eq!(tree.edge_len(), (i + 1).count_ones() as usize);
        }
    }
}
