//! The log's readers trust `--ca-bundle` against `keyless server --dev
//! --tls` (a private CA made at start, SSL_CERT_FILE unset so the bundle
//! is what makes it work): `keyless log checkpoint` and `keyless monitor
//! --once` (keyless-monitor's Fetcher, also for the CT log), and `keyless
//! log verify` (keyless-log's TileClient). Without the bundle each fails
//! with the hint naming `--ca-bundle FILE`.

mod support;

use std::path::Path;
use std::process::Output;

use support::*;

const HINT: &str = "--ca-bundle FILE";

/// `keyless [--ca-bundle <bundle>] <args>` against the stack in `dir`.
fn keyless_with(dir: &Path, bundle: Option<&Path>, args: &[&str]) -> Output {
    let mut cmd = keyless();
    cmd.env("SIGSTORE_TRUST_CONFIG", dir.join("trust_config.json"))
        .env_remove("SSL_CERT_FILE");
    if let Some(bundle) = bundle {
        cmd.arg("--ca-bundle").arg(bundle);
    }
    run(cmd.args(args))
}

/// Failed, with the TLS hint rather than some other error.
fn refused_with_hint(o: &Output, what: &str) {
    assert!(!o.status.success(), "{what} worked without --ca-bundle");
    let text = text(o);
    assert!(
        text.contains("hint:") && text.contains(HINT),
        "{what} without --ca-bundle: {text}"
    );
}

#[tokio::test]
async fn log_reads_and_monitor_trust_the_private_ca_with_ca_bundle() {
    let dir = temp_dir("ca-bundle-log-reads");
    let stack = TlsDevStack::start(&dir).await;
    let (log, ca) = (stack.url("logUrl"), stack.url("caUrl"));
    let issuer = stack.url("oidcIssuer");
    assert!(log.starts_with("https://"), "{log}");
    let bundle = Some(stack.ca_pem.as_path());

    // One entry (and one CT entry), so the monitor has something to find.
    let token = dev_token(&dir, "reader@example.com");
    let artifact = dir.join("artifact.txt");
    std::fs::write(&artifact, b"read over TLS").expect("artifact");
    let signed = dir.join("artifact.sigstore.json");
    let (artifact, signed) = (
        artifact.to_str().expect("utf8"),
        signed.to_str().expect("utf8"),
    );
    let o = keyless_with(
        &dir,
        bundle,
        &[
            "sign-blob",
            "--yes",
            "--identity-token",
            &token,
            "--bundle",
            signed,
            artifact,
        ],
    );
    assert!(o.status.success(), "{}", text(&o));

    // keyless log checkpoint (keyless-monitor's Fetcher).
    let checkpoint = ["log", "checkpoint", "--url", &log, "--output", "json"];
    let o = keyless_with(&dir, bundle, &checkpoint);
    assert!(o.status.success(), "{}", text(&o));
    let cp: serde_json::Value = serde_json::from_slice(&o.stdout).expect("checkpoint JSON");
    assert!(cp["size"].as_u64().is_some_and(|n| n >= 1), "{cp}");
    refused_with_hint(&keyless_with(&dir, None, &checkpoint), "log checkpoint");

    // keyless log verify (keyless-log's TileClient) from the checkpoint
    // served now: the tree still extends it.
    let remembered = dir.join("remembered.checkpoint");
    let text_now = stack
        .client
        .get(format!("{log}/checkpoint"))
        .send()
        .await
        .expect("GET checkpoint")
        .text()
        .await
        .expect("checkpoint text");
    std::fs::write(&remembered, text_now).expect("write checkpoint");
    let remembered = remembered.to_str().expect("utf8");
    let verify = [
        "log",
        "verify",
        "--url",
        &log,
        "--from-checkpoint",
        remembered,
    ];
    let o = keyless_with(&dir, bundle, &verify);
    assert!(o.status.success(), "{}", text(&o));
    refused_with_hint(&keyless_with(&dir, None, &verify), "log verify");

    // One monitor pass over the log and the CA's CT log: the signature
    // above is reported from both (a Rekor line has no "log" field).
    let monitor = |state: &str| {
        let args = [
            "monitor",
            "--log",
            &log,
            "--ct-log",
            &ca,
            "--state",
            state,
            "--once",
            "--from-index",
            "0",
            "--identity",
            "reader@example.com",
            "--issuer",
            &issuer,
        ];
        args.map(str::to_string)
    };
    let state = dir.join("monitor.state");
    let args = monitor(state.to_str().expect("utf8"));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = keyless_with(&dir, bundle, &args);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l:?}: {e}")))
        .collect();
    for kind in [None, Some("ct")] {
        assert!(
            lines
                .iter()
                .any(|l| l["identity"] == "reader@example.com" && l["log"].as_str() == kind),
            "no {kind:?} line for the signer: {}",
            text(&o)
        );
    }
    let fresh = dir.join("fresh.state");
    let args = monitor(fresh.to_str().expect("utf8"));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    refused_with_hint(&keyless_with(&dir, None, &args), "monitor");

    drop(stack);
    let _ = std::fs::remove_dir_all(&dir);
}
