//! The file backend's entry index: leaf hash → index and artifact
//! digest → indices as sorted runs on disk (see `storage/runs.rs`), so that
//! de-duplication and Rekor v1 lookups cover the whole log without
//! holding it in memory.
//!
//! ```text
//! <data_dir>/index/MANIFEST             indexed size and the live runs
//! <data_dir>/index/<kind>-<id>.run      kinds `leaves` and `artifacts`
//! ```
//!
//! Nothing here is the log's record: it is derived from the tiles and the
//! metadata. The buffer is not persisted; after a crash,
//! [`crate::Log::open`] re-indexes from the manifest's size to the
//! checkpoint, and a manifest that does not match its runs is discarded
//! and the index rebuilt.

use std::path::Path;
use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};

use keyless_tlog::Hash;

use super::runs::manifest::Manifest;
use super::runs::RunSet;
use crate::error::StorageError;
use crate::index::{check_next, EntryIndex};

pub use super::runs::FLUSH_ENTRIES;
// The tests (`use super::*`) still write run files by hand.
#[cfg(test)]
use std::fs::{self, OpenOptions};

/// Directory of the index inside the data directory.
pub const INDEX_DIR: &str = "index";

const LEAVES: &str = "leaves";
const ARTIFACTS: &str = "artifacts";

/// Both kinds and their manifest.
#[derive(Debug)]
struct Inner {
    files: Manifest,
    leaves: RunSet,
    artifacts: RunSet,
}

/// The entry index in `<data_dir>/index/`.
#[derive(Debug)]
pub struct RunIndex {
    inner: RwLock<Inner>,
}

impl Inner {
    /// Flush both buffers and record the indexed size.
    fn flush(&mut self) -> Result<(), StorageError> {
        self.files
            .flush(&mut [(LEAVES, &mut self.leaves), (ARTIFACTS, &mut self.artifacts)])
    }
}

impl RunIndex {
    /// Open (creating if needed) the index under `data_dir`. The caller
    /// holds the data directory's lock. An index whose manifest and runs
    /// disagree (a crash between writing them that the file system did
    /// not order) is discarded: it is rebuilt from the log.
    pub fn open(data_dir: &Path) -> Result<Self, StorageError> {
        let mut leaves = RunSet::default();
        let mut artifacts = RunSet::default();
        let files = Manifest::open(
            &data_dir.join(INDEX_DIR),
            "MANIFEST",
            "entry index",
            &mut [(LEAVES, &mut leaves), (ARTIFACTS, &mut artifacts)],
        )?;
        Ok(Self {
            inner: RwLock::new(Inner {
                files,
                leaves,
                artifacts,
            }),
        })
    }

    fn read(&self) -> RwLockReadGuard<'_, Inner> {
        // Writers leave `Inner` consistent at every `?`.
        self.inner.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write(&self) -> RwLockWriteGuard<'_, Inner> {
        self.inner.write().unwrap_or_else(|p| p.into_inner())
    }
}

impl EntryIndex for RunIndex {
    fn indexed_size(&self) -> Result<u64, StorageError> {
        Ok(self.read().files.size)
    }

    fn add(
        &self,
        first: u64,
        leaves: &[Hash],
        artifacts: &[Option<[u8; 32]>],
    ) -> Result<(), StorageError> {
        let mut inner = self.write();
        check_next("entry index", first, inner.files.size)?;
        for (k, l) in leaves.iter().enumerate() {
            inner.leaves.push(l, first + k as u64);
        }
        for (k, d) in artifacts.iter().enumerate() {
            if let Some(d) = d {
                inner.artifacts.push(d, first + k as u64);
            }
        }
        inner.files.size = first + leaves.len() as u64;
        if inner.leaves.buffer.len() >= FLUSH_ENTRIES {
            inner.flush()?;
        }
        Ok(())
    }

    fn leaf_candidates(&self, leaf: &Hash) -> Result<Vec<u64>, StorageError> {
        let inner = self.read();
        inner.leaves.candidates(&inner.files.dir, LEAVES, leaf)
    }

    fn lookup_candidates(&self, digest: &[u8; 32]) -> Result<Vec<u64>, StorageError> {
        let inner = self.read();
        inner
            .artifacts
            .candidates(&inner.files.dir, ARTIFACTS, digest)
    }

    fn clear(&self) -> Result<(), StorageError> {
        let inner = &mut *self.write();
        inner.files.clear(&mut [
            (LEAVES, &mut inner.leaves),
            (ARTIFACTS, &mut inner.artifacts),
        ])
    }
}

/// The buffered entries are not persisted (see the module docs), but
/// the indexed size in the manifest then lags what was added: on a clean
/// close, flush, so the next open has little to re-index.
impl Drop for RunIndex {
    fn drop(&mut self) {
        let inner = self.inner.get_mut().unwrap_or_else(|p| p.into_inner());
        if let Err(e) = inner.flush() {
            tracing::warn!(error = %e, "could not write the entry index on close");
        }
    }
}

#[cfg(test)]
mod tests;
