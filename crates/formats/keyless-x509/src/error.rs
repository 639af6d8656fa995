//! Error types. Each variant names the check that failed and, where there is
//! one, the value that was expected and the value that was found, so that a
//! rejected bundle can be explained without a debugger.

//!
//! A message never repeats its `source()`: printing the chain shows each
//! cause once. Where several causes are listed in one message (one per
//! SCT, say), each is written with its own chain, since only one error
//! can be the source.

use keyless_crypto::CryptoError;
use thiserror::Error;

/// `e` and its causes, joined with ": " (for causes listed in a message).
pub(crate) fn chain_text(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut next = e.source();
    while let Some(cause) = next {
        out.push_str(": ");
        out.push_str(&cause.to_string());
        next = cause.source();
    }
    out
}

/// Why certificate PEM text was refused.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PemError {
    #[error("not a single PEM block")]
    Decode(#[source] CryptoError),
    #[error("label {0:?}, expected \"CERTIFICATE\"")]
    Label(String),
}

/// A certificate could not be parsed, or a single-certificate operation
/// (signature check, key extraction, identity decoding) failed.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum X509Error {
    /// The bytes are not a DER X.509 certificate.
    #[error("malformed certificate DER")]
    Der(#[source] der::Error),
    /// The PEM text is not exactly one `CERTIFICATE` block.
    #[error("malformed certificate PEM")]
    Pem(#[source] PemError),
    /// An extension the profile relies on did not decode.
    #[error("malformed extension {oid}: {reason}")]
    MalformedExtension { oid: String, reason: String },
    /// RFC 5280 §4.2: "A certificate MUST NOT include more than one instance
    /// of a particular extension." Two copies make it ambiguous which one a
    /// verifier honours.
    #[error("extension {oid} appears more than once")]
    DuplicateExtension { oid: String },
    /// The outer signature algorithm and the one inside the TBS differ
    /// (RFC 5280 §4.1.1.2 requires them to be equal).
    #[error("signature algorithm mismatch: outer {outer}, inside TBS {inner}")]
    SignatureAlgorithmMismatch { outer: String, inner: String },
    /// The signature algorithm OID is not one we verify.
    #[error("unsupported signature algorithm {oid}")]
    UnsupportedSignatureAlgorithm { oid: String },
    /// The subject public key could not be turned into a usable key.
    #[error("unusable public key")]
    PublicKey(#[source] CryptoError),
    /// The signature over the TBS certificate did not verify with the issuer's key.
    #[error("signature on {subject} does not verify with the key of {issuer}")]
    Signature {
        subject: String,
        issuer: String,
        #[source]
        source: CryptoError,
    },
    /// The Fulcio identity extensions are inconsistent or malformed.
    #[error(transparent)]
    Identity(#[from] IdentityError),
}

/// Why the Fulcio identity of a certificate could not be read.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum IdentityError {
    /// Issuer V1 (.1.1, raw) and issuer V2 (.1.8, UTF8String) disagree. Upstream
    /// clients take whichever comes last; we refuse to guess.
    #[error("issuer extensions disagree: {v2_oid} says {v2:?}, {v1_oid} says {v1:?}")]
    IssuerMismatch {
        v1_oid: String,
        v1: String,
        v2_oid: String,
        v2: String,
    },
    /// A raw-string extension (.1.1–.1.6) is not UTF-8.
    #[error("extension {oid} is not a UTF-8 string")]
    NotUtf8 { oid: String },
    /// A DER-encoded extension (.1.8–.1.24) is not a DER UTF8String.
    #[error("extension {oid} is not a DER UTF8String: {reason}")]
    NotUtf8String { oid: String, reason: String },
    /// The SubjectAltName extension did not decode.
    #[error("malformed subjectAltName")]
    MalformedSan(#[source] Box<X509Error>),
    /// A Fulcio OtherName SAN (.1.7) whose value is not an `[0] EXPLICIT UTF8String`.
    #[error("OtherName SAN {oid} value is not a UTF8String: {reason}")]
    MalformedOtherName { oid: String, reason: String },
    /// The certificate names the same extension twice.
    #[error("extension {oid} appears more than once")]
    DuplicateExtension { oid: String },
}

/// Why RFC 5280 path validation failed.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ChainError {
    /// The trusted chain is empty, so there is no anchor to build to.
    #[error("anchor chain is empty: no trust anchor")]
    NoAnchor,
    /// No certificate among the candidates names this certificate's issuer as
    /// its subject and verifies its signature.
    #[error("no issuer found for {subject} (issuer {issuer}){}", last_error.as_ref().map(|e| format!(": {}", chain_text(e.as_ref()))).unwrap_or_default())]
    NoIssuer {
        subject: String,
        issuer: String,
        last_error: Option<Box<X509Error>>,
    },
    /// The path would be longer than we are willing to build.
    #[error("certification path longer than {max} certificates")]
    PathTooLong { max: usize },
    /// Path building gave up after this many signature checks (hostile
    /// input with many certificates sharing a name).
    #[error("path search gave up after {max} signature checks")]
    SearchBudgetExhausted { max: usize },
    /// A certificate's validity starts after the verification time.
    #[error("certificate {subject} not yet valid at {at}: notBefore is {not_before}")]
    NotYetValid {
        subject: String,
        not_before: i64,
        at: i64,
    },
    /// A certificate's validity ended before the verification time.
    #[error("certificate {subject} expired at {at}: notAfter is {not_after}")]
    Expired {
        subject: String,
        not_after: i64,
        at: i64,
    },
    /// A certificate used as an issuer lacks basicConstraints cA=TRUE.
    #[error("issuer {subject} is not a CA (basicConstraints cA is not true)")]
    IssuerNotCa { subject: String },
    /// A certificate used as an issuer has keyUsage without keyCertSign.
    #[error("issuer {subject} keyUsage lacks keyCertSign")]
    IssuerKeyUsage { subject: String },
    /// A CA's pathLenConstraint allows fewer intermediates below it than the path has.
    #[error("pathLenConstraint of {subject} is {max}, but {found} intermediate(s) follow it")]
    PathLenExceeded {
        subject: String,
        max: u8,
        found: usize,
    },
    /// The end-entity certificate is a CA.
    #[error("leaf {subject} is a CA certificate")]
    LeafIsCa { subject: String },
    /// The end-entity keyUsage is missing or lacks digitalSignature.
    #[error("leaf {subject} keyUsage: expected digitalSignature, found {found}")]
    LeafKeyUsage { subject: String, found: String },
    /// The extended key usage does not allow the purpose.
    #[error("certificate {subject} extendedKeyUsage: expected {expected}, found {found}")]
    ExtendedKeyUsage {
        subject: String,
        expected: String,
        found: String,
    },
    /// The timestamping EKU must be critical (RFC 3161 §2.3).
    #[error("leaf {subject} extendedKeyUsage must be critical for time stamping")]
    ExtendedKeyUsageNotCritical { subject: String },
    /// A critical extension we do not process: RFC 5280 §4.2 says the
    /// certificate must then be rejected.
    #[error("certificate {subject} has unhandled critical extension {oid}")]
    UnknownCriticalExtension { subject: String, oid: String },
    /// The leaf is an RFC 6962 precertificate, which is not a usable certificate.
    #[error("leaf {subject} carries the CT precertificate poison extension")]
    PrecertPoison { subject: String },
    /// Name constraints are not implemented, so a certificate carrying them
    /// cannot be honoured and is rejected.
    #[error("certificate {subject} has name constraints, which are not supported")]
    NameConstraints { subject: String },
    /// A certificate on the path has an extension that does not decode.
    #[error("certificate {subject}")]
    Certificate {
        subject: String,
        #[source]
        source: Box<X509Error>,
    },
}

/// Why embedded SCT verification failed.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SctError {
    /// The leaf has no SCT list extension.
    #[error("certificate has no embedded SCT list (extension 1.3.6.1.4.1.11129.2.4.2)")]
    Missing,
    /// The SCT list extension is not a valid TLS SignedCertificateTimestampList.
    #[error("malformed SCT list: {0}")]
    Malformed(String),
    /// The DER around the SCT list does not decode (the source says why).
    #[error("malformed SCT list: {what}")]
    MalformedDer {
        what: &'static str,
        #[source]
        source: der::Error,
    },
    /// The certificate or issuer could not be processed (e.g. the TBS could not be re-encoded).
    #[error(transparent)]
    Certificate(#[from] X509Error),
    /// No SCT verified; one reason per SCT, in list order.
    #[error("no SCT verified: {}", reasons.iter().map(|r| chain_text(r)).collect::<Vec<_>>().join("; "))]
    NoneVerified { reasons: Vec<SctFailure> },
}

/// Why a single SCT did not verify.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SctFailure {
    /// The SCT version is not v1 (0).
    #[error("SCT #{index}: unsupported version {found}, expected 0 (v1)")]
    Version { index: usize, found: u8 },
    /// No trusted CT log has this log ID.
    #[error("SCT #{index}: unknown log id {log_id}")]
    UnknownLog { index: usize, log_id: String },
    /// A trusted log has this ID but its validity does not contain the SCT time.
    #[error("SCT #{index}: timestamp {timestamp} is outside the validity of log {log_id}")]
    OutsideLogValidity {
        index: usize,
        log_id: String,
        timestamp: i64,
    },
    /// The hash/signature algorithm pair is not one we accept.
    #[error("SCT #{index}: unsupported algorithm hash={hash} signature={signature}")]
    UnsupportedAlgorithm {
        index: usize,
        hash: u8,
        signature: u8,
    },
    /// The signature does not verify with the log's key.
    #[error("SCT #{index}: bad signature from log {log_id}")]
    BadSignature {
        index: usize,
        log_id: String,
        #[source]
        source: CryptoError,
    },
}

/// A certificate could not be built to the profile ([`crate::profile`]).
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProfileError {
    /// A field could not be DER-encoded (e.g. a SAN that is not IA5).
    #[error("DER encoding: {0}")]
    Der(String),
    /// The issuing key's signature scheme is not one CA certificates use.
    #[error("CA keys cannot use {0}")]
    UnsupportedAlgorithm(String),
    /// The random number generator failed (serial numbers).
    #[error("random number generator failed")]
    Random,
}
