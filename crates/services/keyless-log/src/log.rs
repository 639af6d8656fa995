//! The log handle: open a log over a storage driver (recovering what a
//! previous run left durable), append entries through the sequencer, and
//! read checkpoints, proofs, entries and tiles. Knows no personality:
//! entries are opaque bodies with the metadata [`Submission`] carries.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{sync_channel, SyncSender, TrySendError};
use std::sync::{Arc, RwLock};

use keyless_crypto::{PublicKey, Signer};
use keyless_tlog::tiles::{decode_entry_bundle, TILE_WIDTH};
use keyless_tlog::{Hash, NoteVerifier, TileId, TileKind};
use tokio::sync::oneshot;

use crate::config::LogConfig;
use crate::dedup::{Bound, CommittedEntries, DuplicateCheck, Search};
use crate::error::{LogError, StorageError, TreeError};
use crate::locks::read;
use crate::recover::recover;
use crate::sequencer::{self, Pending};
use crate::shared::Shared;
use crate::signer::LogSigner;
use crate::storage::search_index::SearchStore;
use crate::storage::{EntryMeta, Storage};
use crate::tile_cache::{TileCache, DEFAULT_CACHED_TILES};
use crate::types::{committed_width, Published, Sequenced, Submission, MAX_ENTRY_SIZE};

/// A running log: cheap to clone, shared by the HTTP handlers.
#[derive(Clone)]
pub struct Log {
    shared: Arc<Shared>,
    /// Finds existing copies of submitted entries (see [`crate::dedup`]).
    dedup: Arc<dyn Search>,
    tx: SyncSender<Pending>,
    queued: Arc<AtomicUsize>,
    config: Arc<LogConfig>,
}

impl std::fmt::Debug for Log {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Log")
            .field("origin", &self.shared.origin)
            .finish_non_exhaustive()
    }
}

impl Log {
    /// Open the log over `storage`, the driver the caller chose (see
    /// [`crate::drivers`] for the files and PostgreSQL ones), signing with
    /// `signer` (a key in memory, or one on a PKCS#11 token: any
    /// [`Signer`]), finding copies of submitted entries with `dedup`
    /// ([`crate::LeafDuplicates`] unless the personality has its own), and
    /// recover from whatever a previous run left durable there. Blocking
    /// (reads the upper tiles, and re-indexes entries the entry index
    /// lacks).
    pub fn open(
        config: LogConfig,
        storage: Arc<dyn Storage>,
        signer: impl Signer + 'static,
        dedup: Arc<dyn DuplicateCheck>,
    ) -> Result<Self, LogError> {
        if config.batch_size == 0 || config.queue_capacity == 0 {
            return Err(LogError::Config(
                "batch size and queue capacity must be at least 1".into(),
            ));
        }
        let signer = LogSigner::new(&config.origin, Arc::new(signer))?;
        let recovered = recover(
            storage.as_ref(),
            &signer,
            &config.origin,
            config.leaf_hasher.as_ref(),
        )?;
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
        let dedup: Arc<dyn Search> = Arc::new(Bound {
            check: dedup,
            entries: CommittedEntries::new(shared.clone()),
        });
        sequencer::spawn(
            shared.clone(),
            dedup.clone(),
            rx,
            config.clone(),
            recovered.tail,
            queued.clone(),
        )?;
        Ok(Self {
            shared,
            dedup,
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
        let leaf = self
            .config
            .leaf_hasher
            .leaf_hash(&submission.body)
            .ok_or(LogError::UnhashableEntry)?;
        let started = std::time::Instant::now();
        // `checked: 0` tells the sequencer this entry was not searched.
        let (found, checked) = self.dedup.before_queue(&leaf)?;
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
        let sequenced = rx.await.map_err(|_| LogError::SequencerStopped)?;
        crate::telemetry::append(started.elapsed());
        sequenced
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

    /// Sign `message` with the log key, for a personality's own signed
    /// statements (Rekor v1 SETs; a CT log's SCTs and tree heads).
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>, LogError> {
        self.shared.signer.sign(message)
    }

    /// The storage driver's store for a personality's derived search
    /// index, or `None` when the driver keeps none (see
    /// [`Storage::open_search_index`]).
    pub fn open_search_store(&self) -> Result<Option<Box<dyn SearchStore>>, StorageError> {
        self.shared.storage.open_search_index()
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

    /// Committed indices of entries submitted with this
    /// [`Submission::lookup_key`], confirmed against their stored metadata.
    pub fn find_by_key(&self, digest: &[u8; 32]) -> Result<Vec<u64>, LogError> {
        let size = self.published().size;
        let candidates = self.shared.index.lookup_candidates(digest)?;
        let mut out = Vec::new();
        for i in candidates.into_iter().filter(|&i| i < size) {
            if self.meta(i)?.lookup_key.as_ref() == Some(digest) {
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
        let entries = decode_entry_bundle(&bundle).map_err(|source| LogError::CorruptTile {
            what: format!("entry bundle {}", index / TILE_WIDTH),
            source,
        })?;
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
                let corrupt = |source| LogError::CorruptTile {
                    what: id.path(),
                    source,
                };
                let entries = decode_entry_bundle(&data).map_err(corrupt)?;
                keyless_tlog::tiles::encode_entry_bundle(
                    entries.into_iter().take(usize::from(id.width)),
                )
                .map_err(corrupt)?
            }
        }))
    }

    /// The configuration the log was opened with.
    pub fn config(&self) -> &LogConfig {
        &self.config
    }

    /// Number of entries waiting for the sequencer.
    pub fn queued(&self) -> usize {
        self.queued.load(Ordering::Relaxed)
    }
}
