//! Entries created through the HTTP API, built into bundles, verified by
//! keyless-verify against a trusted root that lists the log; plus the
//! integrity checker, remote consistency checks and restart recovery.

mod support;

use support::*;

both_backends!(
    v2_hashedrekord_bundle_verifies,
    v2_dsse_is_refused_and_logged_as_hashedrekord,
    v1_hashedrekord_with_set_verifies,
    integrity_consistency_and_restart,
    v1_search_survives_reopen,
);
use keyless_crypto::sha256;
use keyless_log::LogKeyType;
use serde_json::json;

async fn v2_hashedrekord_bundle_verifies(backend: Backend) {
    let server = start_on(backend, LogKeyType::Ed25519).await;
    let key = signer();
    let artifact = b"artifact one";
    let (req, sig) = hashed_rekord_v2(&key, artifact);
    let (status, tle) = post(&format!("{}/api/v2/log/entries", server.url), &req).await;
    assert_eq!(status, 201, "{tle}");
    assert_eq!(
        tle["kindVersion"],
        json!({"kind": "hashedrekord", "version": "0.0.2"})
    );
    assert_eq!(tle["logIndex"], "0");
    assert!(tle.get("integratedTime").is_none());
    let bundle = timestamped(&message_bundle(&key, artifact, &sig, tle.clone()), &sig);
    let result = verify(&server, &key, &bundle, artifact).expect("bundle verifies");
    assert_eq!(result.log_entries.len(), 1);
    // Without a timestamp a v2 entry gives no verified time: refused.
    assert!(verify(
        &server,
        &key,
        &message_bundle(&key, artifact, &sig, tle.clone()),
        artifact
    )
    .is_err());

    // The same bundle does not verify for another artifact, nor with a
    // tampered checkpoint.
    assert!(verify(&server, &key, &bundle, b"other artifact").is_err());
    let mut bad = tle.clone();
    let env = bad["inclusionProof"]["checkpoint"]["envelope"]
        .as_str()
        .unwrap()
        .to_string();
    bad["inclusionProof"]["checkpoint"]["envelope"] = json!(env.replacen("\n1\n", "\n2\n", 1));
    assert!(verify(
        &server,
        &key,
        &timestamped(&message_bundle(&key, artifact, &sig, bad), &sig),
        artifact
    )
    .is_err());

    // Duplicate: the same entry, same index, 200.
    let (status, again) = post(&format!("{}/api/v2/log/entries", server.url), &req).await;
    assert_eq!(status, 200);
    assert_eq!(again["logIndex"], "0");
    assert_eq!(again["canonicalizedBody"], tle["canonicalizedBody"]);
}

