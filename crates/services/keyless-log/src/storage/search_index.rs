//! Where a personality's derived search index keeps its keys (Rekor v1's
//! search in `keyless-rekor`: SHA-256 of each key an entry body names →
//! the entry's index). The core stores them and interprets none.
//!
//! The index is derived from the committed bodies and is not part of the
//! log's record, so a store may lag the log, lose what it buffered, or be
//! thrown away at any time; it only has to say which entries it covers
//! ([`SearchStore::indexed_size`]) and return a superset of the matching
//! entries below that size (candidates are confirmed against the bodies).
//!
//! A backend with a directory of its own keeps the keys there, as sorted
//! runs ([`super::search_runs`]), and PostgreSQL in a table
//! ([`super::pg_search`]), so memory stays flat as the log grows;
//! others ([`super::Storage::open_search_index`] returns `None`) use
//! [`MemorySearch`], 8-byte prefixes in memory, rebuilt after each start.

use crate::error::StorageError;
use crate::index::{check_next, PrefixIndex};

/// A search index's keys; see the module docs.
pub trait SearchStore: Send + std::fmt::Debug {
    /// Entries `0..indexed_size()` are indexed.
    fn indexed_size(&self) -> u64;
    /// Index entry `index` (which must be `indexed_size()`) under the
    /// SHA-256 of each of its keys (none for an entry nobody can search).
    fn add(&mut self, index: u64, keys: &[[u8; 32]]) -> Result<(), StorageError>;
    /// Indices that may have a key with this SHA-256, ascending.
    fn candidates(&self, key: &[u8; 32]) -> Result<Vec<u64>, StorageError>;
    /// Forget everything (the store covers more than the log holds, which
    /// only a restored or foreign data directory can cause).
    fn clear(&mut self) -> Result<(), StorageError>;
}

/// The in-memory store: 16–40 bytes per entry, for as long as the log
/// is open.
#[derive(Debug, Default)]
pub struct MemorySearch {
    size: u64,
    keys: PrefixIndex,
}

impl SearchStore for MemorySearch {
    fn indexed_size(&self) -> u64 {
        self.size
    }

    fn add(&mut self, index: u64, keys: &[[u8; 32]]) -> Result<(), StorageError> {
        check_next("search index", index, self.size)?;
        for k in keys {
            self.keys.insert(k, index);
        }
        self.size = index + 1;
        Ok(())
    }

    fn candidates(&self, key: &[u8; 32]) -> Result<Vec<u64>, StorageError> {
        Ok(self.keys.candidates(key))
    }

    fn clear(&mut self) -> Result<(), StorageError> {
        *self = Self::default();
        Ok(())
    }
}
