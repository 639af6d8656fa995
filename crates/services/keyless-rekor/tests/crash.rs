//! Crash safety: the log server runs as a child process and is SIGKILLed
//! over and over while a client appends. Every acknowledged entry must
//! survive with a valid proof, and every checkpoint seen before a crash
//! must be a prefix of the tree after it.

mod support;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use keyless_tlog::{leaf_hash, verify_inclusion, NoteVerifier};
use serde_json::Value;
use support::*;

both_backends!(acknowledged_entries_survive_sigkill);

fn spawn_server(store: &Store, origin: &str) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_keyless-log-server"))
        .args(store.args())
        .args(["--origin", origin])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("server starts");
    let stdout = child.stdout.take().unwrap();
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).unwrap();
    let addr = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected {line:?}"))
        .to_string();
    (child, format!("http://{addr}"))
}

async fn acknowledged_entries_survive_sigkill(backend: Backend) {
    let store = tokio::task::spawn_blocking(move || Store::new(backend))
        .await
        .unwrap();
    let origin = "crash.test";
    let key = signer();
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let mut acked: Vec<(u64, Vec<u8>)> = Vec::new();
    let mut seen: Vec<String> = Vec::new();
    let started = Instant::now();
    let mut kills = 0;
    let mut n = 0u64;
    while kills < 22 {
        let (mut child, url) = spawn_server(&store, origin);
        // Append concurrently for a random-ish short while, then kill.
        let deadline = Instant::now() + Duration::from_millis(150 + (kills as u64 * 37) % 200);
        while Instant::now() < deadline {
            let mut tasks = Vec::new();
            for _ in 0..8 {
                n += 1;
                let (req, _) = hashed_rekord_v2(&key, format!("entry {n}").as_bytes());
                let c = client.clone();
                let u = format!("{url}/api/v2/log/entries");
                tasks.push(tokio::spawn(async move {
                    let r = c.post(u).json(&req).send().await.ok()?;
                    if r.status().as_u16() != 201 {
                        return None;
                    }
                    r.json::<Value>().await.ok()
                }));
            }
            for t in tasks {
                if let Ok(Some(tle)) = t.await {
                    let index: u64 = tle["logIndex"].as_str().unwrap().parse().unwrap();
                    let body =
                        keyless_types::b64::decode(tle["canonicalizedBody"].as_str().unwrap())
                            .unwrap();
                    seen.push(
                        tle["inclusionProof"]["checkpoint"]["envelope"]
                            .as_str()
                            .unwrap()
                            .to_string(),
                    );
                    acked.push((index, body));
                }
            }
        }
        // Fire more requests and kill mid-flight.
        for _ in 0..4 {
            n += 1;
            let (req, _) = hashed_rekord_v2(&key, format!("entry {n}").as_bytes());
            let c = client.clone();
            let u = format!("{url}/api/v2/log/entries");
            tokio::spawn(async move {
                let _ = c.post(u).json(&req).send().await;
            });
        }
        // Vary the moment of death so some kills land inside a commit.
        tokio::time::sleep(Duration::from_millis((kills as u64 * 23) % 130)).await;
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        kills += 1;
    }
    assert!(
        acked.len() > 50,
        "only {} entries acknowledged",
        acked.len()
    );

    // Restart and check everything.
    let (mut child, url) = spawn_server(&store, origin);
    let pem = reqwest::get(format!("{url}/api/v1/log/publicKey"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let verifier =
        NoteVerifier::new(origin, keyless_crypto::PublicKey::from_pem(&pem).unwrap()).unwrap();
    seen.sort();
    seen.dedup();
    let report = keyless_rekor::check_log(&url, &verifier, &seen)
        .await
        .expect("tree consistent with every checkpoint seen");
    for (index, body) in &acked {
        let (s, v) = get_json(&format!("{url}/api/v1/log/entries?logIndex={index}")).await;
        assert_eq!(s, 200, "acknowledged entry {index} missing: {v}");
        let (_, e) = v.as_object().unwrap().iter().next().unwrap();
        assert_eq!(
            keyless_types::b64::decode(e["body"].as_str().unwrap()).unwrap(),
            *body,
            "entry {index} changed"
        );
        let p = &e["verification"]["inclusionProof"];
        let hashes: Vec<[u8; 32]> = p["hashes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| {
                hex::decode(h.as_str().unwrap())
                    .unwrap()
                    .try_into()
                    .unwrap()
            })
            .collect();
        let root: [u8; 32] = hex::decode(p["rootHash"].as_str().unwrap())
            .unwrap()
            .try_into()
            .unwrap();
        verify_inclusion(
            *index,
            p["treeSize"].as_u64().unwrap(),
            &leaf_hash(body),
            &hashes,
            &root,
        )
        .unwrap();
    }
    child.kill().unwrap();
    child.wait().unwrap();
    eprintln!(
        "{kills} kills, {} acknowledged, final size {}, {} checkpoints checked, {:?}",
        acked.len(),
        report.size,
        report.checkpoints_checked,
        started.elapsed()
    );
}
