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
mod limits;
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
pub use limits::{MAX_BUNDLE_BYTES, MAX_CHAIN_LEN, MAX_TIMESTAMPS, MAX_TLOG_ENTRIES};
pub use trusted_root::{CertificateAuthority, TransparencyLog, TrustedRoot, ValidityPeriod};
