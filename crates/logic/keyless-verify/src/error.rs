//! Verification errors: one enum per concern, nested under
//! [`VerificationError`]. Every message names the check that failed and,
//! where there is one, the value expected and the value found.
//!
//! Causes from the lower crates (X.509, notes, proofs, timestamps, keys)
//! are kept as typed `source()`s, and a message never repeats its source's
//! text, so printing the chain (`keyless_cli::error_chain`) shows each
//! cause once. Times are Unix seconds, formatted only when displayed.

use std::path::PathBuf;

use keyless_types::time::format_rfc3339;
use keyless_types::ValidityPeriod;
use thiserror::Error;

pub use keyless_types::{BodyError, BundleError, TrustedRootError};

/// Why a bundle did not verify. Nothing is "verified with warnings": an
/// `Err` of any kind means the artifact must not be trusted.
#[derive(Debug, Error)]
#[non_exhaustive]
///
/// Each variant is transparent: its message is the inner error's, which
/// already names the step, and its causes are the inner error's causes.
pub enum VerificationError {
    #[error(transparent)]
    Bundle(#[from] BundleError),
    #[error(transparent)]
    TrustedRoot(#[from] TrustRootError),
    #[error(transparent)]
    Certificate(#[from] CertificateError),
    #[error(transparent)]
    Log(#[from] LogError),
    #[error(transparent)]
    Timestamp(#[from] TimestampError),
    #[error(transparent)]
    Signature(#[from] SignatureError),
    #[error(transparent)]
    Policy(#[from] PolicyError),
    #[error(transparent)]
    Artifact(#[from] ArtifactError),
}

/// A coarse, stable classification of [`VerificationError`], for exit codes
/// and for tests that check a failure happened for the right reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    Bundle,
    TrustedRoot,
    Certificate,
    Sct,
    LogEntry,
    InclusionProof,
    Checkpoint,
    SignedEntryTimestamp,
    Timestamp,
    VerifiedTime,
    Signature,
    Policy,
    Artifact,
}

impl ErrorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Bundle => "bundle",
            Self::TrustedRoot => "trusted-root",
            Self::Certificate => "certificate",
            Self::Sct => "sct",
            Self::LogEntry => "log-entry",
            Self::InclusionProof => "inclusion-proof",
            Self::Checkpoint => "checkpoint",
            Self::SignedEntryTimestamp => "signed-entry-timestamp",
            Self::Timestamp => "timestamp",
            Self::VerifiedTime => "verified-time",
            Self::Signature => "signature",
            Self::Policy => "policy",
            Self::Artifact => "artifact",
        }
    }
}

impl VerificationError {
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::Bundle(_) => ErrorKind::Bundle,
            Self::TrustedRoot(_) => ErrorKind::TrustedRoot,
            Self::Certificate(CertificateError::Sct(_)) => ErrorKind::Sct,
            Self::Certificate(_) => ErrorKind::Certificate,
            Self::Log(e) => match e {
                LogError::InclusionProof { .. } | LogError::MissingInclusionProof { .. } => {
                    ErrorKind::InclusionProof
                }
                LogError::Checkpoint { .. } | LogError::MissingCheckpoint { .. } => {
                    ErrorKind::Checkpoint
                }
                LogError::SignedEntryTimestamp { .. }
                | LogError::SignedEntryTimestampWithoutTime { .. } => {
                    ErrorKind::SignedEntryTimestamp
                }
                _ => ErrorKind::LogEntry,
            },
            Self::Timestamp(TimestampError::NoVerifiedTime) => ErrorKind::VerifiedTime,
            Self::Timestamp(_) => ErrorKind::Timestamp,
            Self::Signature(_) => ErrorKind::Signature,
            Self::Policy(_) => ErrorKind::Policy,
            Self::Artifact(_) => ErrorKind::Artifact,
        }
    }
}

/// RFC 3339 for a Unix time, for messages.
fn rfc3339(t: &i64) -> String {
    format_rfc3339(*t)
}

/// A validity window, for messages.
fn show_window(v: &ValidityPeriod) -> String {
    match v.end {
        Some(end) => format!("{} to {}", format_rfc3339(v.start), format_rfc3339(end)),
        None => format!("from {}", format_rfc3339(v.start)),
    }
}

/// One authority's reason for refusing, when every authority was tried:
/// several causes cannot all be `source()`, so they are listed in the
/// message, each once, and kept typed here.
#[derive(Debug)]
pub struct AuthorityFailure<E> {
    /// The authority's URI, as the trusted root names it.
    pub authority: String,
    pub error: E,
}

fn show_failures<E: std::error::Error + 'static>(list: &[AuthorityFailure<E>]) -> String {
    list.iter()
        .map(|f| {
            // Each failure with its own causes: only one error can be the
            // source, so a list writes them out here, once.
            let mut text = format!("{}: {}", f.authority, f.error);
            let mut next = f.error.source();
            while let Some(cause) = next {
                text.push_str(": ");
                text.push_str(&cause.to_string());
                next = cause.source();
            }
            text
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// The trusted root itself is unusable.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum TrustRootError {
    #[error(transparent)]
    Format(#[from] TrustedRootError),
    /// A key, certificate or file named by the trusted root (or the file
    /// holding it) could not be used, for a reason with no error of its
    /// own (e.g. a size limit).
    #[error("unusable trusted root: {what} {name}: {problem}")]
    Material {
        what: &'static str,
        name: String,
        problem: String,
    },
    /// As `Material`, where a lower layer's error says why (the source).
    #[error("unusable trusted root: {what} {name}")]
    Unusable {
        what: &'static str,
        name: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

#[derive(Debug, Error)]
#[non_exhaustive]
pub enum CertificateError {
    #[error("the bundle has no leaf certificate")]
    NoLeaf,
    #[error("cannot parse the signing certificate")]
    Parse(#[source] keyless_x509::X509Error),
    #[error("the bundle's certificate chain contains a root CA ({subject}); roots must come only from the trusted root")]
    RootInBundle { subject: String },
    #[error("no verified time to check the signing certificate at")]
    NoVerifiedTime,
    #[error(
        "no certificate authority in the trusted root was valid at {} (checked {checked})",
        rfc3339(.time)
    )]
    NoAuthorityAtTime { time: i64, checked: usize },
    #[error(
        "certificate chain does not verify to any trusted Fulcio CA at {}: {}",
        rfc3339(.time),
        show_failures(.failures)
    )]
    Chain {
        time: i64,
        failures: Vec<AuthorityFailure<keyless_x509::ChainError>>,
    },
    #[error("embedded SCT")]
    Sct(#[source] keyless_x509::SctError),
    #[error("cannot read the certificate identity")]
    Identity(#[source] keyless_x509::X509Error),
    #[error(
        "{time_kind} {} is outside the signing certificate's validity ({} to {})",
        rfc3339(.time),
        rfc3339(.not_before),
        rfc3339(.not_after)
    )]
    TimeOutsideValidity {
        time_kind: &'static str,
        time: i64,
        not_before: i64,
        not_after: i64,
    },
}

/// Why a checkpoint (the log's signed tree head) was refused.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum CheckpointFailure {
    #[error("not a signed note")]
    Note(#[source] keyless_tlog::NoteError),
    #[error("malformed checkpoint body")]
    Body(#[source] keyless_tlog::CheckpointError),
    #[error("log key unusable for checkpoints")]
    Key(#[source] keyless_tlog::NoteError),
    #[error("signature does not verify with the log's key")]
    Signature(#[source] keyless_tlog::NoteError),
    #[error("origin is {found:?}, expected {expected:?}")]
    Origin { expected: String, found: String },
    #[error("root hash {found} differs from the inclusion proof's {expected}")]
    RootHash { expected: String, found: String },
    #[error("tree size {found} differs from the inclusion proof's {expected}")]
    TreeSize { expected: u64, found: u64 },
}

#[derive(Debug, Error)]
#[non_exhaustive]
pub enum LogError {
    #[error("no transparency log entries; at least {required} verified entry is required")]
    NoEntries { required: usize },
    #[error("transparency log entry {entry}: unreadable body")]
    Body { entry: usize, source: BodyError },
    #[error("transparency log entry {entry}: body is {found}, but the bundle says {expected}")]
    KindMismatch {
        entry: usize,
        expected: String,
        found: String,
    },
    /// An entry kind that may not record this content, whatever its body
    /// says: Rekor v2 logs a DSSE envelope only as `hashedrekord 0.0.2`.
    #[error("transparency log entry {entry}: unsupported entry type '{kind}' for a {content} bundle: {reason}")]
    UnsupportedEntryType {
        entry: usize,
        kind: String,
        content: &'static str,
        reason: &'static str,
    },
    #[error("transparency log entry {entry}: log ID {log_id} is not a transparency log in the trusted root")]
    UnknownLog { entry: usize, log_id: String },
    #[error(
        "transparency log entry {entry}: signed entry timestamp does not verify with the key of {log}"
    )]
    SignedEntryTimestamp {
        entry: usize,
        log: String,
        #[source]
        source: keyless_crypto::CryptoError,
    },
    #[error(
        "transparency log entry {entry}: signed entry timestamp present without an integrated time"
    )]
    SignedEntryTimestampWithoutTime { entry: usize },
    #[error("transparency log entry {entry}: a Rekor v2 entry must carry an inclusion proof")]
    MissingInclusionProof { entry: usize },
    #[error(
        "transparency log entry {entry}: the inclusion proof has no checkpoint; its root hash cannot be trusted"
    )]
    MissingCheckpoint { entry: usize },
    #[error("transparency log entry {entry}: inclusion proof does not verify")]
    InclusionProof {
        entry: usize,
        #[source]
        source: keyless_tlog::ProofError,
    },
    #[error("transparency log entry {entry}: checkpoint")]
    Checkpoint {
        entry: usize,
        #[source]
        source: CheckpointFailure,
    },
    #[error("transparency log entry {entry}: the log entry does not match this bundle: {field} differs (expected {expected}, found {found})")]
    Mismatch {
        entry: usize,
        field: &'static str,
        expected: String,
        found: String,
    },
    #[error(
        "transparency log entry {entry}: integrated time {} is in the future (now {})",
        rfc3339(.time),
        rfc3339(.now)
    )]
    IntegratedTimeInFuture { entry: usize, time: i64, now: i64 },
    #[error(
        "transparency log entry {entry}: log key of {log} was not valid at integrated time {}",
        rfc3339(.time)
    )]
    LogKeyNotValidAtTime {
        entry: usize,
        log: String,
        time: i64,
    },
    #[error(
        "transparency log entry {entry}: checkpoint: the key of {log} is valid {}, but the verified RFC 3161 time {} is outside it",
        show_window(.window),
        rfc3339(.time)
    )]
    LogKeyNotValidAtTimestamp {
        entry: usize,
        log: String,
        time: i64,
        window: ValidityPeriod,
    },
    #[error("only {verified} distinct transparency log(s) verified, {required} required")]
    Threshold { verified: usize, required: usize },
}

