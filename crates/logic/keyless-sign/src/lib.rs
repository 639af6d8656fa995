//! The keyless signing flow, as a state machine over four services:
//!
//! ```text
//! ephemeral key ──token + proof of possession──▶ CA: certificate chain (SCT embedded)
//! sign artifact (or DSSE PAE) with the key
//! signature ──▶ TSA: RFC 3161 timestamp (optional; required with Rekor v2)
//! signature + certificate + digest ──▶ log: entry with inclusion proof
//! ──▶ bundle v0.3, verified before it is returned; the key is dropped
//! ```
//!
//! All I/O is behind the [`CertificateAuthority`], [`TransparencyLog`] and
//! [`TimestampAuthority`] traits; [`http`] has the implementations that talk
//! to Fulcio-, Rekor- and RFC 3161-compatible servers.

mod bundle;
mod error;
pub mod http;
mod keyed;
mod services;
mod signer;

pub use bundle::bundle_json;
pub use error::SignError;
pub use keyed::{public_key_hint, KeySigned, KeySigner};
pub use services::{
    CertificateAuthority, LogRequest, NoTimestamps, TimestampAuthority, TransparencyLog,
};
pub use signer::{Artifact, Progress, SignedBundle, Signer};
