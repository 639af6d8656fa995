//! hashedrekord 0.0.1: a signature over an artifact known by its digest.
//! The proposed spec is already the canonical form: the body stores it
//! with the hash value lower-cased.

use keyless_crypto::{HashAlgorithm, KeyAlgorithm, SignatureAlgorithm};
use keyless_types::b64;
use serde::Deserialize;
use serde_json::json;

use super::verifier::RekorKey;
use crate::entries::v2::Entry;
use crate::entries::{canonical_json, verify_digest, EntryError};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct HashedRekordSpec {
    data: Data,
    signature: Sig,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Data {
    hash: Hash,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Hash {
    algorithm: String,
    value: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Sig {
    #[serde(with = "b64::bytes")]
    content: Vec<u8>,
    public_key: PemBytes,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PemBytes {
    #[serde(with = "b64::bytes")]
    content: Vec<u8>,
}

/// Parse and verify the `spec` of a hashedrekord 0.0.1 proposed entry.
pub(super) fn parse(spec: serde_json::Value) -> Result<Entry, EntryError> {
    let spec: HashedRekordSpec = serde_json::from_value(spec).map_err(EntryError::json(""))?;
    let hash = match spec.data.hash.algorithm.as_str() {
        "sha256" => HashAlgorithm::Sha256,
        "sha384" => HashAlgorithm::Sha384,
        "sha512" => HashAlgorithm::Sha512,
        other => {
            return Err(EntryError::Malformed(format!(
                "unsupported hash algorithm {other:?}"
            )))
        }
    };
    let value = spec.data.hash.value.to_ascii_lowercase();
    let digest =
        hex::decode(&value).map_err(|_| EntryError::Malformed("hash value is not hex".into()))?;
    if spec.signature.content.is_empty() {
        return Err(EntryError::Malformed("empty signature".into()));
    }
    let key = RekorKey::from_pem(&spec.signature.public_key.content)?.key;
    // Rekor v1 pairs the key with the digest's hash (ECDSA) or PKCS#1 v1.5 (RSA).
    let alg = match (key.algorithm(), hash) {
        (KeyAlgorithm::Rsa, HashAlgorithm::Sha256) => SignatureAlgorithm::RsaPkcs1Sha256,
        (KeyAlgorithm::Rsa, HashAlgorithm::Sha384) => SignatureAlgorithm::RsaPkcs1Sha384,
        (KeyAlgorithm::Rsa, HashAlgorithm::Sha512) => SignatureAlgorithm::RsaPkcs1Sha512,
        (KeyAlgorithm::Ed25519, _) => {
            return Err(EntryError::Verifier(
                "Ed25519 signatures cannot be verified from a digest".into(),
            ))
        }
        (KeyAlgorithm::EcdsaP256 | KeyAlgorithm::EcdsaP384 | KeyAlgorithm::EcdsaP521, h) => match h
        {
            HashAlgorithm::Sha384 => SignatureAlgorithm::EcdsaSha384,
            HashAlgorithm::Sha512 => SignatureAlgorithm::EcdsaSha512,
            _ => SignatureAlgorithm::EcdsaSha256,
        },
        (other, _) => {
            return Err(EntryError::Verifier(format!(
                "unsupported key type {other:?}"
            )))
        }
    };
    verify_digest(&key, alg, &digest, &spec.signature.content)?;
    let body = json!({
        "apiVersion": "0.0.1",
        "kind": "hashedrekord",
        "spec": {
            "data": { "hash": { "algorithm": spec.data.hash.algorithm, "value": value } },
            "signature": {
                "content": b64::encode(&spec.signature.content),
                "publicKey": { "content": b64::encode(&spec.signature.public_key.content) },
            },
        },
    });
    let artifact_sha256 = (hash == HashAlgorithm::Sha256).then(|| {
        let mut d = [0u8; 32];
        d.copy_from_slice(&digest);
        d
    });
    Ok(Entry {
        kind: "hashedrekord",
        body: canonical_json(&body),
        artifact_sha256,
    })
}
