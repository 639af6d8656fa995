//! `keyless server ca` and its own CT log, as a process: the log's
//! checkpoint origin defaults to the CA's URL without its scheme (C2SP
//! static-ct-api: the submission prefix); `--witness URL=VKEY` has a
//! `keyless witness` process cosign its checkpoints, served on
//! /ct/checkpoint; and `--ct-origin` naming another origin than the one the
//! existing log was created with stops the CA at start-up, with a message
//! naming both, leaving the log as it was.

mod support;

use std::path::Path;
use std::process::{Child, Stdio};
use std::time::Duration;

use base64::Engine;
use support::*;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

fn ca_command(dir: &Path, port: u16, extra: &[&str]) -> std::process::Command {
    let mut cmd = keyless();
    cmd.args(["server", "ca", "--data-dir"])
        .arg(dir.join("ca"))
        .arg("--issuers")
        .arg(dir.join("issuers.json"))
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .args(extra)
        .env("RUST_LOG", "warn");
    cmd
}

fn start_ca(dir: &Path, port: u16, extra: &[&str]) -> Child {
    spawn_until_ok(
        ca_command(dir, port, extra)
            .stdout(Stdio::null())
            .stderr(Stdio::null()),
        &format!("http://127.0.0.1:{port}/ct/checkpoint"),
        "keyless server ca",
    )
}

#[test]
fn server_ca_ct_log_origin_and_witness() {
    let dir = temp_dir("server-ca-ct");
    // The CA's keys, made first so that the witness can be configured
    // with its CT key; the CA loads them.
    let material = keyless_ca::CaMaterial::load_or_create(&dir.join("ca")).expect("CA");
    let ct_public_pem = material.ct_key.public_key().to_pem();
    let (intermediate, root) = ca_chain_der(&material);
    let issuer = "https://oidc.example.test";
    std::fs::write(
        dir.join("issuers.json"),
        serde_json::json!({"OIDCIssuers": {issuer:
            {"IssuerURL": issuer, "ClientID": "sigstore", "Type": "email"}}})
        .to_string(),
    )
    .unwrap();
    let port = free_base_port();
    let origin = format!("127.0.0.1:{port}");

    let witness = WitnessProcess::start(
        &dir,
        &serde_json::json!({
            "name": "witness.test/ca",
            "logs": [{"origin": origin, "public_key_pem": ct_public_pem}],
        }),
        port + 1,
    );
    let flag = witness.flag();
    let mut ca = start_ca(&dir, port, &["--witness", &flag]);
    let base = format!("http://127.0.0.1:{port}");
    let body = serde_json::json!({ "chain": [B64.encode(&intermediate), B64.encode(&root)] });
    let (status, answer) = http_exchange(
        "POST",
        &format!("{base}/ct/v1/add-chain"),
        body.to_string().as_bytes(),
        Duration::from_secs(10),
    )
    .expect("add-chain answers");
    assert_eq!(status, 200, "{answer}");

    // The default origin, and the witness's cosignature over the tree
    // holding the certificate (the witness knows the log by that origin).
    let note = wait_cosigned(&format!("{base}/ct/checkpoint"), &witness.vkey, 1);
    assert_eq!(note.body().lines().next(), Some(origin.as_str()));
    let by_log = note
        .signatures()
        .iter()
        .filter(|s| s.name == origin)
        .count();
    assert_eq!(by_log, 2, "the core's and the RFC 6962 signature");
    ca.kill().unwrap();
    ca.wait().unwrap();
    witness.stop();

    // Another origin for the existing log: refused at start-up.
    let mut child = ca_command(&dir, port, &["--ct-origin", "ct.example.test/other"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("keyless server ca");
    let status = wait_exit(
        &mut child,
        Duration::from_secs(30),
        "keyless server ca --ct-origin <another>",
    );
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    assert!(!status.success(), "{stderr}");
    assert!(
        stderr.contains(&format!("{origin:?}"))
            && stderr.contains("\"ct.example.test/other\"")
            && stderr.contains("keeps its origin"),
        "{stderr}"
    );

    // The log's own origin given explicitly: it starts, history intact.
    let mut ca = start_ca(&dir, port, &["--ct-origin", &origin]);
    let text = http_get(&format!("{base}/ct/checkpoint"));
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some(origin.as_str()), "{text}");
    assert_eq!(lines.next(), Some("1"), "{text}");
    ca.kill().unwrap();
    ca.wait().unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}
