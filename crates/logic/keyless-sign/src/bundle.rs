//! Assemble a v0.3 bundle from what the services returned.

use keyless_types::bundle::MEDIA_TYPE_V0_3;
use keyless_types::dsse::Envelope;
use keyless_types::wire;

use crate::SignError;

/// What was signed.
pub(crate) enum SignedContent<'a> {
    Message {
        digest: &'a [u8],
        signature: &'a [u8],
    },
    Dsse(&'a Envelope),
}

/// The bundle as JSON (pretty-printed, as cosign and sigstore-python write it).
pub fn bundle_json(bundle: &wire::Bundle) -> Result<String, SignError> {
    serde_json::to_string_pretty(bundle).map_err(SignError::Encode)
}

pub(crate) fn build(
    leaf_der: &[u8],
    content: SignedContent<'_>,
    entry: Option<wire::TransparencyLogEntry>,
    timestamps: Vec<Vec<u8>>,
) -> wire::Bundle {
    let (message_signature, dsse_envelope) = match content {
        SignedContent::Message { digest, signature } => (
            Some(wire::MessageSignature {
                message_digest: Some(wire::HashOutput {
                    algorithm: "SHA2_256".into(),
                    digest: digest.to_vec(),
                }),
                signature: signature.to_vec(),
            }),
            None,
        ),
        SignedContent::Dsse(env) => (None, Some(env.clone())),
    };
    wire::Bundle {
        media_type: MEDIA_TYPE_V0_3.into(),
        verification_material: Some(wire::VerificationMaterial {
            public_key: None,
            x509_certificate_chain: None,
            certificate: Some(wire::X509Certificate {
                raw_bytes: leaf_der.to_vec(),
            }),
            tlog_entries: entry.into_iter().collect(),
            timestamp_verification_data: (!timestamps.is_empty()).then(|| {
                wire::TimestampVerificationData {
                    rfc3161_timestamps: timestamps
                        .into_iter()
                        .map(|signed_timestamp| wire::Rfc3161SignedTimestamp { signed_timestamp })
                        .collect(),
                }
            }),
        }),
        message_signature,
        dsse_envelope,
    }
}

#[cfg(test)]
mod tests {
    use keyless_types::dsse::EnvelopeSignature;

    use super::*;

    fn entry() -> wire::TransparencyLogEntry {
        wire::TransparencyLogEntry {
            log_index: 3,
            log_id: wire::LogId {
                key_id: vec![1; 32],
            },
            kind_version: wire::KindVersion {
                kind: "hashedrekord".into(),
                version: "0.0.2".into(),
            },
            integrated_time: None,
            inclusion_promise: None,
            inclusion_proof: Some(wire::InclusionProof {
                log_index: 3,
                root_hash: vec![2; 32],
                tree_size: 4,
                hashes: vec![vec![3; 32]],
                checkpoint: Some(wire::Checkpoint {
                    envelope: "checkpoint".into(),
                }),
            }),
            canonicalized_body: b"{}".to_vec(),
            canonicalized_body_b64: None,
        }
    }

    #[test]
    fn a_message_bundle_carries_digest_signature_certificate_entry_and_timestamps() {
        let digest = [7u8; 32];
        let bundle = build(
            b"leaf",
            SignedContent::Message {
                digest: &digest,
                signature: b"sig",
            },
            Some(entry()),
            vec![b"ts1".to_vec(), b"ts2".to_vec()],
        );
        assert_eq!(bundle.media_type, MEDIA_TYPE_V0_3);
        assert!(bundle.dsse_envelope.is_none());
        let ms = bundle
            .message_signature
            .as_ref()
            .expect("message signature");
        assert_eq!(ms.signature, b"sig");
        let md = ms.message_digest.as_ref().expect("digest");
        assert_eq!(
            (md.algorithm.as_str(), md.digest.as_slice()),
            ("SHA2_256", digest.as_slice())
        );
        let vm = bundle
            .verification_material
            .as_ref()
            .expect("verification material");
        // v0.3 carries the leaf alone, never a chain or a key.
        assert_eq!(
            vm.certificate.as_ref().map(|c| c.raw_bytes.as_slice()),
            Some(b"leaf".as_slice())
        );
        assert!(vm.x509_certificate_chain.is_none() && vm.public_key.is_none());
        assert_eq!(vm.tlog_entries.len(), 1);
        assert_eq!(vm.tlog_entries[0].log_index, 3);
        let ts: Vec<&[u8]> = vm
            .timestamp_verification_data
            .as_ref()
            .expect("timestamps")
            .rfc3161_timestamps
            .iter()
            .map(|t| t.signed_timestamp.as_slice())
            .collect();
        assert_eq!(ts, vec![b"ts1".as_slice(), b"ts2".as_slice()]);
    }

    #[test]
    fn without_timestamps_there_is_no_timestamp_section() {
        let bundle = build(
            b"leaf",
            SignedContent::Message {
                digest: &[0; 32],
                signature: b"sig",
            },
            Some(entry()),
            Vec::new(),
        );
        let vm = bundle.verification_material.expect("verification material");
        assert!(vm.timestamp_verification_data.is_none());
    }

    #[test]
    fn a_dsse_bundle_carries_the_envelope_and_no_message_signature() {
        let env = Envelope {
            payload: b"{\"_type\":\"x\"}".to_vec(),
            payload_type: "application/vnd.in-toto+json".into(),
            signatures: vec![EnvelopeSignature {
                sig: b"sig".to_vec(),
                keyid: String::new(),
            }],
        };
        let bundle = build(
            b"leaf",
            SignedContent::Dsse(&env),
            Some(entry()),
            Vec::new(),
        );
        assert!(bundle.message_signature.is_none());
        assert_eq!(bundle.dsse_envelope, Some(env));
    }

    #[test]
    fn bundle_json_is_the_protobuf_specs_shape_and_reads_back() {
        let digest = [9u8; 32];
        let bundle = build(
            b"leaf",
            SignedContent::Message {
                digest: &digest,
                signature: b"sig",
            },
            Some(entry()),
            vec![b"ts".to_vec()],
        );
        let json = bundle_json(&bundle).expect("encode");
        let v: serde_json::Value = serde_json::from_str(&json).expect("JSON");
        assert_eq!(
            v["mediaType"],
            "application/vnd.dev.sigstore.bundle.v0.3+json"
        );
        assert_eq!(
            v["verificationMaterial"]["certificate"]["rawBytes"],
            "bGVhZg=="
        );
        assert_eq!(v["verificationMaterial"]["tlogEntries"][0]["logIndex"], "3");
        assert_eq!(
            v["verificationMaterial"]["timestampVerificationData"]["rfc3161Timestamps"][0]
                ["signedTimestamp"],
            "dHM="
        );
        assert_eq!(v["messageSignature"]["signature"], "c2ln");
        assert_eq!(
            v["messageSignature"]["messageDigest"]["algorithm"],
            "SHA2_256"
        );
        assert!(v.get("dsseEnvelope").is_none());
        // What we write, our own parser accepts as a v0.3 bundle.
        let back: wire::Bundle = serde_json::from_str(&json).expect("decode");
        keyless_types::Bundle::from_wire(back).expect("a well-formed bundle");
    }
}
