//! [`IssueError`]: its own module because both the request errors
//! ([`super::CaError`]) and the start-up errors ([`super::SetupError`])
//! carry it, and the start-up errors live in a child module of their own.

use keyless_crypto::CryptoError;
use keyless_x509::{ProfileError, X509Error};
use thiserror::Error;

/// Building or signing a certificate failed: a fault on our side.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum IssueError {
    #[error("DER encoding")]
    Der(#[source] der::Error),
    /// The certificate profile (keyless-x509) could not build it.
    #[error("building the certificate")]
    Profile(#[source] ProfileError),
    #[error("signing")]
    Sign(#[source] CryptoError),
    #[error("signing: CA keys cannot use {0}")]
    UnsupportedAlgorithm(String),
    #[error("random number generator failed")]
    Random,
    #[error("the issued certificate failed its own check")]
    SelfCheck(#[source] X509Error),
}
