//! Transparency log core: a tiled RFC 6962 log (append, integrate,
//! checkpoint, recover) over storage drivers, knowing no personality.
//! Entries are opaque bodies; a personality (Rekor v1/v2 in
//! `keyless-rekor`, a CT log next) parses and checks them, computes their
//! lookup keys and serves its API on top.
//!
//! ```text
//! personality ──Submission{body, lookup_key}──▶ Log::submit ── dedup::DuplicateCheck
//!                                               │ queue
//!                             sequencer thread ◀┘ batch ≤ batch_size / batch_interval
//!                                │ tree.push, tiles, sign checkpoint (signer::LogSigner,
//!                                ▼                any keyless_crypto::Signer)
//!                  committer thread: Storage::commit (fsync, checkpoint last)
//!                                └──▶ publish checkpoint, answer submitters
//! storage drivers: storage::files (tlog-tiles layout, default) or storage::postgres,
//!                  chosen by the caller (drivers: Log::open_files / Log::open_postgres)
//! reads: Log::published, tile, entry, meta, find_leaf, find_by_key, proofs;
//!        a personality's derived search index: Log::open_search_store
//! ```
//!
//! The core is `log` (the handle), `shared`, `sequencer`, `recover`,
//! `dedup`, `merkle`, `index`, `tile_cache`, `signer` and `types`; none of
//! them imports a driver (`storage::files`, `storage::postgres`), and no
//! two files import each other (tests/import_cycles.rs).
//!
//! [`Log::open`] (any [`storage::Storage`], any signer, any
//! [`DuplicateCheck`]) or
//! [`open_from_config`] open a log; [`remote::verify_consistency_remote`]
//! and [`integrity::check_log`] check a running one from the outside.

pub mod config;
mod dedup;
pub mod drivers;
pub mod error;
pub mod index;
pub mod integrity;
pub mod keys;
pub mod leaf;
mod locks;
mod log;
pub mod merkle;
mod recover;
pub mod remote;
mod sequencer;
mod shared;
pub mod signer;
pub mod storage;
pub mod telemetry;
mod tile_cache;
mod types;
pub mod witnessing;

pub use config::{LogConfig, LogKeyType, StorageBackend, DEFAULT_BATCH_LINGER};
pub use dedup::{CommittedEntries, DuplicateCheck, LeafDuplicates};
pub use drivers::open_from_config;
pub use error::TreeError;
pub use error::{LogError, StorageError};
pub use integrity::{check_log, check_log_with, IntegrityError, IntegrityReport};
pub use leaf::{IndexStamper, LeafHasher, WholeBody};
pub use log::Log;
pub use remote::{verify_consistency_remote, RemoteError};
pub use types::{committed_width, Published, Sequenced, Submission, MAX_ENTRY_SIZE};
