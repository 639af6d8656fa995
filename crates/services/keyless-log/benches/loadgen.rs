//! Load generator: durable appends/s and submit→inclusion latency over
//! loopback HTTP, the machine's single-core signature verification rates
//! for context, and the log's RSS as it grows.
//!
//! cargo bench -p keyless-log --bench loadgen
//! Environment: LOADGEN_HTTP_ENTRIES (default 20000), LOADGEN_CONCURRENCY
//! (default 64), LOADGEN_RSS_ENTRIES (default 1000000), LOADGEN_POSTGRES
//! (a connection string: store the log in that PostgreSQL database).

use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use keyless_crypto::{sha256, KeyAlgorithm, SigningKey};
use keyless_log::{Log, LogConfig, Submission};

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .map(str::to_string)
        })
        .and_then(|l| {
            l.split_whitespace()
                .nth(1)
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

fn verify_rate(alg: KeyAlgorithm) -> f64 {
    let key = SigningKey::generate(alg).unwrap();
    let msg =
        b"a checkpoint-sized message of about a hundred bytes, as the log and its clients verify";
    let sig = key.sign(msg).unwrap();
    let pk = key.public_key().clone();
    let n = 5000;
    let t = Instant::now();
    for _ in 0..n {
        pk.verify(key.signature_algorithm(), msg, &sig).unwrap();
    }
    n as f64 / t.elapsed().as_secs_f64()
}

fn main() {
    let http_entries = env("LOADGEN_HTTP_ENTRIES", 20_000);
    let concurrency = env("LOADGEN_CONCURRENCY", 64);
    let rss_entries = env("LOADGEN_RSS_ENTRIES", 1_000_000);
    println!(
        "single-core verify: Ed25519 {:.0}/s, ECDSA P-256 {:.0}/s",
        verify_rate(KeyAlgorithm::Ed25519),
        verify_rate(KeyAlgorithm::EcdsaP256)
    );

    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async move {
        let dir = tempfile::tempdir().unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let mut config = LogConfig::new(dir.path(), addr.to_string());
        if let Ok(url) = std::env::var("LOADGEN_POSTGRES") {
            println!("storage: PostgreSQL");
            config = config.with_postgres(url);
        }
        let log = tokio::task::spawn_blocking(move || Log::open(config)).await.unwrap().unwrap();
        let router = keyless_log::router(log.clone());
        tokio::spawn(async move { axum::serve(listener, router).await });

        // Pre-sign the requests so the client's signing is not measured.
        let key = SigningKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
        let spki = B64.encode(key.public_key().spki_der());
        let bodies: Vec<Vec<u8>> = (0..http_entries)
            .map(|i| {
                let artifact = format!("artifact {i}");
                let sig = key.sign(artifact.as_bytes()).unwrap();
                serde_json::to_vec(&serde_json::json!({ "hashedRekordRequestV002": {
                    "digest": B64.encode(sha256(artifact.as_bytes())),
                    "signature": { "content": B64.encode(sig), "verifier": { "publicKey": { "rawBytes": spki }, "keyDetails": "PKIX_ECDSA_P256_SHA_256" } },
                }}))
                .unwrap()
            })
            .collect();
        let bodies = Arc::new(bodies);
        let client = reqwest::Client::new();
        let url = format!("http://{addr}/api/v2/log/entries");
        let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let start = Instant::now();
        let mut tasks = Vec::new();
        for _ in 0..concurrency {
            let (bodies, client, url, next) = (bodies.clone(), client.clone(), url.clone(), next.clone());
            tasks.push(tokio::spawn(async move {
                let mut lat = Vec::new();
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some(b) = bodies.get(i) else { break };
                    let t = Instant::now();
                    let r = client.post(&url).header("content-type", "application/json").body(b.clone()).send().await.unwrap();
                    assert_eq!(r.status().as_u16(), 201);
                    let _ = r.bytes().await;
                    lat.push(t.elapsed());
                }
                lat
            }));
        }
        let mut lat: Vec<Duration> = Vec::new();
        for t in tasks {
            lat.extend(t.await.unwrap());
        }
        let elapsed = start.elapsed();
        lat.sort();
        let pct = |p: f64| lat[((lat.len() as f64 * p) as usize).min(lat.len() - 1)];
        println!(
            "HTTP v2 hashedrekord: {http_entries} durable appends with {concurrency} concurrent clients in {:.2}s = {:.0}/s; submit->inclusion latency p50 {:?} p99 {:?} max {:?}",
            elapsed.as_secs_f64(),
            http_entries as f64 / elapsed.as_secs_f64(),
            pct(0.50),
            pct(0.99),
            lat[lat.len() - 1]
        );
        println!("RSS after {} entries: {:.1} MiB", log.published().size, rss_mib());

        // Grow the log through the library API (no HTTP, no signatures) to
        // see memory at scale; entries are ~450-byte synthetic bodies.
        let target = rss_entries as u64;
        let start = Instant::now();
        let mut i = log.published().size;
        let mut next_report = 250_000u64;
        while i < target {
            let chunk: Vec<_> = (0..4096u64.min(target - i))
                .map(|k| {
                    let log = log.clone();
                    let body = format!("{{\"apiVersion\":\"0.0.2\",\"kind\":\"hashedrekord\",\"n\":{},\"pad\":\"{}\"}}", i + k, "x".repeat(400)).into_bytes();
                    tokio::spawn(async move { log.submit(Submission { body, artifact_sha256: Some(sha256(&(i + k).to_be_bytes())) }).await })
                })
                .collect();
            for t in chunk {
                t.await.unwrap().unwrap();
            }
            i = log.published().size;
            if i >= next_report || i >= target {
                println!("  size {i}: RSS {:.1} MiB, {:.0} appends/s (library, 4096 concurrent submits)", rss_mib(), (i as f64 - http_entries as f64) / start.elapsed().as_secs_f64());
                next_report += 250_000;
            }
        }
        let disk: u64 = walk(dir.path());
        println!("RSS at {} entries: {:.1} MiB; data directory {:.1} MiB", log.published().size, rss_mib(), disk as f64 / 1048576.0);
    });
}

fn walk(p: &std::path::Path) -> u64 {
    std::fs::read_dir(p)
        .map(|rd| {
            rd.flatten()
                .map(|e| match e.metadata() {
                    Ok(m) if m.is_dir() => walk(&e.path()),
                    Ok(m) => m.len(),
                    Err(_) => 0,
                })
                .sum()
        })
        .unwrap_or(0)
}
