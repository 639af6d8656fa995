//! The log's Merkle tree, backed by its own tiles.
//!
//! `levels[h]` holds roots of complete subtrees of `2^h` leaves (nodes at
//! height `h`). Appends only ever add nodes, so the hashes a proof against
//! an older tree size needs never change: one tree serves proofs against
//! every checkpoint the log ever published.
//!
//! Keeping every node in memory costs ~64 bytes per leaf, which does not
//! stay flat as a log grows to millions of entries. But almost all of those
//! nodes sit at heights 0–7 inside *complete* level-0 tiles, which storage
//! already holds and which never change once full. So the tree keeps:
//!
//! - every node at height ≥ [`TILE_HEIGHT`] (what tile levels ≥ 1 hold, plus
//!   the nodes between them): 1/128 of the nodes, ~0.25 bytes per leaf;
//! - heights 0–7 only for level-0 tiles that are not both complete and
//!   durable: the partial tile being filled, and tiles of batches the
//!   committer has not made durable yet ([`MerkleTree::drop_durable`] is
//!   called after each commit).
//!
//! Nodes of dropped tiles come from a [`TileSource`] (storage behind a small
//! LRU cache, see [`crate::tile_cache`]): a complete tile's 256 leaf hashes
//! give all of its lower nodes, and the first `W` of them are the `W`-wide
//! partial tile an older checkpoint named, so proofs against old sizes need
//! nothing else. Roots of any size never touch storage: the complete
//! subtrees they use are either at height ≥ 8 or inside the partial tile.

use std::sync::Arc;

use keyless_tlog::tiles::{TILE_HEIGHT, TILE_WIDTH};
use keyless_tlog::{node_hash, Hash, EMPTY_ROOT};

use crate::error::StorageError;
pub use crate::error::TreeError;

/// Number of nodes at heights below [`TILE_HEIGHT`] inside one full
/// level-0 tile (256 + 128 + … + 2).
const TILE_NODES: usize = 2 * TILE_WIDTH as usize - 2;

/// Offset of height `h`'s nodes in [`TileNodes`].
fn tile_offset(h: u32) -> usize {
    2 * TILE_WIDTH as usize - ((2 * TILE_WIDTH as usize) >> h)
}

/// Every node at heights 0–7 of one complete level-0 tile: its 256 leaf
/// hashes and the subtrees they form below the tile's root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TileNodes {
    nodes: Box<[Hash]>,
}

impl TileNodes {
    /// From the stored bytes of a full level-0 tile (256 × 32 bytes);
    /// `None` if they are not that.
    pub fn from_tile_bytes(data: &[u8]) -> Option<Self> {
        if data.len() != TILE_WIDTH as usize * 32 {
            return None;
        }
        let mut nodes = Vec::with_capacity(TILE_NODES);
        for h in data.chunks_exact(32) {
            let mut leaf = [0u8; 32];
            leaf.copy_from_slice(h);
            nodes.push(leaf);
        }
        for h in 1..TILE_HEIGHT {
            let below = tile_offset(h - 1);
            for j in 0..(TILE_WIDTH as usize >> h) {
                let n = node_hash(&nodes[below + 2 * j], &nodes[below + 2 * j + 1]);
                nodes.push(n);
            }
        }
        Some(Self {
            nodes: nodes.into_boxed_slice(),
        })
    }

    /// Node `j` (counted from the tile's start) at height `h < 8`.
    pub fn node(&self, h: u32, j: u64) -> Option<&Hash> {
        if h >= TILE_HEIGHT || j >= TILE_WIDTH >> h {
            return None;
        }
        self.nodes.get(tile_offset(h) + j as usize)
    }
}

/// Where the tree finds the lower nodes of complete, durable level-0
/// tiles it has dropped from memory.
pub trait TileSource {
    /// The nodes of full level-0 tile `tile`.
    fn tile(&self, tile: u64) -> Result<Arc<TileNodes>, StorageError>;
}

/// A source for trees that never drop tiles (tests, reference use).
#[derive(Debug, Default, Clone, Copy)]
pub struct NoTiles;

impl TileSource for NoTiles {
    fn tile(&self, tile: u64) -> Result<Arc<TileNodes>, StorageError> {
        Err(StorageError::Malformed {
            what: format!("level-0 tile {tile}"),
            problem: "the tree dropped it but has no storage to read it from".into(),
        })
    }
}

/// An append-only RFC 6962 tree that keeps in memory only what its
/// complete tiles in storage cannot give back cheaply (see module docs).
#[derive(Debug, Default, Clone)]
pub struct MerkleTree {
    size: u64,
    /// `levels[h][i - offset(h)]` is node `i` at height `h`.
    levels: Vec<Vec<Hash>>,
    /// Level-0 tiles `0..dropped` are complete and durable, and their
    /// nodes below height 8 are not in `levels`.
    dropped: u64,
}

