//! Issuance throughput over HTTP on loopback, SCT embedding included,
//! beside raw ECDSA rates. Not a test: run with
//! `cargo bench -p keyless-ca --bench issue` (env: BENCH_REQUESTS, BENCH_CONCURRENCY).

use std::time::{Duration, Instant};

use base64::Engine;
use keyless_ca::{CaConfig, CaState, IssuersSource};
use keyless_crypto::{KeyAlgorithm, SigningKey};
use keyless_oidc_dev::{MintOptions, OidcDevConfig};

fn rate(name: &str, mut f: impl FnMut()) {
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed() < Duration::from_secs(1) {
        f();
        n += 1;
    }
    println!("{name:<28} {:>10.0} ops/s", n as f64 / start.elapsed().as_secs_f64());
}

fn env(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

#[tokio::main]
async fn main() {
    let requests = env("BENCH_REQUESTS", 2000);
    let concurrency = env("BENCH_CONCURRENCY", 8);

    println!("-- raw crypto (keyless-crypto over aws-lc-rs), one core --");
    for (name, alg) in [("ECDSA P-256", KeyAlgorithm::EcdsaP256), ("ECDSA P-384", KeyAlgorithm::EcdsaP384)] {
        let k = SigningKey::generate(alg).expect("key");
        let sig = k.sign(b"message").expect("sign");
        rate(&format!("{name} sign"), || {
            let _ = k.sign(b"message");
        });
        rate(&format!("{name} verify"), || {
            let _ = k.public_key().verify(k.signature_algorithm(), b"message", &sig);
        });
    }

    let dir = std::env::temp_dir().join(format!("keyless-ca-bench-{}", std::process::id()));
    let oidc_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let oidc = keyless_oidc_dev::open_for(OidcDevConfig::new(dir.join("oidc")), &oidc_listener).expect("oidc");
    let app = keyless_oidc_dev::router(oidc.clone());
    tokio::spawn(async move { axum::serve(oidc_listener, app).await });
    let ca_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let ca_url = format!("http://{}", ca_listener.local_addr().expect("addr"));
    let issuers = serde_json::from_value(oidc.ca_issuers_config()).expect("config");
    let ca = CaState::new(&CaConfig::new(dir.join("ca"), IssuersSource::Inline(issuers)), &ca_url).expect("ca");
    let app = keyless_ca::router(ca.clone());
    tokio::spawn(async move { axum::serve(ca_listener, app).await });

    let token = oidc.mint(&MintOptions::default()).expect("token");
    let key = SigningKey::generate(KeyAlgorithm::EcdsaP256).expect("key");
    let proof = key.sign(b"dev@keyless.test").expect("sign");
    let body = serde_json::json!({
        "credentials": {"oidcIdentityToken": token},
        "publicKeyRequest": {
            "publicKey": {"algorithm": "ECDSA", "content": key.public_key().to_pem()},
            "proofOfPossession": base64::engine::general_purpose::STANDARD.encode(proof)
        }
    });
    let client = reqwest::Client::new();
    let url = format!("{ca_url}/api/v2/signingCert");
    // Warm up: discovery + JWKS fetch, connections.
    for _ in 0..concurrency {
        let r = client.post(&url).json(&body).send().await.expect("warm-up");
        assert_eq!(r.status(), 201);
    }

    println!("-- issuance over HTTP on loopback: {requests} requests, {concurrency} concurrent --");
    let start = Instant::now();
    let per_task = requests / concurrency;
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (client, url, body) = (client.clone(), url.clone(), body.clone());
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::with_capacity(per_task);
            for _ in 0..per_task {
                let t = Instant::now();
                let r = client.post(&url).json(&body).send().await.expect("request");
                assert_eq!(r.status(), 201);
                let _ = r.bytes().await;
                lat.push(t.elapsed());
            }
            lat
        }));
    }
    let mut lat = Vec::new();
    for t in tasks {
        lat.extend(t.await.expect("task"));
    }
    let elapsed = start.elapsed();
    lat.sort();
    let pct = |p: f64| lat[((lat.len() as f64 * p) as usize).min(lat.len() - 1)];
    println!("certificates issued          {:>10}", lat.len());
    println!("throughput                   {:>10.0} certs/s", lat.len() as f64 / elapsed.as_secs_f64());
    println!("latency p50                  {:>10.2?}", pct(0.50));
    println!("latency p99                  {:>10.2?}", pct(0.99));
    println!("CT log entries               {:>10}", ca.ct.size());
    let _ = std::fs::remove_dir_all(&dir);
}
