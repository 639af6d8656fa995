//! Issuance throughput over HTTP on loopback, SCT embedding included,
//! beside raw ECDSA rates. Not a test: run with
//! `cargo bench -p keyless-ca --bench issue`.
//!
//! Env: BENCH_REQUESTS (default 6000), BENCH_CONCURRENCY (32: every
//! request waits for its CT entry's durable commit, so a closed loop of
//! few connections measures the commit latency, not the CA's capacity),
//! BENCH_INTERMEDIATE (`p384`, `p256` or `both`, default both),
//! BENCH_CT_LINGER_MS (the durable CT log's batch linger; default: the
//! CA's default, `DEFAULT_CT_BATCH_LINGER`).
//!
//! The client is deliberately light: one kept-alive HTTP/1.1 connection per
//! concurrent worker (hyper's low-level client), the request body encoded
//! once. It runs in the same process and on the same cores as the CA, so
//! its cost is included in the numbers.

use std::time::{Duration, Instant};

use base64::Engine;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use keyless_ca::{CaConfig, CaState, IssuersSource, KeyAlgorithm};
use keyless_crypto::SigningKey;
use keyless_oidc_dev::{MintOptions, OidcDevConfig};

fn rate(name: &str, mut f: impl FnMut()) -> f64 {
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed() < Duration::from_secs(1) {
        f();
        n += 1;
    }
    let r = n as f64 / start.elapsed().as_secs_f64();
    println!("{name:<28} {r:>10.0} ops/s");
    r
}

/// CPU time this process has used (user + system), from /proc/self/stat
/// (Linux; `None` elsewhere). Clock ticks are 10 ms: fine over seconds.
fn cpu_time() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let after_comm = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = after_comm.split_whitespace().collect();
    // Fields 14 and 15 of stat(5); index 11 and 12 after the comm.
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(Duration::from_millis(ticks * 10))
}

/// The 1, 5 and 15 minute load averages: how busy the machine was.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|| "unknown".into())
}

/// The target for the durable CT log.
const TARGET_RATE: f64 = 3000.0;
const TARGET_P99: Duration = Duration::from_millis(20);

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// One worker: a kept-alive connection, `n` sequential requests.
async fn worker(addr: std::net::SocketAddr, body: Bytes, n: usize) -> Vec<Duration> {
    let stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    stream.set_nodelay(true).expect("nodelay");
    let (mut send, conn) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
            .await
            .expect("handshake");
    tokio::spawn(conn);
    let mut lat = Vec::with_capacity(n);
    for _ in 0..n {
        let req = hyper::Request::post("/api/v2/signingCert")
            .header(hyper::header::HOST, addr.to_string())
            .header(hyper::header::CONTENT_TYPE, "application/json")
            .body(Full::new(body.clone()))
            .expect("request");
        let t = Instant::now();
        send.ready().await.expect("ready");
        let resp = send.send_request(req).await.expect("request");
        let status = resp.status();
        let bytes = resp.into_body().collect().await.expect("body").to_bytes();
        assert_eq!(status, 201, "{}", String::from_utf8_lossy(&bytes));
        lat.push(t.elapsed());
    }
    lat
}

