//! The Rekor personality of the keyless transparency log: the entry kinds
//! Rekor v1 and v2 accept (parsed, signature-checked, canonicalized), the
//! v1 search index, and the Rekor v1/v2 and C2SP tlog-tiles HTTP API, over
//! the personality-free log core of `keyless-log`.
//!
//! ```text
//! HTTP (api) ──parse + verify signature (entries)──▶ Submission{canonical body,
//!                                                   lookup_key = artifact SHA-256}
//!                                                         │
//!                                           keyless_log::Log::submit (core)
//! v1 SETs: Log::sign;  v1 search: search.rs over Log::open_search_store
//! ```
//!
//! No file here reaches into the core's internals: everything goes through
//! `keyless_log`'s public API, and no two files import each other
//! (tests/import_cycles.rs).
//!
//! Use [`serve`] to run a log on a listener, or
//! [`keyless_log::open_from_config`] + [`router`] to embed one;
//! [`check_log`] replays a running Rekor log and checks its bodies too.

pub mod api;
pub mod config;
pub mod entries;
pub mod error;
mod search;
mod serve;
pub mod witnessing;

pub use api::{error_chain, router, router_with, ApiError};
pub use config::{Limits, RekorConfig, DEFAULT_MAX_BODY, DEFAULT_MAX_SEARCH_RESULTS};
pub use error::ServeError;
pub use serve::{check_log, open_app, serve, serve_with_shutdown};
