//! The log handle: shared state, recovery from durable state on open, and
//! submission to the sequencer.

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
use crate::index::PrefixIndex;
use crate::merkle::MerkleTree;
use crate::sequencer::{self, Pending};
use crate::storage::files::FileStorage;
use crate::storage::postgres::PgStorage;
use crate::storage::{Commit, EntryMeta, Storage};

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
    pub leaves: RwLock<PrefixIndex>,
    pub artifacts: RwLock<PrefixIndex>,
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
    pub fn find_leaf(&self, leaf: &Hash) -> Option<u64> {
        let size = read(&self.published).size;
        let tree = read(&self.tree);
        read(&self.leaves)
            .candidates(leaf)
            .into_iter()
            .find(|&i| i < size && tree.leaf(i) == Some(leaf))
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
    /// previous run left durable. Blocking (reads the whole tree).
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
            leaves: RwLock::new(recovered.leaves),
            artifacts: RwLock::new(recovered.artifacts),
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
        if let Some(index) = self.shared.find_leaf(&leaf) {
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
        Ok(read(&self.shared.tree).inclusion_proof(index, size)?)
    }

    /// Consistency proof between two published sizes.
    pub fn consistency_proof(&self, first: u64, second: u64) -> Result<Vec<Hash>, LogError> {
        Ok(read(&self.shared.tree).consistency_proof(first, second)?)
    }

    /// Root of the tree of `size` leaves.
    pub fn root(&self, size: u64) -> Result<Hash, LogError> {
        Ok(read(&self.shared.tree).root(size)?)
    }

    /// The committed index of the entry with this leaf hash.
    pub fn find_leaf(&self, leaf: &Hash) -> Option<u64> {
        self.shared.find_leaf(leaf)
    }

    /// Committed indices of entries about this artifact SHA-256.
    pub fn find_artifact(&self, digest: &[u8; 32]) -> Result<Vec<u64>, LogError> {
        let size = self.published().size;
        let candidates = read(&self.shared.artifacts).candidates(digest);
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
            return Err(crate::merkle::TreeError::IndexOutOfRange { index, size }.into());
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
            .ok_or(crate::merkle::TreeError::IndexOutOfRange { index, size })?;
        let entries = decode_entry_bundle(&bundle).map_err(|e| LogError::Corrupt(e.to_string()))?;
        entries
            .get((index % TILE_WIDTH) as usize)
            .map(|e| e.to_vec())
            .ok_or_else(|| crate::merkle::TreeError::IndexOutOfRange { index, size }.into())
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
    leaves: PrefixIndex,
    artifacts: PrefixIndex,
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
        return Ok(Recovered {
            tree: MerkleTree::new(),
            published: Published {
                size: 0,
                root: EMPTY_ROOT,
                note,
            },
            tail: vec![],
            leaves: PrefixIndex::default(),
            artifacts: PrefixIndex::default(),
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
    let mut tree = MerkleTree::new();
    let mut leaves = PrefixIndex::default();
    leaves.reserve(usize::try_from(size).unwrap_or(0));
    let tiles = size.div_ceil(TILE_WIDTH);
    for t in 0..tiles {
        let width = committed_width(TileKind::Hashes { level: 0 }, t, size).unwrap_or(0);
        let id = TileId {
            kind: TileKind::Hashes { level: 0 },
            index: t,
            width,
        };
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
        for h in data.chunks_exact(32) {
            let mut leaf = [0u8; 32];
            leaf.copy_from_slice(h);
            leaves.insert(&leaf, tree.size());
            tree.push(leaf);
        }
    }
    let root = tree.root(size)?;
    if root != cp.root_hash {
        return Err(LogError::Corrupt(format!(
            "tiles give root {} for size {size}, the checkpoint says {}",
            hex::encode(root),
            hex::encode(cp.root_hash)
        )));
    }
    let mut tail = Vec::new();
    let tail_start = size / TILE_WIDTH * TILE_WIDTH;
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
        for (i, e) in entries.iter().enumerate() {
            if tree.leaf(tail_start + i as u64) != Some(&leaf_hash(e)) {
                return Err(LogError::Corrupt(format!(
                    "entry {} does not match its leaf hash",
                    tail_start + i as u64
                )));
            }
        }
        if entries.len() as u64 != size - tail_start {
            return Err(LogError::Corrupt(format!(
                "entry bundle {} has {} entries",
                id.path(),
                entries.len()
            )));
        }
        tail = entries.into_iter().map(<[u8]>::to_vec).collect();
    }
    storage.recover(size)?;
    let mut artifacts = PrefixIndex::default();
    let mut start = 0;
    while start < size {
        let n = (size - start).min(65_536);
        for (i, m) in storage.read_meta(start, n)?.into_iter().enumerate() {
            if let Some(d) = m.artifact_sha256 {
                artifacts.insert(&d, start + i as u64);
            }
        }
        start += n;
    }
    Ok(Recovered {
        tree,
        published: Published {
            size,
            root,
            note: text,
        },
        tail,
        leaves,
        artifacts,
    })
}
