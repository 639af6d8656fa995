use thiserror::Error;

/// Why signing failed. Nothing is half-signed: an error means no bundle.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum SignError {
    #[error("configuration: {0}")]
    Config(String),
    #[error("key: {0}")]
    Key(#[from] keyless_crypto::CryptoError),
    #[error("certificate authority {url}: {problem}")]
    Ca { url: String, problem: String },
    #[error("the certificate from the CA is unusable: {0}")]
    Certificate(String),
    #[error("the certificate's SCT did not verify against the trusted CT logs: {0}")]
    Sct(String),
    #[error("transparency log {url}: {problem}")]
    Log { url: String, problem: String },
    /// The log's answer shows it speaks the other Rekor API major version
    /// (e.g. 404 on `/api/v2/log/entries`, or a v2 entry where a v1 entry
    /// was expected).
    #[error("transparency log {url} does not look like a Rekor v{expected} log: {problem}")]
    LogVersion {
        url: String,
        expected: u32,
        problem: String,
    },
    #[error("timestamp authority {url}: {problem}")]
    Timestamp { url: String, problem: String },
    #[error("artifact: {0}")]
    Artifact(String),
    #[error("the bundle just made does not verify: {0}")]
    SelfCheck(#[from] keyless_verify::VerificationError),
}
