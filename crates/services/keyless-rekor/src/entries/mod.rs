//! Entry kinds: parse a client's request, verify its signature with the
//! key or certificate it names **before** anything is logged, and build
//! the canonical body the log stores (exactly what keyless-types'
//! `rekor::EntryBody` parses, with keys sorted as in RFC 8785 JSON
//! canonicalization, so equal requests give byte-equal bodies and thus
//! de-duplicate).

pub mod v1;
pub mod v2;

use std::sync::Arc;

use keyless_crypto::{CryptoError, HashAlgorithm, KeyAlgorithm, PublicKey, SignatureAlgorithm};
use keyless_x509::X509Error;
use thiserror::Error;

/// Why a request cannot become an entry. Every variant is the client's
/// fault (HTTP 4xx), and the client is told the whole chain (see
/// `api::error`): no message repeats its source's.
#[derive(Debug, Error, Clone)]
#[non_exhaustive]
pub enum EntryError {
    /// The body is not JSON of the expected shape.
    #[error("malformed request: {0}")]
    Malformed(String),
    /// The body (or a part of it, `context`) is not JSON of the expected
    /// shape.
    #[error("malformed request{}", colon(.context))]
    Json {
        context: String,
        #[source]
        source: Arc<serde_json::Error>,
    },
    /// A public key (or PEM block) could not be parsed.
    #[error("invalid verifier{}", colon(.context))]
    Key {
        context: String,
        #[source]
        source: CryptoError,
    },
    /// A certificate could not be parsed, or its key could not.
    #[error("invalid verifier: certificate")]
    Certificate(#[source] X509Error),
    /// A kind or API version this log does not accept.
    #[error("unsupported entry kind {kind:?} version {version:?}")]
    UnsupportedKind { kind: String, version: String },
    /// The key or certificate could not be parsed or is not allowed.
    #[error("invalid verifier: {0}")]
    Verifier(String),
    /// The key details name a scheme that does not fit the key.
    #[error("key details {details:?} do not fit a {key:?} key")]
    KeyDetailsMismatch { details: String, key: KeyAlgorithm },
    /// The digest does not have the length its algorithm gives.
    #[error("digest has {found} bytes, {algorithm:?} gives {expected}")]
    DigestLength {
        algorithm: HashAlgorithm,
        expected: usize,
        found: usize,
    },
    /// A Rekor v2 `dsseRequestV002`: the dsse 0.0.2 kind was removed from
    /// Rekor v2 (2026-05, "DSSE as hashedrekord"); see [`v2`].
    #[error("invalid type, must be hashedrekord: dsseRequestV002 (dsse 0.0.2) is not accepted; log a DSSE envelope as hashedRekordRequestV002 with digest SHA-256(PAE(payloadType, payload)) and the envelope's signature")]
    DsseV2Removed,
    /// The signature does not verify.
    #[error("signature does not verify: {0}")]
    BadSignature(String),
    /// One of a DSSE envelope's signatures does not verify.
    #[error("signature does not verify: {context}")]
    EnvelopeSignature {
        context: String,
        #[source]
        source: Box<EntryError>,
    },
    /// The signature (or the one `context` names) does not verify.
    #[error("signature does not verify{}", colon(.context))]
    Signature {
        context: String,
        #[source]
        source: CryptoError,
    },
}

/// `": context"`, or nothing for an empty context.
fn colon(context: &str) -> String {
    if context.is_empty() {
        String::new()
    } else {
        format!(": {context}")
    }
}

impl EntryError {
    /// A JSON (de)serialization failure, with what was being read.
    pub(crate) fn json(context: impl Into<String>) -> impl FnOnce(serde_json::Error) -> Self {
        let context = context.into();
        move |source| Self::Json {
            context,
            source: Arc::new(source),
        }
    }

    /// A key that could not be parsed, with what it was.
    pub(crate) fn key(context: impl Into<String>) -> impl FnOnce(CryptoError) -> Self {
        let context = context.into();
        move |source| Self::Key { context, source }
    }

    /// A signature that does not verify, with which one it was.
    pub(crate) fn signature(context: impl Into<String>) -> impl FnOnce(CryptoError) -> Self {
        let context = context.into();
        move |source| Self::Signature { context, source }
    }
}

/// protobuf-specs `PublicKeyDetails` names we accept, with the signature
/// scheme and the key type each one implies.
pub fn key_details(name: &str) -> Option<(SignatureAlgorithm, &'static [KeyAlgorithm])> {
    use KeyAlgorithm as K;
    use SignatureAlgorithm as S;
    Some(match name {
        "PKIX_ECDSA_P256_SHA_256" => (S::EcdsaSha256, &[K::EcdsaP256]),
        "PKIX_ECDSA_P384_SHA_384" => (S::EcdsaSha384, &[K::EcdsaP384]),
        "PKIX_ECDSA_P521_SHA_512" => (S::EcdsaSha512, &[K::EcdsaP521]),
        "PKIX_ED25519" => (S::Ed25519, &[K::Ed25519]),
        "PKIX_RSA_PKCS1V15_2048_SHA256"
        | "PKIX_RSA_PKCS1V15_3072_SHA256"
        | "PKIX_RSA_PKCS1V15_4096_SHA256" => (S::RsaPkcs1Sha256, &[K::Rsa]),
        "PKIX_RSA_PSS_2048_SHA256" | "PKIX_RSA_PSS_3072_SHA256" | "PKIX_RSA_PSS_4096_SHA256" => {
            (S::RsaPssSha256, &[K::Rsa])
        }
        _ => return None,
    })
}

/// The key inside a DER certificate.
pub(crate) fn certificate_key(der: &[u8]) -> Result<PublicKey, EntryError> {
    keyless_x509::Certificate::from_der(der)
        .and_then(|c| c.public_key())
        .map_err(EntryError::Certificate)
}

/// Verify a signature over a message known only by its digest.
pub(crate) fn verify_digest(
    key: &PublicKey,
    alg: SignatureAlgorithm,
    digest: &[u8],
    signature: &[u8],
) -> Result<HashAlgorithm, EntryError> {
    let hash = alg.hash().ok_or_else(|| {
        EntryError::Verifier(format!(
            "{alg:?} signs whole messages and cannot be verified from a digest"
        ))
    })?;
    if digest.len() != hash.output_len() {
        return Err(EntryError::DigestLength {
            algorithm: hash,
            expected: hash.output_len(),
            found: digest.len(),
        });
    }
    key.verify_prehashed(alg, digest, signature)
        .map_err(EntryError::signature(""))?;
    Ok(hash)
}

/// Serialize a JSON value with object keys sorted, whatever serde_json's
/// map order is configured to be.
pub(crate) fn canonical_json(v: &serde_json::Value) -> Vec<u8> {
    fn sort(v: &serde_json::Value) -> serde_json::Value {
        match v {
            serde_json::Value::Object(m) => {
                let mut keys: Vec<&String> = m.keys().collect();
                keys.sort();
                let mut out = serde_json::Map::new();
                for k in keys {
                    out.insert(k.clone(), sort(&m[k]));
                }
                serde_json::Value::Object(out)
            }
            serde_json::Value::Array(a) => serde_json::Value::Array(a.iter().map(sort).collect()),
            other => other.clone(),
        }
    }
    serde_json::to_vec(&sort(v)).unwrap_or_default()
}
