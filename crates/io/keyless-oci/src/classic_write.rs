//! Writing cosign's classic `.sig` / `.att` evidence annotations.
//!
//! cosign v2 (and `cosign verify` offline) reads a signature's log entry and
//! timestamp from two layer annotations rather than from a Sigstore bundle:
//!
//! - `dev.sigstore.cosign/bundle`: the Rekor v1 signed entry timestamp and
//!   the entry it signs, Go `bundle.RekorBundle`:
//!   `{"SignedEntryTimestamp": b64, "Payload": {"body": b64, "integratedTime",
//!   "logIndex", "logID": hex}}`;
//! - `dev.sigstore.cosign/rfc3161timestamp`: Go `bundle.RFC3161Timestamp`,
//!   `{"SignedRFC3161Timestamp": b64 DER}` (the field name Go's encoder
//!   writes; cosign reads it case-insensitively).
//!
//! Only a Rekor v1 entry has a signed entry timestamp: a Rekor v2 entry
//! stands on its checkpoint and inclusion proof, which the classic layout
//! has no place for, so it gets no `bundle` annotation (cosign then needs the
//! referrer bundle, or `--insecure-ignore-tlog`).

use base64::Engine;
use serde::Serialize;

use crate::cosign::SignatureLayer;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// A Rekor v1 entry as the log returned it, with its signed entry timestamp.
#[derive(Debug, Clone, Copy)]
pub struct RekorV1Entry<'a> {
    /// The canonicalized entry body (JSON bytes, not base64).
    pub body: &'a [u8],
    pub integrated_time: i64,
    pub log_index: i64,
    /// The log ID: SHA-256 of the log's public key (DER), raw bytes.
    pub log_id: &'a [u8],
    /// The log's signature over the canonical JSON of the payload (raw).
    pub signed_entry_timestamp: &'a [u8],
}

#[derive(Serialize)]
struct RekorBundleOut<'a> {
    #[serde(rename = "SignedEntryTimestamp")]
    signed_entry_timestamp: String,
    #[serde(rename = "Payload")]
    payload: PayloadOut<'a>,
}

#[derive(Serialize)]
struct PayloadOut<'a> {
    body: String,
    #[serde(rename = "integratedTime")]
    integrated_time: i64,
    #[serde(rename = "logIndex")]
    log_index: i64,
    #[serde(rename = "logID")]
    log_id: &'a str,
}

#[derive(Serialize)]
struct TimestampOut {
    #[serde(rename = "SignedRFC3161Timestamp")]
    signed_rfc3161_timestamp: String,
}

/// The `dev.sigstore.cosign/bundle` annotation value for `entry`.
pub fn rekor_bundle_json(entry: &RekorV1Entry<'_>) -> String {
    let log_id = hex_lower(entry.log_id);
    let out = RekorBundleOut {
        signed_entry_timestamp: B64.encode(entry.signed_entry_timestamp),
        payload: PayloadOut {
            body: B64.encode(entry.body),
            integrated_time: entry.integrated_time,
            log_index: entry.log_index,
            log_id: &log_id,
        },
    };
    // Strings and integers only: serializing cannot fail.
    serde_json::to_string(&out).unwrap_or_default()
}

/// The `dev.sigstore.cosign/rfc3161timestamp` annotation value for a DER
/// RFC 3161 timestamp token.
pub fn rfc3161_timestamp_json(der: &[u8]) -> String {
    serde_json::to_string(&TimestampOut {
        signed_rfc3161_timestamp: B64.encode(der),
    })
    .unwrap_or_default()
}

impl SignatureLayer {
    /// Add the classic evidence annotations: the Rekor v1 SET when there is
    /// one, and the first RFC 3161 timestamp when there is one.
    pub fn with_evidence(
        mut self,
        entry: Option<&RekorV1Entry<'_>>,
        timestamp: Option<&[u8]>,
    ) -> Self {
        if let Some(entry) = entry {
            self = self.with_rekor_bundle(&rekor_bundle_json(entry));
        }
        if let Some(der) = timestamp {
            self = self.with_rfc3161_timestamp(&rfc3161_timestamp_json(der));
        }
        self
    }
}

fn hex_lower(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cosign::{BUNDLE_ANNOTATION, RFC3161_TIMESTAMP_ANNOTATION};

    fn entry() -> RekorV1Entry<'static> {
        RekorV1Entry {
            body: b"{\"kind\":\"hashedrekord\"}",
            integrated_time: 1_700_000_000,
            log_index: 42,
            log_id: &[0xab, 0x01],
            signed_entry_timestamp: b"set",
        }
    }

    #[test]
    fn the_rekor_bundle_has_cosigns_field_names_and_encodings() {
        let v: serde_json::Value =
            serde_json::from_str(&rekor_bundle_json(&entry())).expect("JSON");
        assert_eq!(v["SignedEntryTimestamp"], "c2V0");
        assert_eq!(
            v["Payload"]["body"],
            B64.encode(b"{\"kind\":\"hashedrekord\"}")
        );
        assert_eq!(v["Payload"]["integratedTime"], 1_700_000_000);
        assert_eq!(v["Payload"]["logIndex"], 42);
        assert_eq!(v["Payload"]["logID"], "ab01");
        assert_eq!(v.as_object().map(|o| o.len()), Some(2));
        assert_eq!(v["Payload"].as_object().map(|o| o.len()), Some(4));
    }

    #[test]
    fn the_timestamp_annotation_carries_the_der_in_base64() {
        let v: serde_json::Value =
            serde_json::from_str(&rfc3161_timestamp_json(b"\x30\x03der")).expect("JSON");
        assert_eq!(v["SignedRFC3161Timestamp"], B64.encode(b"\x30\x03der"));
    }

    #[test]
    fn what_is_written_reads_back_with_the_classic_reader() {
        let back: crate::cosign_classic::RekorBundle =
            serde_json::from_str(&rekor_bundle_json(&entry())).expect("RekorBundle");
        assert_eq!(back.payload.log_index, 42);
        assert_eq!(back.payload.log_id, "ab01");
        assert_eq!(back.signed_entry_timestamp, "c2V0");
        let ts: crate::cosign_classic::Rfc3161Timestamp =
            serde_json::from_str(&rfc3161_timestamp_json(b"tsr")).expect("Rfc3161Timestamp");
        assert_eq!(ts.signed_rfc3161_timestamp, B64.encode(b"tsr"));
    }

    #[test]
    fn evidence_annotations_are_added_only_when_present() {
        let bare = SignatureLayer::signature(b"{}".to_vec(), "c2ln").with_evidence(None, None);
        let d = bare.descriptor();
        assert!(!d.annotations.contains_key(BUNDLE_ANNOTATION));
        assert!(!d.annotations.contains_key(RFC3161_TIMESTAMP_ANNOTATION));
        let full = SignatureLayer::signature(b"{}".to_vec(), "c2ln")
            .with_evidence(Some(&entry()), Some(b"tsr"));
        let d = full.descriptor();
        assert_eq!(
            d.annotations.get(BUNDLE_ANNOTATION),
            Some(&rekor_bundle_json(&entry()))
        );
        assert_eq!(
            d.annotations.get(RFC3161_TIMESTAMP_ANNOTATION),
            Some(&rfc3161_timestamp_json(b"tsr"))
        );
    }
}
