//! Start-up errors: the issuer configuration, the key material and the
//! chain self-check. Like the request errors, each says what failed and
//! carries the lower error as its source.

use keyless_crypto::CryptoError;
use keyless_x509::X509Error;
use thiserror::Error;

use super::IssueError;

/// Startup failure: configuration, key material, or the chain self-check.
/// (`X509Error` is boxed: it would make every `Result` of this type large.)
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum SetupError {
    #[error("reading {path}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("issuer config {path}")]
    Config {
        path: String,
        #[source]
        source: ConfigError,
    },
    #[error("key material in {path}: {reason}")]
    Key { path: String, reason: String },
    /// A stored certificate does not parse, or its key cannot be read.
    #[error("key material in {path}")]
    Certificate {
        path: String,
        #[source]
        source: Box<X509Error>,
    },
    /// Generating a CA key failed.
    #[error("key material in {path}")]
    KeyGeneration {
        path: String,
        #[source]
        source: CryptoError,
    },
    #[error("CA chain self-check failed: {0}")]
    SelfCheck(String),
    /// A certificate of the chain could not be checked.
    #[error("CA chain self-check failed: {what}")]
    ChainCheck {
        what: &'static str,
        #[source]
        source: Box<X509Error>,
    },
    /// The trusted root the CA publishes could not be encoded.
    #[error("CA chain self-check failed: encoding the trusted root")]
    TrustedRoot(#[source] serde_json::Error),
    #[error("building the CA")]
    Issue(#[from] IssueError),
    #[error("HTTP client")]
    Http(#[source] reqwest::Error),
    /// The durable CT log could not be opened or recovered.
    #[error("opening the CT log")]
    CtLog(#[source] keyless_log::LogError),
    /// The CT log's witnessing could not start.
    #[error("starting the CT log's witnessing")]
    CtWitnessing(#[source] super::ct::CtError),
    /// The intermediate key's PKCS#11 token could not be used.
    #[error(transparent)]
    Pkcs11(#[from] crate::pkcs11::Pkcs11Error),
    /// A key file could not be read, written or decrypted, or is readable
    /// by others; the message names the file.
    #[error(transparent)]
    KeyFile(#[from] keyless_keys::KeyError),
}

/// Why the issuer configuration (Fulcio's `OIDCIssuers` / `MetaIssuers`
/// JSON) is refused.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The file is not JSON of the expected shape.
    #[error("not a valid issuer configuration")]
    Json(#[source] serde_json::Error),
    #[error("OIDCIssuers key {key:?} differs from its IssuerURL {issuer_url:?}")]
    IssuerUrlMismatch { key: String, issuer_url: String },
    #[error("SPIFFE meta issuers are not supported")]
    SpiffeMetaIssuer,
    #[error("issuer {name:?}: empty ClientID")]
    EmptyClientId { name: String },
    /// `kind` is how the issuer is named ("spiffe issuer", "issuer", …).
    #[error("{kind} {name:?} needs {setting}")]
    MissingSetting {
        kind: &'static str,
        name: String,
        setting: &'static str,
    },
    #[error("issuer {name:?}: no CIIssuerMetadata {provider:?}")]
    UnknownCiMetadata { name: String, provider: String },
    #[error("CIIssuerMetadata {provider:?}: unknown extension {extension:?}")]
    UnknownExtension { provider: String, extension: String },
    /// A MetaIssuers pattern is not a valid pattern.
    #[error("meta issuer {pattern:?}")]
    MetaPattern {
        pattern: String,
        #[source]
        source: regex::Error,
    },
    /// A CI provider's template does not parse.
    #[error("CIIssuerMetadata {provider:?} {field}")]
    CiTemplate {
        provider: String,
        field: String,
        #[source]
        source: crate::template::TemplateError,
    },
}
