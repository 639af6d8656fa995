//! The CA's CT log on the durable log core (`keyless-log`): every SCT it
//! returns is for an entry already committed (fsync'd batch, signed
//! checkpoint), so a restart or a SIGKILL cannot lose an entry whose SCT
//! a certificate carries. RFC 6962 would allow answering with a promise
//! (merge within the MMD); this log chooses the durable commit instead,
//! and keeps its throughput because the core commits entries in batches
//! (group commit: every submission that arrives while a batch is being
//! made durable joins the next one).
//!
//! Entries are C2SP static-ct-api `TileLeaf`s ([`crate::ct_leaf`]): the
//! RFC 6962 timestamped entry, then the precertificate and the issuers'
//! fingerprints. The tree's leaf hashes are those of the RFC 6962
//! `MerkleTreeLeaf` inside ([`crate::ct_leaf::TileLeafHasher`]), the ones
//! an SCT's inclusion proof is checked with. The issuers are kept beside
//! the log ([`crate::ct_issuers`]) before an entry naming them is
//! submitted. The core gives each entry its index on the sequencer thread
//! ([`crate::ct_leaf::TileLeafStamper`] adds the static-ct-api
//! `leaf_index` extension to the stored leaf), and the SCT, which carries
//! the same extension, is signed once the entry is committed.
//!
//! The log signs its checkpoints and tree heads with the CT key of the
//! CA's data directory (the one `trusted_root.json` lists), so the log ID
//! and the SCT key are unchanged.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use keyless_crypto::{PublicKey, SigningKey};
use keyless_log::storage::files::FileStorage;
use keyless_log::storage::postgres::PgStorage;
use keyless_log::storage::Storage;
use keyless_log::witnessing::{WitnessEndpoint, Witnessing};
use keyless_log::{LeafDuplicates, Log, LogConfig, LogError, StorageBackend, Submission};
use keyless_tlog::Hash;
use keyless_x509::Certificate;

use crate::ct::SignedCertificateTimestamp;
use crate::ct_front::{CtFront, Prepared};
use crate::ct_issuers::IssuerStore;
use crate::ct_leaf::{leaf_index_extensions, with_extensions, TileLeafHasher, TileLeafStamper};
use crate::ct_note::{SignedTreeHead, SthCache};
use crate::error::CtError;

/// Directory of the CT log inside the CA's data directory (files driver;
/// with PostgreSQL only the directory is created, the key stays with the
/// CA's).
pub const CT_LOG_DIR: &str = "ct-log";

/// The PostgreSQL schema of the CT log's tables.
pub const CT_PG_SCHEMA: &str = "keyless_ct";

/// How the CA's CT log is stored and batched.
#[derive(Debug, Clone)]
pub struct CtLogOptions {
    /// Files under `<data_dir>/ct-log` (default), or PostgreSQL: the
    /// tables go in the schema [`CT_PG_SCHEMA`] of that database, so it
    /// may also hold a transparency log (in its default schema).
    pub storage: StorageBackend,
    /// Checkpoint origin asked for: a new log is created with it, and an
    /// existing log whose checkpoints carry another origin is refused at
    /// open (a log keeps its origin for life: [`crate::ct_origin`]).
    pub origin: Option<String>,
    /// The origin of a new log when [`CtLogOptions::origin`] is `None`
    /// (an existing log keeps its own): `keyless server ca` derives it
    /// from the CA's URL as C2SP static-ct-api says
    /// ([`crate::ct_origin::for_submission_prefix`]). With neither, a new
    /// log is named by its ID ([`default_origin`]).
    pub origin_if_new: Option<String>,
    /// The core's [`LogConfig::batch_linger`]: under load, a batch stays
    /// open this long after the previous one closed, so that each commit
    /// (a write-ahead append and its fdatasync, a checkpoint signature,
    /// the wake-ups of the waiting requests) covers more certificates;
    /// after a quiet spell an entry is committed at once. The default,
    /// [`DEFAULT_CT_BATCH_LINGER`], was chosen with the issuance bench
    /// (PERFORMANCE.md, quiet machine): with 32 connections 5 ms gave
    /// 3,700–4,000 certificates/s against 3,400–3,600 with 2 ms (more CPU
    /// per certificate) and 3,100 with 10 ms (each request waits longer).
    pub batch_linger: Duration,
}

/// Default [`CtLogOptions::batch_linger`].
pub const DEFAULT_CT_BATCH_LINGER: Duration = Duration::from_millis(5);

impl Default for CtLogOptions {
    fn default() -> Self {
        Self {
            storage: StorageBackend::Files,
            origin: None,
            origin_if_new: None,
            batch_linger: DEFAULT_CT_BATCH_LINGER,
        }
    }
}

pub use crate::ct_origin::default_origin;

