//! The log's in-memory Merkle tree: every complete subtree hash, by level.
//!
//! `levels[k][i]` is the root of the complete subtree of `2^k` leaves
//! starting at leaf `i·2^k`. Appends only ever add nodes, so the hashes a
//! proof for an older tree size needs are still here unchanged: one tree
//! serves proofs against every checkpoint the log ever published. The
//! memory cost is about two hashes per leaf (64 bytes).

use keyless_tlog::{node_hash, Hash, EMPTY_ROOT};
use thiserror::Error;

/// A proof or root was asked for a size or index the tree cannot answer.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TreeError {
    #[error("tree size {asked} is larger than the log ({size} entries)")]
    SizeTooLarge { asked: u64, size: u64 },
    #[error("leaf index {index} is not in a tree of size {size}")]
    IndexOutOfRange { index: u64, size: u64 },
    #[error(
        "consistency proof from size {first} to {second}: sizes must satisfy 1 <= first <= second"
    )]
    BadConsistencyRange { first: u64, second: u64 },
}

/// An append-only RFC 6962 tree.
#[derive(Debug, Default, Clone)]
pub struct MerkleTree {
    levels: Vec<Vec<Hash>>,
}

fn split_point(n: u64) -> u64 {
    // Largest power of two strictly less than n (n >= 2).
    1u64 << (63 - (n - 1).leading_zeros())
}

impl MerkleTree {
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of leaves.
    pub fn size(&self) -> u64 {
        self.levels.first().map_or(0, |l| l.len() as u64)
    }

    /// Append a leaf hash, adding every subtree root it completes.
    pub fn push(&mut self, leaf: Hash) {
        let mut node = leaf;
        let mut level = 0;
        loop {
            if self.levels.len() == level {
                self.levels.push(Vec::new());
            }
            self.levels[level].push(node);
            let len = self.levels[level].len();
            if len % 2 == 1 {
                break;
            }
            node = node_hash(&self.levels[level][len - 2], &self.levels[level][len - 1]);
            level += 1;
        }
    }

    /// Drop leaves past `size` (used to undo a batch that failed to commit).
    pub fn truncate(&mut self, size: u64) {
        for (k, level) in self.levels.iter_mut().enumerate() {
            level.truncate((size >> k) as usize);
        }
        while self.levels.last().is_some_and(Vec::is_empty) {
            self.levels.pop();
        }
    }

    /// The hash of leaf `index`.
    pub fn leaf(&self, index: u64) -> Option<&Hash> {
        self.levels.first()?.get(usize::try_from(index).ok()?)
    }

    /// The root of the complete subtree at `level` (height) and `index`.
    pub fn node(&self, level: u32, index: u64) -> Option<&Hash> {
        self.levels
            .get(level as usize)?
            .get(usize::try_from(index).ok()?)
    }

    /// Number of complete subtrees at `level`.
    pub fn level_len(&self, level: u32) -> u64 {
        self.levels
            .get(level as usize)
            .map_or(0, |l| l.len() as u64)
    }

    /// MTH of leaves `[lo, hi)`, `hi <= size`, `lo < hi`, where `lo` is a
    /// multiple of the largest power of two below `hi - lo` (as every
    /// range in RFC 6962's recursions is).
    fn range(&self, lo: u64, hi: u64) -> Hash {
        let n = hi - lo;
        if n.is_power_of_two() {
            let k = n.trailing_zeros();
            if let Some(h) = self.node(k, lo >> k) {
                return *h;
            }
        }
        let k = split_point(n);
        node_hash(&self.range(lo, lo + k), &self.range(lo + k, hi))
    }

    fn check_size(&self, size: u64) -> Result<(), TreeError> {
        if size > self.size() {
            return Err(TreeError::SizeTooLarge {
                asked: size,
                size: self.size(),
            });
        }
        Ok(())
    }

