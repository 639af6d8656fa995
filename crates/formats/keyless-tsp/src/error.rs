//! Error types. Each failure mode of RFC 3161 verification is its own
//! variant, so that a caller (and the conformance runner) can tell *why* a
//! timestamp was rejected: a token for another payload, a token from a TSA we
//! do not trust, a forged signature and a certificate used outside its
//! lifetime call for different explanations.

use keyless_crypto::{CryptoError, HashAlgorithm};
use keyless_x509::{ChainError, X509Error};
use thiserror::Error;

/// Why a time-stamp token was rejected.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TspError {
    /// The token could not be parsed, or is not shaped like an RFC 3161 token.
    #[error("malformed time-stamp token")]
    Malformed(#[from] MalformedError),
    /// A full TimeStampResp whose status is neither granted nor grantedWithMods.
    #[error("time-stamp response status is {found}, expected granted (0) or grantedWithMods (1)")]
    NotGranted { found: String },
    /// An algorithm (hash or signature) we do not accept.
    #[error("unsupported {role} algorithm {oid}")]
    UnsupportedAlgorithm { role: AlgorithmRole, oid: String },
    /// The token timestamps some other data than the one given (RFC 3161 §2.4.2:
    /// the messageImprint must be the hash of the timestamped datum).
    #[error("message imprint mismatch ({algorithm:?}): expected {expected}, found {found}")]
    ImprintMismatch {
        algorithm: HashAlgorithm,
        expected: String,
        found: String,
    },
    /// The CMS SignedData does not verify.
    #[error("CMS signature does not verify")]
    Signature(#[from] SignatureError),
    /// The signer certificate (or one on its path) was not valid at genTime.
    #[error("TSA certificate {subject} not valid at genTime {gen_time}: {bound}")]
    CertificateNotValidAtGenTime {
        subject: String,
        gen_time: i64,
        bound: ValidityBound,
    },
    /// The token was not issued by the trusted TSA.
    #[error("untrusted TSA")]
    Untrusted(#[from] UntrustedError),
}

/// Which end of a certificate's validity genTime fell outside of.
#[derive(Debug, Error, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ValidityBound {
    /// genTime is before notBefore.
    #[error("not valid before {not_before}")]
    NotYetValid { not_before: i64 },
    /// genTime is after notAfter.
    #[error("expired at {not_after}")]
    Expired { not_after: i64 },
}

/// Which algorithm field an [`TspError::UnsupportedAlgorithm`] refers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum AlgorithmRole {
    /// TSTInfo.messageImprint.hashAlgorithm.
    MessageImprint,
    /// SignerInfo.digestAlgorithm.
    Digest,
    /// SignerInfo.signatureAlgorithm.
    Signature,
}

impl std::fmt::Display for AlgorithmRole {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::MessageImprint => "message imprint hash",
            Self::Digest => "SignerInfo digest",
            Self::Signature => "SignerInfo signature",
        })
    }
}

/// Structural problems found while parsing.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum MalformedError {
    /// Refuse oversized input before parsing it: real tokens are a few KiB.
    #[error("token is {found} bytes, limit is {limit}")]
    TooLarge { found: usize, limit: usize },
    /// A DER structure did not decode.
    #[error("{what} does not decode: {reason}")]
    Der { what: &'static str, reason: String },
    /// A granted TimeStampResp without a token.
    #[error("time-stamp response is granted but carries no token")]
    MissingToken,
    /// The ContentInfo is not SignedData.
    #[error("content type: expected {expected} (id-signedData), found {found}")]
    ContentType { expected: String, found: String },
    /// The encapsulated content is not a TSTInfo (RFC 3161 §2.4.2).
    #[error("eContentType: expected {expected} (id-ct-TSTInfo), found {found}")]
    EContentType { expected: String, found: String },
    /// SignedData without encapsulated content (a detached signature).
    #[error("SignedData has no eContent")]
    MissingEContent,
    /// genTime does not fit in an i64 of Unix seconds.
    #[error("genTime out of range")]
    GenTime,
    /// Too many embedded certificates: more than any real TSA sends.
    #[error("{found} embedded certificates, limit is {limit}")]
    TooManyCertificates { found: usize, limit: usize },
    /// An embedded certificate did not parse.
    #[error("embedded certificate #{index} does not parse")]
    Certificate {
        index: usize,
        #[source]
        source: X509Error,
    },
    /// RFC 3161 §2.4.1: the token has exactly one signer.
    #[error("SignerInfos: expected exactly 1, found {found}")]
    SignerInfoCount { found: usize },
}

/// Why the CMS signature over the TSTInfo does not verify.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SignatureError {
    /// RFC 5652 §5.3: signed attributes are required when eContentType is not
    /// id-data; without them the signature would not bind the content type.
    #[error("SignerInfo has no signed attributes")]
    MissingSignedAttributes,
    /// A required signed attribute is absent, or present with other than exactly one value.
    #[error("signed attribute {oid}: expected exactly one value, found {found}")]
    AttributeCount { oid: String, found: usize },
    /// A signed attribute value does not decode.
    #[error("signed attribute {oid} does not decode: {reason}")]
    AttributeDer { oid: String, reason: String },
    /// The content-type attribute must equal eContentType (RFC 5652 §11.1).
    #[error("content-type attribute: expected {expected}, found {found}")]
    ContentTypeAttribute { expected: String, found: String },
    /// The message-digest attribute must be the hash of the eContent (RFC 5652 §11.2).
    #[error("message-digest attribute ({algorithm:?}): expected {expected}, found {found}")]
    MessageDigest {
        algorithm: HashAlgorithm,
        expected: String,
        found: String,
    },
    /// The signed attributes could not be re-encoded for verification.
    #[error("re-encoding signed attributes")]
    Encode(#[source] der::Error),
    /// The signer certificate's key could not be used.
    #[error("signer public key unusable")]
    PublicKey(#[source] X509Error),
    /// The signature itself does not verify.
    #[error("signature by {signer} does not verify")]
    Crypto {
        signer: String,
        #[source]
        source: CryptoError,
    },
}

/// Why the signer could not be tied to the trusted TSA chain.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum UntrustedError {
    /// The trusted chain given by the caller is empty.
    #[error("no trusted TSA chain given")]
    EmptyTrustedChain,
    /// Neither the trusted chain nor the token's certificates hold the
    /// certificate the SignerInfo names.
    #[error("signer certificate {sid} not found in the trusted chain or the token")]
    SignerNotFound { sid: String },
    /// The trusted chain names the TSA's signing certificate (its first
    /// certificate is not a CA), and the token was signed by another one,
    /// e.g. a sibling leaf under the same TSA root or a leaf the trusted
    /// root no longer lists.
    #[error("signer {found} is not the signing certificate {expected} the trusted root lists for this TSA")]
    NotTrustedLeaf { found: String, expected: String },
    /// The signer certificate does not chain to the trusted TSA root.
    #[error("signer {subject} does not chain to the trusted TSA")]
    Chain {
        subject: String,
        #[source]
        source: ChainError,
    },
}

/// Lower-case hex, for expected/found values in messages.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