/// A CT log whose entries are committed before their SCT is returned.
pub struct DurableCtLog {
    front: CtFront,
    log: Log,
    issuers: IssuerStore,
    sth: SthCache,
    /// Witnesses cosigning the checkpoints, once [`DurableCtLog::witness`]
    /// started them (the same core witnessing as the Rekor log's).
    witnessing: OnceLock<Arc<Witnessing>>,
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
        let storage: Arc<dyn Storage> = match &options.storage {
            StorageBackend::Postgres { url } => {
                Arc::new(PgStorage::connect_in_schema(url, CT_PG_SCHEMA)?)
            }
            _ => Arc::new(FileStorage::open(&dir)?),
        };
        let origin = crate::ct_origin::resolve(
            storage.as_ref(),
            options.origin.as_deref(),
            options.origin_if_new.as_deref(),
            &front.log_id(),
        )?;
        let issuers = IssuerStore::open(&dir).map_err(|source| LogError::DataDir {
            path: dir
                .join(crate::ct_issuers::ISSUER_DIR)
                .display()
                .to_string(),
            source,
        })?;
        let mut config = LogConfig::new(&dir, origin);
        config.storage = options.storage.clone();
        config.batch_linger = options.batch_linger;
        config.leaf_hasher = Arc::new(TileLeafHasher);
        config.index_stamper = Some(Arc::new(TileLeafStamper));
        let log = Log::open(
            config,
            storage,
            front.key().clone(),
            Arc::new(LeafDuplicates),
        )?;
        Ok(Self {
            front,
            log,
            issuers,
            sth: SthCache::default(),
            witnessing: OnceLock::new(),
        })
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
        let sth = self.sth()?;
        Ok((sth.size, sth.timestamp, sth.root, sth.signature))
    }

    /// The latest checkpoint's signed tree head, and its note with the
    /// RFC 6962 note signature added (what `/ct/checkpoint` serves).
    /// Signed once per checkpoint. With witnesses, their cosignature
    /// lines follow once they have cosigned this checkpoint.
    pub fn sth(&self) -> Result<SignedTreeHead, CtError> {
        let published = self.log.published();
        let mut sth = self.sth.get(
            &published,
            self.log.origin(),
            self.front.key(),
            &self.front.log_id(),
        )?;
        if let Some(w) = self.witnessing.get() {
            if let Some(lines) = w.cosignatures_for(sth.size, &sth.root) {
                sth.note.push_str(&lines);
            }
        }
        Ok(sth)
    }

    /// Ask `witnesses` to cosign the log's checkpoints (C2SP tlog-witness;
    /// the witnesses check the core's checkpoint signature, an ECDSA note
    /// signature with the CT key). Call once, within a tokio runtime;
    /// with no witnesses nothing is started.
    pub fn witness(&self, witnesses: Vec<WitnessEndpoint>) -> Result<(), CtError> {
        if witnesses.is_empty() {
            return Ok(());
        }
        self.witnessing
            .set(Witnessing::start(self.log.clone(), witnesses))
            .map_err(|_| CtError::Unavailable("witnessing already started".into()))
    }

    /// The accepted roots (`get-roots`).
    pub fn roots(&self) -> &[Certificate] {
        self.front.roots()
    }

    /// The issuer certificate with this SHA-256 fingerprint, if an entry
    /// names it. Blocking.
    pub fn issuer(&self, fingerprint: &[u8; 32]) -> Option<Vec<u8>> {
        self.issuers.get(fingerprint)
    }

    /// RFC 6962 §4.1 `add-chain` (x509 entry): the SCT, once its entry is
    /// durable.
    pub async fn add_chain(
        &self,
        chain: &[Vec<u8>],
    ) -> Result<SignedCertificateTimestamp, CtError> {
        let prepared = self.front.prepare_x509(chain)?;
        self.append(prepared).await
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
        self.append(prepared).await
    }

    async fn append(&self, prepared: Prepared) -> Result<SignedCertificateTimestamp, CtError> {
        // Every issuer a TileLeaf names is served: durable before the entry.
        self.issuers
            .ensure(&prepared.tail.ders, &prepared.tail.fingerprints)?;
        // The SCT leaves this function only after the core has answered,
        // which it does once a durable, signed checkpoint covers the entry.
        let sequenced = self
            .log
            .submit(Submission {
                body: prepared.tile_leaf,
                lookup_key: Some(prepared.tbs_hash),
            })
            .await
            .map_err(CtError::Log)?;
        // The entry is durable and has its index: the SCT signs the
        // stored leaf, leaf_index extension included (static-ct-api).
        let extensions = leaf_index_extensions(sequenced.index);
        let signed = with_extensions(&prepared.leaf, &extensions);
        self.front
            .sct(prepared.timestamp, &signed, extensions.to_vec())
    }
}
