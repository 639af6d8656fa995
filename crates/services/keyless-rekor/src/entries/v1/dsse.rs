//! dsse 0.0.1 (Rekor `pkg/types/dsse/v0.0.1`): the client proposes
//! `{"proposedContent": {"envelope": "<envelope JSON as a string>",
//! "verifiers": ["<base64 PEM>", …]}}`; the log verifies every signature
//! over `PAE(payloadType, payload)` and stores
//! `{envelopeHash, payloadHash, signatures: [{signature, verifier}]}`.
//!
//! As in Rekor: the envelope hash is over the envelope string exactly as
//! sent; every verifier must verify at least one signature and every
//! signature must be verified by some verifier; a signature is stored
//! once, with the (last) verifier that verified it and that verifier's
//! canonical PEM; signatures are sorted by their base64 text.

use std::collections::BTreeMap;

use keyless_types::rekor::{DsseV001, DsseV001Signature};
use keyless_types::{b64, pae, Envelope};
use serde::Deserialize;
use serde_json::json;

use super::common::{check_envelope_shape, hash_of, search_digest, spec, MAX_SIGNATURES};
use super::verifier::RekorKey;
use crate::entries::v2::Entry;
use crate::entries::{canonical_json, EntryError};

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Spec {
    proposed_content: Option<ProposedContent>,
    // Computed by the log; present only to reject them with a clear message.
    envelope_hash: Option<serde_json::Value>,
    payload_hash: Option<serde_json::Value>,
    signatures: Option<serde_json::Value>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProposedContent {
    envelope: String,
    #[serde(with = "b64::bytes_vec")]
    verifiers: Vec<Vec<u8>>,
}

/// Parse and verify the `spec` of a dsse 0.0.1 proposed entry.
pub(super) fn parse(value: serde_json::Value) -> Result<Entry, EntryError> {
    let s: Spec = spec("dsse", value)?;
    if s.envelope_hash.is_some() || s.payload_hash.is_some() || s.signatures.is_some() {
        return Err(EntryError::Malformed(
            "dsse: envelopeHash, payloadHash and signatures are computed by the log; send only proposedContent".into(),
        ));
    }
    let proposed = s
        .proposed_content
        .ok_or_else(|| EntryError::Malformed("dsse: proposedContent is required".into()))?;
    let env: Envelope = serde_json::from_str(&proposed.envelope).map_err(EntryError::json(
        "dsse: proposedContent.envelope is not a DSSE envelope",
    ))?;
    check_envelope_shape(&env.payload_type, &env.payload, env.signatures.len())?;
    if proposed.verifiers.is_empty() || proposed.verifiers.len() > MAX_SIGNATURES {
        return Err(EntryError::Malformed(format!(
            "dsse: {} verifiers given; between 1 and {MAX_SIGNATURES} are accepted",
            proposed.verifiers.len()
        )));
    }
    let keys = proposed
        .verifiers
        .iter()
        .map(|pem| RekorKey::from_pem(pem))
        .collect::<Result<Vec<_>, _>>()?;
    let message = pae(&env.payload_type, &env.payload);

    // Which verifier verified each signature; Rekor keeps the last one.
    let mut verified_by: Vec<Option<&RekorKey>> = vec![None; env.signatures.len()];
    for (k, key) in keys.iter().enumerate() {
        let mut any = false;
        for (i, sig) in env.signatures.iter().enumerate() {
            if !sig.sig.is_empty() && key.verify(&message, &sig.sig).is_ok() {
                verified_by[i] = Some(key);
                any = true;
            }
        }
        if !any {
            return Err(EntryError::BadSignature(format!(
                "verifier {k} verifies none of the envelope's signatures"
            )));
        }
    }
    // One stored signature per distinct value, sorted by its base64 text.
    let mut signatures = BTreeMap::new();
    for (i, (sig, key)) in env.signatures.iter().zip(verified_by).enumerate() {
        let key = key.ok_or_else(|| {
            EntryError::BadSignature(format!(
                "envelope signature {i} verifies with none of the verifiers"
            ))
        })?;
        signatures.insert(
            b64::encode(&sig.sig),
            DsseV001Signature {
                signature: sig.sig.clone(),
                verifier: key.canonical_pem.clone().into_bytes(),
            },
        );
    }

    let (payload_digest, payload_hash) = hash_of(&env.payload);
    let (_, envelope_hash) = hash_of(proposed.envelope.as_bytes());
    let spec = DsseV001 {
        envelope_hash: Some(envelope_hash),
        payload_hash,
        signatures: signatures.into_values().collect(),
    };
    let spec = serde_json::to_value(&spec).map_err(EntryError::json("dsse: encoding the body"))?;
    let body = json!({ "apiVersion": "0.0.1", "kind": "dsse", "spec": spec });
    Ok(Entry {
        kind: "dsse",
        body: canonical_json(&body),
        artifact_sha256: Some(search_digest(
            &env.payload_type,
            &env.payload,
            payload_digest,
        )),
    })
}
