//! Durable state behind a trait, so that backends other than the embedded
//! file store (e.g. PostgreSQL) can be added without touching the
//! sequencer or the HTTP layer.
//!
//! The contract that keeps acknowledged entries safe: [`Storage::commit`]
//! makes everything in the commit durable, and writes the checkpoint
//! **last**. The checkpoint is the commit point: state past the size it
//! names is ignored (and overwritten) after a restart, so a crash halfway
//! through a commit loses only entries nobody was told about.
//!
//! Backends: [`files::FileStorage`] (the embedded default) and
//! [`postgres::PgStorage`]; [`crate::LogConfig::storage`] picks one.

pub mod files;
mod lock;
mod partials;
mod pg_conn;
pub mod pg_index;
pub mod pg_search;
pub mod postgres;
pub mod run_index;
mod runs;
pub mod search_index;
pub mod search_runs;
mod sync_pool;
mod wal;

use keyless_tlog::TileId;

use crate::error::StorageError;
use crate::index::EntryIndex;
use search_index::SearchStore;

/// Per-entry data that is not part of the entry itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EntryMeta {
    /// Unix seconds when the entry was sequenced (a personality's entry
    /// time: Rekor v1's integrated time).
    pub sequenced_at: i64,
    /// The opaque lookup key the personality gave the entry
    /// ([`crate::Submission::lookup_key`]), found by [`crate::Log::find_by_key`].
    pub lookup_key: Option<[u8; 32]>,
}

/// One batch, in the order it must become durable.
#[derive(Debug, Clone)]
pub struct Commit {
    /// Tree size before the batch (index of its first entry).
    pub first_index: u64,
    /// Metadata of the batch's entries, in index order.
    pub meta: Vec<EntryMeta>,
    /// Entry bundles and hash tiles, each the full contents at its path.
    pub tiles: Vec<(TileId, Vec<u8>)>,
    /// The signed checkpoint text covering the batch; written last.
    pub checkpoint: String,
}

/// A durable home for a log.
pub trait Storage: Send + Sync + 'static {
    /// Make the commit durable; return only once it is (fsync done).
    fn commit(&self, commit: &Commit) -> Result<(), StorageError>;
    /// The latest committed checkpoint, if any.
    fn read_checkpoint(&self) -> Result<Option<String>, StorageError>;
    /// The stored bytes of exactly this tile (full or partial width).
    fn read_tile(&self, id: &TileId) -> Result<Option<Vec<u8>>, StorageError>;
    /// Metadata of entries `[start, start + count)`.
    fn read_meta(&self, start: u64, count: u64) -> Result<Vec<EntryMeta>, StorageError>;
    /// Recovery: forget metadata past the committed `size`; an error if
    /// metadata for committed entries is missing.
    fn recover(&self, size: u64) -> Result<(), StorageError>;
    /// The backend's own durable entry index (see [`crate::index`]), or
    /// `None` to have the log keep one in memory, rebuilt on every open.
    fn open_index(&self) -> Result<Option<Box<dyn EntryIndex>>, StorageError> {
        Ok(None)
    }
    /// The backend's own store for a personality's derived search index
    /// (opaque 32-byte keys → entries, see [`search_index`]; Rekor v1's
    /// search keeps its keys there), or `None` to keep it in memory.
    /// Called when the first search needs it; the store is derived and may
    /// be discarded.
    fn open_search_index(&self) -> Result<Option<Box<dyn SearchStore>>, StorageError> {
        Ok(None)
    }
    /// Whether, after a failed [`Self::commit`], the log may re-read the
    /// committed state from this storage and append again (a database
    /// connection that is re-established, possibly to a promoted
    /// standby). `false` (files: after a failed fsync nobody knows what
    /// is on disk) stops appends until the log is restarted.
    fn reconnects(&self) -> bool {
        false
    }
}
