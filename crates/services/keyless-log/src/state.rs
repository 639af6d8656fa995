//! The log handle: shared state, recovery from durable state on open, and
//! submission to the sequencer.
//!
//! Recovery rebuilds the tree from what its tiles already summarize: the
//! level-1 tiles (every height-8 node, 1/256 of the leaves) and the
//! partial level-0 tile, checked against the checkpoint's root. Complete
//! level-0 tiles stay in storage and are read on demand through
//! [`TileCache`] (see [`crate::merkle`]), so neither opening nor running
//! the log holds every leaf hash in memory.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{sync_channel, SyncSender, TrySendError};
use std::sync::{Arc, RwLock, RwLockReadGuard};

use keyless_crypto::PublicKey;
use keyless_tlog::tiles::{decode_entry_bundle, TILE_WIDTH};
use keyless_tlog::{
    leaf_hash, Checkpoint, Hash, NoteSigner, NoteVerifier, SignedNote, TileId, TileKind, EMPTY_ROOT,
};
use tokio::sync::oneshot;

use crate::config::{LogConfig, StorageBackend};
use crate::error::LogError;
use crate::index::{EntryIndex, MemoryIndex};
use crate::merkle::{MerkleTree, TreeError};
use crate::sequencer::{self, Pending};
use crate::storage::files::FileStorage;
use crate::storage::postgres::PgStorage;
use crate::storage::{Commit, EntryMeta, Storage};
use crate::tile_cache::{TileCache, DEFAULT_CACHED_TILES};

/// Longest entry the log stores: entry bundles frame entries with a
/// 16-bit length.
pub const MAX_ENTRY_SIZE: usize = keyless_tlog::tiles::MAX_BUNDLE_ENTRY;

/// A checkpoint the log has made durable and published.
#[derive(Debug, Clone)]
pub struct Published {
    pub size: u64,
    pub root: Hash,
    /// The signed note text, as served at `/checkpoint`.
    pub note: String,
}

/// An entry to append: its canonical body and what to index it by.
#[derive(Debug, Clone)]
pub struct Submission {
    pub body: Vec<u8>,
    pub artifact_sha256: Option<[u8; 32]>,
}

/// Where a submitted entry ended up.
#[derive(Debug, Clone)]
pub struct Sequenced {
    pub index: u64,
    /// A published checkpoint that covers the entry.
    pub checkpoint: Arc<Published>,
    /// The log already held this exact entry; `index` is the existing one.
    pub duplicate: bool,
}

pub(crate) struct Shared {
    pub tree: RwLock<MerkleTree>,
    pub published: RwLock<Arc<Published>>,
    /// Leaf hash and artifact lookups over every committed entry.
    pub index: Box<dyn EntryIndex>,
    /// Complete level-0 tiles the tree no longer keeps in memory.
    pub tiles: TileCache,
    pub storage: Arc<dyn Storage>,
    pub signer: NoteSigner,
    pub origin: String,
}

pub(crate) fn read<T>(l: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    // Writers never leave these structures half-updated across a panic
    // point that matters, so a poisoned lock's data is still consistent.
    l.read().unwrap_or_else(|p| p.into_inner())
}

pub(crate) fn write<T>(l: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    l.write().unwrap_or_else(|p| p.into_inner())
}

impl Shared {
    /// The committed index of an entry with this leaf hash.
    pub fn find_leaf(&self, leaf: &Hash) -> Result<Option<u64>, LogError> {
        self.find_leaf_checked(leaf).map(|(found, _)| found)
    }

    /// Like [`Self::find_leaf`], also returning the published size the
    /// search covered: an entry with this leaf, if any, lies past it.
    pub fn find_leaf_checked(&self, leaf: &Hash) -> Result<(Option<u64>, u64), LogError> {
        let size = read(&self.published).size;
        let candidates = self.index.leaf_candidates(leaf)?;
        if candidates.is_empty() {
            return Ok((None, size));
        }
        let tree = read(&self.tree);
        for i in candidates.into_iter().filter(|&i| i < size) {
            if tree.leaf(i, &self.tiles)? == *leaf {
                return Ok((Some(i), size));
            }
        }
        Ok((None, size))
    }

