//! The tree's [`TileSource`]: complete level-0 tiles read from storage,
//! behind a small LRU cache.
//!
//! A full tile never changes, so a cached copy can never be stale. The
//! cache is bounded (a tile's nodes are ~16 KiB), so memory stays flat
//! however long the log grows; the tree hands it the tiles it drops after
//! each commit, because the entries just committed are the ones whose
//! inclusion proofs are asked for next.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use keyless_tlog::tiles::TILE_WIDTH;
use keyless_tlog::{TileId, TileKind};

use crate::error::StorageError;
use crate::merkle::{TileNodes, TileSource};
use crate::storage::Storage;

/// Tiles kept by default: 128 × ~16 KiB = 2 MiB, more than the 16 tiles
/// one full batch (4096 entries) completes.
pub const DEFAULT_CACHED_TILES: usize = 128;

struct Lru {
    tiles: HashMap<u64, (Arc<TileNodes>, u64)>,
    clock: u64,
}

/// Complete level-0 tiles from storage, cached.
pub(crate) struct TileCache {
    storage: Arc<dyn Storage>,
    capacity: usize,
    lru: Mutex<Lru>,
}

impl TileCache {
    pub fn new(storage: Arc<dyn Storage>, capacity: usize) -> Self {
        Self {
            storage,
            capacity: capacity.max(1),
            lru: Mutex::new(Lru {
                tiles: HashMap::with_capacity(capacity + 1),
                clock: 0,
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Lru> {
        // The map is never left half-updated across a panic.
        self.lru.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Remember `nodes` as tile `tile`, evicting the least recently used
    /// tile if the cache is full.
    pub fn insert(&self, tile: u64, nodes: Arc<TileNodes>) {
        let mut lru = self.lock();
        lru.clock += 1;
        let now = lru.clock;
        lru.tiles.insert(tile, (nodes, now));
        if lru.tiles.len() > self.capacity {
            // A linear scan over ≤ a few hundred entries costs less than
            // the tile read that preceded it.
            if let Some(oldest) = lru
                .tiles
                .iter()
                .min_by_key(|(_, (_, used))| *used)
                .map(|(t, _)| *t)
            {
                lru.tiles.remove(&oldest);
            }
        }
    }

    fn get(&self, tile: u64) -> Option<Arc<TileNodes>> {
        let mut lru = self.lock();
        lru.clock += 1;
        let now = lru.clock;
        let (nodes, used) = lru.tiles.get_mut(&tile)?;
        *used = now;
        Some(nodes.clone())
    }
}

impl TileSource for TileCache {
    fn tile(&self, tile: u64) -> Result<Arc<TileNodes>, StorageError> {
        let cached = self.get(tile);
        crate::telemetry::tile_cache(cached.is_some());
        if let Some(nodes) = cached {
            return Ok(nodes);
        }
        // Read without holding the cache lock, so concurrent readers of
        // other tiles do not wait on this one's I/O.
        let id = TileId {
            kind: TileKind::Hashes { level: 0 },
            index: tile,
            width: TILE_WIDTH as u16,
        };
        let data = self
            .storage
            .read_tile(&id)?
            .ok_or_else(|| StorageError::Malformed {
                what: format!("tile {}", id.path()),
                problem: "missing, though the tree's checkpoint covers it".into(),
            })?;
        let nodes =
            Arc::new(
                TileNodes::from_tile_bytes(&data).ok_or_else(|| StorageError::Malformed {
                    what: format!("tile {}", id.path()),
                    problem: format!("{} bytes, expected {}", data.len(), TILE_WIDTH * 32),
                })?,
            );
        self.insert(tile, nodes.clone());
        Ok(nodes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::{Commit, EntryMeta};

    /// Tiles in memory: the cache is core code and is tested without a
    /// driver.
    #[derive(Default)]
    struct Tiles(Mutex<HashMap<String, Vec<u8>>>);

    impl Storage for Tiles {
        fn commit(&self, commit: &Commit) -> Result<(), StorageError> {
            let mut tiles = self.0.lock().unwrap();
            for (id, data) in &commit.tiles {
                tiles.insert(id.path(), data.clone());
            }
            Ok(())
        }
        fn read_checkpoint(&self) -> Result<Option<String>, StorageError> {
            Ok(None)
        }
        fn read_tile(&self, id: &TileId) -> Result<Option<Vec<u8>>, StorageError> {
            Ok(self.0.lock().unwrap().get(&id.path()).cloned())
        }
        fn read_meta(&self, _: u64, _: u64) -> Result<Vec<EntryMeta>, StorageError> {
            Ok(vec![])
        }
        fn recover(&self, _: u64) -> Result<(), StorageError> {
            Ok(())
        }
    }

    #[test]
    fn reads_full_tiles_and_stays_bounded() {
        let storage = Arc::new(Tiles::default());
        let tiles = (0..4u64)
            .map(|t| {
                (
                    TileId {
                        kind: TileKind::Hashes { level: 0 },
                        index: t,
                        width: 256,
                    },
                    vec![t as u8; 256 * 32],
                )
            })
            .collect();
        storage
            .commit(&Commit {
                first_index: 0,
                meta: vec![],
                tiles,
                checkpoint: "cp\n".into(),
            })
            .unwrap();
        let cache = TileCache::new(storage, 2);
        for t in 0..4u64 {
            let nodes = cache.tile(t).unwrap();
            assert_eq!(nodes.node(0, 7), Some(&[t as u8; 32]));
        }
        assert_eq!(cache.lock().tiles.len(), 2);
        assert!(cache.get(3).is_some() && cache.get(0).is_none());
        assert!(matches!(cache.tile(9), Err(StorageError::Malformed { .. })));
    }
}
