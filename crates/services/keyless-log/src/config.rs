//! Log configuration, with defaults that need no setup.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::leaf::{IndexStamper, LeafHasher, WholeBody};

/// Which key the log signs checkpoints (and whatever its personality
/// signs, e.g. Rekor v1 SETs) with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum LogKeyType {
    /// The C2SP and Rekor v2 default.
    #[default]
    Ed25519,
    /// What Rekor v1 logs (and CT logs) use; clients that verify v1
    /// checkpoints by key hint alone (sigstore-go, keyless-verify) need an
    /// ECDSA log key.
    EcdsaP256,
}

/// Where the log keeps its durable state.
#[derive(Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum StorageBackend {
    /// Files in the C2SP tlog-tiles layout under `data_dir` (the default).
    #[default]
    Files,
    /// A PostgreSQL database (see [`crate::storage::postgres`]); `url` is a
    /// `postgresql://` URL or libpq key=value string. The log key stays in
    /// `data_dir`.
    Postgres { url: String },
}

impl std::fmt::Debug for StorageBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Files => f.write_str("Files"),
            // The URL may carry a password.
            Self::Postgres { .. } => f.write_str("Postgres { url: <redacted> }"),
        }
    }
}

/// Everything the log needs to run.
#[derive(Debug, Clone)]
pub struct LogConfig {
    /// Where the log key lives, and with [`StorageBackend::Files`] also
    /// the tiles, entry bundles and checkpoint.
    pub data_dir: PathBuf,
    /// Which backend stores the log.
    pub storage: StorageBackend,
    /// The checkpoint origin and signer name (Rekor v2 clients derive it
    /// from the log's base URL: `host[:port]`).
    pub origin: String,
    /// Key type generated on first start; an existing key is kept. With
    /// [`Self::pkcs11`], the curve of a key generated on the token.
    pub key_type: LogKeyType,
    /// Sign with this PKCS#11 token's key instead of a key file in
    /// `data_dir` (`keyless server log --pkcs11-module …`).
    pub pkcs11: Option<keyless_keys::Pkcs11Config>,
    /// Most entries sequenced in one batch (one durable commit). Batches
    /// are formed by group commit: entries that arrive while the previous
    /// batch is being made durable join the next one, so batches grow with
    /// load on their own, up to this size.
    pub batch_size: usize,
    /// Longest a batch stays open waiting for the committer to finish the
    /// previous one; after that it is handed over (and queued) anyway, so
    /// a slow storage round cannot make one batch grow without bound in
    /// time.
    pub batch_interval: Duration,
    /// Shortest time from one batch's close to the next one's. Under
    /// load a batch stays open this long after the previous one closed,
    /// so that each commit, whose cost hardly depends on its size, covers
    /// more entries; an entry arriving after a quiet spell is committed
    /// at once. Zero closes a batch as soon as the committer is free.
    pub batch_linger: Duration,
    /// Most entries waiting to be sequenced before submissions get 503.
    pub queue_capacity: usize,
    /// Which part of a stored entry is its Merkle leaf ([`WholeBody`]
    /// unless the personality stores more than the leaf).
    pub leaf_hasher: Arc<dyn LeafHasher>,
    /// Rewrites each new entry with its index before it is hashed into
    /// the tree (none by default: entries are stored as submitted).
    pub index_stamper: Option<Arc<dyn IndexStamper>>,
}

/// Default [`LogConfig::batch_linger`]: at most ~100 commits a second,
/// a few milliseconds of latency added only under load (see
/// PERFORMANCE.md for what it saves).
pub const DEFAULT_BATCH_LINGER: Duration = Duration::from_millis(10);

impl LogConfig {
    /// A configuration with defaults for everything but the data directory
    /// and origin.
    pub fn new(data_dir: impl Into<PathBuf>, origin: impl Into<String>) -> Self {
        Self {
            data_dir: data_dir.into(),
            storage: StorageBackend::Files,
            origin: origin.into(),
            key_type: LogKeyType::default(),
            pkcs11: None,
            batch_size: 4096,
            batch_interval: Duration::from_millis(100),
            batch_linger: DEFAULT_BATCH_LINGER,
            queue_capacity: 65_536,
            leaf_hasher: Arc::new(WholeBody),
            index_stamper: None,
        }
    }

    /// Store the log in PostgreSQL at `url` instead of files.
    pub fn with_postgres(mut self, url: impl Into<String>) -> Self {
        self.storage = StorageBackend::Postgres { url: url.into() };
        self
    }
}
