//! Signatures made the way cosign makes them, from the [`minted`] instance:
//! classic `.sig` layers (simple-signing payload, base64 signature, PEM
//! certificate and chain, the Rekor v1 bundle annotation
//! `{"SignedEntryTimestamp", "Payload": {body, integratedTime, logIndex,
//! logID}}`), `.att` layers (a DSSE envelope with the same annotations)
//! and cosign v3's referrer bundle (a DSSE statement of predicate type
//! `https://sigstore.dev/cosign/sign/v1` about the image digest).
//!
//! Each piece is public so that tests can build tampered variants: a SET
//! for another body, a certificate for another key, a payload naming
//! another digest, no bundle annotation.

use keyless_crypto::SigningKey;
use keyless_oci::cosign::COSIGN_SIGN_PREDICATE_TYPE;
use keyless_oci::{Digest, Repository, SignatureLayer, SimpleSigning};
use serde_json::{json, Value};

use crate::minted::{b64, Dsse, Instance, Signer};

/// PEM of a DER certificate.
pub fn cert_pem(der: &[u8]) -> String {
    keyless_ca::pki::pem_encode("CERTIFICATE", der)
}

/// The CA chain (intermediate, then root) as cosign writes it in the
/// `dev.sigstore.cosign/chain` annotation, from the instance's trusted root.
pub fn chain_pem(instance: &Instance) -> String {
    let root: Value = serde_json::from_str(&instance.trusted_root_json).expect("trusted root");
    root["certificateAuthorities"][0]["certChain"]["certificates"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c["rawBytes"].as_str())
        .map(|raw| cert_pem(&base64_decode(raw)))
        .collect()
}

/// cosign's `dev.sigstore.cosign/bundle` annotation for a log entry minted
/// by [`Instance::v1_entry`] (same SET, body, time, index and log ID).
pub fn rekor_bundle_annotation(entry: &Value) -> String {
    let key_id = entry["logId"]["keyId"].as_str().unwrap_or_default();
    let log_id = base64_decode(key_id);
    json!({
        "SignedEntryTimestamp": entry["inclusionPromise"]["signedEntryTimestamp"],
        "Payload": {
            "body": entry["canonicalizedBody"],
            "integratedTime": entry["integratedTime"].as_str().and_then(|t| t.parse::<i64>().ok()),
            "logIndex": entry["logIndex"].as_str().and_then(|t| t.parse::<i64>().ok()),
            "logID": hex::encode(log_id),
        },
    })
    .to_string()
}

fn base64_decode(s: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD
        .decode(s)
        .unwrap_or_default()
}

/// The `hashedrekord 0.0.1` body cosign uploads for a signature over
/// `payload`, by `verifier_pem` (a PEM certificate or public key).
pub fn hashedrekord_body(verifier_pem: &str, signature: &[u8], payload: &[u8]) -> Value {
    json!({
        "apiVersion": "0.0.1",
        "kind": "hashedrekord",
        "spec": {
            "data": {"hash": {"algorithm": "sha256", "value": hex::encode(keyless_crypto::sha256(payload))}},
            "signature": {
                "content": b64(signature),
                "publicKey": {"content": b64(verifier_pem.as_bytes())},
            },
        },
    })
}

/// The simple-signing payload cosign signs for `digest` in `repo`.
pub fn payload(repo: &Repository, digest: &Digest) -> Vec<u8> {
    SimpleSigning::new(repo, digest).to_json()
}

/// A `.sig` layer as `cosign sign` (v2) writes it: signature over
/// `payload`, leaf certificate, chain, and the Rekor v1 bundle annotation
/// for a `hashedrekord` entry of this signature.
pub fn classic_signature(instance: &Instance, signer: &Signer, payload: &[u8]) -> SignatureLayer {
    let signature = signer.key.sign(payload).expect("sign payload");
    let leaf = cert_pem(&signer.cert_der);
    let body = hashedrekord_body(&leaf, &signature, payload);
    let entry = instance.v1_entry("hashedrekord", "0.0.1", &body, signer.issued_at, false);
    SignatureLayer::signature(payload.to_vec(), &b64(&signature))
        .with_certificate(&leaf, &chain_pem(instance))
        .with_rekor_bundle(&rekor_bundle_annotation(&entry))
}

/// A `.sig` layer as `cosign sign --key --tlog-upload=false` writes it: a
/// signature by a long-lived key, no certificate, no bundle annotation.
pub fn key_signature(key: &SigningKey, payload: &[u8]) -> SignatureLayer {
    let signature = key.sign(payload).expect("sign payload");
    SignatureLayer::signature(payload.to_vec(), &b64(&signature))
}

/// An in-toto statement about `digest`.
pub fn statement(digest: &Digest, predicate_type: &str, predicate: Value) -> Value {
    json!({
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": "image", "digest": {"sha256": digest.hex()}}],
        "predicateType": predicate_type,
        "predicate": predicate,
    })
}

/// An `.att` layer as `cosign attest` writes it: the DSSE envelope as the
/// layer, the certificate annotations and the Rekor v1 bundle for an
/// `intoto 0.0.2` entry.
pub fn classic_attestation(
    instance: &Instance,
    signer: &Signer,
    statement: &Value,
) -> SignatureLayer {
    let dsse = Dsse::sign(signer, statement);
    let body = dsse.intoto_v002_body(signer);
    let entry = instance.v1_entry("intoto", "0.0.2", &body, signer.issued_at, false);
    let predicate_type = statement["predicateType"].as_str().unwrap_or_default();
    let envelope = serde_json::to_vec(&dsse.envelope_json()).expect("envelope JSON");
    SignatureLayer::attestation(envelope, predicate_type)
        .with_certificate(&cert_pem(&signer.cert_der), &chain_pem(instance))
        .with_rekor_bundle(&rekor_bundle_annotation(&entry))
}

/// cosign v3's image signature: a v0.3 bundle holding a DSSE statement of
/// predicate type `https://sigstore.dev/cosign/sign/v1` about `digest`, with
/// a `dsse 0.0.1` entry and its inclusion proof.
pub fn cosign_v3_signature(instance: &Instance, signer: &Signer, digest: &Digest) -> Vec<u8> {
    let st = statement(digest, COSIGN_SIGN_PREDICATE_TYPE, json!({}));
    let dsse = Dsse::sign(signer, &st);
    let body = dsse.dsse_v001_body(signer);
    let entry = instance.v1_entry("dsse", "0.0.1", &body, signer.issued_at, true);
    dsse.bundle(signer, entry)
}
