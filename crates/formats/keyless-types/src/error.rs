use std::sync::Arc;

use thiserror::Error;

use crate::time::TimeError;

/// Why a bundle was rejected before any cryptography ran.
#[derive(Debug, Error, Clone)]
#[non_exhaustive]
pub enum BundleError {
    #[error("bundle is {size} bytes, more than the {max} allowed")]
    TooLarge { size: usize, max: usize },
    /// The JSON parser's error is the source (shared, so the error stays
    /// `Clone`).
    #[error("bundle is not valid JSON for the Sigstore bundle format")]
    Json(#[source] Arc<serde_json::Error>),
    #[error("unsupported bundle media type {0:?} (known: v0.1, v0.2, v0.3)")]
    UnknownMediaType(String),
    #[error("bundle has no verificationMaterial")]
    MissingVerificationMaterial,
    #[error("bundle verification material must be exactly one of publicKey, x509CertificateChain or certificate; found {0}")]
    VerificationMaterialCount(usize),
    #[error("bundle content must be exactly one of messageSignature or dsseEnvelope; found {0}")]
    ContentCount(usize),
    #[error("certificate chain in the bundle is empty")]
    EmptyCertificateChain,
    #[error("certificate chain has {0} certificates, more than allowed")]
    ChainTooLong(usize),
    #[error("a {version} bundle must carry a single certificate, not x509CertificateChain")]
    ChainNotAllowed { version: &'static str },
    #[error("bundle has {found} {what}, at most {max} are allowed")]
    TooMany {
        what: &'static str,
        found: usize,
        max: usize,
    },
    #[error("bundle has no transparency log entries")]
    NoTlogEntries,
    #[error("transparency log entry {entry}: {field} is negative ({value})")]
    NegativeInteger {
        entry: usize,
        field: &'static str,
        value: i64,
    },
    #[error("transparency log entry {entry}: {problem}")]
    BadTlogEntry { entry: usize, problem: String },
    #[error("a {version} bundle requires {what} in every log entry (entry {entry} has none)")]
    MissingForVersion {
        version: &'static str,
        what: &'static str,
        entry: usize,
    },
    #[error("duplicate transparency log entry (log {log_id}, index {index})")]
    DuplicateTlogEntry { log_id: String, index: i64 },
    #[error("DSSE envelope must have exactly one signature, found {0}")]
    DsseSignatureCount(usize),
    #[error("unknown message digest algorithm {0:?}")]
    UnknownDigestAlgorithm(String),
}

/// Why a trusted root could not be used.
#[derive(Debug, Error, Clone)]
#[non_exhaustive]
pub enum TrustedRootError {
    #[error("trusted root is {size} bytes, more than the {max} allowed")]
    TooLarge { size: usize, max: usize },
    #[error("trusted root is not valid JSON for the trusted root format")]
    Json(#[source] Arc<serde_json::Error>),
    #[error("unsupported trusted root media type {0:?}")]
    UnknownMediaType(String),
    #[error(
        "{what} {name}: validFor.start is required (a missing start is malformed, not unbounded)"
    )]
    MissingValidityStart { what: &'static str, name: String },
    #[error("{what} {name}: {problem}")]
    Invalid {
        what: &'static str,
        name: String,
        problem: String,
    },
    #[error("{what} {name}: {field}")]
    Time {
        what: &'static str,
        name: String,
        field: &'static str,
        #[source]
        source: TimeError,
    },
}

/// Why a transparency-log entry body could not be read.
#[derive(Debug, Error, Clone)]
#[non_exhaustive]
pub enum BodyError {
    #[error("log entry body is not valid JSON of its kind")]
    Json(#[source] Arc<serde_json::Error>),
    #[error("unsupported log entry kind {kind} version {version}")]
    UnsupportedKind { kind: String, version: String },
}
