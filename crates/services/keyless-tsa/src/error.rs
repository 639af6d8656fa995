//! Errors of the TSA service. Request failures never appear here: they are
//! answered with a TimeStampResp rejection (see `keyless_tsp::issue`). These
//! are the failures that stop the service from starting or serving.

use std::path::PathBuf;

use keyless_crypto::CryptoError;
use keyless_tsp::issue::IssueError;
use keyless_x509::{ChainError, X509Error};
use thiserror::Error;

/// Why the TSA could not start or keep serving. Each message says what
/// failed; the lower error it carries as its source says why (the CLI
/// prints the whole chain), so no message repeats its source's text.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum TsaError {
    /// Reading or writing the data directory failed.
    #[error("{action} {}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A key file could not be read or written, or is readable by group
    /// or others (the message names the file and its mode).
    #[error(transparent)]
    KeyFile(#[from] keyless_keys::KeyError),
    /// The PKCS#11 token key could not be opened (the message names the
    /// module, token, key label or PIN variable, never the PIN).
    #[error(transparent)]
    Pkcs11(#[from] keyless_keys::Pkcs11Error),
    /// The data directory holds no signing key file, and no token key was
    /// configured: its key may be on a PKCS#11 token.
    #[error(
        "{}: missing; if this data directory's signing key is on a PKCS#11 token, configure the token \
         (keyless server tsa --pkcs11-module … --pkcs11-token-label … --pkcs11-key-label …)",
        path.display()
    )]
    SigningKeyMissing { path: PathBuf },
    /// The token key is not the one the stored signing certificate
    /// certifies: the data directory was set up with another key.
    #[error(
        "{}: the certificate is for another key than {key_label:?} on PKCS#11 token {token_label:?}: this data \
         directory was set up with a different signing key; use a fresh data directory or the key it was set up with",
        cert.display()
    )]
    TokenKeyMismatch {
        cert: PathBuf,
        key_label: String,
        token_label: String,
    },
    /// The certificate chain could not be generated or loaded.
    #[error("certificate chain")]
    Pki(#[from] PkiError),
    /// The signing key and certificate cannot issue tokens.
    #[error("token signer")]
    Issue(#[from] IssueError),
    /// The system clock reads before 1970: no token could carry a time.
    #[error("the system clock is before 1970")]
    Clock,
    /// The HTTP server failed.
    #[error("serving")]
    Serve(#[source] std::io::Error),
}

/// Which step of building or loading the chain failed. (X.509 errors are
/// boxed: they would make every `Result` of the TSA's start-up large.)
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum PkiError {
    /// Key generation failed.
    #[error("generating a {algorithm} key")]
    KeyGeneration {
        algorithm: String,
        #[source]
        source: CryptoError,
    },
    /// Only ECDSA P-256 and P-384 are offered for TSA keys.
    #[error("unsupported TSA key algorithm {0} (use ECDSA P-256 or P-384)")]
    UnsupportedAlgorithm(String),
    /// A certificate field could not be encoded.
    #[error("encoding {what}")]
    Encode {
        what: &'static str,
        #[source]
        source: der::Error,
    },
    /// A certificate just built does not parse back.
    #[error("parsing the {what} certificate just built")]
    Parse {
        what: &'static str,
        #[source]
        source: Box<X509Error>,
    },
    /// Signing a certificate failed.
    #[error("signing the {what} certificate")]
    Sign {
        what: &'static str,
        #[source]
        source: CryptoError,
    },
    /// A stored certificate does not parse.
    #[error("stored {what} certificate")]
    Stored {
        what: &'static str,
        #[source]
        source: Box<X509Error>,
    },
    /// The stored chain does not validate as a time-stamping chain.
    #[error("stored chain does not validate")]
    Chain(#[source] Box<ChainError>),
    /// The random number generator failed.
    #[error("random number generator failed")]
    Random,
    /// Neither a token key nor a generated key signs for the leaf (a bug:
    /// the callers always provide one).
    #[error("no signing key for the time-stamping certificate")]
    NoSigningKey,
}

pub(crate) fn encode_err(what: &'static str) -> impl FnOnce(der::Error) -> PkiError {
    move |source| PkiError::Encode { what, source }
}