fn split_point(n: u64) -> u64 {
    // Largest power of two strictly less than n (n >= 2).
    1u64 << (63 - (n - 1).leading_zeros())
}

impl MerkleTree {
    pub fn new() -> Self {
        Self::default()
    }

    /// A tree of `size` leaves rebuilt from what storage holds: the
    /// height-8 nodes (the level-1 tiles, `size >> 8` of them) and the
    /// leaves of the partial level-0 tile (`size % 256`). Every complete
    /// level-0 tile is taken to be durable. `None` if the counts do not
    /// match `size`.
    pub fn from_tiles(size: u64, height8: &[Hash], partial_leaves: &[Hash]) -> Option<Self> {
        let complete = size / TILE_WIDTH;
        if height8.len() as u64 != complete || partial_leaves.len() as u64 != size % TILE_WIDTH {
            return None;
        }
        let mut tree = Self {
            size: complete * TILE_WIDTH,
            levels: vec![Vec::new(); TILE_HEIGHT as usize],
            dropped: complete,
        };
        for n in height8 {
            tree.push_at(*n, TILE_HEIGHT);
        }
        for l in partial_leaves {
            tree.push(*l);
        }
        Some(tree)
    }

    /// Number of leaves.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Index of the first node at height `h` kept in memory.
    fn offset(&self, h: u32) -> u64 {
        if h < TILE_HEIGHT {
            self.dropped * (TILE_WIDTH >> h)
        } else {
            0
        }
    }

    /// Append a leaf hash, adding every subtree root it completes.
    pub fn push(&mut self, leaf: Hash) {
        self.push_at(leaf, 0);
        self.size += 1;
    }

    /// Add node `node` at height `h` and every node above it completes.
    /// The sibling of a node that completes a pair is always in memory:
    /// below height 8 both lie in the same tile, which cannot be dropped
    /// while it is still being filled.
    fn push_at(&mut self, mut node: Hash, mut h: u32) {
        loop {
            if self.levels.len() == h as usize {
                self.levels.push(Vec::new());
            }
            let offset = self.offset(h);
            let level = &mut self.levels[h as usize];
            level.push(node);
            let len = level.len();
            if (offset + len as u64) % 2 == 1 {
                break;
            }
            node = node_hash(&level[len - 2], &level[len - 1]);
            h += 1;
        }
    }

    /// Drop leaves past `size` (used to undo a batch that failed to
    /// commit). Durable tiles are never undone: `size` is clamped to the
    /// dropped prefix.
    pub fn truncate(&mut self, size: u64) {
        let size = size.max(self.dropped * TILE_WIDTH).min(self.size);
        for (h, level) in self.levels.iter_mut().enumerate() {
            let h = h as u32;
            let offset = if h < TILE_HEIGHT {
                self.dropped * (TILE_WIDTH >> h)
            } else {
                0
            };
            level.truncate(((size >> h) - offset) as usize);
        }
        // With tiles dropped, height 8 is never empty, so this never
        // removes a height whose nodes live in storage.
        while self.levels.last().is_some_and(Vec::is_empty) {
            self.levels.pop();
        }
        self.size = size;
    }

    /// Forget the lower nodes of every complete level-0 tile below
    /// `durable` (a size storage has made durable), returning them so the
    /// caller can keep recent ones in a cache: the entries just committed
    /// are the ones whose proofs are asked for next.
    pub fn drop_durable(&mut self, durable: u64) -> Vec<(u64, Arc<TileNodes>)> {
        let complete = durable.min(self.size) / TILE_WIDTH;
        if complete <= self.dropped {
            return Vec::new();
        }
        let n = complete - self.dropped;
        let mut out = Vec::with_capacity(n as usize);
        for t in 0..n {
            let mut nodes = Vec::with_capacity(TILE_NODES);
            for h in 0..TILE_HEIGHT {
                let w = (TILE_WIDTH >> h) as usize;
                let start = t as usize * w;
                nodes.extend_from_slice(&self.levels[h as usize][start..start + w]);
            }
            out.push((
                self.dropped + t,
                Arc::new(TileNodes {
                    nodes: nodes.into_boxed_slice(),
                }),
            ));
        }
        for h in 0..TILE_HEIGHT {
            self.levels[h as usize].drain(..(n * (TILE_WIDTH >> h)) as usize);
        }
        self.dropped = complete;
        out
    }

    /// Number of complete subtrees at height `h`.
    pub fn level_len(&self, h: u32) -> u64 {
        self.offset(h) + self.levels.get(h as usize).map_or(0, |l| l.len() as u64)
    }

