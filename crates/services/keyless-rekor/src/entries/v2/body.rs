//! The hashedrekord 0.0.2 bodies the log stores, as types.
//!
//! A body must be canonical JSON (object keys sorted, no insignificant
//! whitespace): equal requests must give byte-equal bodies, hence equal
//! leaf hashes, or duplicates would not be found. serde writes struct
//! fields in declaration order and compact by default, so declaring every
//! field in sorted order makes the serialization canonical directly,
//! without building and sorting a `serde_json::Value` tree for every
//! request (a few percent of the log's CPU per append). The tests check
//! the result against the generic canonicalizer.

use keyless_crypto::PublicKey;
use keyless_types::b64;
use serde::{Deserialize, Serialize};

use crate::entries::{certificate_key, key_details, EntryError};

/// `{"apiVersion", "kind", "spec"}`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Body<S> {
    pub api_version: &'static str,
    pub kind: &'static str,
    pub spec: S,
}

impl<'a> Body<HashedRekordSpec<'a>> {
    /// A hashedrekord 0.0.2 body.
    pub fn hashed_rekord(data: HashOut<'a>, signature: SignatureOut<'a>) -> Self {
        Self {
            api_version: "0.0.2",
            kind: "hashedrekord",
            spec: HashedRekordSpec {
                hashed_rekord_v002: HashedRekordV002 { data, signature },
            },
        }
    }
}

impl<S: Serialize> Body<S> {
    pub fn to_json(&self) -> Result<Vec<u8>, EntryError> {
        serde_json::to_vec(self).map_err(EntryError::json(""))
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct HashedRekordSpec<'a> {
    pub hashed_rekord_v002: HashedRekordV002<'a>,
}

#[derive(Serialize)]
pub(super) struct HashedRekordV002<'a> {
    pub data: HashOut<'a>,
    pub signature: SignatureOut<'a>,
}

/// A protobuf `HashOutput`: `{"algorithm", "digest"}`.
#[derive(Serialize)]
pub(super) struct HashOut<'a> {
    pub algorithm: &'a str,
    #[serde(with = "keyless_types::b64::bytes")]
    pub digest: &'a [u8],
}

/// `{"content", "verifier"}`; the verifier's own fields are in sorted
/// order too (`keyDetails`, `publicKey`, `x509Certificate`).
#[derive(Serialize)]
pub(super) struct SignatureOut<'a> {
    #[serde(with = "keyless_types::b64::bytes")]
    pub content: &'a [u8],
    pub verifier: &'a Verifier,
}

/// Read from the request and written back, as is, into the body; fields
/// in sorted order (see the module docs).
#[derive(Debug, Deserialize, Serialize, Clone)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(super) struct Verifier {
    #[serde(default)]
    key_details: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    public_key: Option<RawBytes>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    x509_certificate: Option<RawBytes>,
}

#[derive(Debug, Deserialize, Serialize, Clone)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(super) struct RawBytes {
    #[serde(with = "b64::bytes")]
    raw_bytes: Vec<u8>,
}

impl Verifier {
    pub(super) fn key(
        &self,
    ) -> Result<(PublicKey, keyless_crypto::SignatureAlgorithm), EntryError> {
        let key = match (&self.public_key, &self.x509_certificate) {
            (Some(k), None) => {
                PublicKey::from_spki_der(&k.raw_bytes).map_err(EntryError::key(""))?
            }
            (None, Some(c)) => certificate_key(&c.raw_bytes)?,
            _ => {
                return Err(EntryError::Verifier(
                    "exactly one of publicKey and x509Certificate is required".into(),
                ))
            }
        };
        let (alg, keys) = key_details(&self.key_details).ok_or_else(|| {
            EntryError::Verifier(format!("unsupported keyDetails {:?}", self.key_details))
        })?;
        if !keys.contains(&key.algorithm()) {
            return Err(EntryError::KeyDetailsMismatch {
                details: self.key_details.clone(),
                key: key.algorithm(),
            });
        }
        Ok((key, alg))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entries::canonical_json;

    fn verifier(cert: bool) -> Verifier {
        let raw = Some(RawBytes {
            raw_bytes: vec![0x30, 0x59, 0xff, 0x00],
        });
        Verifier {
            key_details: "PKIX_ECDSA_P256_SHA_256".into(),
            public_key: if cert { None } else { raw.clone() },
            x509_certificate: if cert { raw } else { None },
        }
    }

    /// Re-parse and canonicalize: what the body must be byte for byte.
    fn canonical(bytes: &[u8]) -> Vec<u8> {
        canonical_json(&serde_json::from_slice(bytes).unwrap())
    }

    #[test]
    fn hashedrekord_bodies_are_canonical() {
        for cert in [false, true] {
            let v = verifier(cert);
            let body = Body::hashed_rekord(
                HashOut {
                    algorithm: "SHA2_256",
                    digest: &[1, 2, 3],
                },
                SignatureOut {
                    content: &[4, 5, 250],
                    verifier: &v,
                },
            )
            .to_json()
            .unwrap();
            assert_eq!(body, canonical(&body), "{}", String::from_utf8_lossy(&body));
            let text = String::from_utf8(body).unwrap();
            assert!(text.starts_with(r#"{"apiVersion":"0.0.2","kind":"hashedrekord","spec":{"hashedRekordV002":{"data":{"algorithm":"SHA2_256","digest":"AQID"}"#), "{text}");
            assert_eq!(text.contains("x509Certificate"), cert);
            assert_eq!(text.contains("publicKey"), !cert);
        }
    }
}
