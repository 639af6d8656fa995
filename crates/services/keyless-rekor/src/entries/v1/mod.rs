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

mod common;
mod dsse;
mod hashedrekord;
mod intoto;
pub(crate) mod verifier;

use serde::Deserialize;

use super::v2::Entry;
use super::EntryError;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Proposed {
    api_version: String,
    kind: String,
    spec: serde_json::Value,
}

/// Parse and verify a Rekor v1 proposed entry.
pub fn parse_request(body: &[u8]) -> Result<Entry, EntryError> {
    let p: Proposed = serde_json::from_slice(body).map_err(EntryError::json(""))?;
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

#[cfg(test)]
mod tests {
    use super::common::search_digest;
    use super::*;
    use keyless_types::intoto::PAYLOAD_TYPE;

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
