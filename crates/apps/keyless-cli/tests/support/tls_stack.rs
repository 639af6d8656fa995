//! `keyless server --dev --tls` as a child process, with a client that
//! trusts only the stack's own CA, and the `/metrics` scrape parsed as
//! Prometheus reads the text format.

use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use keyless_serve::scrape::{self, Sample};

use super::{free_base_port, keyless};

/// A throwaway CA and a certificate for 127.0.0.1 it issued, as PEM:
/// (CA, leaf chain, leaf key). For a service started with `--tls-cert`
/// and `--tls-key` that only clients given the CA trust.
pub fn throwaway_pki() -> (String, String, String) {
    use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
    let mut params = CertificateParams::new(Vec::<String>::new()).expect("params");
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = CertifiedIssuer::self_signed(params, KeyPair::generate().expect("key")).expect("CA");
    let key = KeyPair::generate().expect("key");
    let leaf = CertificateParams::new(vec!["127.0.0.1".to_owned()])
        .and_then(|p| p.signed_by(&key, &ca))
        .expect("leaf");
    (ca.pem(), leaf.pem(), key.serialize_pem())
}

/// The scrape `text`, parsed; panics with the text if it does not parse.
pub fn parse_metrics(text: &str) -> Vec<Sample> {
    scrape::parse(text).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

/// A running TLS dev stack; killed when dropped.
pub struct TlsDevStack {
    child: Child,
    pub stack: serde_json::Value,
    /// The stack's CA certificate (`<dir>/tls/ca.pem`).
    pub ca_pem: PathBuf,
    /// Trusts the stack's CA and nothing else.
    pub client: reqwest::Client,
}

impl Drop for TlsDevStack {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl TlsDevStack {
    /// Start it in `dir` and wait until `stack.json` is written and the
    /// health URL answers 200 over TLS.
    pub async fn start(dir: &Path) -> Self {
        let child = keyless()
            .args(["server", "--dev", "--tls", "--listen"])
            .arg(format!("127.0.0.1:{}", free_base_port()))
            .arg("--data-dir")
            .arg(dir)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start keyless server --dev --tls");
        let deadline = Instant::now() + Duration::from_secs(60);
        let stack: serde_json::Value = loop {
            if let Some(v) = std::fs::read(dir.join("stack.json"))
                .ok()
                .and_then(|b| serde_json::from_slice(&b).ok())
            {
                break v;
            }
            assert!(Instant::now() < deadline, "no stack.json");
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        let ca_pem = dir.join("tls").join("ca.pem");
        let ca = std::fs::read(&ca_pem).expect("ca.pem");
        let client = reqwest::Client::builder()
            .tls_certs_only([reqwest::Certificate::from_pem(&ca).expect("CA")])
            .timeout(Duration::from_secs(10))
            .build()
            .expect("client");
        let stack = Self {
            child,
            stack,
            ca_pem,
            client,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while !stack
            .client
            .get(stack.url("healthUrl"))
            .send()
            .await
            .is_ok_and(|r| r.status() == 200)
        {
            assert!(
                Instant::now() < deadline,
                "the dev stack never became healthy over TLS"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        stack
    }

    pub fn url(&self, key: &str) -> String {
        self.stack[key]
            .as_str()
            .expect("url in stack.json")
            .to_string()
    }

    /// `/metrics` of the service at `base`, parsed.
    pub async fn scrape(&self, base: &str) -> Vec<Sample> {
        let text = self
            .client
            .get(format!("{base}/metrics"))
            .send()
            .await
            .expect("GET /metrics")
            .text()
            .await
            .expect("body");
        parse_metrics(&text)
    }
}
