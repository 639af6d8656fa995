//! PostgreSQL failover (issue 18, point 6) over HTTP: `keyless server log
//! --postgres "host=127.0.0.1,127.0.0.1 port=P1,P2 …
//! target_session_attrs=read-write"` on a primary with a synchronous
//! standby (Debian's PostgreSQL, started on loopback by keyless-testkit).
//! Under concurrent submissions the primary is SIGKILLed and the standby
//! promoted; the server must keep running and append again without a
//! restart, and then every acknowledged entry has an inclusion proof
//! against the final checkpoint, and every checkpoint read before the
//! failover is consistent with it.

mod support;

use std::collections::BTreeMap;
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use keyless_crypto::{sha256, KeyAlgorithm, SigningKey};
use keyless_testkit::pg_failover::PgPair;
use support::*;

const CLIENTS: usize = 6;

/// A hashedrekord v0.0.2 request for `artifact`, signed with `key`.
fn request(key: &SigningKey, artifact: &str) -> Vec<u8> {
    let spki = B64.encode(key.public_key().spki_der());
    let sig = key.sign(artifact.as_bytes()).expect("sign");
    serde_json::to_vec(&serde_json::json!({ "hashedRekordRequestV002": {
        "digest": B64.encode(sha256(artifact.as_bytes())),
        "signature": { "content": B64.encode(sig), "verifier": {
            "publicKey": { "rawBytes": spki }, "keyDetails": "PKIX_ECDSA_P256_SHA_256" } },
    }}))
    .expect("json")
}

/// Size and root of the log's checkpoint.
fn checkpoint(port: u16) -> Option<(u64, [u8; 32])> {
    let text = http_get(&format!("http://127.0.0.1:{port}/checkpoint"));
    let mut lines = text.lines();
    let size = lines.nth(1)?.parse().ok()?;
    let root = B64.decode(lines.next()?).ok()?.try_into().ok()?;
    Some((size, root))
}

fn hash32(v: &serde_json::Value) -> [u8; 32] {
    let bytes = hex::decode(v.as_str().expect("hex string")).expect("hex");
    bytes.try_into().expect("32 bytes")
}

fn hashes(v: &serde_json::Value) -> Vec<[u8; 32]> {
    v.as_array().expect("hashes").iter().map(hash32).collect()
}

