//! Rekor v1 search (`POST /api/v1/index/retrieve`) beyond the artifact
//! digest kept in each entry's metadata: every hash and every signer an
//! entry body names, as Rekor's `IndexKeys` list them — the artifact
//! digest of hashedrekord entries, the payload and envelope hashes of
//! dsse entries, the payload hash of intoto entries, the key or
//! certificate of every signature (canonicalized, so any PEM spelling of
//! the same key finds it), and the identities (e-mail and URI SANs) of
//! every signing certificate, v1 and v2 kinds alike ([`keys`]).
//!
//! An index built before identities were keys (it lacks the
//! [`IndexKey::Schema`] mark) is cleared when opened and rebuilt by that
//! first search, so e-mail search finds old entries too; the rebuild
//! reads every entry bundle once.
//!
//! The index is derived from the committed bodies alone, so it cannot
//! disagree with the log and is not part of its record: it records the
//! size it covers and is brought up to the published size on each search
//! (reading each entry bundle once). Keys are kept as 8-byte prefixes of
//! their SHA-256; candidates are confirmed against their bodies before
//! they are returned, so a collision or a stale store costs a read, never
//! a wrong answer.
//!
//! Where the keys live is the storage backend's choice
//! ([`keyless_log::storage::Storage::open_search_index`]): the file backend
//! keeps them on disk as sorted runs next to the entry index, and
//! PostgreSQL in a table next to its entry index, so memory stays flat as
//! the log grows, and the covered size survives a restart (the first
//! search after one indexes only what is new). Other backends keep them
//! in memory, rebuilt by the first search after each start. A store that
//! fails (its database connection dropped) is opened again once by the
//! search that saw it fail.

mod keys;

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use keyless_tlog::tiles::{decode_entry_bundle, TILE_WIDTH};
use keyless_tlog::{leaf_hash, Hash, TileId, TileKind};

use keyless_log::storage::search_index::{MemorySearch, SearchStore};
use keyless_log::{committed_width, Log, LogError, StorageError};
pub use keys::{index_keys, IndexKey, MAX_IDENTITY};

/// The search index of one log; see the module documentation.
#[derive(Debug)]
pub struct SearchIndex {
    /// Most matches one search lists (`Limits::max_search_results`).
    max_results: usize,
    /// Opened by the first search, from the log it searches (one
    /// `SearchIndex` serves one log). The lock makes catching up one
    /// search's job; the others wait for it rather than read the same
    /// bodies again.
    store: Mutex<Option<Box<dyn SearchStore>>>,
}

/// Committed entry bodies read a bundle at a time, for one request.
struct Bodies<'a> {
    log: &'a Log,
    size: u64,
    bundles: HashMap<u64, Vec<Vec<u8>>>,
}

impl<'a> Bodies<'a> {
    fn new(log: &'a Log, size: u64) -> Self {
        Self {
            log,
            size,
            bundles: HashMap::new(),
        }
    }

    fn bundle(&mut self, tile: u64) -> Result<&[Vec<u8>], LogError> {
        if !self.bundles.contains_key(&tile) {
            let width = committed_width(TileKind::Entries, tile, self.size).ok_or_else(|| {
                LogError::Corrupt(format!("no entry bundle {tile} at size {}", self.size))
            })?;
            let id = TileId {
                kind: TileKind::Entries,
                index: tile,
                width,
            };
            let data = self.log.tile(&id)?.ok_or_else(|| {
                LogError::Corrupt(format!("entry bundle {} is missing", id.path()))
            })?;
            let entries = decode_entry_bundle(&data)
                .map_err(|source| LogError::CorruptTile {
                    what: id.path(),
                    source,
                })?
                .into_iter()
                .map(<[u8]>::to_vec)
                .collect();
            self.bundles.insert(tile, entries);
        }
        Ok(self
            .bundles
            .get(&tile)
            .map(Vec::as_slice)
            .unwrap_or_default())
    }

    /// The body of committed entry `index`.
    fn body(&mut self, index: u64) -> Result<&[u8], LogError> {
        let size = self.size;
        self.bundle(index / TILE_WIDTH)?
            .get((index % TILE_WIDTH) as usize)
            .map(Vec::as_slice)
            .ok_or_else(|| LogError::Corrupt(format!("entry {index} missing at size {size}")))
    }
}

impl SearchIndex {
    /// An index not yet opened, answering at most `max_results` matches.
    pub fn new(max_results: usize) -> Self {
        Self {
            max_results,
            store: Mutex::new(None),
        }
    }

    /// Most matches one search lists.
    pub fn max_results(&self) -> usize {
        self.max_results
    }

