//! Why the CT log gave no SCT. Its own file, so that the start-up errors
//! (`setup.rs`) can name it without importing the module that declares
//! them.

use keyless_crypto::CryptoError;
use keyless_x509::{SctError, X509Error};
use thiserror::Error;

/// The CT log refused the precertificate (or could not be reached).
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum CtError {
    #[error("empty chain")]
    EmptyChain,
    #[error("submitted certificate is malformed")]
    Malformed(#[source] X509Error),
    #[error("submitted certificate is malformed")]
    Sct(#[source] SctError),
    /// The add-pre-chain request itself is unusable (size, JSON, base64).
    #[error("submitted certificate is malformed: {0}")]
    BadRequest(&'static str),
    #[error("submitted certificate is malformed: no issuer certificate after the precertificate")]
    NoIssuer,
    #[error("submitted certificate is malformed: field longer than 65535 bytes")]
    FieldTooLong,
    #[error("submitted certificate is not a precertificate (no poison extension)")]
    NotPrecert,
    #[error("precertificate is not signed by the next certificate in the chain")]
    Signature(#[source] X509Error),
    #[error("chain does not end at an accepted root")]
    UntrustedRoot,
    #[error("signing the SCT failed")]
    Sign(#[source] CryptoError),
    #[error("CT log unavailable: {0}")]
    Unavailable(String),
    /// The durable log did not commit the entry, so no SCT is returned.
    #[error("CT log could not commit the entry")]
    Log(#[source] keyless_log::LogError),
    /// A remote CT log answered with something the CA will not embed
    /// (wrong log ID, a signature the configured key does not verify).
    #[error("remote CT log refused: {0}")]
    Remote(String),
}