    /// The committed index of each of these leaves that the log holds,
    /// found with one index lookup for all of them (see
    /// [`EntryIndex::is_remote`]).
    pub fn find_leaves(&self, leaves: &[Hash]) -> Result<HashMap<Hash, u64>, LogError> {
        let size = read(&self.published).size;
        let candidates = self.index.leaf_candidates_many(leaves)?;
        let mut found = HashMap::new();
        if candidates.iter().all(Vec::is_empty) {
            return Ok(found);
        }
        let tree = read(&self.tree);
        for (leaf, candidates) in leaves.iter().zip(candidates) {
            for i in candidates.into_iter().filter(|&i| i < size) {
                if tree.leaf(i, &self.tiles)? == *leaf {
                    found.insert(*leaf, i);
                    break;
                }
            }
        }
        Ok(found)
    }
}

/// A running log: cheap to clone, shared by the HTTP handlers.
#[derive(Clone)]
pub struct Log {
    pub(crate) shared: Arc<Shared>,
    tx: SyncSender<Pending>,
    queued: Arc<AtomicUsize>,
    pub(crate) config: Arc<LogConfig>,
}

impl std::fmt::Debug for Log {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Log")
            .field("origin", &self.shared.origin)
            .finish_non_exhaustive()
    }
}

impl Log {
    /// Open the log with the storage `config.storage` names (files in
    /// `config.data_dir` by default, or PostgreSQL), generating a key in
    /// `config.data_dir` on first start and recovering from whatever a
    /// previous run left durable. Blocking (reads the upper tiles, and
    /// re-indexes entries the entry index lacks).
    pub fn open(config: LogConfig) -> Result<Self, LogError> {
        std::fs::create_dir_all(&config.data_dir)
            .map_err(|e| LogError::Config(format!("{}: {e}", config.data_dir.display())))?;
        let storage: Arc<dyn Storage> = match &config.storage {
            StorageBackend::Files => Arc::new(FileStorage::open(&config.data_dir)?),
            StorageBackend::Postgres { url } => Arc::new(PgStorage::connect(url)?),
        };
        let key = crate::keys::load_or_generate(&config.data_dir, config.key_type)?;
        Self::open_with_storage(config, storage, key)
    }

    /// Open with any storage backend and an already loaded key.
    pub fn open_with_storage(
        config: LogConfig,
        storage: Arc<dyn Storage>,
        key: keyless_crypto::SigningKey,
    ) -> Result<Self, LogError> {
        if config.batch_size == 0 || config.queue_capacity == 0 {
            return Err(LogError::Config(
                "batch size and queue capacity must be at least 1".into(),
            ));
        }
        let signer = NoteSigner::new(&config.origin, key)
            .map_err(|e| LogError::Config(format!("origin {:?}: {e}", config.origin)))?;
        let recovered = recover(storage.as_ref(), &signer, &config.origin)?;
        let shared = Arc::new(Shared {
            tree: RwLock::new(recovered.tree),
            published: RwLock::new(Arc::new(recovered.published)),
            index: recovered.index,
            tiles: TileCache::new(storage.clone(), DEFAULT_CACHED_TILES),
            storage,
            signer,
            origin: config.origin.clone(),
        });
        let (tx, rx) = sync_channel(config.queue_capacity);
        let queued = Arc::new(AtomicUsize::new(0));
        let config = Arc::new(config);
        sequencer::spawn(
            shared.clone(),
            rx,
            config.clone(),
            recovered.tail,
            queued.clone(),
        )?;
        Ok(Self {
            shared,
            tx,
            queued,
            config,
        })
    }

