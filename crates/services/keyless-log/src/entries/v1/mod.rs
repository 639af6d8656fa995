//! Rekor v1 requests (`POST /api/v1/log/entries`): a "proposed entry"
//! `{apiVersion, kind, spec}` of one of the kinds below, verified and
//! turned into the canonical body Rekor would store for it.
//!
//! | kind | what the body keeps |
//! |---|---|
//! | hashedrekord 0.0.1 | artifact digest, signature, key or certificate |
//! | dsse 0.0.1 | payload and envelope hashes, signatures with their verifiers |
//! | intoto 0.0.2 | payload hash, the client's envelope hash, payload type, signatures with keys |
//!
//! No envelope payload is stored: as in Rekor, the log records hashes and
//! signatures, and the client keeps the envelope.

mod dsse;
mod hashedrekord;
mod intoto;
pub(crate) mod verifier;

use keyless_crypto::sha256;
use keyless_types::intoto::{Statement, MAX_SUBJECTS, PAYLOAD_TYPE};
use serde::Deserialize;

use super::v2::Entry;
use super::EntryError;

/// Most signatures (and verifiers) one DSSE entry may carry; each costs a
/// signature verification before anything is logged.
const MAX_SIGNATURES: usize = 16;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Proposed {
    api_version: String,
    kind: String,
    spec: serde_json::Value,
}

/// Parse and verify a Rekor v1 proposed entry.
pub fn parse_request(body: &[u8]) -> Result<Entry, EntryError> {
    let p: Proposed =
        serde_json::from_slice(body).map_err(|e| EntryError::Malformed(e.to_string()))?;
    match (p.kind.as_str(), p.api_version.as_str()) {
        ("hashedrekord", "0.0.1") => hashedrekord::parse(p.spec),
        ("dsse", "0.0.1") => dsse::parse(p.spec),
        ("intoto", "0.0.2") => intoto::parse(p.spec),
        (kind, version) => Err(EntryError::UnsupportedKind {
            kind: kind.into(),
            version: version.into(),
        }),
    }
}

/// Deserialize a kind's `spec`, naming the kind in the error.
fn spec<T: serde::de::DeserializeOwned>(
    kind: &str,
    spec: serde_json::Value,
) -> Result<T, EntryError> {
    serde_json::from_value(spec).map_err(|e| EntryError::Malformed(format!("{kind} spec: {e}")))
}

/// The digest Rekor v1 search should find a DSSE entry by, kept in the
/// entry's metadata: the SHA-256 of the first attested subject when the
/// payload is an in-toto statement (what `rekor-cli search --artifact`
/// looks for), else the payload's SHA-256. Rekor indexes every subject;
/// the metadata holds one digest, and the payload itself is not in the
/// body, so further subjects cannot be found after the fact.
fn search_digest(payload_type: &str, payload: &[u8], payload_hash: [u8; 32]) -> [u8; 32] {
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
fn check_envelope_shape(
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
fn hash_of(data: &[u8]) -> ([u8; 32], keyless_types::rekor::HexHash) {
    let d = sha256(data);
    let h = keyless_types::rekor::HexHash {
        algorithm: "sha256".into(),
        value: hex::encode(d),
    };
    (d, h)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_kinds_and_versions_are_rejected() {
        for (kind, version) in [
            ("dsse", "0.0.2"),
            ("intoto", "0.0.1"),
            ("rekord", "0.0.1"),
            ("hashedrekord", "0.0.2"),
        ] {
            let body = serde_json::json!({"apiVersion": version, "kind": kind, "spec": {}});
            assert!(matches!(
                parse_request(body.to_string().as_bytes()),
                Err(EntryError::UnsupportedKind { .. })
            ));
        }
    }

    #[test]
    fn search_digest_prefers_the_first_sha256_subject() {
        let st = br#"{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"a","digest":{"sha512":"00"}},{"name":"b","digest":{"sha256":"0101010101010101010101010101010101010101010101010101010101010101"}}],"predicateType":"p"}"#;
        assert_eq!(search_digest(PAYLOAD_TYPE, st, [9; 32]), [1; 32]);
        assert_eq!(search_digest("text/plain", st, [9; 32]), [9; 32]);
        assert_eq!(search_digest(PAYLOAD_TYPE, b"not json", [9; 32]), [9; 32]);
    }
}
