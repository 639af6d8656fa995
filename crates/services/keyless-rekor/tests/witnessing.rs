//! The log asks real witnesses (keyless-witness over loopback HTTP) to
//! cosign its checkpoints and serves them with the cosignatures appended
//! at /checkpoint; a witness listed with the wrong vkey adds nothing; a
//! log-side restart (no memory of what the witness cosigned) recovers
//! through the witness's 409.

use std::sync::Arc;
use std::time::{Duration, Instant};

use keyless_log::{Log, LogConfig, Submission};
use keyless_rekor::witnessing::{attach, WitnessEndpoint, Witnessing};
use keyless_rekor::{router_with, Limits};
use keyless_tlog::{Checkpoint, SignedNote};
use keyless_witness::{LogEntry, Witness, WitnessConfig};

const ORIGIN: &str = "example.test/log";

async fn start_witness(name: &str, dir: &std::path::Path, log: &Log) -> WitnessEndpoint {
    start_witness_for(name, dir, log.verifier()).await
}

async fn start_witness_for(
    name: &str,
    dir: &std::path::Path,
    log_key: &keyless_tlog::NoteVerifier,
) -> WitnessEndpoint {
    let config = WitnessConfig {
        name: name.into(),
        logs: vec![LogEntry {
            origin: ORIGIN.into(),
            vkey: keyless_witness::vkey::note_vkey(log_key).unwrap(),
            public_key_pem: None,
        }],
    };
    let witness = Arc::new(Witness::open(dir, &config).unwrap());
    let vkey = witness.vkey();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(keyless_witness::serve(listener, witness));
    WitnessEndpoint { url, vkey }
}

