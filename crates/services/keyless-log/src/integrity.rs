//! An independent integrity checker: replays a log from its published
//! tiles alone, with the reference RFC 6962 code in keyless-tlog rather
//! than the log's own tree, and checks every checkpoint a client has seen.
//!
//! It catches what a log must never do: serve entries that do not hash to
//! the tree's leaves, higher-level tiles that do not match the leaves,
//! a checkpoint whose root is not the tree's, or a history that differs
//! from one it signed earlier. What an entry body must look like is the
//! personality's to say: [`check_log_with`] hands every entry to its check
//! (keyless-rekor's `check_log` parses Rekor bodies there).

use keyless_tlog::tiles::{decode_entry_bundle, TILE_HEIGHT, TILE_WIDTH};
use keyless_tlog::{leaf_hash, root_from_leaves, Hash, NoteVerifier, TileId, TileKind};
use thiserror::Error;

use crate::remote::{verify_checkpoint, RemoteError, TileClient};
use crate::types::committed_width;

/// What the checker found wrong.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum IntegrityError {
    #[error(transparent)]
    Remote(#[from] RemoteError),
    #[error("entry {index}: {problem}")]
    Entry { index: u64, problem: String },
    /// The personality's check refused an entry's body.
    #[error("entry {index} is not a valid entry body")]
    Body {
        index: u64,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    #[error("tile {path}: {problem}")]
    Tile { path: String, problem: String },
    /// An entry bundle does not decode.
    #[error("tile {path}")]
    Bundle {
        path: String,
        #[source]
        source: keyless_tlog::TileError,
    },
    #[error("checkpoint of size {size}: {problem}")]
    Checkpoint { size: u64, problem: String },
}

/// What the checker checked.
#[derive(Debug, Clone)]
pub struct IntegrityReport {
    /// Size of the current checkpoint.
    pub size: u64,
    /// Root of the current checkpoint (recomputed and matching).
    pub root: Hash,
    /// Earlier checkpoints found consistent with the current tree.
    pub checkpoints_checked: usize,
}

/// The body check of a personality: `Err` when an entry's body is not one
/// the personality would have appended.
pub type EntryCheck<'a> =
    &'a (dyn Fn(&[u8]) -> Result<(), Box<dyn std::error::Error + Send + Sync>> + Sync);

/// Replay the log at `url` from scratch and check the current checkpoint
/// and every one in `seen` against it; the Merkle and tile checks only,
/// any entry body is accepted.
pub async fn check_log(
    url: &str,
    verifier: &NoteVerifier,
    seen: &[String],
) -> Result<IntegrityReport, IntegrityError> {
    check_log_with(url, verifier, seen, &|_| Ok(())).await
}

/// [`check_log`], also handing every entry's body to `check_entry`.
pub async fn check_log_with(
    url: &str,
    verifier: &NoteVerifier,
    seen: &[String],
    check_entry: EntryCheck<'_>,
) -> Result<IntegrityReport, IntegrityError> {
    let mut client = TileClient::new(url)?;
    let text = client.checkpoint_text().await?;
    let cp = verify_checkpoint(&text, verifier, "current")?;
    let size = cp.size;
    let mut leaves: Vec<Hash> = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
    for t in 0..size.div_ceil(TILE_WIDTH) {
        let width = committed_width(TileKind::Entries, t, size).unwrap_or(0);
        let tile = TileId {
            kind: TileKind::Hashes { level: 0 },
            index: t,
            width,
        };
        let hashes = client.tile(tile).await?.to_vec();
        let bundle_id = TileId {
            kind: TileKind::Entries,
            index: t,
            width,
        };
        let bundle = client.tile(bundle_id).await?.to_vec();
        let entries = decode_entry_bundle(&bundle).map_err(|source| IntegrityError::Bundle {
            path: bundle_id.path(),
            source,
        })?;
        if entries.len() != usize::from(width) {
            return Err(IntegrityError::Tile {
                path: bundle_id.path(),
                problem: format!("{} entries, expected {width}", entries.len()),
            });
        }
        for (k, e) in entries.iter().enumerate() {
            let index = t * TILE_WIDTH + k as u64;
            let leaf = leaf_hash(e);
            if hashes.get(k * 32..k * 32 + 32) != Some(&leaf[..]) {
                return Err(IntegrityError::Entry {
                    index,
                    problem: "entry does not hash to its leaf in tile 0".into(),
                });
            }
            check_entry(e).map_err(|source| IntegrityError::Body { index, source })?;
            leaves.push(leaf);
        }
    }
    let root = root_from_leaves(&leaves);
    if root != cp.root_hash {
        return Err(IntegrityError::Checkpoint {
            size,
            problem: "root hash differs from the replayed tree's".into(),
        });
    }
    // Higher tiles must hold the roots of the complete subtrees below them.
    for level in 1u8.. {
        let height = TILE_HEIGHT * u32::from(level);
        let nodes = size >> height;
        if nodes == 0 {
            break;
        }
        for t in 0..nodes.div_ceil(TILE_WIDTH) {
            let width = committed_width(TileKind::Hashes { level }, t, size).unwrap_or(0);
            let id = TileId {
                kind: TileKind::Hashes { level },
                index: t,
                width,
            };
            let data = client.tile(id).await?.to_vec();
            for k in 0..u64::from(width) {
                let j = t * TILE_WIDTH + k;
                let span = 1usize << height;
                let lo = j as usize * span;
                let want = root_from_leaves(&leaves[lo..lo + span]);
                let off = k as usize * 32;
                if data.get(off..off + 32) != Some(&want[..]) {
                    return Err(IntegrityError::Tile {
                        path: id.path(),
                        problem: format!("hash {k} is not its subtree's root"),
                    });
                }
            }
        }
    }
    for text in seen {
        let old = verify_checkpoint(text, verifier, "earlier")?;
        if old.size > size {
            return Err(IntegrityError::Checkpoint {
                size: old.size,
                problem: format!("larger than the current tree ({size})"),
            });
        }
        if root_from_leaves(&leaves[..old.size as usize]) != old.root_hash {
            return Err(IntegrityError::Checkpoint {
                size: old.size,
                problem: "the current tree's prefix has a different root".into(),
            });
        }
    }
    Ok(IntegrityReport {
        size,
        root,
        checkpoints_checked: seen.len(),
    })
}
