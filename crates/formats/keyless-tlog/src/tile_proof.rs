//! The plan behind a consistency proof computed from a log's tiles rather
//! than asked of the log: which subtree ranges RFC 6962's SUBPROOF names,
//! in proof order. The caller hashes each range from hash tiles (the
//! monitor's `TileReader`, the log's `TileClient`) through [`HashTiles`]; this
//! module does no I/O itself.
//! The plan has at most two ranges per tree level, so fewer than 128.

use std::future::Future;

use crate::hash::{node_hash, Hash};
use crate::tiles::{committed_width, TileId, TileKind, TILE_HEIGHT, TILE_WIDTH};

/// The ranges `[lo, hi)` whose Merkle hashes make up RFC 6962
/// SUBPROOF(m, D[0:n], true), in proof order. `m` must be in `1..n`
/// (a proof from an empty tree or to the same size is empty).
pub fn subproof_ranges(m: u64, n: u64) -> Vec<(u64, u64)> {
    let mut out = Vec::new();
    if m == 0 || m >= n {
        return out;
    }
    let (mut m, mut lo, mut hi, mut complete) = (m, 0u64, n, true);
    let mut rights = Vec::new();
    loop {
        let len = hi - lo;
        if m == len {
            if !complete {
                out.push((lo, hi));
            }
            break;
        }
        // The largest power of two smaller than `len` (RFC 6962's k).
        let k = 1u64 << (63 - (len - 1).leading_zeros());
        if m <= k {
            rights.push((lo + k, hi));
            hi = lo + k;
        } else {
            rights.push((lo, lo + k));
            m -= k;
            lo += k;
            complete = false;
        }
    }
    out.extend(rights.into_iter().rev());
    out
}

/// The aligned complete subtrees, as (first leaf, height), that the leaf
/// range `[lo, hi)` splits into, left to right: at most two per height,
/// so fewer than 128. When the range is a subtree of the RFC 6962 tree
/// (`lo` a multiple of the power of two `hi - lo` fits in, as every range
/// of a proof is), their hashes folded right to left ([`fold_range`]) are
/// its Merkle hash.
pub fn range_subtrees(lo: u64, hi: u64) -> Vec<(u64, u32)> {
    let mut out = Vec::new();
    let mut start = lo;
    while start < hi {
        // The largest aligned complete subtree starting at `start` that fits.
        let fit = 63 - (hi - start).leading_zeros();
        let align = if start == 0 {
            63
        } else {
            start.trailing_zeros()
        };
        let h = fit.min(align);
        out.push((start, h));
        start += 1u64 << h;
    }
    out
}

/// Where the hash of the complete subtree of `2^height` leaves from leaf
/// `start` (aligned) is found in the hash tiles: the hashes of tile `index`
/// of `level` at positions `first..first + count`, whose root it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SubtreeInTiles {
    pub level: u32,
    pub index: u64,
    pub first: usize,
    pub count: usize,
}

/// The tile hashes holding the subtree of `2^height` leaves from `start`.
pub fn subtree_in_tiles(start: u64, height: u32) -> SubtreeInTiles {
    let level = height / TILE_HEIGHT;
    let base = start.checked_shr(TILE_HEIGHT * level).unwrap_or(0);
    SubtreeInTiles {
        level,
        index: base / TILE_WIDTH,
        first: (base % TILE_WIDTH) as usize,
        count: 1usize << (height % TILE_HEIGHT),
    }
}

/// The root of the complete subtree whose bottom hashes are `bytes` (a
/// power of two of 32-byte hashes, as [`subtree_in_tiles`] names them);
/// `None` when `bytes` is not that.
pub fn subtree_root(bytes: &[u8]) -> Option<Hash> {
    let n = bytes.len() / 32;
    if !bytes.len().is_multiple_of(32) || !n.is_power_of_two() {
        return None;
    }
    let mut hashes: Vec<Hash> = bytes
        .chunks_exact(32)
        .map(|c| {
            let mut h = [0u8; 32];
            h.copy_from_slice(c);
            h
        })
        .collect();
    while hashes.len() > 1 {
        hashes = hashes
            .chunks_exact(2)
            .map(|p| node_hash(&p[0], &p[1]))
            .collect();
    }
    hashes.pop()
}

