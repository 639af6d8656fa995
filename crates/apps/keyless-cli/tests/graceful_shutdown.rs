//! Graceful shutdown (issue 18, point 4): `keyless server log` under load
//! from many keep-alive connections gets SIGTERM; it must exit 0, every
//! entry it acknowledged must be in the log after a restart with an
//! inclusion proof that checks against the signed checkpoint, and no
//! connection may break after a response started: each request either
//! got a whole response or a connection error before its first byte.
//! The CA gets the same treatment with certificate requests.

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Child, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use keyless_crypto::{KeyAlgorithm, SigningKey};
use support::*;

const CONNECTIONS: usize = 24;
const REQUESTS: usize = 6000;

/// What one request got.
#[derive(Debug)]
enum Outcome {
    /// A whole response: status, body, and when it was complete.
    Answered(u16, Vec<u8>, Instant),
    /// The connection failed before any byte of a response.
    NoResponse,
    /// Some bytes of a response, then the connection broke.
    Broken(String),
}

fn start_log(dir: &std::path::Path, port: u16, stderr: &std::path::Path) -> Child {
    spawn_until_ok(
        keyless()
            .args(["server", "log", "--listen", &format!("127.0.0.1:{port}")])
            .arg("--data-dir")
            .arg(dir)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(stderr).expect("stderr file")),
        &format!("http://127.0.0.1:{port}/checkpoint"),
        "keyless server log",
    )
}

/// One POST on `stream`, read to the end of its `Content-Length` body.
fn exchange(stream: &mut TcpStream, request: &[u8]) -> Outcome {
    if stream.write_all(request).is_err() {
        return Outcome::NoResponse;
    }
    let mut buf = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_string();
            let status: u16 = head.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0);
            let length = head.lines().find_map(|l| {
                let (name, value) = l.split_once(':')?;
                name.eq_ignore_ascii_case("content-length")
                    .then(|| value.trim().parse::<usize>().ok())?
            });
            if let Some(length) = length {
                if buf.len() >= end + 4 + length {
                    let body = buf[end + 4..end + 4 + length].to_vec();
                    return Outcome::Answered(status, body, Instant::now());
                }
            }
        }
        match stream.read(&mut chunk) {
            Ok(0) | Err(_) if buf.is_empty() => return Outcome::NoResponse,
            Ok(0) => return Outcome::Broken(String::from_utf8_lossy(&buf).into_owned()),
            Err(e) => return Outcome::Broken(format!("{e} after {} bytes", buf.len())),
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
}

/// A keep-alive client: sends requests until they run out or the server
/// refuses new connections.
fn client(port: u16, requests: Arc<Vec<Vec<u8>>>, next: Arc<AtomicUsize>) -> Vec<Outcome> {
    let mut out = Vec::new();
    let mut stream: Option<TcpStream> = None;
    loop {
        if stream.is_none() {
            match TcpStream::connect(("127.0.0.1", port)) {
                Ok(s) => {
                    let _ = s.set_read_timeout(Some(Duration::from_secs(60)));
                    stream = Some(s);
                }
                Err(_) => return out,
            }
        }
        let i = next.fetch_add(1, Ordering::Relaxed);
        let Some(request) = requests.get(i) else {
            return out;
        };
        let Some(s) = stream.as_mut() else { return out };
        let outcome = exchange(s, request);
        if !matches!(outcome, Outcome::Answered(..)) {
            stream = None;
        }
        out.push(outcome);
    }
}

fn requests(port: u16) -> Vec<Vec<u8>> {
    let key = SigningKey::generate(KeyAlgorithm::EcdsaP256).expect("key");
    (0..REQUESTS)
        .map(|i| {
            let artifact = format!("graceful {i} {}", std::process::id());
            let body = hashedrekord_v002_request(&key, &artifact);
            post(port, "/api/v2/log/entries", &body)
        })
        .collect()
}

