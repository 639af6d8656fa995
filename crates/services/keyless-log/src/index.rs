//! Lookups over every committed entry: entry (leaf) hash → index, for
//! de-duplication and lookups by leaf hash, and each entry's opaque
//! lookup key ([`crate::Submission::lookup_key`]) → indices, for the
//! personality's own searches (Rekor v1: by artifact SHA-256).
//!
//! Both must cover the whole log, so an in-memory map grows by tens of
//! bytes per entry, forever. A backend that can keep them on disk does so
//! ([`crate::storage::Storage::open_index`]; the file backend uses a
//! sorted-run index, see [`crate::storage::run_index`]). Otherwise
//! [`MemoryIndex`] keeps 8-byte key prefixes in memory, rebuilt on open.
//!
//! The index is written by the committer *after* a batch is durable and
//! is not itself synced on every commit, so it may lag the checkpoint
//! after a crash: it records the size it covers
//! ([`EntryIndex::indexed_size`]) and [`Log::open`](crate::Log::open)
//! re-indexes the entries from there up to the checkpoint. Lookups return
//! *candidates*; callers confirm each against the tree's leaf hash or the
//! stored metadata, so a prefix collision (or a stale index) costs a
//! comparison, never a wrong answer.

use std::collections::HashMap;
use std::sync::RwLock;

use keyless_tlog::Hash;

use crate::error::StorageError;
use crate::locks::{read, write};

/// What the log looks entries up by; see the module docs.
pub trait EntryIndex: Send + Sync {
    /// Entries `0..indexed_size()` are indexed.
    fn indexed_size(&self) -> Result<u64, StorageError>;
    /// Index entries `first..first + leaves.len()` (`first` must be
    /// `indexed_size()`), with each one's lookup key, if any.
    fn add(
        &self,
        first: u64,
        leaves: &[Hash],
        artifacts: &[Option<[u8; 32]>],
    ) -> Result<(), StorageError>;
    /// Indices that may hold an entry with this leaf hash, ascending.
    fn leaf_candidates(&self, leaf: &Hash) -> Result<Vec<u64>, StorageError>;
    /// Indices that may hold entries with this lookup key, ascending.
    fn lookup_candidates(&self, digest: &[u8; 32]) -> Result<Vec<u64>, StorageError>;
    /// [`Self::leaf_candidates`] of each leaf, in order: one round trip
    /// for an index that is a network hop away.
    fn leaf_candidates_many(&self, leaves: &[Hash]) -> Result<Vec<Vec<u64>>, StorageError> {
        leaves.iter().map(|l| self.leaf_candidates(l)).collect()
    }
    /// Whether a lookup waits on another process (a database). Such an
    /// index is not searched by each submitter, on the async workers that
    /// serve requests, but once per batch by the sequencer
    /// ([`Self::leaf_candidates_many`]): a round trip per request would
    /// park a worker for each one.
    fn is_remote(&self) -> bool {
        false
    }
    /// Forget everything (the index is ahead of the checkpoint, which
    /// only a foreign or restored index file can be).
    fn clear(&self) -> Result<(), StorageError>;
}

/// An index is built in log order: `first`, the first entry added, must
/// be the size the index covers; the error says otherwise.
pub(crate) fn check_next(what: &str, first: u64, size: u64) -> Result<(), StorageError> {
    if first == size {
        return Ok(());
    }
    Err(StorageError::Malformed {
        what: what.into(),
        problem: format!("entries from {first} added to an index of {size}"),
    })
}

/// Prefix key → candidate indices.
#[derive(Debug, Default)]
pub struct PrefixIndex {
    first: HashMap<u64, u64>,
    more: HashMap<u64, Vec<u64>>,
}

fn prefix(key: &[u8; 32]) -> u64 {
    let mut p = [0u8; 8];
    p.copy_from_slice(&key[..8]);
    u64::from_be_bytes(p)
}

impl PrefixIndex {
    pub fn insert(&mut self, key: &[u8; 32], index: u64) {
        let p = prefix(key);
        match self.first.entry(p) {
            std::collections::hash_map::Entry::Vacant(v) => {
                v.insert(index);
            }
            std::collections::hash_map::Entry::Occupied(_) => {
                self.more.entry(p).or_default().push(index)
            }
        }
    }

    /// Indices whose key may be `key`, ascending.
    pub fn candidates(&self, key: &[u8; 32]) -> Vec<u64> {
        let p = prefix(key);
        let mut out: Vec<u64> = self.first.get(&p).copied().into_iter().collect();
        if let Some(more) = self.more.get(&p) {
            out.extend_from_slice(more);
        }
        out
    }
}

/// The in-memory index, for backends without one of their own: about
/// 20 MB per million entries per map, rebuilt from storage on open.
#[derive(Debug, Default)]
pub struct MemoryIndex {
    size: RwLock<u64>,
    leaves: RwLock<PrefixIndex>,
    artifacts: RwLock<PrefixIndex>,
}

impl EntryIndex for MemoryIndex {
    fn indexed_size(&self) -> Result<u64, StorageError> {
        Ok(*read(&self.size))
    }

    fn add(
        &self,
        first: u64,
        leaves: &[Hash],
        artifacts: &[Option<[u8; 32]>],
    ) -> Result<(), StorageError> {
        {
            let mut idx = write(&self.leaves);
            for (k, l) in leaves.iter().enumerate() {
                idx.insert(l, first + k as u64);
            }
        }
        {
            let mut idx = write(&self.artifacts);
            for (k, d) in artifacts.iter().enumerate() {
                if let Some(d) = d {
                    idx.insert(d, first + k as u64);
                }
            }
        }
        *write(&self.size) = first + leaves.len() as u64;
        Ok(())
    }

    fn leaf_candidates(&self, leaf: &Hash) -> Result<Vec<u64>, StorageError> {
        Ok(read(&self.leaves).candidates(leaf))
    }

    fn lookup_candidates(&self, digest: &[u8; 32]) -> Result<Vec<u64>, StorageError> {
        Ok(read(&self.artifacts).candidates(digest))
    }

    fn clear(&self) -> Result<(), StorageError> {
        *write(&self.leaves) = PrefixIndex::default();
        *write(&self.artifacts) = PrefixIndex::default();
        *write(&self.size) = 0;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colliding_prefixes_keep_all_candidates() {
        let mut idx = PrefixIndex::default();
        let a = [1u8; 32];
        let mut b = a;
        b[31] = 2;
        idx.insert(&a, 5);
        idx.insert(&b, 9);
        assert_eq!(idx.candidates(&a), vec![5, 9]);
        assert!(idx.candidates(&[3u8; 32]).is_empty());
    }

    #[test]
    fn memory_index_tracks_its_size() {
        let idx = MemoryIndex::default();
        idx.add(0, &[[1; 32], [2; 32]], &[Some([7; 32]), None])
            .unwrap();
        assert_eq!(idx.indexed_size().unwrap(), 2);
        assert_eq!(idx.leaf_candidates(&[2; 32]).unwrap(), vec![1]);
        assert_eq!(idx.lookup_candidates(&[7; 32]).unwrap(), vec![0]);
        idx.clear().unwrap();
        assert_eq!(idx.indexed_size().unwrap(), 0);
        assert!(idx.leaf_candidates(&[2; 32]).unwrap().is_empty());
    }
}