async fn serve_log(log: &Log, witnesses: Vec<WitnessEndpoint>) -> String {
    let app = attach(
        router_with(log.clone(), Limits::default()),
        Witnessing::start(log.clone(), witnesses),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/checkpoint", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

async fn grow(log: &Log, n: u8) {
    for i in 0..n {
        let body = format!("entry {} {i}", log.published().size).into_bytes();
        log.submit(Submission {
            body,
            lookup_key: None,
        })
        .await
        .unwrap();
    }
}

/// Poll `url` until it serves a checkpoint of `size` with a cosignature
/// from every witness in `expect`; check each verifies and that there is
/// nothing else but the log's own line.
async fn await_cosigned(url: &str, size: u64, expect: &[&WitnessEndpoint]) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let text = reqwest::get(url).await.unwrap().text().await.unwrap();
        let note = SignedNote::parse(&text).unwrap();
        let cp = Checkpoint::parse(note.body()).unwrap();
        if cp.size == size && note.signatures().len() == 1 + expect.len() {
            for w in expect {
                let ok = note
                    .signatures()
                    .iter()
                    .any(|s| keyless_witness::verify_cosignature(&w.vkey, note.body(), s).is_ok());
                assert!(ok, "no valid cosignature from {} in {text}", w.url);
            }
            return text;
        }
        assert!(
            Instant::now() < deadline,
            "never cosigned at size {size}: {text}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn checkpoints_are_served_with_cosignatures() {
    let dirs: Vec<_> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
    let mut config = LogConfig::new(dirs[0].path(), ORIGIN);
    config.batch_linger = Duration::ZERO;
    let log = Log::open_files(config).unwrap();
    let a = start_witness("witness.test/a", dirs[1].path(), &log).await;
    let b = start_witness("witness.test/b", dirs[2].path(), &log).await;
    // Listed with B's vkey but A's URL: A's lines do not verify with it.
    let wrong = WitnessEndpoint {
        url: a.url.clone(),
        vkey: b.vkey.clone(),
    };
    let url = serve_log(&log, vec![a.clone(), b.clone(), wrong]).await;
    // The explorer page reads the configured vkeys, in order.
    let listed: serde_json::Value =
        reqwest::get(url.replace("/checkpoint", "/explorer/api/witnesses"))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
    assert_eq!(
        listed,
        serde_json::json!({"witnesses": [
            {"name": "witness.test/a", "vkey": a.vkey},
            {"name": "witness.test/b", "vkey": b.vkey},
            {"name": "witness.test/b", "vkey": b.vkey},
        ]})
    );

    grow(&log, 3).await;
    await_cosigned(&url, 3, &[&a, &b]).await;
    // Growth: each witness is asked from size 3 with a consistency proof.
    grow(&log, 4).await;
    await_cosigned(&url, 7, &[&a, &b]).await;

    // A second log front end that knows nothing of what A cosigned (as
    // after a restart) sends old 0, gets 409 with size 7, and retries.
    let url2 = serve_log(&log, vec![a.clone()]).await;
    await_cosigned(&url2, 7, &[&a]).await;
    grow(&log, 2).await;
    await_cosigned(&url2, 9, &[&a]).await;
    await_cosigned(&url, 9, &[&a, &b]).await;

    // The rest of the API is untouched by the checkpoint layer.
    let tile = url.replace("/checkpoint", "/tile/0/000.p/9");
    let resp = reqwest::get(&tile).await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.bytes().await.unwrap().len(), 9 * 32);
}

/// The wiring of `serve`: a `RekorConfig` with witnesses serves its
/// (empty) tree's checkpoint with their cosignature.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_asks_the_configured_witnesses() {
    let log_dir = tempfile::tempdir().unwrap();
    let witness_dir = tempfile::tempdir().unwrap();
    // The key serve will load, made first so the witness can trust it.
    let key = keyless_log::keys::load_or_generate(log_dir.path(), keyless_log::LogKeyType::Ed25519)
        .unwrap();
    let log_key = keyless_tlog::NoteVerifier::new(ORIGIN, key.public_key().clone()).unwrap();
    let w = start_witness_for("witness.test/a", witness_dir.path(), &log_key).await;

    let mut config = keyless_rekor::RekorConfig::new(LogConfig::new(log_dir.path(), ORIGIN));
    config.witnesses = vec![w.clone()];
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/checkpoint", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(keyless_rekor::serve_with_shutdown(
        config,
        listener,
        async {
            let _ = stopped.await;
        },
    ));
    await_cosigned(&url, 0, &[&w]).await;
    await_cosigned(&url.replace("/checkpoint", "/api/v2/checkpoint"), 0, &[&w]).await;
    let _ = stop.send(());
    server.await.unwrap().unwrap();
}

/// A witness that is down when a checkpoint is published is asked again
/// (after the retry delay) without the log having to grow.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_witness_that_was_down_is_asked_again() {
    let log_dir = tempfile::tempdir().unwrap();
    let witness_dir = tempfile::tempdir().unwrap();
    let mut config = LogConfig::new(log_dir.path(), ORIGIN);
    config.batch_linger = Duration::ZERO;
    let log = Log::open_files(config).unwrap();
    grow(&log, 2).await;

    let witness_config = WitnessConfig {
        name: "witness.test/late".into(),
        logs: vec![LogEntry {
            origin: ORIGIN.into(),
            vkey: keyless_witness::vkey::note_vkey(log.verifier()).unwrap(),
            public_key_pem: None,
        }],
    };
    let witness = Arc::new(Witness::open(witness_dir.path(), &witness_config).unwrap());
    // A free port nobody listens on yet: connections are refused.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let endpoint = WitnessEndpoint {
        url: format!("http://127.0.0.1:{port}"),
        vkey: witness.vkey(),
    };
    let url = serve_log(&log, vec![endpoint.clone()]).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let text = reqwest::get(&url).await.unwrap().text().await.unwrap();
    assert_eq!(SignedNote::parse(&text).unwrap().signatures().len(), 1);

    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .unwrap();
    tokio::spawn(keyless_witness::serve(listener, witness));
    await_cosigned(&url, 2, &[&endpoint]).await;
}