    /// Append an entry (or find it already present) and wait until a
    /// durable, signed checkpoint covers it.
    pub async fn submit(&self, submission: Submission) -> Result<Sequenced, LogError> {
        if submission.body.len() > MAX_ENTRY_SIZE {
            return Err(LogError::EntryTooLarge {
                size: submission.body.len(),
                max: MAX_ENTRY_SIZE,
            });
        }
        let leaf = leaf_hash(&submission.body);
        // A remote index is searched by the sequencer, a batch at a time;
        // `checked: 0` tells it this entry was not searched at all.
        let (found, checked) = if self.shared.index.is_remote() {
            (None, 0)
        } else {
            self.shared.find_leaf_checked(&leaf)?
        };
        if let Some(index) = found {
            return Ok(Sequenced {
                index,
                checkpoint: self.published(),
                duplicate: true,
            });
        }
        let (reply, rx) = oneshot::channel();
        self.queued.fetch_add(1, Ordering::Relaxed);
        match self.tx.try_send(Pending {
            submission,
            leaf,
            checked,
            reply,
        }) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => {
                let n = self.queued.fetch_sub(1, Ordering::Relaxed);
                return Err(LogError::Overloaded(n));
            }
            Err(TrySendError::Disconnected(_)) => {
                self.queued.fetch_sub(1, Ordering::Relaxed);
                return Err(LogError::SequencerStopped);
            }
        }
        rx.await.map_err(|_| LogError::SequencerStopped)?
    }

    /// The latest published checkpoint.
    pub fn published(&self) -> Arc<Published> {
        read(&self.shared.published).clone()
    }

    /// The log's origin (checkpoint first line and signer name).
    pub fn origin(&self) -> &str {
        &self.shared.origin
    }

    /// The verifier for this log's checkpoints.
    pub fn verifier(&self) -> &NoteVerifier {
        self.shared.signer.verifier()
    }

    /// The log's public key.
    pub fn public_key(&self) -> &PublicKey {
        self.shared.signer.verifier().key()
    }

    /// The log ID clients list in trusted roots: the C2SP key ID for
    /// Ed25519, SHA-256 of the SPKI for ECDSA.
    pub fn log_id(&self) -> Hash {
        self.shared.signer.key_id()
    }

    /// Inclusion proof for `index` against the tree of `size` leaves.
    pub fn inclusion_proof(&self, index: u64, size: u64) -> Result<Vec<Hash>, LogError> {
        let shared = &*self.shared;
        Ok(read(&shared.tree).inclusion_proof(index, size, &shared.tiles)?)
    }

    /// Consistency proof between two published sizes.
    pub fn consistency_proof(&self, first: u64, second: u64) -> Result<Vec<Hash>, LogError> {
        let shared = &*self.shared;
        Ok(read(&shared.tree).consistency_proof(first, second, &shared.tiles)?)
    }

    /// Root of the tree of `size` leaves.
    pub fn root(&self, size: u64) -> Result<Hash, LogError> {
        let shared = &*self.shared;
        Ok(read(&shared.tree).root(size, &shared.tiles)?)
    }

    /// The committed index of the entry with this leaf hash.
    pub fn find_leaf(&self, leaf: &Hash) -> Result<Option<u64>, LogError> {
        self.shared.find_leaf(leaf)
    }

    /// Committed indices of entries about this artifact SHA-256.
    pub fn find_artifact(&self, digest: &[u8; 32]) -> Result<Vec<u64>, LogError> {
        let size = self.published().size;
        let candidates = self.shared.index.artifact_candidates(digest)?;
        let mut out = Vec::new();
        for i in candidates.into_iter().filter(|&i| i < size) {
            if self.meta(i)?.artifact_sha256.as_ref() == Some(digest) {
                out.push(i);
            }
        }
        Ok(out)
    }

    /// Stored metadata of a committed entry.
    pub fn meta(&self, index: u64) -> Result<EntryMeta, LogError> {
        let size = self.published().size;
        if index >= size {
            return Err(TreeError::IndexOutOfRange { index, size }.into());
        }
        self.shared
            .storage
            .read_meta(index, 1)?
            .pop()
            .ok_or_else(|| LogError::Corrupt(format!("no metadata for entry {index}")))
    }

    /// The canonical body of a committed entry.
    pub fn entry(&self, index: u64) -> Result<Vec<u8>, LogError> {
        let size = self.published().size;
        let bundle = self
            .read_tile_prefix(TileKind::Entries, index / TILE_WIDTH, size)?
            .ok_or(TreeError::IndexOutOfRange { index, size })?;
        let entries = decode_entry_bundle(&bundle).map_err(|e| LogError::Corrupt(e.to_string()))?;
        entries
            .get((index % TILE_WIDTH) as usize)
            .map(|e| e.to_vec())
            .ok_or_else(|| TreeError::IndexOutOfRange { index, size }.into())
    }

    /// The committed contents of a tile (or entry bundle) at tree `size`,
    /// read from storage at its committed width. `None` when the tree has
    /// no such tile.
    pub(crate) fn read_tile_prefix(
        &self,
        kind: TileKind,
        index: u64,
        size: u64,
    ) -> Result<Option<Vec<u8>>, LogError> {
        let Some(width) = committed_width(kind, index, size) else {
            return Ok(None);
        };
        let id = TileId { kind, index, width };
        self.shared
            .storage
            .read_tile(&id)?
            .map(Some)
            .ok_or_else(|| LogError::Corrupt(format!("committed tile {} is missing", id.path())))
    }

    /// Serve tile `id` as of the published checkpoint: a partial tile of
    /// any width up to the committed one is a prefix of the committed
    /// data, since the log only appends. `None` if the tree is too small.
    pub fn tile(&self, id: &TileId) -> Result<Option<Vec<u8>>, LogError> {
        let size = self.published().size;
        let Some(width) = committed_width(id.kind, id.index, size) else {
            return Ok(None);
        };
        if id.width > width {
            return Ok(None);
        }
        let Some(data) = self.read_tile_prefix(id.kind, id.index, size)? else {
            return Ok(None);
        };
        if id.width == width {
            return Ok(Some(data));
        }
        Ok(Some(match id.kind {
            TileKind::Hashes { .. } => data
                .get(..usize::from(id.width) * 32)
                .map(<[u8]>::to_vec)
                .unwrap_or_default(),
            TileKind::Entries => {
                let entries =
                    decode_entry_bundle(&data).map_err(|e| LogError::Corrupt(e.to_string()))?;
                keyless_tlog::tiles::encode_entry_bundle(
                    entries.into_iter().take(usize::from(id.width)),
                )
                .map_err(|e| LogError::Corrupt(e.to_string()))?
            }
        }))
    }

    /// Number of entries waiting for the sequencer.
    pub fn queued(&self) -> usize {
        self.queued.load(Ordering::Relaxed)
    }
}

