//! The file backend's Rekor v1 search index ([`super::search_index`]):
//! key SHA-256 prefixes → entry indices as sorted runs (see
//! `storage/runs.rs`), next to the entry index, so a search over a log of
//! ten million entries costs memory only for a buffer and the runs'
//! sparse block keys.
//!
//! ```text
//! <data_dir>/index/SEARCH               covered size and the live runs
//! <data_dir>/index/search-<id>.run      the runs
//! <data_dir>/index/SEARCH.LOCK          held while a store is open
//! ```
//!
//! The covered size is persisted with the runs, so after a restart the
//! first search indexes only what was added since the last flush (on a
//! clean close, nothing). The store is derived and disposable: a
//! manifest that does not match its runs is discarded here, and one that
//! covers more than the log is cleared by its user.
//!
//! The data directory's lock keeps other logs out, but one log can serve
//! several routers, each with a search index of its own: `SEARCH.LOCK`
//! keeps two stores from writing the same runs (the second one opened
//! gets [`StorageError::Locked`]).

use std::fs::File;
use std::path::Path;

use super::run_index::INDEX_DIR;
use super::runs::manifest::Manifest;
use super::runs::{RunSet, FLUSH_ENTRIES};
use super::search_index::SearchStore;
use crate::error::StorageError;
use crate::index::check_next;

const KIND: &str = "search";
const MANIFEST: &str = "SEARCH";
const LOCK: &str = "SEARCH.LOCK";

/// The search index in `<data_dir>/index/`.
#[derive(Debug)]
pub struct SearchRuns {
    files: Manifest,
    keys: RunSet,
    /// Holds the lock on `SEARCH.LOCK` until the store is dropped.
    _lock: File,
}

impl SearchRuns {
    /// Open (creating if needed) the store under `data_dir`; an
    /// inconsistent one is discarded (and rebuilt by its user).
    pub fn open(data_dir: &Path) -> Result<Self, StorageError> {
        let dir = data_dir.join(INDEX_DIR);
        std::fs::create_dir_all(&dir).map_err(|e| StorageError::io("create", &dir, e))?;
        // No waiting: a search index already in use is replaced by one in
        // memory (see `crate::search`), not waited for.
        let lock = super::lock::lock_file(&dir, &dir.join(LOCK), std::time::Duration::ZERO)?;
        let mut keys = RunSet::default();
        let files = Manifest::open(&dir, MANIFEST, "search index", &mut [(KIND, &mut keys)])?;
        Ok(Self {
            files,
            keys,
            _lock: lock,
        })
    }

    fn flush(&mut self) -> Result<(), StorageError> {
        self.files.flush(&mut [(KIND, &mut self.keys)])
    }
}

impl SearchStore for SearchRuns {
    fn indexed_size(&self) -> u64 {
        self.files.size
    }

    fn add(&mut self, index: u64, keys: &[[u8; 32]]) -> Result<(), StorageError> {
        check_next("search index", index, self.files.size)?;
        for k in keys {
            self.keys.push(k, index);
        }
        self.files.size = index + 1;
        if self.keys.buffer.len() >= FLUSH_ENTRIES {
            self.flush()?;
        }
        Ok(())
    }

    fn candidates(&self, key: &[u8; 32]) -> Result<Vec<u64>, StorageError> {
        self.keys.candidates(&self.files.dir, KIND, key)
    }

    fn clear(&mut self) -> Result<(), StorageError> {
        self.files.clear(&mut [(KIND, &mut self.keys)])
    }
}

/// Keep what was indexed since the last flush, so the next open need not
/// read those bodies again.
impl Drop for SearchRuns {
    fn drop(&mut self) {
        if let Err(e) = self.flush() {
            tracing::warn!(error = %e, "could not write the search index on close");
        }
    }
}

#[cfg(test)]
mod tests;