#[tokio::main]
async fn main() {
    let requests = env("BENCH_REQUESTS", 6000);
    let concurrency = env("BENCH_CONCURRENCY", 32);
    let which = std::env::var("BENCH_INTERMEDIATE").unwrap_or_else(|_| "both".into());
    let workers = tokio::runtime::Handle::current().metrics().num_workers();
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);

    println!("load average at start        {}", load_average());
    println!("-- raw crypto (keyless-crypto over aws-lc-rs), one core --");
    let mut rates = std::collections::HashMap::new();
    for (name, alg) in [
        ("ECDSA P-256", KeyAlgorithm::EcdsaP256),
        ("ECDSA P-384", KeyAlgorithm::EcdsaP384),
    ] {
        let k = SigningKey::generate(alg).expect("key");
        let sig = k.sign(b"message").expect("sign");
        let s = rate(&format!("{name} sign"), || {
            let _ = k.sign(b"message");
        });
        let v = rate(&format!("{name} verify"), || {
            let _ = k
                .public_key()
                .verify(k.signature_algorithm(), b"message", &sig);
        });
        rates.insert(alg, (s, v));
    }

    let dir = std::env::temp_dir().join(format!("keyless-ca-bench-{}", std::process::id()));
    let oidc_listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let oidc = keyless_oidc_dev::open_for(OidcDevConfig::new(dir.join("oidc")), &oidc_listener)
        .expect("oidc");
    let app = keyless_oidc_dev::router(oidc.clone());
    tokio::spawn(async move { axum::serve(oidc_listener, app).await });
    let token = oidc.mint(&MintOptions::default()).expect("token");
    let key = SigningKey::generate(KeyAlgorithm::EcdsaP256).expect("key");
    let proof = key.sign(b"dev@keyless.test").expect("sign");
    let body = Bytes::from(
        serde_json::to_vec(&serde_json::json!({
            "credentials": {"oidcIdentityToken": token},
            "publicKeyRequest": {
                "publicKey": {"algorithm": "ECDSA", "content": key.public_key().to_pem()},
                "proofOfPossession": base64::engine::general_purpose::STANDARD.encode(proof)
            }
        }))
        .expect("json"),
    );

    let algs: Vec<(&str, KeyAlgorithm)> = match which.as_str() {
        "p384" => vec![("P-384", KeyAlgorithm::EcdsaP384)],
        "p256" => vec![("P-256", KeyAlgorithm::EcdsaP256)],
        _ => vec![
            ("P-384", KeyAlgorithm::EcdsaP384),
            ("P-256", KeyAlgorithm::EcdsaP256),
        ],
    };
    for (label, alg) in algs {
        let ca_listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = ca_listener.local_addr().expect("addr");
        let issuers = serde_json::from_value(oidc.ca_issuers_config()).expect("config");
        let mut config = CaConfig::new(
            dir.join(format!("ca-{label}")),
            IssuersSource::Inline(issuers),
        );
        config.keys.intermediate_algorithm = alg;
        if let Ok(ms) = std::env::var("BENCH_CT_LINGER_MS") {
            let ms = ms.parse().expect("BENCH_CT_LINGER_MS: milliseconds");
            config.ct.batch_linger = std::time::Duration::from_millis(ms);
        }
        let ca = CaState::new(&config, &format!("http://{addr}")).expect("ca");
        let app = keyless_ca::router(ca.clone());
        tokio::spawn(async move { axum::serve(ca_listener, app).await });

        // Warm up: discovery + JWKS fetch, connection setup, allocator.
        worker(addr, body.clone(), 50).await;

        // Crypto per certificate: ES256 token + P-256 PoP verification, two
        // intermediate signatures (precert, final), one P-256 SCT signature.
        let (p256_sign, p256_verify) = rates[&KeyAlgorithm::EcdsaP256];
        let (int_sign, _) = rates[&alg];
        let crypto_secs = 2.0 / p256_verify + 2.0 / int_sign + 1.0 / p256_sign;
        println!(
            "-- issuance over HTTP on loopback, {label} intermediate: {requests} requests, {concurrency} connections, \
             {workers} tokio workers, {cores} cores --"
        );
        println!(
            "CT log                       durable (keyless-log files in {}), linger {:?}",
            config
                .data_dir
                .join(keyless_ca::ct_durable::CT_LOG_DIR)
                .display(),
            config.ct.batch_linger
        );
        println!("load average                 {}", load_average());
        println!("crypto-only ceiling          {:>10.0} certs/s  (all cores, nothing but the 5 ECDSA operations)", cores as f64 / crypto_secs);
        let cpu0 = cpu_time();
        let start = Instant::now();
        let per_task = requests / concurrency;
        let tasks: Vec<_> = (0..concurrency)
            .map(|_| tokio::spawn(worker(addr, body.clone(), per_task)))
            .collect();
        let mut lat = Vec::new();
        for t in tasks {
            lat.extend(t.await.expect("task"));
        }
        let elapsed = start.elapsed();
        let cpu = cpu0.zip(cpu_time()).map(|(a, b)| b.saturating_sub(a));
        lat.sort();
        let pct = |p: f64| lat[((lat.len() as f64 * p) as usize).min(lat.len() - 1)];
        println!("certificates issued          {:>10}", lat.len());
        println!(
            "throughput                   {:>10.0} certs/s",
            lat.len() as f64 / elapsed.as_secs_f64()
        );
        println!("latency p50                  {:>10.2?}", pct(0.50));
        println!("latency p99                  {:>10.2?}", pct(0.99));
        if let Some(cpu) = cpu {
            let per_cert = cpu.as_secs_f64() / lat.len() as f64;
            println!(
                "CPU used (CA + client)       {:>10.2?}  = {:.0} µs per certificate",
                cpu,
                per_cert * 1e6
            );
            println!(
                "CPU share we got            {:>9.0}%  of {cores} cores (the rest went to other processes or idle)",
                100.0 * cpu.as_secs_f64() / (elapsed.as_secs_f64() * cores as f64)
            );
            println!("CPU-bound capacity          {:>10.0} certs/s  ({cores} cores / CPU per certificate)", cores as f64 / per_cert);
        }
        println!("CT log entries               {:>10}", ca.ct.size());
        let rate = lat.len() as f64 / elapsed.as_secs_f64();
        let p99 = pct(0.99);
        println!(
            "target ≥ {TARGET_RATE:.0} certs/s, p99 < {TARGET_P99:?}: {} ({rate:.0} certs/s, p99 {p99:.2?}, load average {})",
            if rate >= TARGET_RATE && p99 < TARGET_P99 { "MET" } else { "NOT MET" },
            load_average()
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
