//! `POST /api/v1/log/entries/retrieve` (Rekor v1's `SearchLogQuery`)
//! against a real log over HTTP: by indices, UUIDs (with and without the
//! tree-ID prefix) and proposed entries, each answer exactly what the
//! single GET answers; what the log does not have is left out; too many
//! queries, malformed and oversized bodies are refused with a JSON error
//! and change nothing.

mod support;

use keyless_log::LogKeyType;
use serde_json::{json, Value};
use support::*;

fn retrieve_url(server: &Server) -> String {
    format!("{}/api/v1/log/entries/retrieve", server.url)
}

/// Log `n` v1 hashedrekord entries one after the other (index i is
/// artifact i); their proposed entries, in index order.
async fn append_v1(server: &Server, n: usize) -> Vec<Value> {
    let key = signer();
    let mut proposed = Vec::new();
    for i in 0..n {
        let (req, _) = hashed_rekord_v1(&key, format!("artifact {i}").as_bytes());
        let (s, v) = post(&format!("{}/api/v1/log/entries", server.url), &req).await;
        assert_eq!(s, 201, "{v}");
        assert_eq!(
            v.as_object().unwrap().values().next().unwrap()["logIndex"],
            i
        );
        proposed.push(req);
    }
    proposed
}

async fn single(server: &Server, index: u64) -> Value {
    let (s, v) = get_json(&format!(
        "{}/api/v1/log/entries?logIndex={index}",
        server.url
    ))
    .await;
    assert_eq!(s, 200, "{v}");
    v
}

fn uuid_of(entry: &Value) -> String {
    entry.as_object().unwrap().keys().next().unwrap().clone()
}

