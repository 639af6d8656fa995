//! `keyless witness`: started as a process with a configuration naming a
//! real keyless log (keyless-log core on a temporary directory), it prints
//! its vkey and cosigns that log's checkpoint over HTTP; a bad
//! configuration stops it before it listens.

mod support;

use std::process::Stdio;
use std::time::Duration;

use keyless_log::{Log, LogConfig, Submission};
use keyless_tlog::SignedNote;
use support::*;

#[test]
fn witness_prints_its_vkey_and_cosigns_a_real_checkpoint() {
    let dir = temp_dir("witness");
    let mut log_config = LogConfig::new(dir.join("log"), "example.test/log");
    log_config.batch_linger = Duration::ZERO;
    let log = Log::open_files(log_config).unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    for i in 0..3u8 {
        rt.block_on(log.submit(Submission {
            body: vec![i; 10],
            lookup_key: None,
        }))
        .unwrap();
    }
    let cp = log.published();
    assert_eq!(cp.size, 3);

    let log_vkey = keyless_witness::vkey::note_vkey(log.verifier()).unwrap();
    let port = free_base_port();
    let witness = WitnessProcess::start(
        &dir,
        &serde_json::json!({
            "name": "witness.test/w1",
            "logs": [{"origin": "example.test/log", "vkey": log_vkey}],
        }),
        port,
    );
    let vkey = witness.vkey.clone();
    assert!(vkey.starts_with("witness.test/w1+"), "{vkey:?}");

    let body = keyless_witness::request::encode(0, &[], &cp.note);
    let (status, answer) = http_exchange(
        "POST",
        &format!("http://127.0.0.1:{port}/add-checkpoint"),
        body.as_bytes(),
        Duration::from_secs(10),
    )
    .expect("an answer");
    assert_eq!(status, 200, "{answer}");
    let note = SignedNote::parse(&format!("{}{answer}", cp.note)).unwrap();
    let line = &note.signatures()[1];
    keyless_witness::verify_cosignature(&vkey, note.body(), line).unwrap();
    witness.stop();

    // A vkey that does not match its name is refused at start-up.
    let config = dir.join("witness.json");
    let bad = log_vkey.replacen("example.test/log", "example.test/other", 1);
    std::fs::write(
        &config,
        serde_json::json!({"name": "w", "logs": [{"origin": "o", "vkey": bad}]}).to_string(),
    )
    .unwrap();
    let o = keyless()
        .args(["witness", "--config"])
        .arg(&config)
        .arg("--data-dir")
        .arg(dir.join("witness"))
        .output()
        .unwrap();
    assert!(!o.status.success());
    assert!(text(&o).contains("key ID"), "{}", text(&o));
    let _ = std::fs::remove_dir_all(&dir);
}

/// `keyless server log --witness URL=VKEY` next to `keyless witness`, both
/// as processes: the log's /checkpoint carries the witness's cosignature;
/// a malformed --witness is refused before anything starts.
#[test]
fn server_log_serves_checkpoints_cosigned_by_keyless_witness() {
    let dir = temp_dir("witness-server-log");
    let origin = "example.test/log";
    // The key `keyless server log` will load, made first so the witness
    // can be configured with it.
    std::fs::create_dir_all(dir.join("log")).unwrap();
    let key =
        keyless_log::keys::load_or_generate(&dir.join("log"), keyless_log::LogKeyType::Ed25519)
            .unwrap();
    let log_key = keyless_tlog::NoteVerifier::new(origin, key.public_key().clone()).unwrap();
    let port = free_base_port();
    let witness = WitnessProcess::start(
        &dir,
        &serde_json::json!({
            "name": "witness.test/w1",
            "logs": [{"origin": origin, "vkey": keyless_witness::vkey::note_vkey(&log_key).unwrap()}],
        }),
        port,
    );
    let vkey = witness.vkey.clone();

    let log_port = port + 1;
    let mut server = keyless()
        .args([
            "server",
            "log",
            "--listen",
            &format!("127.0.0.1:{log_port}"),
            "--origin",
            origin,
            "--witness",
            &format!("http://127.0.0.1:{port}={vkey}"),
            "--data-dir",
        ])
        .arg(dir.join("log"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start keyless server log");
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let note = loop {
        let text = http_get(&format!("http://127.0.0.1:{log_port}/checkpoint"));
        if let Ok(note) = SignedNote::parse(&text) {
            if note.signatures().len() == 2 {
                break note;
            }
        }
        assert!(
            std::time::Instant::now() < deadline,
            "never cosigned: {text:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    note.verify(&log_key).unwrap();
    let cosigned = note
        .signatures()
        .iter()
        .any(|s| keyless_witness::verify_cosignature(&vkey, note.body(), s).is_ok());
    assert!(cosigned, "{}", note.to_text());
    // Both count the cosignature in /metrics (Prometheus text, parsed).
    let count = |url: &str, name: &str, labels: &[(&str, &str)]| {
        let text = http_get(url);
        let samples = keyless_serve::scrape::parse(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
        keyless_serve::scrape::sum(&samples, name, labels)
    };
    let witness_url = format!("http://127.0.0.1:{port}");
    assert!(
        count(
            &format!("{witness_url}/metrics"),
            "keyless_witness_cosignatures_total",
            &[("origin", origin)]
        ) >= 1.0
    );
    assert!(
        count(
            &format!("http://127.0.0.1:{log_port}/metrics"),
            "keyless_log_witness_cosignatures_total",
            &[("witness", &witness_url)]
        ) >= 1.0
    );
    let _ = server.kill();
    let _ = server.wait();
    witness.stop();

    let o = keyless()
        .args(["server", "log", "--witness", "not-a-witness", "--data-dir"])
        .arg(dir.join("log"))
        .output()
        .unwrap();
    assert!(!o.status.success());
    assert!(text(&o).contains("URL=VKEY"), "{}", text(&o));
    let _ = std::fs::remove_dir_all(&dir);
}
