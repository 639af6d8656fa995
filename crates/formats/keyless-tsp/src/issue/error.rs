//! Errors of the issuing side. A rejected request must become a
//! TimeStampResp with the right PKIFailureInfo bit (RFC 3161 §2.4.2), so
//! every request failure names both the failed check and the bit it maps to.

use keyless_crypto::{CryptoError, HashAlgorithm};
use thiserror::Error;

/// The PKIFailureInfo values a TSA reports (RFC 3161 §2.4.2). Our own enum,
/// so that callers do not need `cmpv2` to name them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FailureInfo {
    /// badAlg (0): unrecognized or unsupported algorithm identifier.
    BadAlg,
    /// badRequest (2): transaction not permitted or supported.
    BadRequest,
    /// badDataFormat (5): the data submitted has the wrong format.
    BadDataFormat,
    /// timeNotAvailable (14): the TSA's time source is not available.
    TimeNotAvailable,
    /// unacceptedPolicy (15): the requested TSA policy is not supported.
    UnacceptedPolicy,
    /// unacceptedExtension (16): the requested extension is not supported.
    UnacceptedExtension,
    /// systemFailure (25): the request cannot be handled due to system failure.
    SystemFailure,
}

/// Why a TimeStampReq was refused. Each variant is one check.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RequestError {
    /// Requests are about 60–100 bytes; a cap keeps parsing cost bounded.
    #[error("request is {found} bytes, limit is {limit}")]
    TooLarge { found: usize, limit: usize },
    /// The body is not a DER TimeStampReq (version 1).
    #[error("request does not decode as a TimeStampReq: {reason}")]
    Der { reason: String },
    /// messageImprint.hashAlgorithm is not SHA-256/384/512.
    #[error("unsupported messageImprint hash algorithm {oid}")]
    UnsupportedHash { oid: String },
    /// The hash AlgorithmIdentifier has parameters other than absent or NULL.
    #[error("messageImprint hash algorithm {oid} has unexpected parameters")]
    HashParameters { oid: String },
    /// The hashedMessage length does not fit the named hash.
    #[error("hashedMessage is {found} bytes, {algorithm:?} digests are {expected}")]
    DigestLength {
        algorithm: HashAlgorithm,
        expected: usize,
        found: usize,
    },
    /// A reqPolicy other than the one this TSA issues under.
    #[error("requested policy {requested} is not supported (this TSA uses {supported})")]
    UnacceptedPolicy {
        requested: String,
        supported: String,
    },
    /// Request extensions: none are supported (RFC 3161 §2.4.1).
    #[error("request extensions are not supported")]
    Extensions,
    /// A nonce longer than any client sends; it is echoed, so it is bounded.
    #[error("nonce is {found} bytes, limit is {limit}")]
    NonceTooLong { found: usize, limit: usize },
    /// A field the HTTP front end validated (JSON form, content type).
    #[error("{0}")]
    Transport(String),
}

impl RequestError {
    /// The PKIFailureInfo bit this failure is reported with.
    pub fn failure_info(&self) -> FailureInfo {
        match self {
            Self::UnsupportedHash { .. } | Self::HashParameters { .. } => FailureInfo::BadAlg,
            Self::TooLarge { .. } | Self::Der { .. } | Self::DigestLength { .. } => {
                FailureInfo::BadDataFormat
            }
            Self::UnacceptedPolicy { .. } => FailureInfo::UnacceptedPolicy,
            Self::Extensions => FailureInfo::UnacceptedExtension,
            Self::NonceTooLong { .. } | Self::Transport(_) => FailureInfo::BadRequest,
        }
    }
}

/// Why a token could not be issued for a valid request (a TSA-side problem:
/// reported as systemFailure, never blamed on the client).
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum IssueError {
    /// The signing key does not belong to the signer certificate.
    #[error("signing key does not match the TSA certificate {subject}")]
    KeyMismatch { subject: String },
    /// Only ECDSA P-256/P-384/P-521 keys sign tokens.
    #[error("unsupported TSA signing key: {0}")]
    UnsupportedKey(String),
    /// The TSA certificate is not a time-stamping certificate.
    #[error("TSA certificate {subject} is not usable: {problem}")]
    Certificate { subject: String, problem: String },
    /// genTime or a serial number cannot be represented.
    #[error("invalid {what}: {reason}")]
    Value { what: &'static str, reason: String },
    /// DER encoding of a response structure failed.
    #[error("encoding {what}: {reason}")]
    Encode { what: &'static str, reason: String },
    /// The signature operation failed.
    #[error("signing failed")]
    Sign(#[source] CryptoError),
}

pub(crate) fn encode_err(what: &'static str) -> impl FnOnce(der::Error) -> IssueError {
    move |e| IssueError::Encode {
        what,
        reason: e.to_string(),
    }
}
