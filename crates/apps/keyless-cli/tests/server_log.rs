//! `keyless server log` on its own: its tuning flags take effect.

mod support;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use support::*;

/// POST `body` to `path` of the log; the status code (0 if none).
fn post(port: u16, path: &str, body: &[u8]) -> u16 {
    http_exchange(
        "POST",
        &format!("http://127.0.0.1:{port}{path}"),
        body,
        Duration::from_secs(10),
    )
    .map_or(0, |(status, _)| status)
}

#[test]
fn max_body_and_batch_flags_apply() {
    let dir = temp_dir("server-log");
    let port = free_base_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_keyless"))
        .args([
            "server",
            "log",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--max-body",
            "2048",
            "--batch-size",
            "8",
            "--batch-linger-ms",
            "1",
            "--data-dir",
        ])
        .arg(&dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start keyless server log");
    let deadline = Instant::now() + Duration::from_secs(30);
    while !http_ok(&format!("http://127.0.0.1:{port}/checkpoint")) {
        assert!(
            Instant::now() < deadline,
            "the log never answered /checkpoint"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    // Over the configured cap: 413, well under the 128 KiB default.
    assert_eq!(post(port, "/api/v2/log/entries", &vec![b' '; 4096]), 413);
    // Under it, a malformed request is still judged on its content.
    assert_eq!(post(port, "/api/v2/log/entries", b"{}"), 400);
    let checkpoint = http_get(&format!("http://127.0.0.1:{port}/checkpoint"));
    assert_eq!(
        checkpoint.lines().nth(1),
        Some("0"),
        "nothing was logged: {checkpoint}"
    );
    let _ = child.kill();
    let _ = child.wait();

    // Out-of-range tuning is refused before anything starts.
    let o = keyless()
        .args(["server", "log", "--batch-size", "0", "--data-dir"])
        .arg(&dir)
        .output()
        .expect("run");
    assert!(!o.status.success());
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("--batch-size"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let _ = std::fs::remove_dir_all(&dir);
}
