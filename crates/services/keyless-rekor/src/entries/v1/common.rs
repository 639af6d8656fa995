//! Checks and helpers shared by the Rekor v1 kinds (DSSE and in-toto
//! envelopes, kind specs), apart from the dispatch in `v1/mod.rs` so that
//! the kinds do not import the module that imports them.

use keyless_crypto::sha256;
use keyless_types::intoto::{Statement, MAX_SUBJECTS, PAYLOAD_TYPE};

use crate::entries::EntryError;

/// Most signatures (and verifiers) one DSSE entry may carry; each costs a
/// signature verification before anything is logged.
pub(super) const MAX_SIGNATURES: usize = 16;

/// Deserialize a kind's `spec`, naming the kind in the error.
pub(super) fn spec<T: serde::de::DeserializeOwned>(
    kind: &str,
    spec: serde_json::Value,
) -> Result<T, EntryError> {
    serde_json::from_value(spec).map_err(EntryError::json(format!("{kind} spec")))
}

/// The digest Rekor v1 search should find a DSSE entry by, kept in the
/// entry's metadata: the SHA-256 of the first attested subject when the
/// payload is an in-toto statement (what `rekor-cli search --artifact`
/// looks for), else the payload's SHA-256. Rekor indexes every subject;
/// the metadata holds one digest, and the payload itself is not in the
/// body, so further subjects cannot be found after the fact.
pub(super) fn search_digest(
    payload_type: &str,
    payload: &[u8],
    payload_hash: [u8; 32],
) -> [u8; 32] {
    if payload_type != PAYLOAD_TYPE {
        return payload_hash;
    }
    serde_json::from_slice::<Statement>(payload)
        .ok()
        .and_then(|st| {
            st.subject.iter().take(MAX_SUBJECTS).find_map(|s| {
                let d = s.digest.get("sha256")?;
                hex::decode(d).ok()?.try_into().ok()
            })
        })
        .unwrap_or(payload_hash)
}

/// Checks shared by both DSSE kinds before any signature is verified.
pub(super) fn check_envelope_shape(
    payload_type: &str,
    payload: &[u8],
    signatures: usize,
) -> Result<(), EntryError> {
    if payload_type.is_empty() {
        return Err(EntryError::Malformed(
            "the envelope has no payloadType".into(),
        ));
    }
    if payload.is_empty() {
        return Err(EntryError::Malformed(
            "the envelope has an empty payload".into(),
        ));
    }
    if signatures == 0 {
        return Err(EntryError::Malformed(
            "the envelope has no signatures".into(),
        ));
    }
    if signatures > MAX_SIGNATURES {
        return Err(EntryError::Malformed(format!(
            "the envelope has {signatures} signatures, at most {MAX_SIGNATURES} are accepted"
        )));
    }
    Ok(())
}

/// SHA-256 of `data`, and as Rekor v1 writes hashes:
/// `{"algorithm": "sha256", "value": hex}`.
pub(super) fn hash_of(data: &[u8]) -> ([u8; 32], keyless_types::rekor::HexHash) {
    let d = sha256(data);
    let h = keyless_types::rekor::HexHash {
        algorithm: "sha256".into(),
        value: hex::encode(d),
    };
    (d, h)
}