async fn retrieve(server: &Server, q: &Value) -> Vec<Value> {
    let (s, v) = post(&retrieve_url(server), q).await;
    assert_eq!(s, 200, "{q}: {v}");
    v.as_array()
        .unwrap_or_else(|| panic!("not a list: {v}"))
        .clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batches_by_index_uuid_and_entry_equal_the_single_reads() {
    // Ed25519: deterministic SETs, so equal answers are equal bytes.
    let server = start(LogKeyType::Ed25519).await;
    let proposed = append_v1(&server, 12).await;
    let mut singles = Vec::new();
    for i in 0..12 {
        singles.push(single(&server, i).await);
    }

    let asked = [3u64, 0, 11, 7, 7];
    let got = retrieve(&server, &json!({ "logIndexes": asked })).await;
    let want: Vec<Value> = asked.iter().map(|&i| singles[i as usize].clone()).collect();
    assert_eq!(
        got, want,
        "in the order asked, a repeated index answered twice"
    );

    // UUIDs: plain, upper case, and as an 80-hex entry ID (tree ID first).
    let u5 = uuid_of(&singles[5]);
    let u9 = uuid_of(&singles[9]);
    let u2 = uuid_of(&singles[2]);
    let ids = json!([u5, u9.to_uppercase(), format!("0123456789abcdef{u2}")]);
    let got = retrieve(&server, &json!({ "entryUUIDs": ids })).await;
    assert_eq!(
        got,
        vec![singles[5].clone(), singles[9].clone(), singles[2].clone()]
    );

    // All three kinds of query at once: UUIDs, then entries, then indices.
    let got = retrieve(
        &server,
        &json!({
            "logIndexes": [1],
            "entries": [proposed[4], proposed[10]],
            "entryUUIDs": [u9],
        }),
    )
    .await;
    assert_eq!(
        got,
        vec![
            singles[9].clone(),
            singles[4].clone(),
            singles[10].clone(),
            singles[1].clone()
        ]
    );
    // An entry never logged (it verifies, but is not in the log) is left out.
    let (other, _) = hashed_rekord_v1(&signer(), b"never logged");
    assert!(retrieve(&server, &json!({ "entries": [other] }))
        .await
        .is_empty());
    // The GET by UUID shares the parsing: the 80-hex form works there too.
    let (s, by_id) = get_json(&format!(
        "{}/api/v1/log/entries/0123456789abcdef{u2}",
        server.url
    ))
    .await;
    assert_eq!(s, 200);
    assert_eq!(by_id, singles[2]);
    assert_eq!(server.log.published().size, 12, "reads only");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_entry_verifies_with_its_set_and_inclusion_proof() {
    // ECDSA P-256, as the public Rekor v1: a bundle made from the batch
    // answer verifies (SET with the log key, proof to the checkpoint).
    let server = start(LogKeyType::EcdsaP256).await;
    let key = signer();
    let mut sigs = Vec::new();
    for i in 0..3 {
        let artifact = format!("signed {i}");
        let (req, sig) = hashed_rekord_v1(&key, artifact.as_bytes());
        let (s, v) = post(&format!("{}/api/v1/log/entries", server.url), &req).await;
        assert_eq!(s, 201, "{v}");
        sigs.push((artifact, sig));
    }
    let got = retrieve(&server, &json!({ "logIndexes": [2, 0] })).await;
    assert_eq!(got.len(), 2);
    for (item, i) in got.iter().zip([2usize, 0]) {
        let entry = item.as_object().unwrap().values().next().unwrap();
        assert_eq!(entry["logIndex"], i);
        let (artifact, sig) = &sigs[i];
        let bundle = message_bundle(&key, artifact.as_bytes(), sig, v1_tle(entry));
        let result = verify(&server, &key, &bundle, artifact.as_bytes())
            .unwrap_or_else(|e| panic!("entry {i}: {e}"));
        assert!(
            result.log_entries[0].integrated_time.is_some(),
            "the SET counted"
        );
        // The same entry under another index is refused by the verifier.
        let mut forged = v1_tle(entry);
        forged["logIndex"] = json!("1");
        let bundle = message_bundle(&key, artifact.as_bytes(), sig, forged);
        assert!(verify(&server, &key, &bundle, artifact.as_bytes()).is_err());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_the_log_does_not_have_is_left_out() {
    let server = start(LogKeyType::Ed25519).await;
    append_v1(&server, 3).await;
    let got = retrieve(
        &server,
        &json!({ "logIndexes": [1, 3, 99, 2, 18446744073709551615u64 >> 1] }),
    )
    .await;
    let indices: Vec<&Value> = got
        .iter()
        .map(|e| &e.as_object().unwrap().values().next().unwrap()["logIndex"])
        .collect();
    assert_eq!(indices, [&json!(1), &json!(2)]);
    let got = retrieve(&server, &json!({ "entryUUIDs": ["00".repeat(32)] })).await;
    assert!(got.is_empty());
    // Nothing asked, nothing answered (as Rekor).
    assert!(retrieve(&server, &json!({})).await.is_empty());
    // The single GET still says 404 for the same index.
    let (s, v) = get_json(&format!("{}/api/v1/log/entries?logIndex=3", server.url)).await;
    assert_eq!((s, v["code"].clone()), (404, json!(404)));
}

fn assert_error(status: u16, v: &Value, want: u16, says: &str) {
    assert_eq!(status, want, "{v}");
    assert_eq!(v["code"], want, "{v}");
    let message = v["message"].as_str().unwrap_or_default();
    assert!(message.contains(says), "{says:?} not in {v}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_queries_are_refused_and_change_nothing() {
    let server = start(LogKeyType::Ed25519).await;
    append_v1(&server, 2).await;
    let before = server.log.published();
    let c = reqwest::Client::new();
    let url = retrieve_url(&server);

    // Rekor's limit: ten queries in all three lists together.
    let ten: Vec<u64> = (0..10).map(|i| i % 2).collect();
    assert_eq!(
        retrieve(&server, &json!({ "logIndexes": ten })).await.len(),
        10
    );
    let (s, v) = send(
        c.post(&url)
            .json(&json!({ "logIndexes": (0..11).collect::<Vec<u64>>() })),
    )
    .await;
    assert_error(s, &v, 422, "at most 10");
    let (s, v) = send(c.post(&url).json(&json!({
        "logIndexes": [0, 1, 0, 1, 0, 1, 0, 1],
        "entryUUIDs": ["00".repeat(32), "11".repeat(32), "22".repeat(32)],
    })))
    .await;
    assert_error(s, &v, 422, "got 11");

    // Malformed JSON and wrong shapes: 400.
    for (body, says) in [
        ("{", "malformed"),
        ("[]", "malformed"),
        ("null", "malformed"),
        (r#"{"logIndexes": "0"}"#, "malformed"),
        (r#"{"logIndexes": [1.5]}"#, "malformed"),
        (r#"{"logIndexes": [99999999999999999999]}"#, "malformed"),
        (r#"{"logIndex": [0]}"#, "unknown field"),
        (r#"{"entryUUIDs": [7]}"#, "malformed"),
        (r#"{"entryUUIDs": ["abc"]}"#, "64 (or 80)"),
        (
            r#"{"entries": [{"apiVersion": "0.0.1", "kind": "rekord", "spec": {}}]}"#,
            "entries[0]",
        ),
        (r#"{"entries": [5]}"#, "entries[0]"),
    ] {
        let (s, v) = send(
            c.post(&url)
                .header("content-type", "application/json")
                .body(body),
        )
        .await;
        assert_error(s, &v, 400, says);
    }
    let bad_hex = format!("{}zz", "0".repeat(62));
    let (s, v) = send(c.post(&url).json(&json!({ "entryUUIDs": [bad_hex] }))).await;
    assert_error(s, &v, 400, "not hex");
    // What Rekor's schema refuses: a negative index, an empty list.
    let (s, v) = send(c.post(&url).json(&json!({ "logIndexes": [0, -1] }))).await;
    assert_error(s, &v, 422, "non-negative");
    let (s, v) = send(c.post(&url).json(&json!({ "logIndexes": [] }))).await;
    assert_error(s, &v, 422, "empty");

    // Over the body cap (128 KiB by default), and compressed.
    let big = format!(r#"{{"entryUUIDs": ["{}"]}}"#, "a".repeat(200 * 1024));
    let (s, v) = send(
        c.post(&url)
            .header("content-type", "application/json")
            .body(big),
    )
    .await;
    assert_eq!((s, v["code"].clone()), (413, json!(413)), "{v}");
    let (s, v) = send(
        c.post(&url)
            .header("content-encoding", "gzip")
            .body(vec![0x1f, 0x8b, 8, 0]),
    )
    .await;
    assert_eq!((s, v["code"].clone()), (415, json!(415)), "{v}");
    // Only POST.
    let (s, v) = send(c.get(&url)).await;
    assert_eq!((s, v["code"].clone()), (405, json!(405)), "{v}");

    let after = server.log.published();
    assert_eq!((after.size, after.root), (before.size, before.root));
    assert_eq!(
        retrieve(&server, &json!({ "logIndexes": [1] })).await.len(),
        1
    );
}
