//! Throughput of the TSA: timestamps per second over HTTP on loopback, and
//! beside it the single-core rate of issuing a token without HTTP.
//!
//! `cargo bench -p keyless-tsa --bench timestamp`
//! Knobs: TSA_BENCH_SECS (default 5), TSA_BENCH_CONNS (default 64),
//! TSA_BENCH_ALG (p256 | p384, default p256). Traffic goes only to
//! 127.0.0.1 and stops after the set time.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use keyless_crypto::{HashAlgorithm, KeyAlgorithm};
use keyless_tsa::{Tsa, TsaConfig};
use keyless_tsp::issue::TimestampRequest;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Read one HTTP/1.1 response with a Content-Length body from `buf`/`stream`;
/// returns the status code.
async fn read_response(stream: &mut TcpStream, buf: &mut Vec<u8>) -> std::io::Result<u16> {
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = std::str::from_utf8(&buf[..end]).map_err(std::io::Error::other)?;
            let status = head
                .get(9..12)
                .and_then(|s| s.parse().ok())
                .ok_or_else(|| std::io::Error::other("bad status line"))?;
            let len: usize = head
                .split("\r\n")
                .filter_map(|l| l.split_once(':'))
                .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
                .and_then(|(_, v)| v.trim().parse().ok())
                .ok_or_else(|| std::io::Error::other("no content-length"))?;
            let total = end + 4 + len;
            while buf.len() < total {
                let mut chunk = [0u8; 8192];
                let n = stream.read(&mut chunk).await?;
                if n == 0 {
                    return Err(std::io::ErrorKind::UnexpectedEof.into());
                }
                buf.extend_from_slice(&chunk[..n]);
            }
            buf.drain(..total);
            return Ok(status);
        }
        let mut chunk = [0u8; 8192];
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

fn main() {
    let secs = env_u64("TSA_BENCH_SECS", 5).clamp(1, 120);
    let conns = env_u64("TSA_BENCH_CONNS", 64).clamp(1, 1024);
    let alg = match std::env::var("TSA_BENCH_ALG").as_deref() {
        Ok("p384") => KeyAlgorithm::EcdsaP384,
        _ => KeyAlgorithm::EcdsaP256,
    };
    let dir = std::env::temp_dir().join(format!("keyless-tsa-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let tsa = Arc::new(Tsa::open(&TsaConfig::new(&dir).with_algorithm(alg)).expect("open TSA"));
    let body = TimestampRequest::for_data(HashAlgorithm::Sha256, b"benchmark signature")
        .with_nonce(&[0x42; 8])
        .expect("nonce")
        .with_cert_req(true)
        .to_der()
        .expect("request");

    // 0. Single core: the ECDSA signature alone (the floor of issuing).
    let key = keyless_crypto::SigningKey::generate(alg).expect("key");
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed() < Duration::from_secs(2) {
        let _ = key.sign(&body).expect("sign");
        n += 1;
    }
    let sign = n as f64 / start.elapsed().as_secs_f64();
    println!("single-core ECDSA sign, {alg:?}: {sign:.0} signatures/s");

    // 1. Single core, no HTTP: parse + issue.
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed() < Duration::from_secs(2) {
        let reply = tsa.timestamp_der(&body);
        assert!(reply.failure.is_none());
        n += 1;
    }
    let single = n as f64 / start.elapsed().as_secs_f64();
    println!(
        "single-core issue (parse + TSTInfo + ECDSA sign + encode), {alg:?}: {single:.0} tokens/s"
    );

    // 2. Over HTTP on loopback.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let (ok, bad, elapsed) = rt.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let server = tokio::spawn(keyless_tsa::serve_tsa(tsa.clone(), listener));
        let head = format!(
            "POST /api/v1/timestamp HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/timestamp-query\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        let mut request = head.into_bytes();
        request.extend_from_slice(&body);
        let request = Arc::new(request);
        let ok = Arc::new(AtomicU64::new(0));
        let bad = Arc::new(AtomicU64::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let start = Instant::now();
        let mut clients = Vec::new();
        for _ in 0..conns {
            let (request, ok, bad, stop) = (request.clone(), ok.clone(), bad.clone(), stop.clone());
            clients.push(tokio::spawn(async move {
                let Ok(mut stream) = TcpStream::connect(addr).await else {
                    bad.fetch_add(1, Ordering::Relaxed);
                    return;
                };
                let _ = stream.set_nodelay(true);
                let mut buf = Vec::with_capacity(16 * 1024);
                while !stop.load(Ordering::Relaxed) {
                    if stream.write_all(&request).await.is_err() {
                        bad.fetch_add(1, Ordering::Relaxed);
                        return;
                    }
                    match read_response(&mut stream, &mut buf).await {
                        Ok(200) => ok.fetch_add(1, Ordering::Relaxed),
                        _ => {
                            bad.fetch_add(1, Ordering::Relaxed);
                            return;
                        }
                    };
                }
            }));
        }
        tokio::time::sleep(Duration::from_secs(secs)).await;
        stop.store(true, Ordering::Relaxed);
        let elapsed = start.elapsed();
        for c in clients {
            let _ = c.await;
        }
        server.abort();
        (ok.load(Ordering::Relaxed), bad.load(Ordering::Relaxed), elapsed)
    });
    let rate = ok as f64 / elapsed.as_secs_f64();
    println!(
        "HTTP loopback, {conns} keep-alive connections, {secs}s, {alg:?}: {rate:.0} timestamps/s ({ok} granted, {bad} failed)"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
