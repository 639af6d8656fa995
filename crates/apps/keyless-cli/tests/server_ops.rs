//! Operating the servers (issue 18): `/metrics` read as Prometheus reads
//! it, `/healthz` and `/readyz`, `--log-format json` without tokens, and
//! `--tls-cert`/`--tls-key` with a throwaway CA.

mod support;

use std::process::Stdio;
use std::time::{Duration, Instant};

use keyless_serve::scrape;
use support::*;

/// Requests counted under these labels in the scrape at `url`.
fn requests(url: &str, labels: &[(&str, &str)]) -> f64 {
    let text = http_get(url);
    scrape::sum(&parse_metrics(&text), "keyless_http_requests_total", labels)
}

#[test]
fn dev_stack_counts_requests_and_logs_json_without_the_token() {
    let dir = temp_dir("server-ops-metrics");
    let port = free_base_port();
    let log_file = dir.join("stderr.log");
    let mut child = keyless()
        .args(["server", "--dev", "--log-format", "json", "--listen"])
        .arg(format!("127.0.0.1:{port}"))
        .arg("--data-dir")
        .arg(dir.join("stack"))
        // Debug level: the strictest check that no token is logged.
        .env("RUST_LOG", "debug")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log_file).expect("log file"))
        .spawn()
        .expect("start keyless server --dev");
    let stack_json = dir.join("stack").join("stack.json");
    let deadline = Instant::now() + Duration::from_secs(60);
    let stack: serde_json::Value = loop {
        if let Some(v) = std::fs::read(&stack_json)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
        {
            break v;
        }
        assert!(Instant::now() < deadline, "no stack.json");
        std::thread::sleep(Duration::from_millis(50));
    };
    let url = |k: &str| stack[k].as_str().expect("url in stack.json").to_string();
    let (ca, log) = (url("caUrl"), url("logUrl"));
    let deadline = Instant::now() + Duration::from_secs(30);
    while !http_ok(&format!("{ca}/readyz")) {
        assert!(Instant::now() < deadline, "the CA never became ready");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(http_ok(&format!("{log}/healthz")));
    assert!(http_ok(&format!("{log}/readyz")));

    let metrics = format!("{ca}/metrics");
    let issued = [
        ("service", "ca"),
        ("route", "/api/v2/signingCert"),
        ("status", "201"),
    ];
    let before = requests(&metrics, &issued);
    let token = dev_token(&dir.join("stack"), "ops@example.com");
    let artifact = dir.join("artifact.txt");
    std::fs::write(&artifact, b"metrics").expect("artifact");
    let o = keyless()
        .env(
            "SIGSTORE_TRUST_CONFIG",
            dir.join("stack").join("trust_config.json"),
        )
        .args(["sign-blob", "--yes", "--identity-token", &token, "--bundle"])
        .arg(dir.join("artifact.sigstore.json"))
        .arg(&artifact)
        .output()
        .expect("sign-blob");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));

    // Every service shares the process's /metrics; each is labelled.
    assert_eq!(
        requests(&metrics, &issued) - before,
        1.0,
        "{}",
        http_get(&metrics)
    );
    let log_metrics = format!("{log}/metrics");
    let appended = [
        ("service", "log"),
        ("route", "/api/v2/log/entries"),
        ("status", "201"),
    ];
    assert!(requests(&log_metrics, &appended) >= 1.0);
    let stamped = [
        ("service", "tsa"),
        ("route", "/api/v1/timestamp"),
        ("status", "200"),
    ];
    assert!(requests(&log_metrics, &stamped) >= 1.0);
    let text = http_get(&log_metrics);
    assert!(text.contains("keyless_http_request_duration_seconds_bucket{service=\"ca\""));

    let samples = parse_metrics(&text);
    assert_eq!(
        scrape::sum(
            &samples,
            "keyless_ca_certificates_issued_total",
            &[("issuer", &url("oidcIssuer"))]
        ),
        1.0,
        "{text}"
    );
    // The log's size gauge is refreshed every second.
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let samples = parse_metrics(&http_get(&log_metrics));
        if scrape::sum(&samples, "keyless_log_size", &[]) >= 1.0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "keyless_log_size never showed the entry"
        );
        std::thread::sleep(Duration::from_millis(200));
    }

    let _ = child.kill();
    let _ = child.wait();
    let logs = std::fs::read_to_string(&log_file).expect("logs");
    let mut lines = 0;
    for line in logs.lines().filter(|l| !l.trim().is_empty()) {
        let v: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
        assert!(
            v.get("level").is_some() && v.get("fields").is_some(),
            "{line}"
        );
        lines += 1;
    }
    assert!(lines > 0, "no log lines");
    assert!(logs.contains("issued certificate"), "{logs}");
    // Neither the token nor its signature (the part that makes it usable).
    let signature = token.rsplit('.').next().expect("JWT");
    assert!(
        !logs.contains(&token) && !logs.contains(signature),
        "the token was logged"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn a_service_with_tls_answers_only_clients_trusting_its_ca() {
    let dir = temp_dir("server-ops-tls");
    let (ca, chain, key) = throwaway_pki();
    std::fs::write(dir.join("tls.pem"), chain).expect("cert");
    std::fs::write(dir.join("tls.key"), key).expect("key");
    let port = free_base_port();
    let mut child = keyless()
        .args(["server", "tsa", "--listen"])
        .arg(format!("127.0.0.1:{port}"))
        .arg("--data-dir")
        .arg(dir.join("tsa"))
        .arg("--tls-cert")
        .arg(dir.join("tls.pem"))
        .arg("--tls-key")
        .arg(dir.join("tls.key"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start keyless server tsa");
    let trusting = reqwest::Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(ca.as_bytes()).expect("CA")])
        .timeout(Duration::from_secs(5))
        .build()
        .expect("client");
    let base = format!("https://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(r) = trusting.get(format!("{base}/readyz")).send().await {
            assert_eq!(r.status(), 200);
            break;
        }
        assert!(Instant::now() < deadline, "the TSA never answered over TLS");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let chain = trusting
        .get(format!("{base}{}", keyless_tsa::CERTCHAIN_PATH))
        .send()
        .await
        .expect("certchain");
    assert_eq!(chain.status(), 200);
    let plain = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .expect("client");
    assert!(plain.get(format!("{base}/healthz")).send().await.is_err());
    assert!(!http_ok(&format!("http://127.0.0.1:{port}/healthz")));

    // A renewed certificate from another CA, then SIGHUP to the server.
    let (ca2, chain2, key2) = throwaway_pki();
    std::fs::write(dir.join("tls.pem.new"), chain2).expect("cert");
    std::fs::write(dir.join("tls.key.new"), key2).expect("key");
    std::fs::rename(dir.join("tls.key.new"), dir.join("tls.key")).expect("rename");
    std::fs::rename(dir.join("tls.pem.new"), dir.join("tls.pem")).expect("rename");
    let hup = std::process::Command::new("kill")
        .args(["-HUP", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(hup.success());
    let renewed = || {
        reqwest::Client::builder()
            .tls_certs_only([reqwest::Certificate::from_pem(ca2.as_bytes()).expect("CA")])
            .timeout(Duration::from_secs(5))
            .build()
            .expect("client")
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    while renewed()
        .get(format!("{base}/healthz"))
        .send()
        .await
        .is_err()
    {
        assert!(
            Instant::now() < deadline,
            "the renewed certificate was not served after SIGHUP"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        child.try_wait().expect("wait").is_none(),
        "SIGHUP ended the server"
    );
    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn tls_cert_without_key_and_dev_with_tls_are_refused() {
    let o = keyless()
        .args([
            "server",
            "tsa",
            "--data-dir",
            "/nonexistent",
            "--tls-cert",
            "x.pem",
        ])
        .output()
        .expect("keyless");
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("--tls-key"));
    // --dev takes --tls (its own CA), not a given certificate: refused,
    // never served as plain HTTP.
    let dir = temp_dir("server-ops-dev-tls");
    let o = keyless()
        .args([
            "server",
            "--dev",
            "--listen",
            "127.0.0.1:0",
            "--tls-cert",
            "x.pem",
            "--tls-key",
            "x.key",
            "--data-dir",
        ])
        .arg(&dir)
        .output()
        .expect("keyless");
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("not supported"));
    assert!(!dir.join("stack.json").exists());
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn dev_stack_over_tls_signs_and_verifies_with_ssl_cert_file() {
    let dir = temp_dir("server-ops-dev-tls-sign");
    let stack = TlsDevStack::start(&dir).await;
    let url = |k: &str| stack.url(k);
    let ca_url = url("caUrl");
    assert!(ca_url.starts_with("https://"), "{ca_url}");
    let ca_pem = stack.ca_pem.clone();
    let key_mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(dir.join("tls").join("server.key"))
            .expect("key")
            .permissions(),
    );
    assert_eq!(key_mode & 0o777, 0o600);
    // Plain HTTP gets no answer from the HTTPS port.
    assert!(!http_ok(&format!(
        "{}/healthz",
        ca_url.replace("https://", "http://")
    )));

    let token = dev_token(&dir, "tls@example.com");
    let artifact = dir.join("artifact.txt");
    std::fs::write(&artifact, b"over TLS").expect("artifact");
    let bundle = dir.join("artifact.sigstore.json");
    let sign = |cert_file: &std::path::Path| {
        keyless()
            .env("SIGSTORE_TRUST_CONFIG", dir.join("trust_config.json"))
            .env("SSL_CERT_FILE", cert_file)
            .args(["sign-blob", "--yes", "--identity-token", &token, "--bundle"])
            .arg(&bundle)
            .arg(&artifact)
            .output()
            .expect("sign-blob")
    };
    // Without the dev CA the client refuses the services' certificates.
    let refused = sign(&dir.join("no-such-bundle.pem"));
    assert!(!refused.status.success());
    let o = sign(&ca_pem);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let o = keyless()
        .env("SIGSTORE_TRUST_CONFIG", dir.join("trust_config.json"))
        .args([
            "verify-blob",
            "--certificate-identity",
            "tls@example.com",
            "--certificate-oidc-issuer",
            &url("oidcIssuer"),
            "--bundle",
        ])
        .arg(&bundle)
        .arg(&artifact)
        .output()
        .expect("verify-blob");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    drop(stack);
    let _ = std::fs::remove_dir_all(&dir);
}
