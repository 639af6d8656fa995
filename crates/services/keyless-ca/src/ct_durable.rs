//! The CA's CT log on the durable log core (`keyless-log`): every SCT it
//! returns is for an entry already committed (fsync'd batch, signed
//! checkpoint), so a restart or a SIGKILL cannot lose an entry whose SCT
//! a certificate carries. RFC 6962 would allow answering with a promise
//! (merge within the MMD); this log chooses the durable commit instead,
//! and keeps its throughput because the core commits entries in batches
//! (group commit: every submission that arrives while a batch is being
//! made durable joins the next one).
//!
//! Entries are RFC 6962 `MerkleTreeLeaf` structures (v1, timestamped
//! precert entry), stored in the core's tlog-tiles entry bundles, so the
//! tree's leaf hashes are the RFC 6962 ones an SCT's inclusion proof is
//! checked with, and the tiles and checkpoint are the core's. Not yet
//! the C2SP static-ct-api data tiles: those hold `TileLeaf` structures
//! (with the precertificate and chain fingerprints) without length
//! framing, which the core's entry bundles do not produce.
//!
//! The log signs its checkpoints and tree heads with the CT key of the
//! CA's data directory (the one `trusted_root.json` lists), so the log ID
//! and the SCT key are unchanged.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use keyless_crypto::{PublicKey, SigningKey};
use keyless_log::storage::files::FileStorage;
use keyless_log::storage::postgres::PgStorage;
use keyless_log::storage::Storage;
use keyless_log::{LeafDuplicates, Log, LogConfig, LogError, StorageBackend, Submission};
use keyless_tlog::Hash;
use keyless_x509::Certificate;

use crate::ct::{sign_tree_head, SignedCertificateTimestamp};
use crate::ct_front::{now_ms, CtFront};
use crate::error::CtError;

/// Directory of the CT log inside the CA's data directory (files driver;
/// with PostgreSQL only the directory is created, the key stays with the
/// CA's).
pub const CT_LOG_DIR: &str = "ct-log";

/// How the CA's CT log is stored and batched.
#[derive(Debug, Clone)]
pub struct CtLogOptions {
    /// Files under `<data_dir>/ct-log` (default), or a PostgreSQL
    /// database of its own (the core keeps one log per database schema).
    pub storage: StorageBackend,
    /// Checkpoint origin. Must stay the same for the life of the log (the
    /// core refuses to open a log stored under another origin); the
    /// default is derived from the log ID, so it survives a change of
    /// the CA's URL or port.
    pub origin: Option<String>,
    /// The core's [`LogConfig::batch_linger`]: under load, a batch stays
    /// open this long after the previous one closed, so that each commit
    /// (fsyncs, tile writes, a checkpoint signature) covers more
    /// certificates; after a quiet spell an entry is committed at once.
    /// The default, [`DEFAULT_CT_BATCH_LINGER`], was chosen with the
    /// issuance bench (PERFORMANCE.md): with zero, the commits' kernel
    /// work (context switches, I/O) roughly doubled the CPU cost of a
    /// certificate.
    pub batch_linger: Duration,
}

/// Default [`CtLogOptions::batch_linger`].
pub const DEFAULT_CT_BATCH_LINGER: Duration = Duration::from_millis(5);

impl Default for CtLogOptions {
    fn default() -> Self {
        Self {
            storage: StorageBackend::Files,
            origin: None,
            batch_linger: DEFAULT_CT_BATCH_LINGER,
        }
    }
}

/// The default origin of the log with this ID: stable across restarts,
/// whatever URL the CA is reached at.
pub fn default_origin(log_id: &[u8; 32]) -> String {
    format!("keyless-ct/{}", hex::encode(&log_id[..8]))
}

/// A CT log whose entries are committed before their SCT is returned.
pub struct DurableCtLog {
    front: CtFront,
    log: Log,
}

