//! The overview of a log with a witness: `keyless witness` and `keyless
//! server log --witness URL=VKEY` as processes (the dev stack runs no
//! witness); the page reads the witness's vkey from the log
//! (/explorer/api/witnesses) and verifies the checkpoint's cosignature in
//! the browser, and flags one altered by a proxy.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use keyless_tlog::SignedNote;

use crate::browser::Browser;
use crate::proxy::tampering_proxy;
use crate::support::{free_base_port, http_get, keyless};

/// Kills the child when dropped, so a failed assertion leaves no process.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub fn check_cosignatures(b: &Browser, dir: &Path, shots: &Path) {
    let origin = "example.test/witnessed-log";
    let log_dir = dir.join("witnessed-log");
    std::fs::create_dir_all(&log_dir).expect("log dir");
    // The key `keyless server log` will load, made first so that the
    // witness can be configured with it.
    let key = keyless_log::keys::load_or_generate(&log_dir, keyless_log::LogKeyType::Ed25519)
        .expect("log key");
    let log_key =
        keyless_tlog::NoteVerifier::new(origin, key.public_key().clone()).expect("verifier");
    // Names of their own: the dev stack may keep a witness in `dir` too.
    let config = dir.join("explorer-witness.json");
    std::fs::write(
        &config,
        serde_json::json!({
            "name": "witness.test/w1",
            "logs": [{"origin": origin, "vkey": keyless_witness::vkey::note_vkey(&log_key).expect("vkey")}],
        })
        .to_string(),
    )
    .expect("witness config");
    let port = free_base_port();
    let mut witness = keyless()
        .args([
            "witness",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--config",
        ])
        .arg(&config)
        .arg("--data-dir")
        .arg(dir.join("explorer-witness"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start keyless witness");
    let out = witness.stdout.take().expect("witness stdout");
    let witness = Killed(witness);
    let mut vkey = String::new();
    BufReader::new(out).read_line(&mut vkey).expect("vkey line");
    let vkey = vkey.trim().to_string();
    assert!(vkey.starts_with("witness.test/w1+"), "{vkey:?}");

    let log_port = port + 1;
    let server = Killed(
        keyless()
            .args([
                "server",
                "log",
                "--listen",
                &format!("127.0.0.1:{log_port}"),
            ])
            .args(["--origin", origin, "--witness"])
            .arg(format!("http://127.0.0.1:{port}={vkey}"))
            .arg("--data-dir")
            .arg(&log_dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start keyless server log"),
    );
    let log = format!("http://127.0.0.1:{log_port}");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let text = http_get(&format!("{log}/checkpoint"));
        if SignedNote::parse(&text).is_ok_and(|n| n.signatures().len() == 2) {
            break;
        }
        assert!(Instant::now() < deadline, "never cosigned: {text:?}");
        std::thread::sleep(Duration::from_millis(100));
    }

    b.open(&format!("{log}/"));
    assert_eq!(b.text_of("badge"), "verified", "{}", b.page_text());
    assert_eq!(
        b.text_of("cosigned"),
        "1 of 1 witness cosigned this checkpoint",
        "{}",
        b.page_text()
    );
    let list = b.text_of("cosignatures");
    assert!(
        list.contains("\u{2713} witness.test/w1: cosigned at "),
        "{list}"
    );
    b.screenshot(shots, "overview-witness.png");

    // The same log through a proxy that alters the cosignature: the log's
    // own signature still verifies, the cosignature does not.
    let proxy = tampering_proxy(log.clone());
    b.open(&format!("{proxy}/"));
    assert_eq!(b.text_of("badge"), "verified", "{}", b.page_text());
    assert_eq!(
        b.text_of("cosigned"),
        "0 of 1 witness cosigned this checkpoint",
        "{}",
        b.page_text()
    );
    let list = b.text_of("cosignatures");
    assert!(
        list.contains("\u{2717} witness.test/w1: cosignature does not verify"),
        "{list}"
    );
    drop(server);
    drop(witness);
}
