//! The issuer's errors: [`OidcDevError`] and the [`SignError`] it carries
//! (re-exported as `keys::SignError`). Their own module so that the key
//! code and the handlers name them without importing the crate root.

use std::path::{Path, PathBuf};

use jsonwebtoken::Algorithm;
use thiserror::Error;

#[derive(Debug, Error)]
#[non_exhaustive]
pub enum OidcDevError {
    /// A file or directory of the data dir could not be read or written.
    #[error("{action} {}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The listener's address could not be read.
    #[error("reading the listener address")]
    Listener(#[source] std::io::Error),
    /// The HTTP server failed.
    #[error("serving")]
    Serve(#[source] std::io::Error),
    /// The key file could not be read or written, or is readable by group
    /// or others (the message names the file and its mode).
    #[error(transparent)]
    KeyFile(#[from] keyless_keys::KeyError),
    #[error("signing key: the dev issuer signs with ECDSA P-256 (ES256) only")]
    KeyAlgorithm,
    #[error("signing key: deriving its JWK")]
    Jwk(#[source] jsonwebtoken::errors::Error),
    #[error("identities {}", path.display())]
    Identities {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error("no identity named {0:?}")]
    UnknownIdentity(String),
    #[error("no issuer URL: pass one, or start `keyless server oidc` with this data dir first")]
    NoIssuerUrl,
    #[error("signing the token")]
    Sign(#[source] SignError),
}

/// A closure turning an I/O error on `path` into [`OidcDevError::Io`].
pub(crate) fn io_err(
    action: &'static str,
    path: &Path,
) -> impl FnOnce(std::io::Error) -> OidcDevError {
    let path = path.to_path_buf();
    move |source| OidcDevError::Io {
        action,
        path,
        source,
    }
}

/// Why a token could not be signed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SignError {
    #[error("header alg {0:?}: the dev issuer signs ES256 only")]
    Alg(Algorithm),
    #[error("encoding the JWS header or claims")]
    Json(#[source] serde_json::Error),
    #[error("the signer failed")]
    Signer(#[source] keyless_crypto::CryptoError),
    #[error("ECDSA signature is not DER")]
    NotDer(#[source] der::Error),
    #[error("ECDSA signature integer of {len} bytes, more than {field_len}")]
    IntegerTooLong { len: usize, field_len: usize },
}