impl std::fmt::Debug for DurableCtLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DurableCtLog")
            .field("log_id", &hex::encode(self.front.log_id()))
            .field("origin", &self.log.origin())
            .finish_non_exhaustive()
    }
}

impl DurableCtLog {
    /// Open (or create) the log in `<data_dir>/ct-log`, signed by `key`,
    /// accepting chains that end at one of `roots`, and recover whatever a
    /// previous run committed. Blocking.
    pub fn open(
        data_dir: &Path,
        options: &CtLogOptions,
        key: SigningKey,
        roots: Vec<Certificate>,
    ) -> Result<Self, LogError> {
        let dir: PathBuf = data_dir.join(CT_LOG_DIR);
        std::fs::create_dir_all(&dir).map_err(|source| LogError::DataDir {
            path: dir.display().to_string(),
            source,
        })?;
        let front = CtFront::new(Arc::new(key), roots);
        let origin = options
            .origin
            .clone()
            .unwrap_or_else(|| default_origin(&front.log_id()));
        let storage: Arc<dyn Storage> = match &options.storage {
            StorageBackend::Postgres { url } => Arc::new(PgStorage::connect(url)?),
            _ => Arc::new(FileStorage::open(&dir)?),
        };
        let mut config = LogConfig::new(&dir, origin);
        config.storage = options.storage.clone();
        config.batch_linger = options.batch_linger;
        let log = Log::open(
            config,
            storage,
            front.key().clone(),
            Arc::new(LeafDuplicates),
        )?;
        Ok(Self { front, log })
    }

    /// The log core underneath: checkpoints, tiles, entries and proofs.
    pub fn log(&self) -> &Log {
        &self.log
    }

    pub fn public_key(&self) -> &PublicKey {
        self.front.public_key()
    }

    /// SHA-256 of the log's SPKI (RFC 6962 §3.2 LogID).
    pub fn log_id(&self) -> [u8; 32] {
        self.front.log_id()
    }

    /// Number of committed entries.
    pub fn size(&self) -> usize {
        self.log.published().size as usize
    }

    /// Size and root of the latest committed checkpoint.
    pub fn tree_head(&self) -> (u64, Hash) {
        let p = self.log.published();
        (p.size, p.root)
    }

    /// A signed tree head (RFC 6962 §3.5) of the latest committed
    /// checkpoint: size, timestamp (ms), root, signature.
    pub fn signed_tree_head(&self) -> Result<(u64, u64, Hash, Vec<u8>), CtError> {
        let (size, root) = self.tree_head();
        let ts = now_ms();
        let ds = sign_tree_head(self.front.key(), ts, size, &root)?;
        Ok((size, ts, root, ds))
    }

    /// RFC 6962 §4.1 `add-pre-chain`: the SCT, once its entry is durable.
    pub async fn add_pre_chain(
        &self,
        chain: &[Vec<u8>],
    ) -> Result<SignedCertificateTimestamp, CtError> {
        self.submit(chain, true).await
    }

    /// The same for the CA in this process, which has just signed
    /// `chain[0]` itself: that one signature is not verified again
    /// (everything else is; see [`crate::CtSubmitter::add_own_pre_chain`]).
    pub async fn add_own_pre_chain(
        &self,
        chain: &[Vec<u8>],
    ) -> Result<SignedCertificateTimestamp, CtError> {
        self.submit(chain, false).await
    }

    async fn submit(
        &self,
        chain: &[Vec<u8>],
        verify_precert_signature: bool,
    ) -> Result<SignedCertificateTimestamp, CtError> {
        let prepared = self.front.prepare(chain, verify_precert_signature)?;
        // The SCT leaves this function only after the core has answered,
        // which it does once a durable, signed checkpoint covers the entry.
        self.log
            .submit(Submission {
                body: prepared.leaf,
                lookup_key: Some(prepared.tbs_hash),
            })
            .await
            .map_err(CtError::Log)?;
        Ok(prepared.sct)
    }
}
