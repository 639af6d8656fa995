//! In-memory lookups rebuilt from durable state on start: entry hash →
//! index (de-duplication, Rekor v1 UUIDs) and artifact hash → indices
//! (Rekor v1 search).
//!
//! Keys are stored as their first 8 bytes, which keeps a million entries
//! at about 20 MB per index; callers confirm candidates against the full
//! value (the tree's leaf hash, or the stored metadata), so a prefix
//! collision costs a comparison, never a wrong answer.

use std::collections::HashMap;

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

    pub fn reserve(&mut self, n: usize) {
        self.first.reserve(n);
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
}
