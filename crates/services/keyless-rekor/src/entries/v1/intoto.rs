//! intoto 0.0.2 (Rekor `pkg/types/intoto/v0.0.2`): the client proposes
//! `{"content": {"envelope": {payload, payloadType, signatures: [{keyid,
//! sig, publicKey}]}, "hash": {…}}}` where, because the schema types
//! `payload` and `sig` as bytes of the envelope's own base64 strings, both
//! are base64-encoded **twice**; `publicKey` is a base64 PEM.
//!
//! The log verifies each signature over `PAE(payloadType, payload)` with
//! the key given beside it (Rekor accepts a signature verified by any of
//! the keys; naming the wrong key for a signature is rejected here) and
//! stores `{content: {envelope: {payloadType, signatures}, hash,
//! payloadHash}}` without the payload, keys as canonical PEM, as current
//! Rekor does. `hash` is the SHA-256 of the envelope JSON the client
//! signed; the log cannot recompute it from the fields it receives, so,
//! like Rekor, it records the client's value (which must be well formed).
//! `payloadHash` is computed; a client that sends one must send the right
//! one.

use keyless_types::rekor::{HexHash, IntotoContent, IntotoEnvelope, IntotoSignature, IntotoV002};
use keyless_types::{b64, pae};
use serde::Deserialize;
use serde_json::json;

use super::common::{check_envelope_shape, hash_of, search_digest, spec};
use super::verifier::RekorKey;
use crate::entries::v2::Entry;
use crate::entries::{canonical_json, EntryError};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Spec {
    content: Content,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Content {
    envelope: IntotoEnvelope,
    hash: Option<HexHash>,
    payload_hash: Option<HexHash>,
}

/// Remove the second base64 layer of an intoto 0.0.2 field.
fn second_layer(field: &str, once: &[u8]) -> Result<Vec<u8>, EntryError> {
    std::str::from_utf8(once)
        .ok()
        .and_then(|s| b64::decode(s).ok())
        .ok_or_else(|| {
            EntryError::Malformed(format!(
                "intoto: {field} must be base64-encoded twice (the envelope's base64 text, encoded again)"
            ))
        })
}

/// A well-formed `{"algorithm": "sha256", "value": <64 hex>}`, lower-cased.
fn sha256_hash(field: &str, h: &HexHash) -> Result<HexHash, EntryError> {
    let value = h.value.to_ascii_lowercase();
    if h.algorithm != "sha256" || value.len() != 64 || !value.bytes().all(|b| b.is_ascii_hexdigit())
    {
        return Err(EntryError::Malformed(format!(
            "intoto: {field} must be {{\"algorithm\": \"sha256\", \"value\": <64 hex digits>}}"
        )));
    }
    Ok(HexHash {
        algorithm: "sha256".into(),
        value,
    })
}

/// Parse and verify the `spec` of an intoto 0.0.2 proposed entry.
pub(super) fn parse(value: serde_json::Value) -> Result<Entry, EntryError> {
    let s: Spec = spec("intoto", value)?;
    let env = &s.content.envelope;
    let payload = second_layer("envelope.payload", &env.payload)?;
    check_envelope_shape(&env.payload_type, &payload, env.signatures.len())?;
    let hash = s
        .content
        .hash
        .as_ref()
        .ok_or_else(|| {
            EntryError::Malformed(
                "intoto: content.hash (SHA-256 of the envelope JSON) is required".into(),
            )
        })
        .and_then(|h| sha256_hash("content.hash", h))?;
    let (payload_digest, payload_hash) = hash_of(&payload);
    if let Some(claimed) = &s.content.payload_hash {
        let claimed = sha256_hash("content.payloadHash", claimed)?;
        if claimed != payload_hash {
            return Err(EntryError::Malformed(format!(
                "intoto: content.payloadHash is {}, the payload hashes to {}",
                claimed.value, payload_hash.value
            )));
        }
    }

    let message = pae(&env.payload_type, &payload);
    let mut signatures = Vec::with_capacity(env.signatures.len());
    for (i, sig) in env.signatures.iter().enumerate() {
        let raw = second_layer(&format!("signature {i}'s sig"), &sig.sig)?;
        if raw.is_empty() {
            return Err(EntryError::Malformed(format!(
                "intoto: signature {i} is empty"
            )));
        }
        let key = RekorKey::from_pem(&sig.public_key)?;
        key.verify(&message, &raw)
            .map_err(|e| EntryError::EnvelopeSignature {
                context: format!("envelope signature {i} does not verify with its publicKey"),
                source: Box::new(e),
            })?;
        signatures.push(IntotoSignature {
            keyid: sig.keyid.clone(),
            public_key: key.canonical_pem.into_bytes(),
            sig: b64::encode(&raw).into_bytes(),
        });
    }

    let spec = IntotoV002 {
        content: IntotoContent {
            envelope: IntotoEnvelope {
                // Not stored, as in current Rekor (only its hash is).
                payload: Vec::new(),
                payload_type: env.payload_type.clone(),
                signatures,
            },
            hash: Some(hash),
            payload_hash,
        },
    };
    let spec =
        serde_json::to_value(&spec).map_err(EntryError::json("intoto: encoding the body"))?;
    let body = json!({ "apiVersion": "0.0.2", "kind": "intoto", "spec": spec });
    Ok(Entry {
        kind: "intoto",
        body: canonical_json(&body),
        artifact_sha256: Some(search_digest(&env.payload_type, &payload, payload_digest)),
    })
}
