//! Issue 18, points 1 and 2 against `keyless server --dev --tls`: the
//! client commands trust the stack's private CA through `--ca-bundle`
//! (with SSL_CERT_FILE unset, so the bundle is what makes it work) and
//! say what to do without it; the services' `/metrics`, parsed as
//! Prometheus reads the text format, has the series the issue names, and
//! they move when a blob is signed.

mod support;

use std::process::{Child, Output, Stdio};
use std::time::{Duration, Instant};

use keyless_serve::scrape::{self, Sample};
use support::*;

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn value(samples: &[Sample], name: &str, labels: &[(&str, &str)]) -> f64 {
    scrape::sum(samples, name, labels)
}

fn present(samples: &[Sample], name: &str) -> bool {
    samples.iter().any(|s| s.name == name)
}

#[tokio::test]
async fn ca_bundle_signs_over_tls_and_metrics_move() {
    let dir = temp_dir("ca-bundle-metrics");
    let stack = TlsDevStack::start(&dir).await;
    let ca_pem = dir.join("tls").join("ca.pem");
    let (ca, log) = (stack.url("caUrl"), stack.url("logUrl"));
    let issuer = stack.url("oidcIssuer");
    let before = stack.scrape(&log).await;

    let token = dev_token(&dir, "bundle@example.com");
    let artifact = dir.join("artifact.txt");
    std::fs::write(&artifact, b"private PKI").expect("artifact");
    let bundle = dir.join("artifact.sigstore.json");
    let sign = |extra: &[&std::ffi::OsStr]| {
        keyless()
            .env("SIGSTORE_TRUST_CONFIG", dir.join("trust_config.json"))
            .env_remove("SSL_CERT_FILE")
            .args(extra)
            .args(["sign-blob", "--yes", "--identity-token", &token, "--bundle"])
            .arg(&bundle)
            .arg(&artifact)
            .output()
            .expect("sign-blob")
    };

    // Without the bundle: refused, and the message says what to do.
    let refused = sign(&[]);
    assert!(!refused.status.success());
    let text = stderr(&refused);
    assert!(
        text.contains("certificate") && text.contains("--ca-bundle"),
        "{text}"
    );
    // A file that holds no certificate is refused before anything is sent.
    let not_pem = dir.join("not-a-bundle.pem");
    std::fs::write(&not_pem, "hello\n").expect("file");
    let o = sign(&["--ca-bundle".as_ref(), not_pem.as_os_str()]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("holds no PEM certificate"),
        "{}",
        stderr(&o)
    );

    // With it (a global flag, before or after the subcommand).
    let o = sign(&["--ca-bundle".as_ref(), ca_pem.as_os_str()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = keyless()
        .env("SIGSTORE_TRUST_CONFIG", dir.join("trust_config.json"))
        .env_remove("SSL_CERT_FILE")
        .args([
            "verify-blob",
            "--certificate-identity",
            "bundle@example.com",
            "--certificate-oidc-issuer",
            &issuer,
            "--bundle",
        ])
        .arg(&bundle)
        .arg(&artifact)
        .arg("--ca-bundle")
        .arg(&ca_pem)
        .output()
        .expect("verify-blob");
    assert!(o.status.success(), "{}", stderr(&o));

    // The dev stack's services share one process, so each /metrics has
    // them all; the CA's own scrape must still parse.
    let _ = stack.scrape(&ca).await;
    let deadline = Instant::now() + Duration::from_secs(10);
    let after = loop {
        let after = stack.scrape(&log).await;
        if value(&after, "keyless_log_size", &[]) >= 1.0
            && present(&after, "keyless_log_checkpoint_age_seconds")
        {
            break after;
        }
        assert!(Instant::now() < deadline, "the log gauges never moved");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let moved = |name: &str, labels: &[(&str, &str)]| {
        let (b, a) = (value(&before, name, labels), value(&after, name, labels));
        assert!(a > b, "{name}{labels:?} did not move: {b} -> {a}");
    };
    moved(
        "keyless_http_requests_total",
        &[
            ("service", "ca"),
            ("route", "/api/v2/signingCert"),
            ("status", "201"),
        ],
    );
    moved(
        "keyless_http_request_duration_seconds_count",
        &[("service", "log"), ("route", "/api/v2/log/entries")],
    );
    moved(
        "keyless_ca_certificates_issued_total",
        &[("issuer", &issuer)],
    );
    moved("keyless_tsa_timestamps_total", &[("outcome", "granted")]);
    moved("keyless_log_append_seconds_count", &[]);
    moved("keyless_log_batch_size_count", &[]);
    moved("keyless_log_batch_size_sum", &[]);
    moved("keyless_log_fsync_seconds_count", &[]);
    moved("keyless_log_size", &[]);
    assert!(
        after
            .iter()
            .any(|s| s.name == "keyless_log_fsync_seconds_bucket" && s.label("le") == Some("+Inf")),
        "the fsync time is a histogram"
    );
    let published = value(
        &after,
        "keyless_log_checkpoint_published_timestamp_seconds",
        &[],
    );
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs_f64();
    assert!((now - published).abs() < 120.0, "{published} vs {now}");
    let age = value(&after, "keyless_log_checkpoint_age_seconds", &[]);
    assert!((0.0..120.0).contains(&age), "checkpoint age {age}");
    drop(stack);
    let _ = std::fs::remove_dir_all(&dir);
}

/// `keyless server ca` starting with this process's `server` arguments,
/// ready once it answers `/readyz`.
fn start_ca(dir: &std::path::Path, port: u16, issuers: &std::path::Path, extra: &[&str]) -> Child {
    spawn_until_ok(
        keyless()
            .args(extra)
            .args(["server", "ca", "--listen", &format!("127.0.0.1:{port}")])
            .arg("--data-dir")
            .arg(dir)
            .arg("--issuers")
            .arg(issuers)
            .env_remove("SSL_CERT_FILE")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null()),
        &format!("http://127.0.0.1:{port}/readyz"),
        "keyless server ca",
    )
}

/// The CA's own client (fetching an issuer's keys) takes `--ca-bundle`
/// too: an OIDC issuer served over TLS by a private CA is trusted with the
/// bundle and refused without it.
#[test]
fn the_ca_trusts_a_private_issuer_with_ca_bundle() {
    use base64::Engine;
    let dir = temp_dir("ca-bundle-issuer");
    let (ca, chain, key) = throwaway_pki();
    let (ca_pem, tls_pem, tls_key) = (dir.join("ca.pem"), dir.join("tls.pem"), dir.join("tls.key"));
    std::fs::write(&ca_pem, &ca).expect("write");
    std::fs::write(&tls_pem, chain).expect("write");
    std::fs::write(&tls_key, key).expect("write");

    let base = free_base_port();
    let issuer = format!("https://127.0.0.1:{base}");
    let mut oidc = keyless()
        .args(["server", "--tls-cert"])
        .arg(&tls_pem)
        .arg("--tls-key")
        .arg(&tls_key)
        .args([
            "oidc",
            "--listen",
            &format!("127.0.0.1:{base}"),
            "--data-dir",
        ])
        .arg(dir.join("oidc"))
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start keyless server oidc");
    // Ready once it answers over TLS (its keys are made after it binds).
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let client = reqwest::Client::builder()
            .tls_certs_only([reqwest::Certificate::from_pem(ca.as_bytes()).expect("CA")])
            .timeout(Duration::from_secs(5))
            .build()
            .expect("client");
        let deadline = Instant::now() + Duration::from_secs(60);
        while !client
            .get(format!("{issuer}/readyz"))
            .send()
            .await
            .is_ok_and(|r| r.status() == 200)
        {
            assert!(Instant::now() < deadline, "the issuer never became ready");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    });
    let issuers = dir.join("issuers.json");
    let config = serde_json::json!({ "OIDCIssuers": { issuer.clone():
        {"IssuerURL": issuer, "ClientID": "sigstore", "Type": "email"} } });
    std::fs::write(&issuers, config.to_string()).expect("issuers");
    let token = dev_token(&dir, "pki@example.com");
    let signer =
        keyless_crypto::SigningKey::generate(keyless_crypto::KeyAlgorithm::EcdsaP256).expect("key");
    let pop = base64::engine::general_purpose::STANDARD
        .encode(signer.sign(b"pki@example.com").expect("sign"));
    let request = serde_json::to_vec(&serde_json::json!({
        "credentials": { "oidcIdentityToken": token },
        "publicKeyRequest": {
            "publicKey": { "algorithm": "ECDSA", "content": signer.public_key().to_pem() },
            "proofOfPossession": pop,
        }
    }))
    .expect("json");
    let issue = |port: u16| {
        http_exchange(
            "POST",
            &format!("http://127.0.0.1:{port}/api/v2/signingCert"),
            &request,
            Duration::from_secs(30),
        )
        .expect("the CA answers")
    };

    let ca_bundle = ca_pem.to_str().expect("utf8");
    let mut trusting = start_ca(
        &dir.join("ca1"),
        base + 1,
        &issuers,
        &["--ca-bundle", ca_bundle],
    );
    let (status, body) = issue(base + 1);
    assert_eq!(status, 201, "{body}");
    let _ = trusting.kill();
    let _ = trusting.wait();
    let mut plain = start_ca(&dir.join("ca2"), base + 2, &issuers, &[]);
    let (status, body) = issue(base + 2);
    assert!(
        status != 201 && body.contains("UnknownIssuer"),
        "without the bundle the issuer's TLS certificate must be refused: {status} {body}"
    );
    let _ = plain.kill();
    let _ = plain.wait();
    let _ = oidc.kill();
    let _ = oidc.wait();
    let _ = std::fs::remove_dir_all(&dir);
}