    /// The root of the tree of the first `size` leaves.
    pub fn root(&self, size: u64) -> Result<Hash, TreeError> {
        self.check_size(size)?;
        Ok(if size == 0 {
            EMPTY_ROOT
        } else {
            self.range(0, size)
        })
    }

    /// RFC 6962 PATH for leaf `index` in the tree of size `size`.
    pub fn inclusion_proof(&self, index: u64, size: u64) -> Result<Vec<Hash>, TreeError> {
        self.check_size(size)?;
        if index >= size {
            return Err(TreeError::IndexOutOfRange { index, size });
        }
        let mut out = Vec::new();
        self.path(index, 0, size, &mut out);
        Ok(out)
    }

    fn path(&self, m: u64, lo: u64, hi: u64, out: &mut Vec<Hash>) {
        let n = hi - lo;
        if n <= 1 {
            return;
        }
        let k = split_point(n);
        if m < k {
            self.path(m, lo, lo + k, out);
            out.push(self.range(lo + k, hi));
        } else {
            self.path(m - k, lo + k, hi, out);
            out.push(self.range(lo, lo + k));
        }
    }

    /// RFC 6962 PROOF from size `first` to size `second`.
    pub fn consistency_proof(&self, first: u64, second: u64) -> Result<Vec<Hash>, TreeError> {
        self.check_size(second)?;
        if first == 0 || first > second {
            return Err(TreeError::BadConsistencyRange { first, second });
        }
        let mut out = Vec::new();
        if first < second {
            self.subproof(first, 0, second, true, &mut out);
        }
        Ok(out)
    }

    fn subproof(&self, m: u64, lo: u64, hi: u64, complete: bool, out: &mut Vec<Hash>) {
        let n = hi - lo;
        if m == n {
            if !complete {
                out.push(self.range(lo, hi));
            }
            return;
        }
        let k = split_point(n);
        if m <= k {
            self.subproof(m, lo, lo + k, complete, out);
            out.push(self.range(lo + k, hi));
        } else {
            self.subproof(m - k, lo + k, hi, false, out);
            out.push(self.range(lo, lo + k));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use keyless_tlog::{consistency_proof, inclusion_proof, leaf_hash, root_from_leaves};

    #[test]
    fn matches_reference_for_every_small_size() {
        let leaves: Vec<Hash> = (0u32..70).map(|i| leaf_hash(&i.to_be_bytes())).collect();
        let mut tree = MerkleTree::new();
        for l in &leaves {
            tree.push(*l);
        }
        for n in 0..=leaves.len() {
            let prefix = &leaves[..n];
            assert_eq!(
                tree.root(n as u64).unwrap(),
                root_from_leaves(prefix),
                "root {n}"
            );
            for i in 0..n as u64 {
                assert_eq!(
                    tree.inclusion_proof(i, n as u64).unwrap(),
                    inclusion_proof(prefix, i).unwrap()
                );
            }
            for m in 1..=n as u64 {
                assert_eq!(
                    tree.consistency_proof(m, n as u64).unwrap(),
                    consistency_proof(prefix, m).unwrap()
                );
            }
        }
        assert!(tree.root(71).is_err());
        assert!(tree.inclusion_proof(5, 5).is_err());
        assert!(tree.consistency_proof(0, 5).is_err());
        assert!(tree.consistency_proof(6, 5).is_err());
    }

    #[test]
    fn truncate_undoes_pushes() {
        let leaves: Vec<Hash> = (0u32..40).map(|i| leaf_hash(&i.to_be_bytes())).collect();
        let mut tree = MerkleTree::new();
        for l in &leaves[..17] {
            tree.push(*l);
        }
        let root17 = tree.root(17).unwrap();
        for l in &leaves[17..] {
            tree.push(*l);
        }
        tree.truncate(17);
        assert_eq!(tree.size(), 17);
        assert_eq!(tree.root(17).unwrap(), root17);
        for l in &leaves[17..] {
            tree.push(*l);
        }
        assert_eq!(tree.root(40).unwrap(), root_from_leaves(&leaves));
    }
}
