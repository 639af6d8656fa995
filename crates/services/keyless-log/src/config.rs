//! Log configuration, with defaults that need no setup.

use std::path::PathBuf;
use std::time::Duration;

/// Which key the log signs checkpoints (and Rekor v1 SETs) with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum LogKeyType {
    /// The C2SP and Rekor v2 default.
    #[default]
    Ed25519,
    /// What Rekor v1 logs use; clients that verify v1 checkpoints by key
    /// hint alone (sigstore-go, keyless-verify) need an ECDSA log key.
    EcdsaP256,
}

/// Everything the log needs to run.
#[derive(Debug, Clone)]
pub struct LogConfig {
    /// Where tiles, entry bundles, the checkpoint and the log key live.
    pub data_dir: PathBuf,
    /// The checkpoint origin and signer name. Rekor v2 clients derive it
    /// from the log's base URL: `host[:port]`.
    pub origin: String,
    /// Key type generated on first start; an existing key is kept.
    pub key_type: LogKeyType,
    /// Most entries sequenced in one batch (one durable commit).
    pub batch_size: usize,
    /// Longest an entry waits for its batch to fill before the batch is
    /// committed anyway; bounds submit latency under light load.
    pub batch_interval: Duration,
    /// A batch also closes once no entry arrived for this long, so that a
    /// few closed-loop clients do not each wait out `batch_interval`.
    pub batch_idle: Duration,
    /// Largest request body accepted (bytes).
    pub max_body: usize,
    /// Most entries waiting to be sequenced before submissions get 503.
    pub queue_capacity: usize,
}

/// Default request body cap: Rekor v2's 128 KiB.
pub const DEFAULT_MAX_BODY: usize = 128 * 1024;

impl LogConfig {
    /// A configuration with defaults for everything but the data directory
    /// and origin.
    pub fn new(data_dir: impl Into<PathBuf>, origin: impl Into<String>) -> Self {
        Self {
            data_dir: data_dir.into(),
            origin: origin.into(),
            key_type: LogKeyType::default(),
            batch_size: 256,
            batch_interval: Duration::from_millis(100),
            batch_idle: Duration::from_millis(5),
            max_body: DEFAULT_MAX_BODY,
            queue_capacity: 65_536,
        }
    }
}
