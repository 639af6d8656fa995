use super::*;
use crate::cosign::SignatureLayer;

const CERT_PEM: &str = "-----BEGIN CERTIFICATE-----\nAQID\n-----END CERTIFICATE-----\n";

fn stored(layer: SignatureLayer) -> StoredSignature {
    StoredSignature {
        payload: layer.payload().to_vec(),
        descriptor: layer.descriptor(),
    }
}

fn rekor_bundle(body: &Value) -> String {
    serde_json::to_string(&RekorBundle {
        signed_entry_timestamp: b64(b"set"),
        payload: RekorPayload {
            body: b64(&serde_json::to_vec(body).unwrap()),
            integrated_time: 1_700_000_000,
            log_index: 42,
            log_id: "00ff".into(),
        },
    })
    .unwrap()
}

#[test]
fn annotation_names_match_cosign() {
    let json = rekor_bundle(&json!({"kind": "hashedrekord", "apiVersion": "0.0.1"}));
    let v: Value = serde_json::from_str(&json).unwrap();
    assert!(v["SignedEntryTimestamp"].is_string());
    for k in ["body", "integratedTime", "logIndex", "logID"] {
        assert!(!v["Payload"][k].is_null(), "{k} missing: {json}");
    }
    let ts = serde_json::to_value(Rfc3161Timestamp {
        signed_rfc3161_timestamp: "AA==".into(),
    })
    .unwrap();
    assert_eq!(ts, json!({"SignedRFC3161Timestamp": "AA=="}));
    let other: Rfc3161Timestamp =
        serde_json::from_str(r#"{"SignedRFC3161TimeStamp":"AA=="}"#).unwrap();
    assert_eq!(other.signed_rfc3161_timestamp, "AA==");
}

#[test]
fn signature_layer_becomes_a_v01_bundle() {
    let body = json!({"kind": "hashedrekord", "apiVersion": "0.0.1", "spec": {}});
    let layer = SignatureLayer::signature(b"payload".to_vec(), &b64(b"sig"))
        .with_certificate(CERT_PEM, CERT_PEM)
        .with_rekor_bundle(&rekor_bundle(&body))
        .with_rfc3161_timestamp(r#"{"SignedRFC3161Timestamp":"dHN0"}"#);
    let out = stored(layer).to_bundle().unwrap();
    assert!(out.has_tlog_entry && !out.is_attestation);
    let b: Value = serde_json::from_slice(&out.bundle_json).unwrap();
    assert_eq!(b["mediaType"], BUNDLE_V01_MEDIA_TYPE);
    let vm = &b["verificationMaterial"];
    assert_eq!(
        vm["x509CertificateChain"]["certificates"],
        json!([{"rawBytes": "AQID"}]),
        "only the leaf: the chain's root must come from the trusted root"
    );
    let e = &vm["tlogEntries"][0];
    assert_eq!(e["logIndex"], "42");
    assert_eq!(e["integratedTime"], "1700000000");
    assert_eq!(e["logId"]["keyId"], b64(&[0, 255]));
    assert_eq!(
        e["kindVersion"],
        json!({"kind": "hashedrekord", "version": "0.0.1"})
    );
    assert_eq!(e["inclusionPromise"]["signedEntryTimestamp"], b64(b"set"));
    assert_eq!(
        e["canonicalizedBody"],
        b64(&serde_json::to_vec(&body).unwrap())
    );
    assert_eq!(
        vm["timestampVerificationData"]["rfc3161Timestamps"][0]["signedTimestamp"],
        "dHN0"
    );
    assert_eq!(b["messageSignature"]["signature"], b64(b"sig"));
    assert_eq!(
        b["messageSignature"]["messageDigest"]["digest"],
        b64(&keyless_crypto::sha256(b"payload"))
    );
}

#[test]
fn attestation_layer_carries_its_envelope_and_no_tlog_without_annotation() {
    let env = json!({"payloadType": "application/vnd.in-toto+json", "payload": "e30=", "signatures": [{"sig": "AA==", "keyid": ""}]});
    let layer = SignatureLayer::attestation(serde_json::to_vec(&env).unwrap(), "x");
    let out = stored(layer).to_bundle().unwrap();
    assert!(out.is_attestation && !out.has_tlog_entry);
    let b: Value = serde_json::from_slice(&out.bundle_json).unwrap();
    assert_eq!(b["dsseEnvelope"], env);
    assert_eq!(b["verificationMaterial"]["publicKey"]["hint"], "");
    assert_eq!(b["verificationMaterial"]["tlogEntries"], json!([]));
}

#[test]
fn malformed_annotations_are_errors() {
    let good = || SignatureLayer::signature(b"p".to_vec(), &b64(b"s"));
    let cases: Vec<(SignatureLayer, &str)> = vec![
        (good().with_rekor_bundle("{"), "is not a Rekor bundle"),
        (
            good().with_rekor_bundle(&rekor_bundle(&json!({"spec": {}}))),
            "names no kind",
        ),
        (good().with_certificate("junk", ""), "no PEM certificate"),
        (
            good().with_rfc3161_timestamp("{\"x\":1}"),
            "rfc3161timestamp",
        ),
        (
            SignatureLayer::signature(b"p".to_vec(), "not base64!"),
            "invalid base64",
        ),
        (
            SignatureLayer::signature(b"p".to_vec(), ""),
            "no dev.cosignproject.cosign/signature",
        ),
    ];
    for (layer, says) in cases {
        let e = stored(layer).to_bundle().unwrap_err().to_string();
        assert!(e.contains(says), "{says}: {e}");
    }
    let mut d = good().descriptor();
    d.media_type = "text/plain".into();
    let e = StoredSignature {
        descriptor: d,
        payload: b"p".to_vec(),
    }
    .to_bundle()
    .unwrap_err();
    assert!(e.to_string().contains("text/plain"));
}
