use super::*;

#[test]
fn hashedrekord_keys_are_the_digest_and_the_canonical_signer() {
    let key =
        keyless_crypto::SigningKey::generate(keyless_crypto::KeyAlgorithm::EcdsaP256).unwrap();
    let pem = key.public_key().to_pem();
    let body = serde_json::json!({
        "apiVersion": "0.0.1", "kind": "hashedrekord",
        "spec": {
            "data": { "hash": { "algorithm": "sha256", "value": "AB".repeat(32) } },
            "signature": { "content": "AAAA", "publicKey": { "content": keyless_types::b64::encode(pem.trim_end().as_bytes()) } },
        },
    });
    let keys = index_keys(body.to_string().as_bytes());
    assert!(keys.contains(&IndexKey::Hash(format!("sha256:{}", "ab".repeat(32)))));
    assert!(keys.contains(&IndexKey::signer_pem(pem.as_bytes()).unwrap()));
    // A bare key names no identity.
    assert_eq!(keys.len(), 2);
    assert!(index_keys(b"{}").is_empty());
}

#[test]
fn identities_are_e_mail_addresses_or_uris_lower_cased() {
    assert_eq!(
        IndexKey::identity(" Alice@Example.COM "),
        Some(IndexKey::Identity("alice@example.com".into()))
    );
    let uri = "https://github.com/o/r/.github/workflows/w.yml@refs/heads/main";
    assert_eq!(
        IndexKey::identity(uri),
        Some(IndexKey::Identity(uri.to_lowercase()))
    );
    assert!(IndexKey::identity("spiffe://example.org/ns/x").is_some());
    for bad in [
        "",
        "alice",
        "@example.com",
        "alice@",
        "a@b@c",
        "alice @example.com",
        "a@b\u{7}",
    ] {
        assert_eq!(IndexKey::identity(bad), None, "{bad:?}");
    }
    let long = format!("{}@example.com", "a".repeat(keys::MAX_IDENTITY));
    assert_eq!(IndexKey::identity(&long), None);
    // The mark and an identity never share a digest with a hash or signer
    // of the same text.
    assert_ne!(
        IndexKey::Identity("x".into()).digest(),
        IndexKey::Hash("x".into()).digest()
    );
}

#[test]
fn an_index_without_the_schema_mark_is_outdated() {
    let mut old = MemorySearch::default();
    assert!(!outdated(&old).unwrap(), "an empty index is rebuilt anyway");
    old.add(0, &[IndexKey::Hash("sha256:00".into()).digest()])
        .unwrap();
    old.add(1, &[]).unwrap();
    assert!(outdated(&old).unwrap());
    let mut new = MemorySearch::default();
    new.add(0, &[IndexKey::Schema.digest()]).unwrap();
    new.add(1, &[IndexKey::Schema.digest()]).unwrap();
    assert!(!outdated(&new).unwrap());
    // The mark on another entry only does not count.
    let mut odd = MemorySearch::default();
    odd.add(0, &[]).unwrap();
    odd.add(1, &[IndexKey::Schema.digest()]).unwrap();
    assert!(outdated(&odd).unwrap());
}
