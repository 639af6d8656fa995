//! `keyless monitor`'s v1 path against keyless's own log (keyless-rekor,
//! served here over real HTTP with its tiles hidden, so the pass must use
//! the Rekor v1 API): the entries are read ten per request through
//! `POST /api/v1/log/entries/retrieve`, and the pass reports exactly what
//! it reports when the log is read one `GET ?logIndex=` per entry.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::Request;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use keyless_crypto::{sha256, KeyAlgorithm, SigningKey};
use keyless_log::{Log, LogConfig};
use keyless_monitor::{Fetcher, Found, LogKind, Matcher, Monitor};
use keyless_tlog::{Checkpoint, NoteVerifier};
use serde_json::json;

/// The log's origin: its checkpoints' signer name.
const ORIGIN: &str = "own-log.test";

/// A keyless-rekor log behind a layer that records every request, hides
/// the tiles (404) and, while `hide_batch` is set, answers the batch read
/// 405 as a log without it would.
struct Served {
    url: String,
    log: Log,
    seen: Arc<Mutex<Vec<String>>>,
    hide_batch: Arc<AtomicBool>,
    _dir: tempfile::TempDir,
}

async fn serve() -> Served {
    let dir = tempfile::tempdir().unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let mut config = LogConfig::new(dir.path(), ORIGIN);
    config.batch_interval = Duration::from_millis(20);
    let log = tokio::task::spawn_blocking(move || keyless_log::open_from_config(config))
        .await
        .unwrap()
        .unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let hide_batch = Arc::new(AtomicBool::new(false));
    let (s, h) = (seen.clone(), hide_batch.clone());
    let layer = axum::middleware::from_fn(move |req: Request, next: Next| {
        let (seen, hide_batch) = (s.clone(), h.clone());
        async move {
            let path = req.uri().path().to_string();
            let line = format!("{} {}", req.method(), req.uri());
            seen.lock().unwrap().push(line);
            if path == "/checkpoint" || path.starts_with("/tile/") {
                return StatusCode::NOT_FOUND.into_response();
            }
            if path == "/api/v1/log/entries/retrieve" && hide_batch.load(Ordering::SeqCst) {
                return StatusCode::METHOD_NOT_ALLOWED.into_response();
            }
            let resp: Response = next.run(req).await;
            resp
        }
    });
    let router = keyless_rekor::router(log.clone()).layer(layer);
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    Served {
        url,
        log,
        seen,
        hide_batch,
        _dir: dir,
    }
}

impl Served {
    /// Log a v1 hashedrekord entry of `artifact` signed with `key`.
    async fn append(&self, key: &SigningKey, artifact: &[u8]) {
        let req = json!({
            "apiVersion": "0.0.1", "kind": "hashedrekord",
            "spec": {
                "data": { "hash": { "algorithm": "sha256", "value": hex::encode(sha256(artifact)) } },
                "signature": {
                    "content": STANDARD.encode(key.sign(artifact).unwrap()),
                    "publicKey": { "content": STANDARD.encode(key.public_key().to_pem()) },
                },
            },
        });
        let resp = reqwest::Client::new()
            .post(format!("{}/api/v1/log/entries", self.url))
            .json(&req)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), 201);
    }

    fn count(&self, prefix: &str) -> usize {
        let seen = self.seen.lock().unwrap();
        seen.iter().filter(|l| l.starts_with(prefix)).count()
    }

    fn forget(&self) {
        self.seen.lock().unwrap().clear();
    }

    /// One monitor pass with state file `state`, watching `key`: the
    /// matches' (index, leaf hash) and the entries read.
    async fn pass(&self, state: &std::path::Path, key: &SigningKey) -> (Vec<(u64, String)>, u64) {
        let monitor = Monitor {
            fetch: Fetcher::new(&self.url).unwrap(),
            verifier: NoteVerifier::new(ORIGIN, self.log.public_key().clone()).unwrap(),
            matcher: Matcher::new(None, None, None, vec![sha256(key.public_key().spki_der())]),
            state_path: state.to_path_buf(),
            from_index: Some(0),
            stop_after: None,
            kind: LogKind::Rekor,
        };
        let mut found = Vec::new();
        let progress = monitor
            .run_once(&mut |f: Found<'_>, _: &Checkpoint| {
                if let Found::Entry(hit) = f {
                    found.push((hit.index, hex::encode(hit.leaf)));
                }
                Ok(())
            })
            .await
            .unwrap();
        assert_eq!(progress.undecodable, 0);
        (found, progress.entries_read)
    }
}

const BATCH: &str = "POST /api/v1/log/entries/retrieve";
const SINGLE: &str = "GET /api/v1/log/entries?logIndex=";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_monitor_reads_its_own_log_ten_entries_per_request() {
    let served = serve().await;
    let watched = SigningKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
    let other = SigningKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
    for i in 0..25u32 {
        let key = if i % 3 == 0 { &watched } else { &other };
        served.append(key, format!("artifact {i}").as_bytes()).await;
    }
    let states = tempfile::tempdir().unwrap();

    // With the batch read: 25 entries in 3 requests, none one by one.
    served.forget();
    let (batched, read) = served.pass(&states.path().join("batched"), &watched).await;
    assert_eq!(read, 25);
    assert_eq!(served.count("GET /checkpoint"), 1, "tiles were tried first");
    assert_eq!(served.count(BATCH), 3);
    assert_eq!(served.count(SINGLE), 0);
    let indices: Vec<u64> = batched.iter().map(|(i, _)| *i).collect();
    assert_eq!(indices, (0..25).step_by(3).collect::<Vec<_>>());

    // The same log read one entry per request (batch read hidden): the
    // same matches, with the same leaf hashes.
    served.hide_batch.store(true, Ordering::SeqCst);
    served.forget();
    let (single, read) = served.pass(&states.path().join("single"), &watched).await;
    assert_eq!(read, 25);
    assert_eq!(served.count(BATCH), 1, "asked once, then one by one");
    assert_eq!(served.count(SINGLE), 25);
    assert_eq!(single, batched);

    // Resuming from the state: only the new entries, 12 in 2 requests.
    served.hide_batch.store(false, Ordering::SeqCst);
    for i in 25..37u32 {
        let key = if i % 3 == 0 { &watched } else { &other };
        served.append(key, format!("artifact {i}").as_bytes()).await;
    }
    served.forget();
    let (next, read) = served.pass(&states.path().join("batched"), &watched).await;
    assert_eq!(read, 12);
    assert_eq!(served.count(BATCH), 2);
    assert_eq!(served.count(SINGLE), 0);
    let indices: Vec<u64> = next.iter().map(|(i, _)| *i).collect();
    assert_eq!(indices, vec![27, 30, 33, 36]);
}
