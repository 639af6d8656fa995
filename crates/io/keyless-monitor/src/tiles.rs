//! Merkle hashes from a log's C2SP tlog-tiles hash tiles: the subtree
//! roots behind consistency and inclusion proofs, computed client-side so
//! any tiled log can be checked without a proof endpoint. Every tile is a
//! capped read and must have exactly the size its width says.

use std::collections::HashMap;

use keyless_tlog::tile_proof::{
    fold_range, range_subtrees, subproof_ranges, subtree_in_tiles, subtree_root,
};
use keyless_tlog::tiles::{TILE_HEIGHT, TILE_WIDTH};
use keyless_tlog::{Checkpoint, Hash, NoteVerifier, SignedNote, TileId, TileKind};
use thiserror::Error;

use crate::fetch::{FetchError, Fetcher};

/// A full hash tile: 256 hashes of 32 bytes.
const MAX_HASH_TILE: usize = TILE_WIDTH as usize * 32;

#[derive(Debug, Error)]
#[non_exhaustive]
pub enum TilesError {
    #[error(transparent)]
    Fetch(#[from] FetchError),
    #[error("tile {path} is malformed: {reason}")]
    Tile { path: String, reason: String },
    #[error("the {what} checkpoint is not a note the log's key signed")]
    Note {
        what: &'static str,
        #[source]
        source: keyless_tlog::NoteError,
    },
    #[error("the {what} checkpoint's body")]
    Body {
        what: &'static str,
        #[source]
        source: keyless_tlog::CheckpointError,
    },
}

/// Parse a checkpoint note and verify its signature.
pub fn verify_checkpoint(
    text: &str,
    verifier: &NoteVerifier,
    what: &'static str,
) -> Result<Checkpoint, TilesError> {
    let note = SignedNote::parse(text).map_err(|source| TilesError::Note { what, source })?;
    note.verify(verifier)
        .map_err(|source| TilesError::Note { what, source })?;
    Checkpoint::parse(note.body()).map_err(|source| TilesError::Body { what, source })
}

/// How many hashes tile `index` of `kind` holds in a tree of `size` leaves.
fn committed_width(level: u32, index: u64, size: u64) -> Option<u16> {
    let nodes = size.checked_shr(TILE_HEIGHT * level).unwrap_or(0);
    let first = index.checked_mul(TILE_WIDTH)?;
    (nodes > first).then(|| (nodes - first).min(TILE_WIDTH) as u16)
}

/// Reads hash tiles, caching them for one pass.
pub struct TileReader<'a> {
    fetch: &'a Fetcher,
    cache: HashMap<TileId, Vec<u8>>,
}

impl<'a> TileReader<'a> {
    pub fn new(fetch: &'a Fetcher) -> Self {
        Self {
            fetch,
            cache: HashMap::new(),
        }
    }

    async fn tile(&mut self, id: TileId) -> Result<&[u8], TilesError> {
        if !self.cache.contains_key(&id) {
            let data = self.fetch.get(&id.path(), MAX_HASH_TILE).await?;
            if data.len() != usize::from(id.width) * 32 {
                return Err(TilesError::Tile {
                    path: id.path(),
                    reason: format!("{} bytes for {} hashes", data.len(), id.width),
                });
            }
            self.cache.insert(id, data);
        }
        Ok(self.cache.get(&id).map(Vec::as_slice).unwrap_or_default())
    }

    /// Root of the perfect subtree of `2^height` leaves from leaf `start`.
    async fn node(&mut self, start: u64, height: u32, size: u64) -> Result<Hash, TilesError> {
        let at = subtree_in_tiles(start, height);
        let (level, t) = (at.level, at.index);
        let beyond = || TilesError::Tile {
            path: format!("level {level} tile {t}"),
            reason: "beyond the tree".into(),
        };
        let width = committed_width(level, t, size).ok_or_else(beyond)?;
        let id = TileId {
            kind: TileKind::Hashes {
                level: u8::try_from(level).map_err(|_| beyond())?,
            },
            index: t,
            width,
        };
        let data = self.tile(id).await?;
        data.get(at.first * 32..(at.first + at.count) * 32)
            .and_then(subtree_root)
            .ok_or_else(|| TilesError::Tile {
                path: id.path(),
                reason: "too short for the subtree".into(),
            })
    }

    /// RFC 6962 MTH of leaves `[lo, hi)` of a tree of `size` leaves.
    pub async fn range_hash(&mut self, lo: u64, hi: u64, size: u64) -> Result<Hash, TilesError> {
        let mut parts = Vec::new();
        for (start, height) in range_subtrees(lo, hi) {
            parts.push(self.node(start, height, size).await?);
        }
        fold_range(&parts).ok_or_else(|| TilesError::Tile {
            path: String::new(),
            reason: "empty range".into(),
        })
    }

    /// RFC 6962 consistency proof from `first` to `size`.
    pub async fn consistency_proof(
        &mut self,
        first: u64,
        size: u64,
    ) -> Result<Vec<Hash>, TilesError> {
        let mut out = Vec::new();
        if first == 0 || first >= size {
            return Ok(out);
        }
        for (lo, hi) in subproof_ranges(first, size) {
            out.push(self.range_hash(lo, hi, size).await?);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widths() {
        assert_eq!(committed_width(0, 0, 5), Some(5));
        assert_eq!(committed_width(0, 1, 300), Some(44));
        assert_eq!(committed_width(0, 2, 300), None);
        assert_eq!(committed_width(1, 0, 300), Some(1));
        assert_eq!(committed_width(1, 0, 255), None);
    }
}
