//! The trusted-root entry: it loads in keyless-verify, and a managed-key
//! bundle timestamped by this TSA passes keyless-verify's timestamp step.

mod support;

use base64::Engine;
use keyless_crypto::{HashAlgorithm, KeyAlgorithm, SigningKey};
use keyless_tsp::issue::TimestampRequest;
use keyless_verify::{Artifact, Policy, TrustMaterial, Verifier, VerifierOptions};
use serde_json::json;

fn trusted_root(entry: serde_json::Value) -> Vec<u8> {
    json!({
        "mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
        "tlogs": [],
        "ctlogs": [],
        "certificateAuthorities": [],
        "timestampAuthorities": [entry],
    })
    .to_string()
    .into_bytes()
}

#[tokio::test]
async fn trusted_root_entry_loads_and_verifies_a_bundle() {
    let server = support::start(KeyAlgorithm::EcdsaP256).await;
    let entry = server.tsa.trusted_root_entry();
    assert_eq!(
        entry["uri"],
        format!("http://{}/api/v1/timestamp", server.addr)
    );
    assert_eq!(entry["subject"]["organization"], "keyless");
    assert_eq!(
        entry["certChain"]["certificates"].as_array().unwrap().len(),
        3
    );

    let trust = TrustMaterial::from_json(&trusted_root(entry)).unwrap();
    assert_eq!(trust.tsas.len(), 1);
    assert_eq!(trust.tsas[0].chain, server.tsa.chain());

    // A managed-key bundle: the artifact signed with a long-lived key, the
    // signature timestamped by our TSA, no log entry.
    let artifact = b"release-artifact-contents".to_vec();
    let key = SigningKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
    let signature = key.sign(&artifact).unwrap();
    let req = TimestampRequest::for_data(HashAlgorithm::Sha256, &signature)
        .with_nonce(&[7; 8])
        .unwrap()
        .with_cert_req(true)
        .to_der()
        .unwrap();
    let resp = support::timestamp(&server, "application/timestamp-query", &req).await;
    assert_eq!(resp.status, 200);

    let b64 = base64::engine::general_purpose::STANDARD;
    let bundle = json!({
        "mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
        "verificationMaterial": {
            "publicKey": { "hint": "test-key" },
            "tlogEntries": [],
            "timestampVerificationData": {
                "rfc3161Timestamps": [ { "signedTimestamp": b64.encode(&resp.body) } ]
            }
        },
        "messageSignature": {
            "messageDigest": {
                "algorithm": "SHA2_256",
                "digest": b64.encode(HashAlgorithm::Sha256.digest(&artifact)),
            },
            "signature": b64.encode(&signature),
        }
    })
    .to_string();
    // A key-signed bundle vouched for by a timestamp alone: no log entry.
    let options = VerifierOptions::default()
        .danger_allow_no_tlog_entries()
        .with_timestamp_threshold(1);
    let verifier = Verifier::new(trust.clone(), options.clone());
    let result = verifier
        .verify_json(
            bundle.as_bytes(),
            &Artifact::Bytes(artifact.clone()),
            &Policy::Key(key.public_key().clone()),
        )
        .unwrap();
    assert_eq!(result.timestamps.len(), 1);
    assert_eq!(result.timestamps[0].authority, server.tsa.uri().unwrap());

    // The same bundle against a root that lists another TSA fails.
    let other = support::start(KeyAlgorithm::EcdsaP256).await;
    let other_trust =
        TrustMaterial::from_json(&trusted_root(other.tsa.trusted_root_entry())).unwrap();
    let err = Verifier::new(other_trust, options)
        .verify_json(
            bundle.as_bytes(),
            &Artifact::Bytes(artifact),
            &Policy::Key(key.public_key().clone()),
        )
        .unwrap_err();
    assert!(
        err.to_string().to_lowercase().contains("untrusted")
            || err.to_string().contains("timestamp"),
        "{err}"
    );
}
