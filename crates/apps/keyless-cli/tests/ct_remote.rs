//! A CA replica set sharing one CT log, with real processes: CA 1 runs
//! its own durable CT log; CA 2 (a copy of CA 1's keys) submits to CA 1's
//! `/ct/v1/add-pre-chain` with `--ct-log-url` and `--ct-log-public-key`.
//! Both certificates' SCTs verify with CA 1's log key and both entries
//! are in that one log. A CA given the wrong key, or whose log is down,
//! issues nothing (fail closed). (An SCT whose signature does not verify
//! is refused too: keyless-ca's unit tests of `ct_remote`.) A remote log
//! served over HTTPS by a private CA is reached with `--ca-bundle` only.

mod support;

use std::io::{Read, Write};
use std::path::Path;
use std::process::Child;
use std::time::Duration;

use base64::Engine;
use keyless_crypto::{KeyAlgorithm, PublicKey, SigningKey};
use keyless_x509::{verify_embedded_scts, Certificate, CtLogKey};
use support::*;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// A `keyless server …` child process, killed when dropped.
struct Service(Child);

impl Service {
    fn start(port: u16, args: &[&str]) -> Self {
        Self(start_server(
            args,
            port,
            &format!("keyless server {args:?}"),
        ))
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The development OIDC issuer on `port`, and `dir/issuers.json` naming
/// it for a CA's `--issuers`.
fn start_oidc(dir: &Path, port: u16) -> Service {
    let url = format!("http://127.0.0.1:{port}");
    let oidc = Service::start(port, &["oidc", "--data-dir", s(&dir.join("oidc"))]);
    let issuers = serde_json::json!({"OIDCIssuers": {&url:
        {"IssuerURL": &url, "ClientID": "sigstore", "Type": "email"}}});
    std::fs::write(dir.join("issuers.json"), issuers.to_string()).unwrap();
    oidc
}

/// `keyless server ca` on `port` with its keys in `data`, trusting the
/// issuer [`start_oidc`] wrote to `dir`, with `extra` flags.
fn start_ca(dir: &Path, port: u16, data: &Path, extra: &[&str]) -> Service {
    let issuers = dir.join("issuers.json");
    let mut args = vec!["ca", "--data-dir", s(data), "--issuers", s(&issuers)];
    args.extend(extra);
    Service::start(port, &args)
}

/// A replica of the CA whose keys are in `from`: the same keys and
/// certificates, in its own data directory `to`.
fn replicate_ca(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for f in [
        "root.crt.pem",
        "root.key.pem",
        "intermediate.crt.pem",
        "intermediate.key.pem",
    ] {
        std::fs::copy(from.join(f), to.join(f)).unwrap();
    }
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// POST /api/v1/signingCert with a bearer token (HTTP/1.0, std only).
fn issue(ca_port: u16, token: &str, key: &SigningKey, email: &str) -> (u16, String) {
    let body = serde_json::json!({
        "publicKey": {"content": B64.encode(key.public_key().to_pem())},
        "signedEmailAddress": B64.encode(key.sign(email.as_bytes()).unwrap()),
    })
    .to_string();
    let mut c = std::net::TcpStream::connect(("127.0.0.1", ca_port)).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    write!(
        c,
        "POST /api/v1/signingCert HTTP/1.0\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut out = String::new();
    let _ = c.read_to_string(&mut out);
    let status = out
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = out.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or("");
    (status, body.to_string())
}

fn pem_certs(pem: &str) -> Vec<Certificate> {
    pem.split_inclusive("-----END CERTIFICATE-----")
        .filter(|p| p.contains("BEGIN CERTIFICATE"))
        .map(|p| Certificate::from_pem(p.trim_start_matches(|c| c != '-')).unwrap())
        .collect()
}

/// The CT log key a CA lists in its trusted_root.json.
fn listed_ct_key(ca_port: u16) -> PublicKey {
    let tr: serde_json::Value = serde_json::from_str(&http_get(&format!(
        "http://127.0.0.1:{ca_port}/trusted_root.json"
    )))
    .unwrap();
    let raw = tr["ctlogs"][0]["publicKey"]["rawBytes"].as_str().unwrap();
    PublicKey::from_spki_der(&B64.decode(raw).unwrap()).unwrap()
}

/// Size of a CA's own CT log, from its signed checkpoint's second line.
fn ct_size(ca_port: u16) -> u64 {
    let cp = http_get(&format!("http://127.0.0.1:{ca_port}/ct/checkpoint"));
    cp.lines().nth(1).unwrap().parse().unwrap()
}

#[test]
fn ca_replicas_share_one_remote_ct_log_and_fail_closed() {
    let dir = temp_dir("ct-remote");
    let d = |n: &str| dir.join(n);
    let base = free_base_port();
    let _oidc = start_oidc(&dir, base);
    // A P-256 intermediate: faster issuance, the replicas copy it.
    let p256 = ["--intermediate-key-algorithm", "p256"];
    let ca1 = start_ca(&dir, base + 1, &d("ca1"), &p256);
    // The replicas: the same CA keys and certificates, their own data dirs.
    for replica in ["ca2", "ca3"] {
        replicate_ca(&d("ca1"), &d(replica));
    }
    let log_key = listed_ct_key(base + 1);
    std::fs::write(d("ct.pub"), log_key.to_pem()).unwrap();
    let wrong = SigningKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
    std::fs::write(d("wrong.pub"), wrong.public_key().to_pem()).unwrap();
    let remote = format!("http://127.0.0.1:{}/ct/v1/add-pre-chain", base + 1);
    let ct_pub = d("ct.pub");
    let wrong_pub = d("wrong.pub");
    let _ca2 = start_ca(
        &dir,
        base + 2,
        &d("ca2"),
        &["--ct-log-url", &remote, "--ct-log-public-key", s(&ct_pub)],
    );
    let _ca3 = start_ca(
        &dir,
        base + 3,
        &d("ca3"),
        &[
            "--ct-log-url",
            &remote,
            "--ct-log-public-key",
            s(&wrong_pub),
        ],
    );
    // CA 2 tells clients which CT log its SCTs come from.
    assert_eq!(listed_ct_key(base + 2).spki_der(), log_key.spki_der());

    let token = |who: &str| dev_token(&dir, who);
    let key = SigningKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
    let logs = [CtLogKey::new(log_key.clone(), 0, None)];
    let before = ct_size(base + 1);
    let mut tbs = Vec::new();
    for (port, who) in [(base + 1, "one@example.com"), (base + 2, "two@example.com")] {
        let (status, body) = issue(port, &token(who), &key, who);
        assert_eq!(status, 201, "CA on {port}: {body}");
        let certs = pem_certs(&body);
        assert_eq!(certs.len(), 3, "{body}");
        assert_eq!(
            verify_embedded_scts(&certs[0], &certs[1], &logs).unwrap(),
            1
        );
        tbs.push(keyless_x509::precert_tbs(&certs[0]).unwrap());
    }
    // Both entries are in CA 1's log; CA 2's own log got nothing.
    assert_eq!(ct_size(base + 1), before + 2);
    assert_eq!(ct_size(base + 2), 0);
    let size = before + 2;
    // static-ct-api data tiles, or the entry bundles of the older layout.
    let tile = ["data/", "entries/"]
        .iter()
        .map(|kind| {
            raw_get(&format!(
                "http://127.0.0.1:{}/ct/tile/{kind}000.p/{size}",
                base + 1
            ))
        })
        .find(|(status, _)| *status == 200)
        .map(|(_, body)| body)
        .expect("the CT log's entries");
    for t in &tbs {
        assert!(
            tile.windows(t.len()).any(|w| w == t.as_slice()),
            "an issued certificate's entry is in CA 1's log"
        );
    }

    // The wrong key: the SCT does not verify, nothing is issued.
    let (status, body) = issue(
        base + 3,
        &token("three@example.com"),
        &key,
        "three@example.com",
    );
    assert_eq!(status, 500, "{body}");
    assert!(!body.contains("BEGIN CERTIFICATE"), "{body}");
    assert!(body.contains("remote CT log refused"), "{body}");
    assert!(body.contains("not the configured key's"), "{body}");
    // The shared log down: CA 2 refuses too.
    drop(ca1);
    let (status, body) = issue(base + 2, &token("two@example.com"), &key, "two@example.com");
    assert_eq!(status, 500, "{body}");
    assert!(!body.contains("BEGIN CERTIFICATE"), "{body}");
    assert!(body.contains("CT log unavailable"), "{body}");
}

/// A GET's status and body as bytes (tiles are binary).
fn raw_get(url: &str) -> (u16, Vec<u8>) {
    let rest = url.strip_prefix("http://").unwrap();
    let (host, path) = rest.split_once('/').unwrap();
    let mut c = std::net::TcpStream::connect(host).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(c, "GET /{path} HTTP/1.0\r\nHost: {host}\r\n\r\n").unwrap();
    let mut out = Vec::new();
    let _ = c.read_to_end(&mut out);
    let at = out
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("an HTTP answer");
    let body = out.split_off(at + 4);
    let status = String::from_utf8_lossy(&out)
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, body)
}

/// The remote CT log served over HTTPS by a private CA: a CA started with
/// that CA as `--ca-bundle` gets an SCT from it, one started without
/// issues nothing (the log is unreachable, so it fails closed).
#[test]
fn a_ca_reaches_a_tls_ct_log_only_with_ca_bundle() {
    let dir = temp_dir("ct-remote-tls");
    let d = |n: &str| dir.join(n);
    let base = free_base_port();
    let _oidc = start_oidc(&dir, base);

    // The CA's keys first, so the CT log can take its root.
    let material = keyless_ca::CaMaterial::load_or_create(&d("trusted")).expect("CA");
    std::fs::write(d("roots.pem"), &material.chain_pem()[1]).unwrap();
    replicate_ca(&d("trusted"), &d("untrusted"));

    let (ca_pem, chain, key) = throwaway_pki();
    std::fs::write(d("ca.pem"), ca_pem).unwrap();
    std::fs::write(d("tls.pem"), chain).unwrap();
    std::fs::write(d("tls.key"), key).unwrap();
    let ct_port = base + 1;
    // Ready once it takes connections (over TLS, which the plain-HTTP
    // readiness check cannot see) and has written its key.
    let _ct = Service(spawn_until(
        keyless()
            .args(["server", "ct", "--data-dir", s(&d("ct"))])
            .args(["--addr", &format!("127.0.0.1:{ct_port}")])
            .args(["--roots", s(&d("roots.pem"))])
            .args([
                "--tls-cert",
                s(&d("tls.pem")),
                "--tls-key",
                s(&d("tls.key")),
            ])
            .env("RUST_LOG", "warn")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null()),
        "keyless server ct over TLS",
        || {
            std::net::TcpStream::connect(("127.0.0.1", ct_port)).is_ok()
                && d("ct").join("ctlog.pub.pem").exists()
        },
    ));
    let log_pem = std::fs::read_to_string(d("ct").join("ctlog.pub.pem")).unwrap();
    let log_key = PublicKey::from_pem(&log_pem).unwrap();
    let remote = format!("https://127.0.0.1:{ct_port}/ct/v1/add-pre-chain");
    let log_key_path = d("ct").join("ctlog.pub.pem");
    let remote_flags = [
        "--ct-log-url",
        &remote,
        "--ct-log-public-key",
        s(&log_key_path),
    ];
    let ca_bundle = d("ca.pem");
    let trusting = [&remote_flags[..], &["--ca-bundle", s(&ca_bundle)]].concat();
    let _trusting = start_ca(&dir, base + 2, &d("trusted"), &trusting);
    let _not = start_ca(&dir, base + 3, &d("untrusted"), &remote_flags);

    let token = |who: &str| dev_token(&dir, who);
    let key = SigningKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
    let (status, body) = issue(base + 2, &token("tls@example.com"), &key, "tls@example.com");
    assert_eq!(status, 201, "{body}");
    let certs = pem_certs(&body);
    let logs = [CtLogKey::new(log_key, 0, None)];
    assert_eq!(
        verify_embedded_scts(&certs[0], &certs[1], &logs).unwrap(),
        1
    );

    let (status, body) = issue(base + 3, &token("tls@example.com"), &key, "tls@example.com");
    assert_eq!(status, 500, "{body}");
    assert!(!body.contains("BEGIN CERTIFICATE"), "{body}");
    assert!(body.contains("CT log unavailable"), "{body}");
    let _ = std::fs::remove_dir_all(&dir);
}