#[derive(Debug, Error)]
#[non_exhaustive]
pub enum TimestampError {
    #[error("RFC 3161 timestamp {index} is invalid")]
    Invalid {
        index: usize,
        #[source]
        source: keyless_tsp::TspError,
    },
    #[error("RFC 3161 timestamp {index} was not issued by any timestamp authority in the trusted root: {}", show_failures(.failures))]
    Untrusted {
        index: usize,
        failures: Vec<AuthorityFailure<keyless_tsp::TspError>>,
    },
    #[error("RFC 3161 timestamp {index} cannot be checked: the trusted root lists no timestamp authorities")]
    NoAuthorities { index: usize },
    #[error(
        "RFC 3161 timestamp {index}: time {} is outside the validity of timestamp authority {tsa} ({})",
        rfc3339(.time),
        show_window(.window)
    )]
    OutsideAuthorityValidity {
        index: usize,
        time: i64,
        tsa: String,
        window: ValidityPeriod,
    },
    #[error("only {verified} timestamp(s) verified, {required} required")]
    Threshold { verified: usize, required: usize },
    #[error("no verified time: the bundle has neither a signed entry timestamp that verified nor a trusted RFC 3161 timestamp")]
    NoVerifiedTime,
}

#[derive(Debug, Error)]
#[non_exhaustive]
pub enum SignatureError {
    #[error("the signature does not verify over the artifact with the signing key")]
    MessageSignature,
    #[error("the DSSE envelope signature does not verify")]
    Dsse,
    #[error("unsupported DSSE payload type {0:?} (expected application/vnd.in-toto+json)")]
    PayloadType(String),
    #[error("the DSSE payload is not an in-toto statement")]
    Statement(#[source] serde_json::Error),
    #[error("the DSSE payload has unknown statement type {0:?}")]
    StatementType(String),
    #[error("unsupported bundle content")]
    UnsupportedContent,
}

#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ArtifactError {
    #[error("cannot read artifact {}", .path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("artifact digest does not match the bundle's message digest: expected {expected}, found {found}")]
    DigestMismatch { expected: String, found: String },
    #[error(
        "the artifact digest {digest} is not among the in-toto statement's subjects [{subjects}]"
    )]
    NotInSubjects { digest: String, subjects: String },
    #[error("{0}")]
    Unsupported(String),
}

/// The signer is not who the policy requires.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum PolicyError {
    #[error("none of the expected identities matched what was in the certificate, got subjects [{subjects}] with issuer {issuer}")]
    IdentityMismatch { subjects: String, issuer: String },
    #[error("the bundle is signed with a public key (hint {hint:?}), not a certificate; verify it with the signer's public key")]
    KeySignedBundle { hint: String },
    #[error("a public key was given, but the bundle is signed with a certificate")]
    CertificateSignedBundle,
    #[error("the bundle was not signed by the given key")]
    WrongKey,
    #[error("invalid policy: no identities given")]
    NoIdentities,
    #[error("invalid policy: bad regular expression {pattern:?}")]
    Regex {
        pattern: String,
        #[source]
        source: regex::Error,
    },
    #[error("certificate extension {name} ({oid}) is {found:?}, expected {expected:?}")]
    Extension {
        name: String,
        oid: String,
        expected: String,
        found: String,
    },
    #[error("certificate extension {name} ({oid}) is absent, expected {expected:?}")]
    ExtensionAbsent {
        name: String,
        oid: String,
        expected: String,
    },
}
