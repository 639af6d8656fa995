//! Merkle hashes from a log's C2SP tlog-tiles hash tiles: the subtree
//! roots behind consistency and inclusion proofs, computed client-side so
//! any tiled log can be checked without a proof endpoint. Every tile is a
//! capped read and must have exactly the size its width says.

use std::collections::HashMap;

use keyless_tlog::tile_proof::{consistency_proof_from_tiles, range_hash_from_tiles, HashTiles};
use keyless_tlog::tiles::TILE_WIDTH;
use keyless_tlog::{Checkpoint, Hash, NoteVerifier, SignedNote, TileId};
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

    /// RFC 6962 MTH of leaves `[lo, hi)` of a tree of `size` leaves.
    pub async fn range_hash(&mut self, lo: u64, hi: u64, size: u64) -> Result<Hash, TilesError> {
        range_hash_from_tiles(self, lo, hi, size).await
    }

    /// RFC 6962 consistency proof from `first` to `size`.
    pub async fn consistency_proof(
        &mut self,
        first: u64,
        size: u64,
    ) -> Result<Vec<Hash>, TilesError> {
        consistency_proof_from_tiles(self, first, size).await
    }
}

impl HashTiles for TileReader<'_> {
    type Error = TilesError;

    async fn hash_tile(&mut self, id: TileId) -> Result<&[u8], TilesError> {
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

    fn malformed(&self, path: String, reason: &str) -> TilesError {
        TilesError::Tile {
            path,
            reason: reason.into(),
        }
    }
}
