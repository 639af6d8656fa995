//! Transparency log library: a tiled RFC 6962 log core (append,
//! integrate, checkpoint, recover) over storage drivers, with the Rekor
//! v1/v2 personality and the HTTP API on top.
//!
//! ```text
//! HTTP (api)  ──parse + verify signature (entries)──▶ Log::submit ── dedup::DuplicateCheck
//!                                                     │ queue
//!                                   sequencer thread ◀┘ batch ≤ batch_size / batch_interval
//!                                      │ tree.push, tiles, sign checkpoint   (grows the next batch
//!                                      ▼                                     while this one commits)
//!                        committer thread: Storage::commit (fsync, checkpoint last)
//!                                      └──▶ publish checkpoint, answer submitters
//! storage drivers: storage::files (tlog-tiles layout, default) or storage::postgres,
//!                  chosen by the caller (drivers: Log::open_files / Log::open_postgres)
//! reads: /checkpoint, /tile/... (C2SP tlog-tiles), Rekor v1 lookups, proofs
//! ```
//!
//! The core is `log` (the handle), `shared`, `sequencer`, `recover`,
//! `dedup`, `merkle`, `index`, `tile_cache` and `types`; none of them
//! imports the personality (`entries`, `search`, `api`) or a driver
//! (`storage::files`, `storage::postgres`), and no two files import each
//! other (tests/import_cycles.rs).
//!
//! Use [`serve`] to run a log on a listener, or [`Log::open`] (any
//! [`storage::Storage`]) / [`open_from_config`] + [`router`] to embed one.
//! [`remote::verify_consistency_remote`] and [`integrity::check_log`]
//! check a running log from the outside.

pub mod api;
pub mod config;
mod dedup;
pub mod drivers;
pub mod entries;
pub mod error;
pub mod index;
pub mod integrity;
pub mod keys;
mod locks;
mod log;
pub mod merkle;
mod recover;
pub mod remote;
mod search;
mod sequencer;
mod shared;
pub mod storage;
mod tile_cache;
mod types;

use std::future::Future;

pub use api::{router, ApiError};
pub use config::{
    LogConfig, LogKeyType, StorageBackend, DEFAULT_BATCH_LINGER, DEFAULT_MAX_BODY,
    DEFAULT_MAX_SEARCH_RESULTS,
};
pub use drivers::open_from_config;
pub use error::TreeError;
pub use error::{LogError, StorageError};
pub use integrity::{check_log, IntegrityError, IntegrityReport};
pub use log::Log;
pub use remote::{verify_consistency_remote, RemoteError};
pub use types::{committed_width, Published, Sequenced, Submission, MAX_ENTRY_SIZE};

/// Open the log described by `config` and serve it on `listener` until
/// the process ends.
pub async fn serve(config: LogConfig, listener: tokio::net::TcpListener) -> Result<(), LogError> {
    serve_with_shutdown(config, listener, std::future::pending()).await
}

/// Like [`serve`], stopping gracefully when `shutdown` completes.
pub async fn serve_with_shutdown(
    config: LogConfig,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), LogError> {
    let log = tokio::task::spawn_blocking(move || open_from_config(config))
        .await
        .map_err(|e| LogError::Server(format!("opening the log: {e}")))??;
    tracing::info!(
        origin = log.origin(),
        size = log.published().size,
        "transparency log open"
    );
    axum::serve(listener, router(log))
        .with_graceful_shutdown(shutdown)
        .await
        .map_err(|e| LogError::Server(e.to_string()))
}