/// A complete HTTP/1.1 POST of a JSON body, head and body.
fn post(port: u16, path: &str, body: &[u8]) -> Vec<u8> {
    let mut req = format!(
        "POST {path} HTTP/1.1\r\nhost: 127.0.0.1:{port}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    req.extend_from_slice(body);
    req
}

/// Waits (up to a minute) for `child` to exit after a signal.
fn wait_stopped(child: &mut Child) -> std::process::ExitStatus {
    wait_exit(child, Duration::from_secs(60), "the server after SIGTERM")
}

#[test]
fn sigterm_under_load_exits_0_and_keeps_every_acknowledged_entry() {
    let dir = temp_dir("graceful-shutdown");
    let data = dir.join("log");
    let port = free_base_port();
    let mut child = start_log(&data, port, &dir.join("first.log"));
    let requests = Arc::new(requests(port));
    let next = Arc::new(AtomicUsize::new(0));
    let outcomes = Arc::new(Mutex::new(Vec::new()));
    let clients: Vec<_> = (0..CONNECTIONS)
        .map(|_| {
            let (requests, next, outcomes) = (requests.clone(), next.clone(), outcomes.clone());
            std::thread::spawn(move || {
                let got = client(port, requests, next);
                outcomes.lock().expect("lock").extend(got);
            })
        })
        .collect();
    // Mid-load: once a few hundred requests went out.
    let deadline = Instant::now() + Duration::from_secs(60);
    while next.load(Ordering::Relaxed) < 400 {
        assert!(Instant::now() < deadline, "the load never started");
        std::thread::sleep(Duration::from_millis(5));
    }
    let signal_at = Instant::now();
    let signalled = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(signalled.success());
    let sent_at_signal = next.load(Ordering::Relaxed);
    let status = wait_stopped(&mut child);
    for c in clients {
        c.join().expect("client thread");
    }
    let first_log = std::fs::read_to_string(dir.join("first.log")).unwrap_or_default();
    assert_eq!(
        status.code(),
        Some(0),
        "exit status {status:?}\n{first_log}"
    );
    assert!(
        sent_at_signal < REQUESTS,
        "the load ended before the signal"
    );
    assert!(
        first_log.contains("last checkpoint is published"),
        "{first_log}"
    );

    let outcomes = std::mem::take(&mut *outcomes.lock().expect("lock"));
    let broken: Vec<&str> = outcomes
        .iter()
        .filter_map(|o| match o {
            Outcome::Broken(what) => Some(what.as_str()),
            _ => None,
        })
        .collect();
    assert!(
        broken.is_empty(),
        "connections broke mid-response: {broken:?}"
    );
    let mut acked = Vec::new();
    let mut after_signal = 0;
    for o in &outcomes {
        if let Outcome::Answered(status, body, at) = o {
            if *at > signal_at {
                after_signal += 1;
            }
            assert_eq!(*status, 201, "{}", String::from_utf8_lossy(body));
            acked.push(acknowledged(body));
        }
    }
    assert!(acked.len() >= 100, "only {} acknowledged", acked.len());
    // Requests in flight at the signal were finished, not dropped.
    assert!(after_signal > 0, "no request was answered after SIGTERM");

    // After a restart every acknowledged entry is there, with a proof
    // that checks against the log's current signed checkpoint.
    let mut child = start_log(&data, port, &dir.join("second.log"));
    let (size, root) = log_checkpoint(port).expect("checkpoint");
    assert!(size as usize >= acked.len(), "{size} < {}", acked.len());
    let entries = acked.iter().map(|(i, c)| (*i, c.as_slice()));
    for proof in check_acknowledged(port, entries) {
        assert_eq!(
            (proof.tree_size, proof.root),
            (size, root),
            "entry {}'s proof is not from the current checkpoint",
            proof.index
        );
    }
    // Those proofs read the hash tiles through the log's tile cache.
    let text = http_get(&format!("http://127.0.0.1:{port}/metrics"));
    let samples = keyless_serve::scrape::parse(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    let cache = |name| keyless_serve::scrape::sum(&samples, name, &[]);
    let (hits, misses) = (
        cache("keyless_log_tile_cache_hits_total"),
        cache("keyless_log_tile_cache_misses_total"),
    );
    eprintln!(
        "{} acknowledged ({after_signal} after SIGTERM) of {sent_at_signal} sent at SIGTERM; tree size {size}; tile cache {hits} hits, {misses} misses",
        acked.len()
    );
    if size > 256 {
        assert!(hits + misses > 0.0, "no tile cache use in\n{text}");
    }
    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(&dir);
}

fn start_service(args: &[&str], port: u16, stderr: &std::path::Path) -> Child {
    spawn_until_ok(
        keyless()
            .arg("server")
            .args(args)
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(stderr).expect("stderr file")),
        &format!("http://127.0.0.1:{port}/readyz"),
        &format!("keyless server {args:?}"),
    )
}

#[test]
fn sigterm_under_load_lets_the_ca_finish_its_issuances() {
    let dir = temp_dir("graceful-shutdown-ca");
    let base = free_base_port();
    let (oidc_port, ca_port) = (base, base + 1);
    let issuer = format!("http://127.0.0.1:{oidc_port}");
    let oidc_dir = dir.join("oidc");
    let mut oidc = start_service(
        &["oidc", "--data-dir", oidc_dir.to_str().expect("utf8")],
        oidc_port,
        &dir.join("oidc.log"),
    );
    let issuers = serde_json::json!({ "OIDCIssuers": { issuer.clone():
        {"IssuerURL": issuer, "ClientID": "sigstore", "Type": "email"} } });
    std::fs::write(dir.join("issuers.json"), issuers.to_string()).expect("issuers");
    let ca_dir = dir.join("ca");
    let issuers_file = dir.join("issuers.json");
    let mut ca = start_service(
        &[
            "ca",
            "--data-dir",
            ca_dir.to_str().expect("utf8"),
            "--issuers",
            issuers_file.to_str().expect("utf8"),
        ],
        ca_port,
        &dir.join("ca.log"),
    );
    let token = dev_token(&dir, "alice@example.com");
    let key = SigningKey::generate(KeyAlgorithm::EcdsaP256).expect("key");
    let pop = B64.encode(key.sign(b"alice@example.com").expect("sign"));
    let body = serde_json::to_vec(&serde_json::json!({
        "credentials": { "oidcIdentityToken": token },
        "publicKeyRequest": {
            "publicKey": { "algorithm": "ECDSA", "content": key.public_key().to_pem() },
            "proofOfPossession": pop,
        }
    }))
    .expect("json");
    let requests: Arc<Vec<Vec<u8>>> = Arc::new(
        (0..REQUESTS)
            .map(|_| post(ca_port, "/api/v2/signingCert", &body))
            .collect(),
    );
    let next = Arc::new(AtomicUsize::new(0));
    let clients: Vec<_> = (0..CONNECTIONS / 2)
        .map(|_| {
            let (requests, next) = (requests.clone(), next.clone());
            std::thread::spawn(move || client(ca_port, requests, next))
        })
        .collect();
    let deadline = Instant::now() + Duration::from_secs(60);
    while next.load(Ordering::Relaxed) < 60 {
        assert!(Instant::now() < deadline, "the load never started");
        std::thread::sleep(Duration::from_millis(5));
    }
    let signal_at = Instant::now();
    let signalled = std::process::Command::new("kill")
        .args(["-TERM", &ca.id().to_string()])
        .status()
        .expect("kill");
    assert!(signalled.success());
    let status = wait_stopped(&mut ca);
    let outcomes: Vec<Outcome> = clients
        .into_iter()
        .flat_map(|c| c.join().expect("client thread"))
        .collect();
    let ca_log = std::fs::read_to_string(dir.join("ca.log")).unwrap_or_default();
    assert_eq!(status.code(), Some(0), "exit status {status:?}\n{ca_log}");
    let mut issued = 0;
    let mut after_signal = 0;
    for o in &outcomes {
        match o {
            Outcome::Broken(what) => panic!("a response was cut off: {what}"),
            Outcome::NoResponse => {}
            Outcome::Answered(status, body, at) => {
                let text = String::from_utf8_lossy(body);
                assert_eq!(*status, 201, "{text}");
                let v: serde_json::Value = serde_json::from_slice(body).expect("JSON");
                let chain = v["signedCertificateEmbeddedSct"]["chain"]["certificates"]
                    .as_array()
                    .expect("a certificate chain");
                assert!(
                    chain.len() >= 2
                        && chain.iter().all(|c| c
                            .as_str()
                            .is_some_and(|p| p.starts_with("-----BEGIN CERTIFICATE-----"))),
                    "{text}"
                );
                issued += 1;
                if *at > signal_at {
                    after_signal += 1;
                }
            }
        }
    }
    eprintln!("CA: {issued} certificates issued, {after_signal} answered after SIGTERM");
    assert!(issued >= 30, "only {issued} issued");
    assert!(after_signal > 0, "no issuance was answered after SIGTERM");
    let _ = oidc.kill();
    let _ = oidc.wait();
    let _ = std::fs::remove_dir_all(&dir);
}

/// `keyless server --dev` stops as the single services do, on SIGTERM
/// (what `docker stop` and service managers send) and on Ctrl-C: every
/// server stops accepting and answers what it has, both logs (the
/// transparency log and the CA's CT log) publish what they queued, and
/// the process exits 0.
#[test]
fn dev_stack_stops_gracefully_on_sigterm_and_sigint() {
    for signal in ["-TERM", "-INT"] {
        let dir = temp_dir(&format!("graceful-dev{signal}"));
        let port = free_base_port();
        let stderr = dir.join("stderr.log");
        let mut child = spawn_until_ok(
            keyless()
                .args(["server", "--dev", "--listen", &format!("127.0.0.1:{port}")])
                .arg("--data-dir")
                .arg(dir.join("stack"))
                .env("RUST_LOG", "info")
                .stdout(Stdio::null())
                .stderr(std::fs::File::create(&stderr).expect("stderr file")),
            &format!("http://127.0.0.1:{port}/healthz"),
            "keyless server --dev",
        );
        let signalled = std::process::Command::new("kill")
            .args([signal, &child.id().to_string()])
            .status()
            .expect("kill");
        assert!(signalled.success());
        let status = wait_stopped(&mut child);
        let text = std::fs::read_to_string(&stderr).unwrap_or_default();
        assert_eq!(status.code(), Some(0), "{signal}: {status:?}\n{text}");
        assert_eq!(
            text.matches("its last checkpoint is published").count(),
            2,
            "{signal}: both logs drained\n{text}"
        );
        assert!(text.contains("keyless dev stack stopped"), "{text}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
