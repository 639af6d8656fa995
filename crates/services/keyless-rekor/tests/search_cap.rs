//! Rekor v1 search (`POST /api/v1/index/retrieve`) answers are capped at
//! `Limits::max_search_results`: a query matching more is refused with
//! 422 naming the limit, never answered with a truncated list.

mod support;

use keyless_crypto::{sha256, SigningKey};
use keyless_log::LogKeyType;
use serde_json::{json, Value};
use support::*;

const LIMIT: usize = 3;

async fn add(server: &Server, key: &SigningKey, artifact: &[u8]) -> String {
    let (req, _) = hashed_rekord_v1(key, artifact);
    let (status, resp) = post(&format!("{}/api/v1/log/entries", server.url), &req).await;
    assert_eq!(status, 201, "{resp}");
    resp.as_object().unwrap().keys().next().unwrap().clone()
}

async fn search(server: &Server, query: &Value) -> (u16, Value) {
    post(&format!("{}/api/v1/index/retrieve", server.url), query).await
}

fn by_hash(artifact: &[u8]) -> Value {
    json!(format!("sha256:{}", hex::encode(sha256(artifact))))
}

fn by_key(key: &SigningKey) -> Value {
    json!({"format": "x509", "content": b64(key.public_key().to_pem().as_bytes())})
}

fn assert_over_cap(status: u16, v: &Value) {
    assert_eq!(status, 422, "{v}");
    assert_eq!(v["code"], 422, "{v}");
    let message = v["message"].as_str().unwrap();
    assert!(
        message.contains(&format!("more than {LIMIT} entries")),
        "{message}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_answers_are_capped() {
    let store = tokio::task::spawn_blocking(|| Store::new(Backend::Files))
        .await
        .unwrap();
    let server = start_configured(store, LogKeyType::EcdsaP256, None, |c| {
        c.limits.max_search_results = LIMIT;
    })
    .await;
    let keys: Vec<SigningKey> = (0..4).map(|_| signer()).collect();
    let a = b"popular artifact";

    // Exactly the limit: every UUID, in log order.
    let mut uuids = Vec::new();
    for k in &keys[..LIMIT] {
        uuids.push(add(&server, k, a).await);
    }
    let (s, v) = search(&server, &json!({"hash": by_hash(a)})).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v, json!(uuids));

    // One more: refused, not truncated.
    add(&server, &keys[3], a).await;
    let (s, v) = search(&server, &json!({"hash": by_hash(a)})).await;
    assert_over_cap(s, &v);
    // "and" narrows it: the hash matches too many, the key few.
    let (s, v) = search(
        &server,
        &json!({"hash": by_hash(a), "publicKey": by_key(&keys[0]), "operator": "and"}),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v, json!([uuids[0]]));

    // A key found in fewer entries is still answered.
    let (s, v) = search(&server, &json!({"publicKey": by_key(&keys[0])})).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v, json!([uuids[0]]));

    // "or": each criterion within the cap, their union over it.
    add(&server, &keys[0], b"b").await;
    add(&server, &keys[0], b"c").await;
    add(&server, &keys[1], b"d").await;
    let (s, v) = search(&server, &json!({"publicKey": by_key(&keys[0])})).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v.as_array().unwrap().len(), LIMIT);
    let (s, v) = search(
        &server,
        &json!({"hash": by_hash(b"d"), "publicKey": by_key(&keys[0])}),
    )
    .await;
    assert_over_cap(s, &v);
    // "and" with both criteria over the cap is refused too.
    add(&server, &keys[0], b"e").await;
    let (s, v) = search(
        &server,
        &json!({"hash": by_hash(a), "publicKey": by_key(&keys[0]), "operator": "and"}),
    )
    .await;
    assert_over_cap(s, &v);

    // A query names one hash and one key: a list is malformed.
    let (s, v) = search(&server, &json!({"hash": [by_hash(a), by_hash(b"b")]})).await;
    assert_eq!(s, 400, "{v}");
}

#[test]
fn the_default_cap_is_documented_and_set() {
    let config = keyless_rekor::RekorConfig::new(keyless_log::LogConfig::new(
        "/nonexistent",
        "example.test",
    ));
    assert_eq!(
        config.limits.max_search_results,
        keyless_rekor::DEFAULT_MAX_SEARCH_RESULTS
    );
    assert_eq!(keyless_rekor::DEFAULT_MAX_SEARCH_RESULTS, 1000);
}