/// Rekor v2 since 2026-05 ("DSSE as hashedrekord"): `dsseRequestV002` is
/// refused with "invalid type, must be hashedrekord" and nothing is
/// logged; the same envelope is logged as a hashedrekord over
/// SHA-256(PAE(payloadType, payload)) with the envelope's signature, and
/// the bundle of that entry verifies.
async fn v2_dsse_is_refused_and_logged_as_hashedrekord(backend: Backend) {
    let server = start_on(backend, LogKeyType::Ed25519).await;
    let key = signer();
    let artifact = b"built thing";
    let statement = json!({
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{ "name": "thing", "digest": { "sha256": hex::encode(sha256(artifact)) } }],
        "predicateType": "https://example.com/test/v1",
        "predicate": {},
    });
    let payload = serde_json::to_vec(&statement).unwrap();
    let ptype = "application/vnd.in-toto+json";
    let pae = keyless_types::pae(ptype, &payload);
    let sig = key.sign(&pae).unwrap();
    let envelope = json!({ "payload": b64(&payload), "payloadType": ptype, "signatures": [{ "sig": b64(&sig), "keyid": "" }] });
    let verifier = json!({ "publicKey": { "rawBytes": b64(key.public_key().spki_der()) }, "keyDetails": "PKIX_ECDSA_P256_SHA_256" });
    let url = format!("{}/api/v2/log/entries", server.url);

    // A well-formed, correctly signed dsse 0.0.2 request: refused by type.
    let req = json!({ "dsseRequestV002": { "envelope": envelope, "verifiers": [verifier] } });
    let (status, err) = post(&url, &req).await;
    assert_eq!(status, 400, "{err}");
    assert_eq!(err["code"], 400, "{err}");
    let message = err["message"].as_str().unwrap();
    assert!(
        message.contains("invalid type, must be hashedrekord"),
        "{message}"
    );
    // Refused however it is shaped, and even next to a valid hashedrekord.
    let (status, _) = post(&url, &json!({ "dsseRequestV002": {} })).await;
    assert_eq!(status, 400);
    let (mut both, _) = hashed_rekord_v2(&key, artifact);
    both["dsseRequestV002"] = json!({ "envelope": envelope, "verifiers": [verifier] });
    let (status, err) = post(&url, &both).await;
    assert_eq!(status, 400, "{err}");
    assert!(
        err["message"]
            .as_str()
            .unwrap()
            .contains("must be hashedrekord"),
        "{err}"
    );
    assert_eq!(server.log.published().size, 0, "nothing was logged");

    // The same envelope as Rekor v2 logs it now.
    let req = json!({ "hashedRekordRequestV002": {
        "digest": b64(&sha256(&pae)),
        "signature": { "content": b64(&sig), "verifier": verifier },
    }});
    let (status, tle) = post(&url, &req).await;
    assert_eq!(status, 201, "{tle}");
    assert_eq!(
        tle["kindVersion"],
        json!({"kind": "hashedrekord", "version": "0.0.2"})
    );
    // The logged body is what a verifier rebuilds from the envelope: the
    // PAE digest and the envelope's signature, which verifies over it.
    let body: serde_json::Value = serde_json::from_slice(
        &base64::Engine::decode(
            &base64::engine::general_purpose::STANDARD,
            tle["canonicalizedBody"].as_str().unwrap(),
        )
        .unwrap(),
    )
    .unwrap();
    let logged = &body["spec"]["hashedRekordV002"];
    assert_eq!(
        logged["data"]["digest"],
        json!(b64(&sha256(&pae))),
        "{body}"
    );
    assert_eq!(logged["signature"]["content"], json!(b64(&sig)), "{body}");
    key.public_key()
        .verify_prehashed(key.signature_algorithm(), &sha256(&pae), &sig)
        .expect("the envelope signature verifies over the logged digest");
    assert_eq!(server.log.published().size, 1);
    let bundle = serde_json::to_vec(&json!({
        "mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
        "verificationMaterial": { "publicKey": { "hint": "" }, "tlogEntries": [tle] },
        "dsseEnvelope": envelope,
    }))
    .unwrap();
    verify(&server, &key, &timestamped(&bundle, &sig), artifact).expect("DSSE bundle verifies");
}

async fn v1_hashedrekord_with_set_verifies(backend: Backend) {
    let server = start_on(backend, LogKeyType::EcdsaP256).await;
    let key = signer();
    let artifact = b"v1 artifact";
    let (req, sig) = hashed_rekord_v1(&key, artifact);
    let (status, resp) = post(&format!("{}/api/v1/log/entries", server.url), &req).await;
    assert_eq!(status, 201, "{resp}");
    let (uuid, entry) = resp
        .as_object()
        .unwrap()
        .iter()
        .next()
        .map(|(k, v)| (k.clone(), v.clone()))
        .unwrap();
    assert_eq!(uuid.len(), 64);
    let tle = v1_tle(&entry);
    let bundle = message_bundle(&key, artifact, &sig, tle.clone());
    let result = verify(&server, &key, &bundle, artifact).expect("v1 bundle verifies");
    assert!(
        result.log_entries[0].integrated_time.is_some(),
        "the SET made the integrated time count"
    );

    // A forged integrated time breaks the SET.
    let mut bad = tle;
    bad["integratedTime"] = json!("1700000000");
    assert!(verify(
        &server,
        &key,
        &message_bundle(&key, artifact, &sig, bad),
        artifact
    )
    .is_err());

    // Lookups and the duplicate rule.
    let (s, by_index) = get_json(&format!("{}/api/v1/log/entries?logIndex=0", server.url)).await;
    assert_eq!(s, 200);
    assert_eq!(by_index[&uuid]["body"], entry["body"]);
    let (s, by_uuid) = get_json(&format!("{}/api/v1/log/entries/{uuid}", server.url)).await;
    assert_eq!(s, 200);
    assert_eq!(by_uuid[&uuid]["logIndex"], 0);
    let resp = reqwest::Client::new()
        .post(format!("{}/api/v1/log/entries", server.url))
        .json(&req)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 409);
    assert_eq!(
        resp.headers()["location"],
        format!("/api/v1/log/entries/{uuid}").as_str()
    );
    let (s, found) = post(
        &format!("{}/api/v1/index/retrieve", server.url),
        &json!({ "hash": format!("sha256:{}", hex::encode(sha256(artifact))) }),
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(found, json!([uuid]));
    let (_, none) = post(
        &format!("{}/api/v1/index/retrieve", server.url),
        &json!({ "hash": format!("sha256:{}", "00".repeat(32)) }),
    )
    .await;
    assert_eq!(none, json!([]));
    let (s, info) = get_json(&format!("{}/api/v1/log", server.url)).await;
    assert_eq!(s, 200);
    assert_eq!(info["treeSize"], 1);
    let pem = reqwest::get(format!("{}/api/v1/log/publicKey", server.url))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(
        keyless_crypto::PublicKey::from_pem(&pem).unwrap(),
        *server.log.public_key()
    );
}

