//! Entry bodies of every kind the keyless log (and Rekor) writes, decoded
//! and matched by key.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use keyless_crypto::{KeyAlgorithm, SigningKey};
use keyless_monitor::{EntryInfo, Matcher};
use serde_json::json;

fn key() -> (String, Vec<u8>, [u8; 32]) {
    let k = SigningKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
    let spki = k.public_key().spki_der().to_vec();
    (
        k.public_key().to_pem(),
        spki.clone(),
        keyless_crypto::sha256(&spki),
    )
}

#[test]
fn every_kind_names_its_key_and_digest() {
    let (pem, spki, hash) = key();
    let pem64 = STANDARD.encode(&pem);
    let hex_digest = "ab".repeat(32);
    let bodies = [
        json!({"apiVersion": "0.0.1", "kind": "hashedrekord", "spec": {
            "data": {"hash": {"algorithm": "sha256", "value": hex_digest}},
            "signature": {"content": "AA==", "publicKey": {"content": pem64}}}}),
        json!({"apiVersion": "0.0.1", "kind": "dsse", "spec": {
            "payloadHash": {"algorithm": "sha256", "value": hex_digest},
            "signatures": [{"signature": "AA==", "verifier": pem64}]}}),
        json!({"apiVersion": "0.0.2", "kind": "intoto", "spec": {"content": {
            "envelope": {"signatures": [{"sig": "AA==", "publicKey": pem64}]},
            "payloadHash": {"algorithm": "sha256", "value": hex_digest}}}}),
        json!({"apiVersion": "0.0.2", "kind": "hashedrekord", "spec": {"hashedRekordV002": {
            "data": {"algorithm": "SHA2_256", "digest": STANDARD.encode([0xab; 32])},
            "signature": {"content": "AA==", "verifier": {"publicKey": {"rawBytes": STANDARD.encode(&spki)}, "keyDetails": "PKIX_ECDSA_P256_SHA_256"}}}}}),
    ];
    let watching = Matcher::new(None, None, None, vec![hash]);
    let other = Matcher::new(None, None, None, vec![key().2]);
    for body in bodies {
        let info = EntryInfo::parse(body.to_string().as_bytes()).unwrap();
        assert_eq!(
            info.key_sha256.as_deref(),
            Some(hex::encode(hash).as_str()),
            "{body}"
        );
        assert_eq!(info.digest, Some(format!("sha256:{hex_digest}")), "{body}");
        assert!(info.certificate.is_none());
        assert_eq!(
            watching.matches(&info),
            Some(format!("key:sha256:{}", hex::encode(hash)))
        );
        assert_eq!(other.matches(&info), None);
    }
}

#[test]
fn malformed_bodies_are_errors_not_matches() {
    for body in [
        &b"not json"[..],
        br#"{"kind":"hashedrekord"}"#,
        br#"{"apiVersion":"0.0.1","kind":"hashedrekord","spec":{"signature":{"publicKey":{"content":"!!"}}}}"#,
        br#"{"apiVersion":"0.0.1","kind":"hashedrekord","spec":{"signature":{"publicKey":{"content":"LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCkFBQUEKLS0tLS1FTkQgQ0VSVElGSUNBVEUtLS0tLQo="}}}}"#,
    ] {
        assert!(EntryInfo::parse(body).is_err(), "{}", String::from_utf8_lossy(body));
    }
}

#[test]
fn json_escapes_do_not_hide_an_entry() {
    let (pem, _, hash) = key();
    let body = json!({"apiVersion": "0.0.1", "kind": "hashedrekord", "spec": {
        "data": {"hash": {"algorithm": "sha256", "value": "cd".repeat(32)}},
        "signature": {"content": "AA==", "publicKey": {"content": STANDARD.encode(&pem)}}}})
    .to_string();
    assert!(body.contains(r#""content":"LS0t"#));
    let escaped = body.replace(r#""content":"LS0t"#, r#""content":"\u004cS0t"#);
    assert_ne!(escaped, body);
    let info = EntryInfo::parse(escaped.as_bytes()).unwrap();
    let watching = Matcher::new(None, None, None, vec![hash]);
    assert!(watching.matches(&info).is_some());
}