/// The Merkle hash of a range from the hashes of its [`range_subtrees`],
/// folded right to left; `None` for an empty range.
pub fn fold_range(parts: &[Hash]) -> Option<Hash> {
    let (last, rest) = parts.split_last()?;
    Some(
        rest.iter()
            .rev()
            .fold(*last, |acc, left| node_hash(left, &acc)),
    )
}

/// Where hash tiles come from (a log over HTTP, with a cache): all that
/// [`consistency_proof_from_tiles`] needs besides the plan above, so the
/// monitor and the log's remote checker share the computation.
pub trait HashTiles {
    type Error;

    /// Hash tile `id`: exactly `id.width` hashes, or an error.
    fn hash_tile(&mut self, id: TileId) -> impl Future<Output = Result<&[u8], Self::Error>> + Send;

    /// The error for tiles that do not hold what the tree needs
    /// (`path`: the tile, or the place in the tree).
    fn malformed(&self, path: String, reason: &str) -> Self::Error;
}

/// Root of the complete subtree of `2^height` leaves from leaf `start`,
/// in a tree of `size` leaves, from its hash tile.
async fn subtree_from_tiles<S: HashTiles + Send>(
    src: &mut S,
    start: u64,
    height: u32,
    size: u64,
) -> Result<Hash, S::Error> {
    let at = subtree_in_tiles(start, height);
    let (level, t) = (at.level, at.index);
    let beyond = |src: &S| src.malformed(format!("level {level} tile {t}"), "beyond the tree");
    let Ok(level8) = u8::try_from(level) else {
        return Err(beyond(src));
    };
    let kind = TileKind::Hashes { level: level8 };
    let Some(width) = committed_width(kind, t, size) else {
        return Err(beyond(src));
    };
    let id = TileId {
        kind,
        index: t,
        width,
    };
    let root = src
        .hash_tile(id)
        .await?
        .get(at.first * 32..(at.first + at.count) * 32)
        .and_then(subtree_root);
    root.ok_or_else(|| src.malformed(id.path(), "too short for the subtree"))
}

/// RFC 6962 Merkle hash of leaves `[lo, hi)` of a tree of `size` leaves
/// (a range of the RFC 6962 tree, as every range of a proof is), from the
/// hash tiles of its complete subtrees.
pub async fn range_hash_from_tiles<S: HashTiles + Send>(
    src: &mut S,
    lo: u64,
    hi: u64,
    size: u64,
) -> Result<Hash, S::Error> {
    let mut parts = Vec::new();
    for (start, height) in range_subtrees(lo, hi) {
        parts.push(subtree_from_tiles(src, start, height, size).await?);
    }
    fold_range(&parts).ok_or_else(|| src.malformed(String::new(), "empty range"))
}