async fn append_many(server: &Server, n: usize, tag: &str) -> Vec<String> {
    let key = signer();
    let mut checkpoints = Vec::new();
    let mut tasks = Vec::new();
    for i in 0..n {
        let (req, _) = hashed_rekord_v2(&key, format!("{tag} {i}").as_bytes());
        let url = format!("{}/api/v2/log/entries", server.url);
        tasks.push(tokio::spawn(async move { post(&url, &req).await }));
    }
    for t in tasks {
        let (status, tle) = t.await.unwrap();
        assert_eq!(status, 201, "{tle}");
        checkpoints.push(
            tle["inclusionProof"]["checkpoint"]["envelope"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    checkpoints.sort();
    checkpoints.dedup();
    checkpoints
}

async fn integrity_consistency_and_restart(backend: Backend) {
    let server = start_on(backend, LogKeyType::Ed25519).await;
    let first = append_many(&server, 300, "a").await;
    let old_cp = server.log.published().note.clone();
    let mut seen = first.clone();
    seen.extend(append_many(&server, 320, "b").await);
    assert_eq!(server.log.published().size, 620);
    assert!(seen.len() > 2, "batching produced several checkpoints");

    let report = keyless_rekor::check_log(&server.url, server.log.verifier(), &seen)
        .await
        .expect("log is intact");
    assert_eq!(report.size, 620);
    assert_eq!(report.checkpoints_checked, seen.len());

    // Consistency from a remembered checkpoint, via tiles only.
    let cp = keyless_log::verify_consistency_remote(&server.url, &old_cp, server.log.verifier())
        .await
        .unwrap();
    assert_eq!(cp.size, 620);
    for old in &seen {
        keyless_log::verify_consistency_remote(&server.url, old, server.log.verifier())
            .await
            .unwrap();
    }
    // A forged "remembered" checkpoint fails.
    assert!(keyless_log::verify_consistency_remote(
        &server.url,
        &old_cp.replacen("\n300\n", "\n301\n", 1),
        server.log.verifier()
    )
    .await
    .is_err());

    // Tiles: full tiles are immutable, partial ones are not, widths beyond the tree 404.
    let full = reqwest::get(format!("{}/tile/0/000", server.url))
        .await
        .unwrap();
    assert_eq!(full.status(), 200);
    assert!(full.headers()["cache-control"]
        .to_str()
        .unwrap()
        .contains("immutable"));
    assert_eq!(full.bytes().await.unwrap().len(), 256 * 32);
    let partial = reqwest::get(format!("{}/tile/0/002.p/108", server.url))
        .await
        .unwrap();
    assert_eq!(partial.status(), 200);
    assert!(!partial.headers()["cache-control"]
        .to_str()
        .unwrap()
        .contains("immutable"));
    assert_eq!(
        reqwest::get(format!("{}/tile/0/002.p/109", server.url))
            .await
            .unwrap()
            .status(),
        404
    );
    assert_eq!(
        reqwest::get(format!("{}/tile/0/003", server.url))
            .await
            .unwrap()
            .status(),
        404
    );
    let narrower = reqwest::get(format!("{}/tile/entries/002.p/5", server.url))
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(
        keyless_tlog::tiles::decode_entry_bundle(&narrower)
            .unwrap()
            .len(),
        5
    );

    // Restart from the same directory: same tree, same key, appends continue.
    let Server {
        store, task, log, ..
    } = server;
    let origin = log.origin().to_string();
    let before = log.published();
    task.abort();
    drop(log);
    wait_unlocked(&store).await;
    // Another origin cannot take over this log's history.
    let other = store.config("other.example");
    let err = tokio::task::spawn_blocking(move || keyless_log::open_from_config(other))
        .await
        .unwrap()
        .expect_err("another origin is refused");
    assert!(
        !matches!(
            err,
            keyless_log::LogError::Storage(keyless_log::StorageError::Locked { .. })
        ),
        "refused for its origin, not for the lock: {err}"
    );
    let server = start_with(store, LogKeyType::EcdsaP256, Some(origin)).await;
    let after = server.log.published();
    assert_eq!(
        (after.size, after.root, &after.note),
        (before.size, before.root, &before.note)
    );
    seen.extend(append_many(&server, 10, "c").await);
    let report = keyless_rekor::check_log(&server.url, server.log.verifier(), &seen)
        .await
        .expect("intact after restart");
    assert_eq!(report.size, 630);
    let (s, e) = get_json(&format!("{}/api/v1/log/entries?logIndex=5", server.url)).await;
    assert_eq!(s, 200, "{e}");
}

/// Sorted UUIDs the v1 search `q` finds.
async fn search(server: &Server, q: &serde_json::Value) -> Vec<String> {
    let (s, v) = post(&format!("{}/api/v1/index/retrieve", server.url), q).await;
    assert_eq!(s, 200, "{q} -> {v}");
    let mut found: Vec<String> = serde_json::from_value(v).unwrap();
    found.sort();
    found
}

/// Stop `server`, let `between` look at its store, start it again.
async fn restart(server: Server, between: impl FnOnce(&Store)) -> Server {
    let Server {
        store, task, log, ..
    } = server;
    let origin = log.origin().to_string();
    task.abort();
    drop(log);
    wait_unlocked(&store).await;
    between(&store);
    start_with(store, LogKeyType::Ed25519, Some(origin)).await
}

/// The PostgreSQL search index as the database has it: its covered size,
/// whether the marker row (key [`MARKER`]) is there, and whether a store
/// holds its advisory lock.
async fn pg_search_state(store: &Store) -> (i64, bool, bool) {
    let url = store.pg.as_ref().expect("a PostgreSQL store").url();
    let (client, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(conn);
    let row = client
        .query_one(
            "SELECT (SELECT size FROM keyless_log_search_index_size WHERE id = 0), \
             EXISTS (SELECT 1 FROM keyless_log_search_index WHERE key = $1), \
             EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND classid = 0 \
                 AND objid = 'keyless_log_search_index_size'::regclass::oid AND objsubid = 1)",
            &[&MARKER],
        )
        .await
        .unwrap();
    (row.get(0), row.get(1), row.get(2))
}

/// A key no entry has: a row under it survives only if nobody clears.
const MARKER: i64 = 0x5eed;

async fn pg_execute(store: &Store, sql: &str) {
    let url = store.pg.as_ref().expect("a PostgreSQL store").url();
    let (client, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(conn);
    client.batch_execute(sql).await.unwrap();
}

/// Wait until the stopped log's search store has written its buffer and
/// let go of the index (it goes when the aborted server drops its router),
/// so the next search opens the table rather than a store in memory.
async fn pg_search_released(store: &Store) -> i64 {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let (size, _, locked) = pg_search_state(store).await;
        if !locked {
            return size;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the old search store never let go"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// Search by signer goes through the search index alone (artifact
/// hashes are also found by the entries' metadata). On both backends its
/// keys are stored and its covered size survives a restart; a search index
/// that claims more than the log is rebuilt, never believed.
async fn v1_search_survives_reopen(backend: Backend) {
    let pg = backend == Backend::Postgres;
    let server = start_on(backend, LogKeyType::Ed25519).await;
    let key = signer();
    let q = json!({ "publicKey": { "format": "x509", "content": b64(key.public_key().to_pem().as_bytes()) } });
    let sign = |server: &Server, tag: &'static str| {
        let url = format!("{}/api/v2/log/entries", server.url);
        let key = &key;
        async move {
            for i in 0..3 {
                let (req, _) = hashed_rekord_v2(key, format!("{tag} {i}").as_bytes());
                let (status, tle) = post(&url, &req).await;
                assert_eq!(status, 201, "{tle}");
            }
        }
    };
    sign(&server, "before").await;
    append_many(&server, 300, "other").await;
    let before = search(&server, &q).await;
    assert_eq!(before.len(), 3);

    let server = restart(server, |_| {}).await;
    if backend == Backend::Files {
        let manifest = server.store.dir.path().join("index/SEARCH");
        let text = std::fs::read_to_string(&manifest).expect("the search index is on disk");
        assert!(text.contains("\nsize 303\n"), "{text}");
    }
    if pg {
        // Less than a flush batch: written when the old store was dropped.
        assert_eq!(pg_search_released(&server.store).await, 303);
        pg_execute(
            &server.store,
            &format!("INSERT INTO keyless_log_search_index (key, idx) VALUES ({MARKER}, 0)"),
        )
        .await;
    }
    assert_eq!(search(&server, &q).await, before);
    if pg {
        // The new log's store has the table (not a store in memory) and
        // continued from 303 rather than clearing it.
        assert_eq!(pg_search_state(&server.store).await, (303, true, true));
    }
    sign(&server, "after").await;
    let after = search(&server, &q).await;
    assert_eq!(after.len(), 6);
    assert!(before.iter().all(|u| after.contains(u)));

    // A well-formed manifest (or size row) that covers more than the log,
    // with no runs (or rows) past it: believed, it would find nothing.
    let server = restart(server, |store| {
        if backend == Backend::Files {
            let manifest = store.dir.path().join("index/SEARCH");
            assert!(manifest.exists());
            std::fs::write(&manifest, "keyless-log index v1\nsize 999999\nnext 0\n").unwrap();
        }
    })
    .await;
    if pg {
        assert_eq!(pg_search_released(&server.store).await, 306);
        pg_execute(
            &server.store,
            "UPDATE keyless_log_search_index_size SET size = 999999",
        )
        .await;
    }
    assert_eq!(search(&server, &q).await, after);
    if pg {
        // Cleared (the marker is gone), re-indexed into the buffer.
        assert_eq!(pg_search_state(&server.store).await, (0, false, true));
        let server = restart(server, |_| {}).await;
        assert_eq!(pg_search_released(&server.store).await, 306);
        assert_eq!(search(&server, &q).await, after);
    }
}

/// The search index's own PostgreSQL connection comes back after the
/// server drops it (as on a restart or a failover): the first search
/// after every connection of the log was terminated answers in full, from
/// the table again (not from a store rebuilt in memory), and entries
/// added afterwards are found too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v1_search_reconnects_after_its_connection_is_terminated() {
    let server = start_on(Backend::Postgres, LogKeyType::Ed25519).await;
    let key = signer();
    let q = json!({ "publicKey": { "format": "x509", "content": b64(key.public_key().to_pem().as_bytes()) } });
    let url = format!("{}/api/v2/log/entries", server.url);
    let sign = |tag: &'static str| {
        let (key, url) = (&key, url.clone());
        async move {
            for i in 0..3 {
                let (req, _) = hashed_rekord_v2(key, format!("{tag} {i}").as_bytes());
                let (status, tle) = post(&url, &req).await;
                assert_eq!(status, 201, "{tle}");
            }
        }
    };
    sign("before").await;
    let before = search(&server, &q).await;
    assert_eq!(before.len(), 3);
    assert!(
        pg_search_state(&server.store).await.2,
        "the store holds its lock"
    );

    pg_execute(
        &server.store,
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE pid <> pg_backend_pid() AND datname = current_database()",
    )
    .await;
    assert_eq!(search(&server, &q).await, before);
    let (_, _, locked) = pg_search_state(&server.store).await;
    assert!(locked, "the reopened store is the table, not one in memory");

    sign("after").await;
    let after = search(&server, &q).await;
    assert_eq!(after.len(), 6);
    assert!(before.iter().all(|u| after.contains(u)));
}
