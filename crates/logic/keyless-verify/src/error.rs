//! Verification errors: one enum per concern, nested under
//! [`VerificationError`]. Every message names the check that failed and,
//! where there is one, the value expected and the value found.

use thiserror::Error;

pub use keyless_types::{BodyError, BundleError, TrustedRootError};

/// Why a bundle did not verify. Nothing is "verified with warnings": an
/// `Err` of any kind means the artifact must not be trusted.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum VerificationError {
    #[error("malformed bundle: {0}")]
    Bundle(#[from] BundleError),
    #[error("unusable trusted root: {0}")]
    TrustedRoot(#[from] TrustRootError),
    #[error("certificate: {0}")]
    Certificate(#[from] CertificateError),
    #[error("transparency log: {0}")]
    Log(#[from] LogError),
    #[error("timestamp: {0}")]
    Timestamp(#[from] TimestampError),
    #[error("signature: {0}")]
    Signature(#[from] SignatureError),
    #[error("{0}")]
    Policy(#[from] PolicyError),
    #[error("artifact: {0}")]
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
                LogError::SignedEntryTimestamp { .. } => ErrorKind::SignedEntryTimestamp,
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

/// The trusted root itself is unusable.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum TrustRootError {
    #[error(transparent)]
    Format(#[from] TrustedRootError),
    #[error("{what} {name}: {problem}")]
    Material {
        what: &'static str,
        name: String,
        problem: String,
    },
}

#[derive(Debug, Error)]
#[non_exhaustive]
pub enum CertificateError {
    #[error("cannot parse the signing certificate: {0}")]
    Parse(String),
    #[error("the bundle's certificate chain contains a root CA ({subject}); roots must come only from the trusted root")]
    RootInBundle { subject: String },
    #[error(
        "no certificate authority in the trusted root was valid at {time} (checked {checked})"
    )]
    NoAuthorityAtTime { time: String, checked: usize },
    #[error("certificate chain does not verify to any trusted Fulcio CA at {time}: {reasons}")]
    Chain { time: String, reasons: String },
    #[error("embedded SCT: {0}")]
    Sct(String),
    #[error("cannot read the certificate identity: {0}")]
    Identity(String),
    #[error("{time_kind} {time} is outside the signing certificate's validity ({not_before} to {not_after})")]
    TimeOutsideValidity {
        time_kind: &'static str,
        time: String,
        not_before: String,
        not_after: String,
    },
}

#[derive(Debug, Error)]
#[non_exhaustive]
pub enum LogError {
    #[error("no transparency log entries; at least {required} verified entry is required")]
    NoEntries { required: usize },
    #[error("entry {entry}: {source}")]
    Body { entry: usize, source: BodyError },
    #[error("entry {entry}: body is {found}, but the bundle says {expected}")]
    KindMismatch {
        entry: usize,
        expected: String,
        found: String,
    },
    /// An entry kind that may not record this content, whatever its body
    /// says: Rekor v2 logs a DSSE envelope only as `hashedrekord 0.0.2`.
    #[error("entry {entry}: unsupported entry type '{kind}' for a {content} bundle: {reason}")]
    UnsupportedEntryType {
        entry: usize,
        kind: String,
        content: &'static str,
        reason: &'static str,
    },
    #[error("entry {entry}: log ID {log_id} is not a transparency log in the trusted root")]
    UnknownLog { entry: usize, log_id: String },
    #[error("entry {entry}: log key of {log} is unusable: {problem}")]
    LogKey {
        entry: usize,
        log: String,
        problem: String,
    },
    #[error("entry {entry}: signed entry timestamp: {problem}")]
    SignedEntryTimestamp { entry: usize, problem: String },
    #[error("entry {entry}: a Rekor v2 entry must carry an inclusion proof")]
    MissingInclusionProof { entry: usize },
    #[error(
        "entry {entry}: the inclusion proof has no checkpoint; its root hash cannot be trusted"
    )]
    MissingCheckpoint { entry: usize },
    #[error("entry {entry}: inclusion proof: {problem}")]
    InclusionProof { entry: usize, problem: String },
    #[error("entry {entry}: checkpoint: {problem}")]
    Checkpoint { entry: usize, problem: String },
    #[error("entry {entry}: the log entry does not match this bundle: {field} differs (expected {expected}, found {found})")]
    Mismatch {
        entry: usize,
        field: &'static str,
        expected: String,
        found: String,
    },
    #[error("entry {entry}: integrated time {time} is in the future (now {now})")]
    IntegratedTimeInFuture {
        entry: usize,
        time: String,
        now: String,
    },
    #[error("entry {entry}: log key of {log} was not valid at integrated time {time}")]
    LogKeyNotValidAtTime {
        entry: usize,
        log: String,
        time: String,
    },
    #[error("entry {entry}: checkpoint: the key of {log} is valid {window}, but the verified RFC 3161 time {time} is outside it")]
    LogKeyNotValidAtTimestamp {
        entry: usize,
        log: String,
        time: String,
        window: String,
    },
    #[error("only {verified} distinct transparency log(s) verified, {required} required")]
    Threshold { verified: usize, required: usize },
}

#[derive(Debug, Error)]
#[non_exhaustive]
pub enum TimestampError {
    #[error("RFC 3161 timestamp {index}: {problem}")]
    Invalid { index: usize, problem: String },
    #[error("RFC 3161 timestamp {index} was not issued by any timestamp authority in the trusted root: {reasons}")]
    Untrusted { index: usize, reasons: String },
    #[error("RFC 3161 timestamp {index}: time {time} is outside the validity of timestamp authority {tsa} ({window})")]
    OutsideAuthorityValidity {
        index: usize,
        time: String,
        tsa: String,
        window: String,
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
    #[error("the DSSE payload is not an in-toto statement: {0}")]
    Statement(String),
    #[error("signing key unusable: {0}")]
    Key(String),
}

#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ArtifactError {
    #[error("cannot read artifact: {0}")]
    Io(String),
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
    #[error("invalid policy: {0}")]
    Invalid(String),
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
