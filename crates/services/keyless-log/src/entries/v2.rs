//! Rekor v2 (rekor-tiles) requests: `hashedRekordRequestV002` and
//! `dsseRequestV002`, producing hashedrekord / dsse 0.0.2 bodies.

use keyless_crypto::{sha256, HashAlgorithm, PublicKey};
use keyless_types::{b64, pae, Envelope};
use serde::{Deserialize, Serialize};

use self::body::{Body, HashOut, SignatureOut};
use super::{certificate_key, key_details, verify_digest, EntryError};

mod body;

/// The `CreateEntryRequest` oneof, as protobuf JSON.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct CreateEntryRequest {
    #[serde(default)]
    hashed_rekord_request_v002: Option<HashedRekordRequest>,
    #[serde(default)]
    dsse_request_v002: Option<DsseRequest>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct HashedRekordRequest {
    #[serde(with = "b64::bytes")]
    digest: Vec<u8>,
    signature: Signature,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Signature {
    #[serde(with = "b64::bytes")]
    content: Vec<u8>,
    verifier: Verifier,
}

/// Read from the request and written back, as is, into the body; fields
/// in sorted order (see [`body`]).
#[derive(Debug, Deserialize, Serialize, Clone)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Verifier {
    #[serde(default)]
    key_details: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    public_key: Option<RawBytes>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    x509_certificate: Option<RawBytes>,
}

#[derive(Debug, Deserialize, Serialize, Clone)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RawBytes {
    #[serde(with = "b64::bytes")]
    raw_bytes: Vec<u8>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DsseRequest {
    envelope: Envelope,
    verifiers: Vec<Verifier>,
}

/// A verified request, ready to log.
#[derive(Debug, Clone)]
pub struct Entry {
    pub kind: &'static str,
    pub body: Vec<u8>,
    /// SHA-256 of the artifact or DSSE payload, when known.
    pub artifact_sha256: Option<[u8; 32]>,
}

impl Verifier {
    fn key(&self) -> Result<(PublicKey, keyless_crypto::SignatureAlgorithm), EntryError> {
        let key = match (&self.public_key, &self.x509_certificate) {
            (Some(k), None) => PublicKey::from_spki_der(&k.raw_bytes)
                .map_err(|e| EntryError::Verifier(e.to_string()))?,
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

/// Parse and verify a `POST /api/v2/log/entries` body.
pub fn parse_request(body: &[u8]) -> Result<Entry, EntryError> {
    let req: CreateEntryRequest =
        serde_json::from_slice(body).map_err(|e| EntryError::Malformed(e.to_string()))?;
    match (req.hashed_rekord_request_v002, req.dsse_request_v002) {
        (Some(hr), None) => hashed_rekord(hr),
        (None, Some(d)) => dsse(d),
        _ => Err(EntryError::Malformed(
            "exactly one of hashedRekordRequestV002 and dsseRequestV002 is required".into(),
        )),
    }
}

fn hashed_rekord(req: HashedRekordRequest) -> Result<Entry, EntryError> {
    if req.signature.content.is_empty() {
        return Err(EntryError::Malformed("empty signature".into()));
    }
    let (key, alg) = req.signature.verifier.key()?;
    let hash = verify_digest(&key, alg, &req.digest, &req.signature.content)?;
    let body = Body::hashed_rekord(
        HashOut {
            algorithm: hash.proto_name(),
            digest: &req.digest,
        },
        SignatureOut {
            content: &req.signature.content,
            verifier: &req.signature.verifier,
        },
    );
    let artifact_sha256 = (hash == HashAlgorithm::Sha256).then(|| {
        let mut d = [0u8; 32];
        d.copy_from_slice(&req.digest);
        d
    });
    Ok(Entry {
        kind: "hashedrekord",
        body: body.to_json()?,
        artifact_sha256,
    })
}

fn dsse(req: DsseRequest) -> Result<Entry, EntryError> {
    let env = &req.envelope;
    if env.signatures.is_empty() || req.verifiers.is_empty() {
        return Err(EntryError::Malformed(
            "the envelope needs signatures and the request verifiers".into(),
        ));
    }
    if env.signatures.len() > 16 || req.verifiers.len() > 16 {
        return Err(EntryError::Malformed(
            "at most 16 signatures and verifiers".into(),
        ));
    }
    let keys = req
        .verifiers
        .iter()
        .map(Verifier::key)
        .collect::<Result<Vec<_>, _>>()?;
    let message = pae(&env.payload_type, &env.payload);
    // Every signature must verify with one of the verifiers; record the
    // verifier that did.
    let mut signatures = Vec::new();
    for (n, sig) in env.signatures.iter().enumerate() {
        let found = keys
            .iter()
            .zip(&req.verifiers)
            .find(|((key, alg), _)| key.verify(*alg, &message, &sig.sig).is_ok())
            .ok_or_else(|| {
                EntryError::BadSignature(format!(
                    "envelope signature {n} verifies with none of the verifiers"
                ))
            })?;
        signatures.push(SignatureOut {
            content: &sig.sig,
            verifier: found.1,
        });
    }
    let payload_hash = sha256(&env.payload);
    let body = Body::dsse(
        HashOut {
            algorithm: "SHA2_256",
            digest: &payload_hash,
        },
        signatures,
    );
    Ok(Entry {
        kind: "dsse",
        body: body.to_json()?,
        artifact_sha256: Some(payload_hash),
    })
}
