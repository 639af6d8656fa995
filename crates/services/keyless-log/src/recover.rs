//! Recovery on open: rebuild the in-memory state from the storage driver
//! and check it against the last durable checkpoint.
//!
//! Recovery rebuilds the tree from what its tiles already summarize: the
//! level-1 tiles (every height-8 node, 1/256 of the leaves) and the
//! partial level-0 tile, checked against the checkpoint's root. Complete
//! level-0 tiles stay in storage and are read on demand through
//! [`crate::tile_cache::TileCache`] (see [`crate::merkle`]), so neither
//! opening nor running the log holds every leaf hash in memory.

use keyless_tlog::tiles::{decode_entry_bundle, TILE_WIDTH};
use keyless_tlog::{Checkpoint, Hash, SignedNote, TileId, TileKind, EMPTY_ROOT};

use crate::error::LogError;
use crate::index::{EntryIndex, MemoryIndex};
use crate::leaf::LeafHasher;
use crate::merkle::MerkleTree;
use crate::signer::LogSigner;
use crate::storage::{Commit, Storage};
use crate::types::{committed_width, Published};

pub(crate) struct Recovered {
    pub tree: MerkleTree,
    pub published: Published,
    /// Bodies of the entry bundle still being filled.
    pub tail: Vec<Vec<u8>>,
    pub index: Box<dyn EntryIndex>,
}

/// Rebuild the in-memory state from storage and check it against the
/// last checkpoint, which must be signed by this log's key for this
/// origin. Anything past the checkpoint was never acknowledged and is
/// dropped.
pub(crate) fn recover(
    storage: &dyn Storage,
    signer: &LogSigner,
    origin: &str,
    hasher: &dyn LeafHasher,
) -> Result<Recovered, LogError> {
    let Some(text) = storage.read_checkpoint()? else {
        // First start: publish the empty tree so readers always find a checkpoint.
        let body = Checkpoint {
            origin: origin.to_string(),
            size: 0,
            root_hash: EMPTY_ROOT,
            extensions: vec![],
        }
        .to_body();
        let note = signer.sign_note(&body)?;
        storage.commit(&Commit {
            first_index: 0,
            meta: vec![],
            tiles: vec![],
            checkpoint: note.clone(),
        })?;
        storage.recover(0)?;
        let index = open_index(storage, 0)?;
        return Ok(Recovered {
            tree: MerkleTree::new(),
            published: Published {
                size: 0,
                root: EMPTY_ROOT,
                note,
            },
            tail: vec![],
            index,
        });
    };
    let state = read_state(&text, storage, signer, origin, hasher)?;
    let index = open_index(storage, state.published.size)?;
    Ok(Recovered {
        tree: state.tree,
        published: state.published,
        tail: state.tail,
        index,
    })
}

/// The committed state: the tree, the checkpoint and the bodies of the
/// entry bundle still being filled.
pub(crate) struct State {
    pub tree: MerkleTree,
    pub published: Published,
    pub tail: Vec<Vec<u8>>,
}

/// Rebuild the committed state from the checkpoint `text` read from
/// `storage`, checked as [`recover`] says, dropping metadata past it.
/// Also how the sequencer re-reads the state after a reconnect.
pub(crate) fn read_state(
    text: &str,
    storage: &dyn Storage,
    signer: &LogSigner,
    origin: &str,
    hasher: &dyn LeafHasher,
) -> Result<State, LogError> {
    let stored = |problem: String, source: Box<dyn std::error::Error + Send + Sync>| {
        LogError::StoredCheckpoint { problem, source }
    };
    let note =
        SignedNote::parse(text).map_err(|e| stored("is not a signed note".into(), Box::new(e)))?;
    note.verify(signer.verifier()).map_err(|e| {
        stored(
            format!("is not signed by this log's key and origin {origin:?}"),
            Box::new(e),
        )
    })?;
    let cp = Checkpoint::parse(note.body())
        .map_err(|e| stored("is not a checkpoint".into(), Box::new(e)))?;
    if cp.origin != origin {
        return Err(LogError::Config(format!(
            "the data directory holds the log {:?}, not {origin:?}",
            cp.origin
        )));
    }
    let size = cp.size;
    // Height-8 nodes, as the level-1 tiles hold them.
    let mut height8 = Vec::with_capacity(usize::try_from(size / TILE_WIDTH).unwrap_or(0));
    let level1 = TileKind::Hashes { level: 1 };
    for t in 0..(size / TILE_WIDTH).div_ceil(TILE_WIDTH) {
        if let Some(width) = committed_width(level1, t, size) {
            height8.extend(read_hashes(storage, level1, t, width)?);
        }
    }
    let tail_start = size / TILE_WIDTH * TILE_WIDTH;
    let level0 = TileKind::Hashes { level: 0 };
    let partial = match committed_width(level0, size / TILE_WIDTH, size) {
        Some(width) if size > tail_start => read_hashes(storage, level0, size / TILE_WIDTH, width)?,
        _ => Vec::new(),
    };
    let tree = MerkleTree::from_tiles(size, &height8, &partial).ok_or_else(|| {
        LogError::Corrupt(format!(
            "tiles hold {} height-8 nodes and {} leaves of the last tile, not a tree of {size}",
            height8.len(),
            partial.len()
        ))
    })?;
    // Every root is computed from memory (heights >= 8 and the partial tile).
    let root = tree.root(size, &crate::merkle::NoTiles)?;
    if root != cp.root_hash {
        return Err(LogError::Corrupt(format!(
            "tiles give root {} for size {size}, the checkpoint says {}",
            hex::encode(root),
            hex::encode(cp.root_hash)
        )));
    }
    let mut tail = Vec::new();
    if size > tail_start {
        let id = TileId {
            kind: TileKind::Entries,
            index: size / TILE_WIDTH,
            width: (size - tail_start) as u16,
        };
        let data = storage
            .read_tile(&id)?
            .ok_or_else(|| LogError::Corrupt(format!("entry bundle {} is missing", id.path())))?;
        let entries = decode_entry_bundle(&data).map_err(|source| LogError::CorruptTile {
            what: id.path(),
            source,
        })?;
        if entries.len() != partial.len() {
            return Err(LogError::Corrupt(format!(
                "entry bundle {} has {} entries",
                id.path(),
                entries.len()
            )));
        }
        for (i, (e, l)) in entries.iter().zip(&partial).enumerate() {
            if hasher.leaf_hash(e) != Some(*l) {
                return Err(LogError::Corrupt(format!(
                    "entry {} does not match its leaf hash",
                    tail_start + i as u64
                )));
            }
        }
        tail = entries.into_iter().map(<[u8]>::to_vec).collect();
    }
    storage.recover(size)?;
    Ok(State {
        tree,
        published: Published {
            size,
            root,
            note: text.to_string(),
        },
        tail,
    })
}