    /// Node `i` at height `h`, if it exists and is held in memory (as
    /// every node of a tile not yet durable is).
    pub fn mem_node(&self, h: u32, i: u64) -> Option<&Hash> {
        let k = i.checked_sub(self.offset(h))?;
        self.levels.get(h as usize)?.get(usize::try_from(k).ok()?)
    }

    /// Node `i` at height `h`, from memory or from its tile.
    pub fn node(&self, h: u32, i: u64, src: &dyn TileSource) -> Result<Hash, TreeError> {
        if let Some(n) = self.mem_node(h, i) {
            return Ok(*n);
        }
        let missing = || TreeError::IndexOutOfRange {
            index: i << h,
            size: self.size,
        };
        if h >= TILE_HEIGHT || i >= self.offset(h) {
            return Err(missing());
        }
        let per_tile = TILE_WIDTH >> h;
        let tile = i / per_tile;
        let nodes = src.tile(tile).map_err(|e| TreeError::Tile {
            tile,
            source: Arc::new(e),
        })?;
        nodes.node(h, i % per_tile).copied().ok_or_else(missing)
    }

    /// The hash of leaf `index`.
    pub fn leaf(&self, index: u64, src: &dyn TileSource) -> Result<Hash, TreeError> {
        if index >= self.size {
            return Err(TreeError::IndexOutOfRange {
                index,
                size: self.size,
            });
        }
        self.node(0, index, src)
    }

    /// MTH of leaves `[lo, hi)`, `hi <= size`, `lo < hi`, where `lo` is a
    /// multiple of the largest power of two below `hi - lo` (as every
    /// range in RFC 6962's recursions is).
    fn range(&self, lo: u64, hi: u64, src: &dyn TileSource) -> Result<Hash, TreeError> {
        let n = hi - lo;
        if n.is_power_of_two() {
            let k = n.trailing_zeros();
            return self.node(k, lo >> k, src);
        }
        let k = split_point(n);
        Ok(node_hash(
            &self.range(lo, lo + k, src)?,
            &self.range(lo + k, hi, src)?,
        ))
    }

    fn check_size(&self, size: u64) -> Result<(), TreeError> {
        if size > self.size {
            return Err(TreeError::SizeTooLarge {
                asked: size,
                size: self.size,
            });
        }
        Ok(())
    }

    /// The root of the tree of the first `size` leaves.
    pub fn root(&self, size: u64, src: &dyn TileSource) -> Result<Hash, TreeError> {
        self.check_size(size)?;
        if size == 0 {
            return Ok(EMPTY_ROOT);
        }
        self.range(0, size, src)
    }

    /// RFC 6962 PATH for leaf `index` in the tree of size `size`.
    pub fn inclusion_proof(
        &self,
        index: u64,
        size: u64,
        src: &dyn TileSource,
    ) -> Result<Vec<Hash>, TreeError> {
        self.check_size(size)?;
        if index >= size {
            return Err(TreeError::IndexOutOfRange { index, size });
        }
        let mut out = Vec::new();
        self.path(index, 0, size, src, &mut out)?;
        Ok(out)
    }

    fn path(
        &self,
        m: u64,
        lo: u64,
        hi: u64,
        src: &dyn TileSource,
        out: &mut Vec<Hash>,
    ) -> Result<(), TreeError> {
        let n = hi - lo;
        if n <= 1 {
            return Ok(());
        }
        let k = split_point(n);
        if m < k {
            self.path(m, lo, lo + k, src, out)?;
            out.push(self.range(lo + k, hi, src)?);
        } else {
            self.path(m - k, lo + k, hi, src, out)?;
            out.push(self.range(lo, lo + k, src)?);
        }
        Ok(())
    }

    /// RFC 6962 PROOF from size `first` to size `second`.
    pub fn consistency_proof(
        &self,
        first: u64,
        second: u64,
        src: &dyn TileSource,
    ) -> Result<Vec<Hash>, TreeError> {
        self.check_size(second)?;
        if first == 0 || first > second {
            return Err(TreeError::BadConsistencyRange { first, second });
        }
        let mut out = Vec::new();
        if first < second {
            self.subproof(first, 0, second, true, src, &mut out)?;
        }
        Ok(out)
    }

    fn subproof(
        &self,
        m: u64,
        lo: u64,
        hi: u64,
        complete: bool,
        src: &dyn TileSource,
        out: &mut Vec<Hash>,
    ) -> Result<(), TreeError> {
        let n = hi - lo;
        if m == n {
            if !complete {
                out.push(self.range(lo, hi, src)?);
            }
            return Ok(());
        }
        let k = split_point(n);
        if m <= k {
            self.subproof(m, lo, lo + k, complete, src, out)?;
            out.push(self.range(lo + k, hi, src)?);
        } else {
            self.subproof(m - k, lo + k, hi, false, src, out)?;
            out.push(self.range(lo, lo + k, src)?);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
