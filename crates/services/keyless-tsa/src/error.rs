//! Errors of the TSA service. Request failures never appear here: they are
//! answered with a TimeStampResp rejection (see `keyless_tsp::issue`). These
//! are the failures that stop the service from starting or serving.

use std::path::PathBuf;

use keyless_crypto::CryptoError;
use keyless_tsp::issue::IssueError;
use thiserror::Error;

/// Why the TSA could not start or keep serving.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum TsaError {
    /// Reading or writing the data directory failed.
    #[error("{action} {path}: {source}")]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// Stored key material is unusable (the key itself is never printed).
    #[error("key {path}: {source}")]
    Key {
        path: PathBuf,
        #[source]
        source: CryptoError,
    },
    /// A key file could not be read or written, or is readable by group
    /// or others (the message names the file and its mode).
    #[error(transparent)]
    KeyFile(#[from] keyless_keys::KeyError),
    /// The certificate chain could not be generated or loaded.
    #[error("certificate chain: {0}")]
    Pki(#[from] PkiError),
    /// The signing key and certificate cannot issue tokens.
    #[error("token signer: {0}")]
    Issue(#[from] IssueError),
    /// The HTTP server failed.
    #[error("serving: {0}")]
    Serve(#[source] std::io::Error),
}

/// Which step of building or loading the chain failed.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PkiError {
    /// Key generation failed.
    #[error("generating a {algorithm} key: {reason}")]
    KeyGeneration { algorithm: String, reason: String },
    /// Only ECDSA P-256 and P-384 are offered for TSA keys.
    #[error("unsupported TSA key algorithm {0} (use ECDSA P-256 or P-384)")]
    UnsupportedAlgorithm(String),
    /// A certificate field could not be encoded.
    #[error("encoding {what}: {reason}")]
    Encode { what: &'static str, reason: String },
    /// Signing a certificate failed.
    #[error("signing the {what} certificate: {reason}")]
    Sign { what: &'static str, reason: String },
    /// A stored certificate does not parse.
    #[error("stored {what} certificate: {reason}")]
    Stored { what: &'static str, reason: String },
    /// The stored chain does not validate as a time-stamping chain.
    #[error("stored chain does not validate: {0}")]
    Chain(String),
    /// The random number generator failed.
    #[error("random number generator failed")]
    Random,
}

pub(crate) fn encode_err(what: &'static str) -> impl FnOnce(der::Error) -> PkiError {
    move |e| PkiError::Encode {
        what,
        reason: e.to_string(),
    }
}
