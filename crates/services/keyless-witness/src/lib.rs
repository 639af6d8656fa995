//! A C2SP transparency log witness (<https://c2sp.org/tlog-witness>).
//!
//! For every log it is configured with (origin + verifier key), the witness
//! keeps the latest checkpoint it cosigned, durably. A log asks for a
//! cosignature with `POST /add-checkpoint` (old size, consistency proof,
//! new signed checkpoint); the witness checks the log's signature and that
//! the new tree extends the stored one, stores the new checkpoint, and only
//! then answers with a `cosignature/v1` line (<https://c2sp.org/tlog-cosignature>).
//! A log that shows two different trees, or rolls back, is refused: that is
//! the split view a witness exists to stop.
//!
//! ```text
//! http (axum, body cap) ── request::parse ──▶ Witness::add_checkpoint
//!     verify note (config::LogKeys) ─ lock ─ store::load ─ verify_consistency
//!     ─ store::save (tmp, fsync, rename, dir fsync) ─ cosign::Cosigner::sign
//! ```
//!
//! Modules: [`vkey`] (C2SP vkey text), [`cosign`] (cosignature/v1 signing
//! and checking), [`config`] (the logs file), [`request`] (the request
//! body), [`store`] (durable per-log state), [`witness`] (the checks),
//! [`http`] (the HTTP service).

pub mod config;
pub mod cosign;
pub mod error;
pub mod http;
pub mod request;
pub mod store;
pub mod vkey;
pub mod witness;

pub use config::{LogEntry, WitnessConfig};
pub use cosign::{verify_cosignature, Cosigner};
pub use error::WitnessError;
pub use http::{router, serve};
pub use witness::{Witness, COSIGNATURES};
