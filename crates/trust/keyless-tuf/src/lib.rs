//! TUF client and repository writer for the Sigstore root of trust.
//!
//! * [`client`]: the client workflow of the TUF specification §5 (root
//!   rotation, timestamp, snapshot, targets, delegations, target download)
//!   with a verify-then-persist local cache.
//! * [`sigstore`]: bootstrapping and refreshing Sigstore's TUF repository
//!   (`trusted_root.json`, `signing_config.v0.2.json`) with the
//!   `~/.sigstore/root/<mirror>/` cache layout.
//! * [`repo`]: a repository writer for private deployments.
//!
//! Signatures are checked with `keyless-crypto` over canonical JSON
//! ([`cjson`]).

pub mod cjson;
pub mod client;
mod error;
pub mod fetch;
pub mod keys;
pub mod metadata;
pub mod repo;
pub mod sigstore;

pub use client::{Updater, UpdaterConfig};
pub use error::{Error, FetchError, MetadataError, RepositoryError, TargetError, ThresholdError};
pub use fetch::{AnyFetcher, DirectoryFetcher, Fetcher, HttpFetcher};
