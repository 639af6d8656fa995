//! Errors. Each names the operation, the URL or tag involved, and what was
//! expected versus found, so a failure in CI can be acted on without a rerun.

use std::fmt;

use crate::auth::AuthError;
use crate::digest::{Digest, DigestError};
use crate::reference::ReferenceError;

/// Anything that can go wrong talking to a registry.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    #[error(transparent)]
    Reference(#[from] ReferenceError),
    #[error(transparent)]
    Auth(#[from] AuthError),
    /// The request never got an HTTP answer (DNS, connect, TLS, timeout).
    #[error("{operation} {url}: {source}")]
    Transport {
        operation: Operation,
        url: String,
        #[source]
        source: reqwest::Error,
    },
    /// The registry answered with a status we did not expect.
    #[error("{operation} {url}: registry answered HTTP {status}{}", fmt_body(body))]
    Status {
        operation: Operation,
        url: String,
        status: u16,
        /// The start of the response body (registries put error codes there).
        body: String,
    },
    /// A manifest or blob the caller needs does not exist.
    #[error("{operation} {url}: not found")]
    NotFound { operation: Operation, url: String },
    /// The registry is reachable only over plain HTTP and that was not allowed.
    #[error(
        "registry {registry} does not answer over HTTPS ({reason}); plain HTTP is used only when \
         the client allows insecure registries (--allow-insecure-registry)"
    )]
    InsecureNotAllowed { registry: String, reason: String },
    /// What the registry sent is not what it should be.
    #[error(transparent)]
    Content(#[from] ContentError),
    /// A read-modify-write of a tag kept losing to concurrent writers.
    #[error(
        "updating {tag} in {repository}: the manifest kept changing under us; gave up after \
         {attempts} attempts"
    )]
    Conflict {
        repository: String,
        tag: String,
        attempts: u32,
    },
    /// Building the HTTP client failed.
    #[error("building the HTTP client: {0}")]
    Client(#[source] reqwest::Error),
    /// Reading what is stored for one image went over one of the client's
    /// per-verification limits (a registry controls how many signatures and
    /// referrers it lists and how large they are; past the limit we stop
    /// rather than loop or buffer without end).
    #[error(
        "reading the signatures of {image}: {what}, over the limit of {cap} {} (raise it with {})",
        limit.unit(),
        limit.flag()
    )]
    LimitExceeded {
        /// The image whose signatures were being read (`repo@sha256:…`).
        image: String,
        limit: ReadLimit,
        /// The limit in force.
        cap: u64,
        /// What went over it.
        what: String,
    },
}

/// The per-verification read limits of [`crate::ClientOptions`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ReadLimit {
    /// Signature layers in one `.sig` / `.att` manifest
    /// ([`crate::ClientOptions::max_signatures`]).
    Signatures,
    /// Referrers listed for one image ([`crate::ClientOptions::max_referrers`]).
    Referrers,
    /// Bytes fetched for one verification ([`crate::ClientOptions::max_fetch_bytes`]).
    FetchBytes,
}

impl ReadLimit {
    /// The `keyless verify` / `verify-attestation` flag that raises this
    /// limit, named in the error so the fix is in the message.
    pub fn flag(self) -> &'static str {
        match self {
            Self::Signatures => "--max-signatures",
            Self::Referrers => "--max-referrers",
            Self::FetchBytes => "--max-fetch-bytes",
        }
    }

    /// What the limit counts.
    pub fn unit(self) -> &'static str {
        match self {
            Self::Signatures => "signature layers per .sig/.att manifest",
            Self::Referrers => "referrers per image",
            Self::FetchBytes => "bytes fetched per verification",
        }
    }
}

fn fmt_body(body: &str) -> String {
    if body.is_empty() {
        String::new()
    } else {
        format!(": {body}")
    }
}

/// Content from the registry failed a check.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ContentError {
    /// The bytes do not hash to the digest they were requested by (or that the
    /// registry claimed in `Docker-Content-Digest`).
    #[error("{what}: expected digest {expected}, got {actual}")]
    DigestMismatch {
        what: String,
        expected: Digest,
        actual: Digest,
    },
    /// More bytes than the caller allowed; the download was abandoned.
    #[error("{what}: larger than the {limit}-byte limit")]
    TooLarge { what: String, limit: u64 },
    /// The JSON did not parse as the expected document.
    #[error("{what}: not a valid {expected}: {source}")]
    InvalidJson {
        what: String,
        expected: &'static str,
        #[source]
        source: serde_json::Error,
    },
    /// A digest (in a header or document) did not parse.
    #[error("{what}: {source}")]
    InvalidDigest {
        what: String,
        #[source]
        source: DigestError,
    },
    /// A manifest of a media type that this operation cannot use.
    #[error("{what}: media type {found:?} is not one of {expected:?}")]
    UnexpectedMediaType {
        what: String,
        expected: Vec<String>,
        found: String,
    },
    /// A response was missing a header the protocol requires.
    #[error("{what}: response has no {header} header")]
    MissingHeader { what: String, header: &'static str },
    /// A header or URL the registry sent did not make sense.
    #[error("{what}: {reason}")]
    Malformed { what: String, reason: String },
}

/// The registry operation that failed, for error messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Operation {
    Ping,
    Token,
    HeadManifest,
    GetManifest,
    PutManifest,
    HeadBlob,
    GetBlob,
    StartUpload,
    FinishUpload,
    Referrers,
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Ping => "checking the registry API at",
            Self::Token => "fetching a bearer token from",
            Self::HeadManifest => "checking manifest",
            Self::GetManifest => "fetching manifest",
            Self::PutManifest => "pushing manifest",
            Self::HeadBlob => "checking blob",
            Self::GetBlob => "fetching blob",
            Self::StartUpload => "starting blob upload",
            Self::FinishUpload => "finishing blob upload",
            Self::Referrers => "listing referrers",
        })
    }
}
