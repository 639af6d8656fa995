//! Search by certificate identity (`POST /api/v1/index/retrieve` with
//! `"email"`): Rekor v2 hashedrekord entries signed under keyless
//! certificates are found by their e-mail or URI SAN, and a search index
//! built before identities were keys (stored on disk without them) is
//! rebuilt when opened, so old entries are found too.

mod support;

use std::sync::Arc;

use keyless_ca::ca::Issuer;
use keyless_ca::identity::{Principal, San};
use keyless_ca::{CaMaterial, CtLog};
use keyless_crypto::{sha256, SigningKey};
use keyless_log::LogKeyType;
use serde_json::{json, Value};
use support::*;

const URI: &str = "https://github.com/Example/Repo/.github/workflows/release.yml@refs/heads/main";

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// A hashedrekord v0.0.2 request signed by a fresh key whose certificate
/// (issued by a keyless CA) names `san`.
fn certified_request(issuer: &Issuer, san: San, artifact: &[u8]) -> Value {
    let key: SigningKey = signer();
    let principal = Principal {
        san,
        issuer: "https://issuer.example".into(),
        challenge: "x".into(),
        challenge_claim: "sub".into(),
        extensions: vec![],
    };
    let chain = issuer
        .issue(&principal, key.public_key(), now() - 5)
        .unwrap();
    json!({ "hashedRekordRequestV002": {
        "digest": b64(&sha256(artifact)),
        "signature": {
            "content": b64(&key.sign(artifact).unwrap()),
            "verifier": {
                "x509Certificate": { "rawBytes": b64(&chain.certificates[0]) },
                "keyDetails": "PKIX_ECDSA_P256_SHA_256",
            },
        },
    }})
}

async fn search(server: &Server, q: Value) -> (u16, Value) {
    post(&format!("{}/api/v1/index/retrieve", server.url), &q).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v2_entries_are_found_by_identity_and_old_indexes_are_rebuilt() {
    let dir = tempfile::tempdir().unwrap();
    let material = CaMaterial::load_or_create(dir.path()).unwrap();
    let CaMaterial {
        root,
        intermediate,
        intermediate_key,
        ct_key,
        ..
    } = material;
    let ct = Arc::new(CtLog::new(ct_key, vec![root.clone()]));
    let issuer = Issuer::new(intermediate, intermediate_key, root, ct);

    let server = start(LogKeyType::EcdsaP256).await;
    let entries = format!("{}/api/v2/log/entries", server.url);
    for (san, artifact) in [
        (San::Email("Alice@Example.com".into()), &b"one"[..]),
        (San::Uri(URI.into()), &b"two"[..]),
    ] {
        let (s, v) = post(&entries, &certified_request(&issuer, san, artifact)).await;
        assert_eq!(s, 201, "{v}");
    }
    let (s, _) = post(
        &entries,
        &hashed_rekord_v2(&signer(), b"a bare key names no one").0,
    )
    .await;
    assert_eq!(s, 201);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while server.log.published().size < 3 {
        assert!(std::time::Instant::now() < deadline, "never published");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }

    // An index as this log kept it before identity keys: it covers every
    // entry and names no identity (nor the mark that says it would).
    let log = server.log.clone();
    tokio::task::spawn_blocking(move || {
        let mut store = log
            .open_search_store()
            .unwrap()
            .expect("files keep an index");
        for i in 0..3 {
            store.add(i, &[]).unwrap();
        }
    })
    .await
    .unwrap();

    // The first search finds that index outdated and rebuilds it.
    let (s, v) = search(&server, json!({ "email": "alice@example.COM" })).await;
    assert_eq!(s, 200, "{v}");
    let alice = v.as_array().expect("UUIDs").clone();
    assert_eq!(alice.len(), 1, "{v}");
    let (s, v) = search(&server, json!({ "email": URI })).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v.as_array().map(Vec::len), Some(1), "{v}");
    assert_ne!(v[0], alice[0]);
    let (s, v) = search(&server, json!({ "email": "bob@example.com" })).await;
    assert_eq!((s, v), (200, json!([])));
    // The same search again reads the rebuilt index (no second rebuild).
    let (s, v) = search(&server, json!({ "email": "ALICE@example.com" })).await;
    assert_eq!((s, v), (200, Value::Array(alice)));
    let (s, v) = search(
        &server,
        json!({ "email": "x".repeat(2000) + "@example.com" }),
    )
    .await;
    assert_eq!(s, 400, "{v}");
}