    /// Committed entries (as of `size`, a published size) that have `key`
    /// or, when given, whose metadata names this artifact SHA-256;
    /// ascending, with their leaf hashes (Rekor v1 UUIDs).
    ///
    /// Stops after `limit + 1` matches: a caller that gets more than
    /// `limit` knows the whole set is over its cap, without the log
    /// reading (and holding) every match of a key found in many entries.
    pub fn find(
        &self,
        log: &Log,
        size: u64,
        key: &IndexKey,
        artifact_sha256: Option<&[u8; 32]>,
        limit: usize,
    ) -> Result<BTreeMap<u64, Hash>, LogError> {
        let candidates = {
            // A panic leaves the store covering what it says it covers.
            let mut guard = self.store.lock().unwrap_or_else(|p| p.into_inner());
            match store_candidates(&mut guard, log, size, key) {
                Ok(c) => c,
                Err(e) => {
                    // A store whose database connection went away (the
                    // server restarted, or failed over to a standby) fails
                    // every call from then on: drop it and open it again,
                    // through the log's connection string, before giving
                    // up. What it covers is recorded with its keys, so the
                    // new one continues where the old one's last write left.
                    tracing::warn!(error = %e, "the search index failed; reopening it");
                    *guard = None;
                    store_candidates(&mut guard, log, size, key)?
                }
            }
        };
        // Already confirmed by their metadata.
        let by_meta = match artifact_sha256 {
            Some(d) => log.find_by_key(d)?,
            None => Vec::new(),
        };
        let mut bodies = Bodies::new(log, size);
        let mut out = BTreeMap::new();
        for i in by_meta.into_iter().filter(|&i| i < size) {
            if out.len() > limit {
                return Ok(out);
            }
            out.insert(i, leaf_hash(bodies.body(i)?));
        }
        for i in candidates.into_iter().filter(|&i| i < size) {
            if out.len() > limit {
                break;
            }
            if out.contains_key(&i) {
                continue;
            }
            let body = bodies.body(i)?;
            if index_keys(body).contains(key) {
                out.insert(i, leaf_hash(body));
            }
        }
        Ok(out)
    }
}

/// The candidates for `key` from the store in `slot` (opened first if
/// there is none), brought up to `size`.
fn store_candidates(
    slot: &mut Option<Box<dyn SearchStore>>,
    log: &Log,
    size: u64,
    key: &IndexKey,
) -> Result<Vec<u64>, LogError> {
    let store = match slot {
        Some(s) => s,
        None => slot.insert(open_store(log)?),
    };
    catch_up(store.as_mut(), log, size)?;
    Ok(store.candidates(&key.digest())?)
}

/// The entries among `entries` (committed as of `size`) that have `key`
/// or, when given, whose metadata names this artifact SHA-256: the other
/// half of an `"and"` search whose one criterion matched few entries and
/// the other too many to list. Costs one body read per entry given.
pub fn keep_matching(
    log: &Log,
    size: u64,
    entries: BTreeMap<u64, Hash>,
    key: &IndexKey,
    artifact_sha256: Option<&[u8; 32]>,
) -> Result<BTreeMap<u64, Hash>, LogError> {
    let mut bodies = Bodies::new(log, size);
    let mut out = BTreeMap::new();
    for (i, leaf) in entries {
        let by_meta = match artifact_sha256 {
            Some(d) => log.meta(i)?.lookup_key.as_ref() == Some(d),
            None => false,
        };
        if by_meta || index_keys(bodies.body(i)?).contains(key) {
            out.insert(i, leaf);
        }
    }
    Ok(out)
}

/// The backend's store, or one in memory. A store that covers more than
/// the log (a data directory restored from an older backup) is cleared.
/// If another search index of this log already has the backend's store
/// (the log serves two routers), this one keeps its keys in memory.
fn open_store(log: &Log) -> Result<Box<dyn SearchStore>, LogError> {
    let mut store = match log.open_search_store() {
        Ok(Some(s)) => s,
        Ok(None) => Box::new(MemorySearch::default()),
        Err(e @ StorageError::Locked { .. }) => {
            tracing::warn!(error = %e, "the search index is in use; keeping this one in memory");
            Box::new(MemorySearch::default())
        }
        Err(e) => return Err(e.into()),
    };
    let size = log.published().size;
    if outdated(store.as_ref())? {
        tracing::info!(
            indexed = store.indexed_size(),
            "the search index predates identity (e-mail) keys; rebuilding it"
        );
        store.clear()?;
    }
    if store.indexed_size() > size {
        tracing::warn!(
            indexed = store.indexed_size(),
            size,
            "the search index is ahead of the log; rebuilding it"
        );
        store.clear()?;
    }
    Ok(store)
}

/// Whether `store` was built without the identity keys: it covers
/// entries but entry 0 lacks the [`IndexKey::Schema`] mark that indexing
/// files with it.
fn outdated(store: &dyn SearchStore) -> Result<bool, StorageError> {
    Ok(store.indexed_size() > 0 && !store.candidates(&IndexKey::Schema.digest())?.contains(&0))
}

/// Index the entries published since the last call. A search that
/// started before a newer one caught up finds the store ahead of its
/// `size`; its candidates are cut at `size` by the caller.
fn catch_up(store: &mut dyn SearchStore, log: &Log, size: u64) -> Result<(), LogError> {
    let mut bodies = Bodies::new(log, size);
    let mut i = store.indexed_size();
    if i < size {
        tracing::debug!(from = i, size, "indexing entries for search");
    }
    while i < size {
        let mut keys: Vec<[u8; 32]> = index_keys(bodies.body(i)?)
            .iter()
            .map(IndexKey::digest)
            .collect();
        if i == 0 {
            keys.push(IndexKey::Schema.digest());
        }
        store.add(i, &keys)?;
        if i % TILE_WIDTH == TILE_WIDTH - 1 {
            // Each bundle is read once; drop it when done.
            bodies.bundles.clear();
        }
        i += 1;
    }
    Ok(())
}

#[cfg(test)]
mod tests;