/// RFC 6962 consistency proof from size `first` to `size`, computed from
/// hash tiles: empty when `first` is 0 or not below `size`.
pub async fn consistency_proof_from_tiles<S: HashTiles + Send>(
    src: &mut S,
    first: u64,
    size: u64,
) -> Result<Vec<Hash>, S::Error> {
    let mut out = Vec::new();
    for (lo, hi) in subproof_ranges(first, size) {
        out.push(range_hash_from_tiles(src, lo, hi, size).await?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{consistency_proof, leaf_hash, root_from_leaves, Hash};

    #[test]
    fn subproof_ranges_match_reference() {
        let leaves: Vec<Hash> = (0u32..40).map(|i| leaf_hash(&i.to_be_bytes())).collect();
        for n in 2..=40u64 {
            for m in 1..n {
                let want = consistency_proof(&leaves[..n as usize], m).unwrap();
                let got: Vec<Hash> = subproof_ranges(m, n)
                    .into_iter()
                    .map(|(lo, hi)| root_from_leaves(&leaves[lo as usize..hi as usize]))
                    .collect();
                assert_eq!(got, want, "m={m} n={n}");
            }
        }
    }

    #[test]
    fn range_hashes_from_subtrees_match_reference() {
        let leaves: Vec<Hash> = (0u32..70).map(|i| leaf_hash(&i.to_be_bytes())).collect();
        for lo in 0..70u64 {
            // The ranges of RFC 6962's tree (every range a proof names):
            // `lo` a multiple of the power of two the range fits in.
            for hi in (lo + 1..=70u64).filter(|hi| lo.is_multiple_of((hi - lo).next_power_of_two()))
            {
                let parts: Vec<Hash> = range_subtrees(lo, hi)
                    .into_iter()
                    .map(|(s, h)| root_from_leaves(&leaves[s as usize..(s + (1 << h)) as usize]))
                    .collect();
                let want = root_from_leaves(&leaves[lo as usize..hi as usize]);
                assert_eq!(fold_range(&parts), Some(want), "lo={lo} hi={hi}");
            }
        }
        assert_eq!(fold_range(&[]), None);
    }

    #[test]
    fn subtree_positions_and_roots() {
        assert_eq!(
            subtree_in_tiles(512 + 4, 2),
            SubtreeInTiles {
                level: 0,
                index: 2,
                first: 4,
                count: 4
            }
        );
        assert_eq!(
            subtree_in_tiles(3 * 256 * 256, 17),
            SubtreeInTiles {
                level: 2,
                index: 0,
                first: 3,
                count: 2
            }
        );
        let leaves: Vec<Hash> = (0u32..4).map(|i| leaf_hash(&i.to_be_bytes())).collect();
        let bytes: Vec<u8> = leaves.iter().flatten().copied().collect();
        assert_eq!(subtree_root(&bytes), Some(root_from_leaves(&leaves)));
        assert_eq!(subtree_root(&bytes[..96]), None);
        assert_eq!(subtree_root(&[]), None);
    }

    #[test]
    fn no_ranges_from_an_empty_tree_or_to_the_same_size() {
        assert!(subproof_ranges(0, 5).is_empty());
        assert!(subproof_ranges(5, 5).is_empty());
        assert!(subproof_ranges(6, 5).is_empty());
    }

    #[test]
    fn the_plan_stays_small_for_the_largest_trees() {
        let ranges = subproof_ranges(u64::MAX / 3, u64::MAX - 1);
        assert!(ranges.len() < 128, "{} ranges", ranges.len());
    }

    /// Hash tiles of a tree held in memory, as a log would serve them.
    struct MemoryTiles {
        leaves: Vec<Hash>,
        size: u64,
        served: Vec<u8>,
    }

    impl HashTiles for MemoryTiles {
        type Error = String;

        async fn hash_tile(&mut self, id: TileId) -> Result<&[u8], String> {
            let TileKind::Hashes { level } = id.kind else {
                return Err("not a hash tile".into());
            };
            let per = 1u64 << (TILE_HEIGHT * u32::from(level));
            if committed_width(id.kind, id.index, self.size) != Some(id.width) {
                return Err(format!("{} has another width", id.path()));
            }
            self.served.clear();
            for i in 0..u64::from(id.width) {
                let lo = ((id.index * TILE_WIDTH + i) * per) as usize;
                self.served
                    .extend_from_slice(&root_from_leaves(&self.leaves[lo..lo + per as usize]));
            }
            Ok(&self.served)
        }

        fn malformed(&self, path: String, reason: &str) -> String {
            format!("{path}: {reason}")
        }
    }

    /// Run a future that never waits (the tiles are in memory).
    fn ready<F: Future>(f: F) -> F::Output {
        let mut f = std::pin::pin!(f);
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        match f.as_mut().poll(&mut cx) {
            std::task::Poll::Ready(v) => v,
            std::task::Poll::Pending => panic!("an in-memory tile read waited"),
        }
    }

    /// Proofs computed from level-0 and level-1 tiles equal the ones
    /// computed from the leaves, across tile boundaries.
    #[test]
    fn consistency_proofs_from_tiles_match_reference() {
        let leaves: Vec<Hash> = (0u32..700).map(|i| leaf_hash(&i.to_be_bytes())).collect();
        for n in [2u64, 255, 256, 257, 511, 512, 513, 700] {
            let mut tiles = MemoryTiles {
                leaves: leaves[..n as usize].to_vec(),
                size: n,
                served: Vec::new(),
            };
            for m in [1u64, 2, 3, 100, 255, 256, 257, 300, 512, 600, 699] {
                let got = ready(consistency_proof_from_tiles(&mut tiles, m, n)).unwrap();
                let want = if m < n {
                    consistency_proof(&leaves[..n as usize], m).unwrap()
                } else {
                    Vec::new()
                };
                assert_eq!(got, want, "{m} -> {n}");
            }
        }
    }
}
