//! The checks of add-checkpoint, in the order the spec lists them, and the
//! atomic check-then-store per log.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use keyless_tlog::{verify_consistency, NoteVerifier, EMPTY_ROOT};

use crate::config::WitnessConfig;
use crate::cosign::Cosigner;
use crate::error::WitnessError;
use crate::request;
use crate::store::Store;

/// One configured log: its keys, and the lock that makes "compare with
/// the stored size, then store the new checkpoint" atomic (without it two
/// concurrent requests could roll the stored size back, see the spec).
#[derive(Debug)]
struct LogState {
    verifiers: Vec<NoteVerifier>,
    lock: Mutex<()>,
}

/// A running witness.
#[derive(Debug)]
pub struct Witness {
    cosigner: Cosigner,
    logs: BTreeMap<String, LogState>,
    store: Store,
}

impl Witness {
    /// Open the witness in `data_dir` (key generated there on first start,
    /// state locked) for the logs of `config`.
    pub fn open(data_dir: &Path, config: &WitnessConfig) -> Result<Self, WitnessError> {
        std::fs::create_dir_all(data_dir)
            .map_err(|e| WitnessError::Storage(format!("creating {}: {e}", data_dir.display())))?;
        let cosigner = Cosigner::load_or_generate(&config.name, data_dir)?;
        Self::with_cosigner(data_dir, config, cosigner)
    }

    /// As [`Witness::open`], with a given identity.
    pub fn with_cosigner(
        data_dir: &Path,
        config: &WitnessConfig,
        cosigner: Cosigner,
    ) -> Result<Self, WitnessError> {
        Self::with_verifiers(data_dir, config.verifiers()?, cosigner)
    }

    /// A witness named `name` (key in `data_dir`, as [`Witness::open`]) for
    /// logs given as note verifiers by origin rather than by vkey: for a log
    /// whose key has no C2SP vkey type, such as `keyless server --dev`'s
    /// ECDSA P-256 log, whose verifier the embedding process holds.
    pub fn open_for_logs(
        data_dir: &Path,
        name: &str,
        logs: BTreeMap<String, Vec<NoteVerifier>>,
    ) -> Result<Self, WitnessError> {
        std::fs::create_dir_all(data_dir)
            .map_err(|e| WitnessError::Storage(format!("creating {}: {e}", data_dir.display())))?;
        if logs.is_empty() || logs.values().any(Vec::is_empty) {
            return Err(WitnessError::Config("no logs configured".into()));
        }
        let cosigner = Cosigner::load_or_generate(name, data_dir)?;
        Self::with_verifiers(data_dir, logs, cosigner)
    }

    fn with_verifiers(
        data_dir: &Path,
        verifiers: BTreeMap<String, Vec<NoteVerifier>>,
        cosigner: Cosigner,
    ) -> Result<Self, WitnessError> {
        let logs = verifiers
            .into_iter()
            .map(|(origin, verifiers)| {
                let state = LogState {
                    verifiers,
                    lock: Mutex::new(()),
                };
                (origin, state)
            })
            .collect();
        Ok(Self {
            cosigner,
            logs,
            store: Store::open(data_dir)?,
        })
    }

    /// The witness's vkey (cosignature/v1, type 0x04).
    pub fn vkey(&self) -> String {
        self.cosigner.vkey()
    }

    /// Handle an add-checkpoint body; on success, the response body (one
    /// cosignature line). Blocking: it fsyncs.
    pub fn add_checkpoint(&self, body: &[u8]) -> Result<String, WitnessError> {
        let req = request::parse(body)?;
        let origin = &req.checkpoint.origin;
        let log = self
            .logs
            .get(origin)
            .ok_or_else(|| WitnessError::UnknownOrigin(origin.clone()))?;
        if !log.verifiers.iter().any(|v| req.note.verify(v).is_ok()) {
            return Err(WitnessError::BadSignature(origin.clone()));
        }
        let size = req.checkpoint.size;
        if req.old_size > size {
            return Err(WitnessError::OldSizeTooLarge {
                old: req.old_size,
                size,
            });
        }
        // A poisoned lock only means another request panicked; the store
        // is consistent on disk whatever it did, and is re-read below.
        let _guard = log.lock.lock().unwrap_or_else(|p| p.into_inner());
        let stored = self.store.load(origin)?;
        let stored_size = stored.as_ref().map_or(0, |s| s.size);
        if req.old_size != stored_size {
            return Err(WitnessError::SizeConflict {
                old: req.old_size,
                stored: stored_size,
            });
        }
        if let Some(stored) = &stored {
            if size == stored.size && req.checkpoint.root_hash != stored.root {
                tracing::warn!(
                    origin = %origin,
                    size,
                    stored = %stored.note,
                    presented = %req.note.to_text(),
                    "log presented two different trees of the same size"
                );
                return Err(WitnessError::Fork { size });
            }
        }
        // Nothing stored: the old tree is the empty one (a size-0
        // checkpoint must then carry the empty tree's root).
        let old_root = stored.as_ref().map_or(EMPTY_ROOT, |s| s.root);
        if let Err(e) = verify_consistency(
            req.old_size,
            size,
            &old_root,
            &req.checkpoint.root_hash,
            &req.proof,
        ) {
            tracing::warn!(
                origin = %origin,
                old = req.old_size,
                size,
                error = %e,
                presented = %req.note.to_text(),
                "inconsistent checkpoint refused"
            );
            return Err(e.into());
        }
        self.store.save(origin, &req.note.to_text())?;
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_err(|_| WitnessError::Storage("system clock is before 1970".into()))?
            .as_secs();
        let line = self.cosigner.sign(req.note.body(), now)?.to_line();
        // Labelled by origin: only configured logs get here, so the set is bounded.
        metrics::counter!(COSIGNATURES, "origin" => origin.clone()).increment(1);
        Ok(line)
    }
}

/// Checkpoints cosigned, by the log's `origin`.
pub const COSIGNATURES: &str = "keyless_witness_cosignatures_total";