#[test]
fn server_log_rides_out_a_postgres_failover() {
    let pair = PgPair::start();
    let dir = temp_dir("pg-failover");
    let port = free_base_port();
    let stderr = dir.join("server.log");
    let mut child = keyless()
        .args(["server", "log", "--listen", &format!("127.0.0.1:{port}")])
        .arg("--data-dir")
        .arg(dir.join("log"))
        .args(["--postgres", &pair.failover_url()])
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&stderr).expect("stderr file"))
        .spawn()
        .expect("start keyless server log");
    let deadline = Instant::now() + Duration::from_secs(60);
    while !http_ok(&format!("http://127.0.0.1:{port}/checkpoint")) {
        assert!(Instant::now() < deadline, "the log never answered");
        std::thread::sleep(Duration::from_millis(50));
    }

    // index -> canonicalized body of every 201.
    let acked = Arc::new(Mutex::new(BTreeMap::<u64, Vec<u8>>::new()));
    let refused = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let clients: Vec<_> = (0..CLIENTS)
        .map(|c| {
            let (acked, refused, stop) = (acked.clone(), refused.clone(), stop.clone());
            std::thread::spawn(move || {
                let key = SigningKey::generate(KeyAlgorithm::EcdsaP256).expect("key");
                let mut n = 0;
                while !stop.load(Ordering::Relaxed) {
                    n += 1;
                    let body = request(&key, &format!("failover {c} {n} {}", std::process::id()));
                    let url = format!("http://127.0.0.1:{port}/api/v2/log/entries");
                    match http_exchange("POST", &url, &body, Duration::from_secs(30)) {
                        Some((201, text)) => {
                            let entry: serde_json::Value =
                                serde_json::from_str(&text).expect("entry JSON");
                            let index: u64 = entry["logIndex"]
                                .as_str()
                                .and_then(|s| s.parse().ok())
                                .or_else(|| entry["logIndex"].as_u64())
                                .expect("logIndex");
                            let canonical = B64
                                .decode(entry["canonicalizedBody"].as_str().expect("body"))
                                .expect("base64 body");
                            let old = acked.lock().expect("lock").insert(index, canonical);
                            assert!(old.is_none(), "index {index} acknowledged twice");
                        }
                        _ => {
                            refused.fetch_add(1, Ordering::Relaxed);
                            std::thread::sleep(Duration::from_millis(20));
                        }
                    }
                }
            })
        })
        .collect();
    let count = || acked.lock().expect("lock").len();
    let mut seen = Vec::new();
    let wait_for = |n: usize, what: &str, seen: &mut Vec<(u64, [u8; 32])>| {
        let deadline = Instant::now() + Duration::from_secs(90);
        while count() < n {
            assert!(
                Instant::now() < deadline,
                "{what}: {} acknowledged",
                count()
            );
            seen.extend(checkpoint(port));
            std::thread::sleep(Duration::from_millis(50));
        }
    };
    wait_for(200, "before the failover", &mut seen);
    pair.kill_primary();
    let at_kill = count();
    std::thread::sleep(Duration::from_millis(500));
    pair.promote();
    let promoted_at = count();
    wait_for(promoted_at + 200, "after the promotion", &mut seen);
    stop.store(true, Ordering::Relaxed);
    for c in clients {
        c.join().expect("client thread");
    }
    let server_log = std::fs::read_to_string(&stderr).unwrap_or_default();
    assert!(
        child.try_wait().expect("wait").is_none(),
        "the server exited\n{server_log}"
    );
    assert!(
        refused.load(Ordering::Relaxed) > 0,
        "no submission was refused while there was no primary"
    );

    let (size, root) = checkpoint(port).expect("final checkpoint");
    let acked = std::mem::take(&mut *acked.lock().expect("lock"));
    assert!(size as usize >= acked.len(), "{size} < {}", acked.len());
    for (index, canonical) in &acked {
        let url = format!("http://127.0.0.1:{port}/api/v1/log/entries?logIndex={index}");
        let text = http_get(&url);
        let v: serde_json::Value =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
        let (_, entry) = v
            .as_object()
            .and_then(|m| m.iter().next())
            .expect("one entry");
        let body = B64
            .decode(entry["body"].as_str().expect("body"))
            .expect("base64 body");
        assert_eq!(&body, canonical, "entry {index} changed");
        let proof = &entry["verification"]["inclusionProof"];
        let tree_size = proof["treeSize"].as_u64().expect("treeSize");
        let proof_root = hash32(&proof["rootHash"]);
        keyless_tlog::verify_inclusion(
            *index,
            tree_size,
            &keyless_tlog::leaf_hash(&body),
            &hashes(&proof["hashes"]),
            &proof_root,
        )
        .unwrap_or_else(|e| panic!("entry {index}: {e}"));
        if tree_size == size {
            assert_eq!(proof_root, root, "entry {index}'s proof root");
        }
    }
    seen.sort();
    seen.dedup();
    for (old_size, old_root) in seen.iter().filter(|(s, _)| *s > 0 && *s <= size) {
        let url = format!(
            "http://127.0.0.1:{port}/api/v1/log/proof?firstSize={old_size}&lastSize={size}"
        );
        let text = http_get(&url);
        let v: serde_json::Value =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
        assert_eq!(hash32(&v["rootHash"]), root, "{text}");
        keyless_tlog::verify_consistency(*old_size, size, old_root, &root, &hashes(&v["hashes"]))
            .unwrap_or_else(|e| panic!("checkpoint {old_size} -> {size}: {e}"));
    }
    eprintln!(
        "{} acknowledged ({at_kill} before the kill, {} after the promotion), {} refused, \
         final size {size}, {} earlier checkpoints consistent",
        acked.len(),
        acked.len() - promoted_at,
        refused.load(Ordering::Relaxed),
        seen.len()
    );
    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(&dir);
}