/// The width of tile `index` of `kind` in a tree of `size` leaves, if the
/// tile exists at all.
pub fn committed_width(kind: TileKind, index: u64, size: u64) -> Option<u16> {
    let nodes = match kind {
        TileKind::Entries => size,
        TileKind::Hashes { level } => size.checked_shr(8 * u32::from(level)).unwrap_or(0),
    };
    let start = index.checked_mul(TILE_WIDTH)?;
    (nodes > start).then(|| (nodes - start).min(TILE_WIDTH) as u16)
}

struct Recovered {
    tree: MerkleTree,
    published: Published,
    tail: Vec<Vec<u8>>,
    index: Box<dyn EntryIndex>,
}

/// Rebuild the in-memory state from storage and check it against the
/// last checkpoint, which must be signed by this log's key for this
/// origin. Anything past the checkpoint was never acknowledged and is
/// dropped.
fn recover(
    storage: &dyn Storage,
    signer: &NoteSigner,
    origin: &str,
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
        let note = signer
            .sign(&body)
            .map_err(|e| LogError::Key(e.to_string()))?
            .to_text();
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
    let note = SignedNote::parse(&text)
        .map_err(|e| LogError::Corrupt(format!("stored checkpoint: {e}")))?;
    note.verify(signer.verifier()).map_err(|e| {
        LogError::Corrupt(format!(
            "stored checkpoint is not signed by this log's key and origin {origin:?}: {e}"
        ))
    })?;
    let cp = Checkpoint::parse(note.body())
        .map_err(|e| LogError::Corrupt(format!("stored checkpoint: {e}")))?;
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
        let entries = decode_entry_bundle(&data)
            .map_err(|e| LogError::Corrupt(format!("{}: {e}", id.path())))?;
        if entries.len() != partial.len() {
            return Err(LogError::Corrupt(format!(
                "entry bundle {} has {} entries",
                id.path(),
                entries.len()
            )));
        }
        for (i, (e, l)) in entries.iter().zip(&partial).enumerate() {
            if leaf_hash(e) != *l {
                return Err(LogError::Corrupt(format!(
                    "entry {} does not match its leaf hash",
                    tail_start + i as u64
                )));
            }
        }
        tail = entries.into_iter().map(<[u8]>::to_vec).collect();
    }
    storage.recover(size)?;
    let index = open_index(storage, size)?;
    Ok(Recovered {
        tree,
        published: Published {
            size,
            root,
            note: text,
        },
        tail,
        index,
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
        let artifacts: Vec<_> = meta.iter().map(|m| m.artifact_sha256).collect();
        index.add(from, &leaves, &artifacts)?;
        from = end;
    }
    Ok(index)
}
