use thiserror::Error;

/// Why a key could not be used or a signature did not verify.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CryptoError {
    /// The SubjectPublicKeyInfo (or PEM around it) is not well formed.
    #[error("malformed public key: {0}")]
    MalformedKey(String),
    /// The key's DER (SubjectPublicKeyInfo or bit string) does not decode
    /// or re-encode; the DER error is the source.
    #[error("malformed public key DER")]
    KeyDer(#[source] der::Error),
    /// PEM whose body is not base64; the decoder's error is the source.
    #[error("malformed public key: PEM body is not base64")]
    PemBase64(#[source] base64::DecodeError),
    /// The key is well formed but of a kind we do not accept.
    #[error("unsupported public key algorithm: {0}")]
    UnsupportedKey(String),
    /// The signature algorithm cannot be used with this key (e.g. RSA with an EC key).
    #[error("signature algorithm {algorithm:?} cannot be used with a {key:?} key")]
    AlgorithmMismatch {
        algorithm: crate::SignatureAlgorithm,
        key: crate::KeyAlgorithm,
    },
    /// A pre-hashed verification was asked of an algorithm that signs whole messages (Ed25519).
    #[error("{0:?} cannot verify a signature from a digest alone; the whole message is needed")]
    NeedsMessage(crate::SignatureAlgorithm),
    /// A digest of the wrong length for its algorithm.
    #[error("digest has {found} bytes, {algorithm:?} needs {expected}")]
    DigestLength {
        algorithm: crate::HashAlgorithm,
        expected: usize,
        found: usize,
    },
    /// The signature does not verify.
    #[error("signature does not verify")]
    BadSignature,
    /// A signer could not produce a signature (e.g. a PKCS#11 token
    /// refused); the message names the key and the failed operation.
    #[error("signing failed: {0}")]
    Signing(String),
}
