//! Opening a log over each storage driver the crate ships: the caller
//! picks the driver ([`Log::open_files`], [`Log::open_postgres`], or
//! [`open_from_config`] for the one a [`LogConfig`] names); the core
//! ([`Log::open`]) takes whichever [`Storage`] it is handed and knows none
//! of them. The log key is kept in `config.data_dir` in both cases.

use std::sync::Arc;

use crate::config::{LogConfig, StorageBackend};
use crate::dedup::LeafDuplicates;
use crate::error::LogError;
use crate::log::Log;
use crate::storage::files::FileStorage;
use crate::storage::postgres::PgStorage;
use crate::storage::Storage;

impl Log {
    /// Open the log stored as files in `config.data_dir` (the tlog-tiles
    /// layout), generating a key there on first start.
    pub fn open_files(config: LogConfig) -> Result<Self, LogError> {
        create_data_dir(&config)?;
        let storage: Arc<dyn Storage> = Arc::new(FileStorage::open(&config.data_dir)?);
        open_with_key(config, storage)
    }

    /// Open the log stored in the PostgreSQL database at `url`, with its
    /// key in `config.data_dir` (generated on first start).
    pub fn open_postgres(config: LogConfig, url: &str) -> Result<Self, LogError> {
        create_data_dir(&config)?;
        let storage: Arc<dyn Storage> = Arc::new(PgStorage::connect(url)?);
        open_with_key(config, storage)
    }
}

/// Open the log with the driver `config.storage` names: what the server
/// and `keyless-cli` do with a configuration read from flags.
pub fn open_from_config(config: LogConfig) -> Result<Log, LogError> {
    match config.storage.clone() {
        StorageBackend::Files => Log::open_files(config),
        StorageBackend::Postgres { url } => Log::open_postgres(config, &url),
    }
}

fn create_data_dir(config: &LogConfig) -> Result<(), LogError> {
    std::fs::create_dir_all(&config.data_dir).map_err(|source| LogError::DataDir {
        path: config.data_dir.display().to_string(),
        source,
    })
}

/// The key `config` names: the PKCS#11 token's, or the key file in the
/// data directory (generated on first start).
fn open_with_key(config: LogConfig, storage: Arc<dyn Storage>) -> Result<Log, LogError> {
    match &config.pkcs11 {
        Some(pkcs11) => {
            let key = crate::keys::open_pkcs11(pkcs11, config.key_type)?;
            Log::open(config, storage, key, Arc::new(LeafDuplicates))
        }
        None => {
            let key = crate::keys::load_or_generate(&config.data_dir, config.key_type)?;
            Log::open(config, storage, key, Arc::new(LeafDuplicates))
        }
    }
}
