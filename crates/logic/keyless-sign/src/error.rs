use thiserror::Error;

/// A lower layer's error under a service error (a JSON or DER decoder, say).
pub type Cause = Box<dyn std::error::Error + Send + Sync>;

/// Why signing failed. Nothing is half-signed: an error means no bundle.
///
/// A lower crate's error is the `source()`, never repeated in the message,
/// so a printed chain shows each cause once.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum SignError {
    #[error("configuration: {0}")]
    Config(String),
    #[error("signing key")]
    Key(#[from] keyless_crypto::CryptoError),
    /// The HTTP client (its TLS stack) could not be set up.
    #[error("cannot set up the HTTP client")]
    HttpClient(#[source] std::sync::Arc<reqwest::Error>),
    /// The bundle could not be written as JSON.
    #[error("cannot encode the bundle")]
    Encode(#[source] serde_json::Error),
    #[error("certificate authority {url}: {problem}")]
    Ca {
        url: String,
        problem: String,
        #[source]
        source: Option<Cause>,
    },
    #[error("the certificate from the CA is unusable: {0}")]
    Certificate(String),
    /// The CA's certificate does not parse, or its key or identity cannot
    /// be read.
    #[error("the certificate from the CA is unusable")]
    CertificateParse(#[source] keyless_x509::X509Error),
    #[error("the certificate's SCT did not verify against the trusted CT logs")]
    Sct(#[source] keyless_x509::SctError),
    #[error("transparency log {url}: {problem}")]
    Log {
        url: String,
        problem: String,
        #[source]
        source: Option<Cause>,
    },
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
    Timestamp {
        url: String,
        problem: String,
        #[source]
        source: Option<Cause>,
    },
    #[error("artifact: {0}")]
    Artifact(String),
    /// An attestation payload that is not an in-toto statement.
    #[error("artifact: the payload is not an in-toto statement")]
    Statement(#[source] serde_json::Error),
    /// The statement's first sha256 subject digest is not hex.
    #[error("artifact: the statement's subject digest is not hex")]
    SubjectDigest(#[source] hex::FromHexError),
    #[error("the bundle just made does not verify")]
    SelfCheck(#[from] keyless_verify::VerificationError),
    /// A key-signed signature that does not verify with its own public key.
    #[error("the signature just made does not verify")]
    SignatureSelfCheck(#[source] keyless_crypto::CryptoError),
}
