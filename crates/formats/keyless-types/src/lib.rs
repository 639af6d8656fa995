//! Serde models of Sigstore's JSON formats, following the protobuf-specs
//! JSON mapping (lowerCamelCase fields, enum names as strings, 64-bit
//! integers as strings, bytes as base64).
//!
//! Each format has a `wire` shape that mirrors the JSON exactly and, where
//! a consumer needs guarantees, a validated shape built from it: a
//! [`Bundle`] that exists has a known media type, exactly one content,
//! decoded bytes and non-negative indices ("parse, don't validate").
//! No I/O happens here.

pub mod b64;
pub mod bundle;
pub mod dsse;
mod error;
pub mod intoto;
pub mod rekor;
pub mod signing_config;
pub mod time;
pub mod trusted_root;
pub mod wire;

pub use bundle::{
    Bundle, BundleVersion, Content, MessageSignature, TlogEntry, VerificationMaterial,
};
pub use dsse::{pae, Envelope, EnvelopeSignature};
pub use error::{BodyError, BundleError, TrustedRootError};
pub use trusted_root::{CertificateAuthority, TransparencyLog, TrustedRoot, ValidityPeriod};

/// Largest bundle we accept, in bytes. Real bundles are a few KiB; the cap
/// stops a hostile file from costing memory before anything is checked.
pub const MAX_BUNDLE_BYTES: usize = 4 * 1024 * 1024;
/// Most transparency-log entries and RFC 3161 timestamps in one bundle
/// (sigstore-go uses the same caps).
pub const MAX_TLOG_ENTRIES: usize = 32;
pub const MAX_TIMESTAMPS: usize = 32;
/// Longest certificate chain carried in a bundle.
pub const MAX_CHAIN_LEN: usize = 10;