/// The hashes in tile `index` of `kind`, stored at exactly `width`.
fn read_hashes(
    storage: &dyn Storage,
    kind: TileKind,
    index: u64,
    width: u16,
) -> Result<Vec<Hash>, LogError> {
    let id = TileId { kind, index, width };
    let data = storage
        .read_tile(&id)?
        .ok_or_else(|| LogError::Corrupt(format!("tile {} is missing", id.path())))?;
    if data.len() != usize::from(width) * 32 {
        return Err(LogError::Corrupt(format!(
            "tile {} has {} bytes, expected {}",
            id.path(),
            data.len(),
            usize::from(width) * 32
        )));
    }
    Ok(data
        .chunks_exact(32)
        .map(|h| {
            let mut out = [0u8; 32];
            out.copy_from_slice(h);
            out
        })
        .collect())
}

/// The backend's entry index, or one in memory, brought up to `size`:
/// entries past what it covers (it lags the checkpoint after a crash, or
/// covers nothing if kept in memory) are indexed from the level-0 tiles
/// and the metadata.
fn open_index(storage: &dyn Storage, size: u64) -> Result<Box<dyn EntryIndex>, LogError> {
    let index = storage
        .open_index()?
        .unwrap_or_else(|| Box::new(MemoryIndex::default()));
    index_up_to(index.as_ref(), storage, size)?;
    Ok(index)
}

/// Bring `index` up to `size` from the level-0 tiles and the metadata
/// (rebuilding it if it is ahead).
pub(crate) fn index_up_to(
    index: &dyn EntryIndex,
    storage: &dyn Storage,
    size: u64,
) -> Result<(), LogError> {
    let mut from = index.indexed_size()?;
    if from > size {
        tracing::warn!(
            indexed = from,
            size,
            "the entry index is ahead of the checkpoint; rebuilding it"
        );
        index.clear()?;
        from = 0;
    }
    if from < size {
        tracing::info!(from, size, "indexing entries");
    }
    let level0 = TileKind::Hashes { level: 0 };
    // Chunks of whole tiles, so metadata is read in few large requests.
    const CHUNK: u64 = 256 * TILE_WIDTH;
    while from < size {
        let end = ((from / CHUNK + 1) * CHUNK).min(size);
        let mut leaves = Vec::with_capacity((end - from) as usize);
        for t in from / TILE_WIDTH..end.div_ceil(TILE_WIDTH) {
            let width = committed_width(level0, t, size).unwrap_or(0);
            let hashes = read_hashes(storage, level0, t, width)?;
            let lo = from.max(t * TILE_WIDTH) - t * TILE_WIDTH;
            let hi = end.min(t * TILE_WIDTH + u64::from(width)) - t * TILE_WIDTH;
            leaves.extend_from_slice(hashes.get(lo as usize..hi as usize).unwrap_or_default());
        }
        if leaves.len() as u64 != end - from {
            return Err(LogError::Corrupt(format!(
                "level-0 tiles hold {} of entries {from}..{end}",
                leaves.len()
            )));
        }
        let meta = storage.read_meta(from, end - from)?;
        let artifacts: Vec<_> = meta.iter().map(|m| m.lookup_key).collect();
        index.add(from, &leaves, &artifacts)?;
        from = end;
    }
    Ok(())
}
