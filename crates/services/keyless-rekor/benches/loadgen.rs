//! Load generator: durable appends/s and submit→inclusion latency over
//! loopback HTTP, the machine's single-core signature verification rates
//! for context, and the log's RSS as it grows.
//!
//! cargo bench -p keyless-log --bench loadgen
//! Environment: LOADGEN_HTTP_ENTRIES (default 30000), LOADGEN_CONCURRENCY
//! (default 256), LOADGEN_CLIENT_THREADS (default 1), LOADGEN_RSS_ENTRIES
//! (default 1000000), LOADGEN_POSTGRES (a connection string: store the log
//! in that PostgreSQL database), LOADGEN_LINGER_MS (the log's
//! `batch_linger`; default: the log's default), LOADGEN_KEEP_DATA (set: keep
//! the log's data directory rather than delete it), LOADGEN_METRICS (set:
//! install the Prometheus recorder and serve with the request metrics, as
//! `keyless server` does, so the log's own metrics (append latency, batch
//! sizes, fsync time, tile cache) are recorded too; unset, every metrics
//! call is the facade's no-op; compare runs with and without it back to
//! back).
//!
//! Server and load generator share the machine's cores, so besides the
//! wall-clock rate the bench charges CPU time to each side, thread by
//! thread (`/proc/self/task/*/stat`): the server's HTTP workers
//! (`log-http`), the sequencer and committer threads, and the client's
//! runtime (`loadgen`). The server's CPU per append gives the rate the
//! log would sustain with the cores to itself, and its ratio to the
//! single-core verification rate shows how close it is to the floor of one
//! signature check per entry.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use keyless_crypto::{sha256, KeyAlgorithm, SigningKey};
use keyless_log::{LogConfig, Submission};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The allocator `keyless server log` runs with.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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

/// CPU time a thread group used: user + system, and system alone.
#[derive(Debug, Clone, Copy, Default)]
struct Cpu {
    total: Duration,
    sys: Duration,
}

/// CPU time of this process's threads, summed by thread name, read in one
/// pass over `/proc/self/task`. Clock ticks are 10 ms, fine over runs of
/// seconds.
fn thread_times() -> HashMap<String, Cpu> {
    let mut out: HashMap<String, Cpu> = HashMap::new();
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return out;
    };
    for task in tasks.flatten() {
        let Ok(stat) = std::fs::read_to_string(task.path().join("stat")) else {
            continue;
        };
        let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
            continue;
        };
        let name = stat[open + 1..close].to_string();
        let fields: Vec<&str> = stat[close + 2..].split_whitespace().collect();
        let ticks = |i: usize| {
            fields
                .get(i)
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or(0)
        };
        // utime and stime: fields 14 and 15 of stat(5), 11 and 12 after the name.
        let (user, sys) = (ticks(11), ticks(12));
        let cpu = out.entry(name).or_default();
        cpu.total += Duration::from_millis((user + sys) * 10);
        cpu.sys += Duration::from_millis(sys * 10);
    }
    out
}

/// CPU used between two snapshots by threads whose name starts with `prefix`.
fn cpu_since(before: &HashMap<String, Cpu>, after: &HashMap<String, Cpu>, prefix: &str) -> Cpu {
    let sum = |m: &HashMap<String, Cpu>| -> Cpu {
        m.iter()
            .filter(|(k, _)| k.starts_with(prefix))
            .fold(Cpu::default(), |a, (_, c)| Cpu {
                total: a.total + c.total,
                sys: a.sys + c.sys,
            })
    };
    let (a, b) = (sum(before), sum(after));
    Cpu {
        total: b.total.saturating_sub(a.total),
        sys: b.sys.saturating_sub(a.sys),
    }
}

/// One simulated client: a kept-alive HTTP/1.1 connection, requests one
/// after another, each answered only once durable and provable.
///
/// The requests are pre-built bytes and the responses are read with a
/// minimal HTTP/1.1 reader (status line, `Content-Length`, body) rather than
/// a full client: the load generator shares the server's two cores, and
/// every microsecond it spends is one the server cannot.
async fn client(
    requests: Arc<Vec<Vec<u8>>>,
    addr: std::net::SocketAddr,
    next: Arc<AtomicUsize>,
) -> Vec<Duration> {
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    stream.set_nodelay(true).expect("nodelay");
    let mut buf = Vec::with_capacity(16 * 1024);
    let mut lat = Vec::new();
    loop {
        let i = next.fetch_add(1, Ordering::Relaxed);
        let Some(req) = requests.get(i) else { break };
        let t = Instant::now();
        stream.write_all(req).await.expect("send request");
        buf.clear();
        let (status, body) = read_response(&mut stream, &mut buf).await;
        assert_eq!(status, 201, "{}", String::from_utf8_lossy(&buf[body..]));
        lat.push(t.elapsed());
    }
    lat
}

/// A complete POST to the v2 endpoint, head and body, ready to write.
fn http_request(addr: std::net::SocketAddr, body: &[u8]) -> Vec<u8> {
    let mut req = format!(
        "POST /api/v2/log/entries HTTP/1.1\r\nhost: {addr}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    req.extend_from_slice(body);
    req
}

/// Reads one response into `buf`; returns its status and where its body
/// starts. Panics on anything but a `Content-Length`-framed response, which
/// is what the log sends.
async fn read_response(stream: &mut tokio::net::TcpStream, buf: &mut Vec<u8>) -> (u16, usize) {
    let end = loop {
        read_more(stream, buf).await;
        if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break p + 4;
        }
    };
    let head = std::str::from_utf8(&buf[..end]).expect("response head is ASCII");
    let status: u16 = head
        .get(9..12)
        .and_then(|s| s.parse().ok())
        .expect("status line");
    let length: usize = head
        .lines()
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse().ok())?
        })
        .expect("Content-Length");
    while buf.len() < end + length {
        read_more(stream, buf).await;
    }
    assert_eq!(buf.len(), end + length, "bytes after the response");
    (status, end)
}

/// Appends what the connection has to `buf`, growing it when full.
async fn read_more(stream: &mut tokio::net::TcpStream, buf: &mut Vec<u8>) {
    if buf.len() == buf.capacity() {
        buf.reserve(buf.capacity());
    }
    let n = stream.read_buf(buf).await.expect("read response");
    assert!(n > 0, "server closed the connection mid-response");
}

fn main() {
    let http_entries = env("LOADGEN_HTTP_ENTRIES", 30_000);
    let concurrency = env("LOADGEN_CONCURRENCY", 256);
    let rss_entries = env("LOADGEN_RSS_ENTRIES", 1_000_000);
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let ed25519 = verify_rate(KeyAlgorithm::Ed25519);
    let p256 = verify_rate(KeyAlgorithm::EcdsaP256);
    println!("single-core verify: Ed25519 {ed25519:.0}/s, ECDSA P-256 {p256:.0}/s");

    // The server's runtime, as `keyless server log` runs it: one worker per core.
    let server_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(cores)
        .thread_name("log-http")
        .enable_all()
        .build()
        .unwrap();
    // The load generator's own runtime, so its CPU is charged to it.
    let client_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(env("LOADGEN_CLIENT_THREADS", 1))
        .thread_name("loadgen")
        .enable_all()
        .build()
        .unwrap();

    let dir = tempfile::tempdir().unwrap();
    // Deleting a run's data directory makes the next run slower on a
    // journal-less ext4 for minutes (the inode allocator skips recently
    // deleted inodes), so back-to-back runs can keep theirs.
    let keep = std::env::var_os("LOADGEN_KEEP_DATA").is_some();
    let (log, addr) = server_rt.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let mut config = LogConfig::new(dir.path(), addr.to_string());
        if let Ok(ms) = std::env::var("LOADGEN_LINGER_MS") {
            config.batch_linger = Duration::from_millis(ms.parse().expect("LOADGEN_LINGER_MS"));
        }
        if let Ok(url) = std::env::var("LOADGEN_POSTGRES") {
            println!("storage: PostgreSQL");
            config = config.with_postgres(url);
        }
        let log = tokio::task::spawn_blocking(move || keyless_log::open_from_config(config))
            .await
            .unwrap()
            .unwrap();
        let mut router = keyless_rekor::router(log.clone());
        if std::env::var_os("LOADGEN_METRICS").is_some() {
            println!("metrics: on (keyless-serve request counters and histograms)");
            router = keyless_serve::instrument(router, "log", keyless_serve::Readiness::always());
        }
        tokio::spawn(async move { axum::serve(listener, router).await });
        (log, addr)
    });

    // Pre-sign the requests so the client's signing is not measured.
    let key = SigningKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
    let spki = B64.encode(key.public_key().spki_der());
    let requests: Vec<Vec<u8>> = (0..http_entries)
        .map(|i| {
            let artifact = format!("artifact {i}");
            let sig = key.sign(artifact.as_bytes()).unwrap();
            let body = serde_json::to_vec(&serde_json::json!({ "hashedRekordRequestV002": {
                "digest": B64.encode(sha256(artifact.as_bytes())),
                "signature": { "content": B64.encode(sig), "verifier": { "publicKey": { "rawBytes": spki }, "keyDetails": "PKIX_ECDSA_P256_SHA_256" } },
            }}))
            .unwrap();
            http_request(addr, &body)
        })
        .collect();
    let requests = Arc::new(requests);
    let next = Arc::new(AtomicUsize::new(0));

    let cpu0 = thread_times();
    let start = Instant::now();
    let mut lat: Vec<Duration> = client_rt.block_on(async {
        let tasks: Vec<_> = (0..concurrency)
            .map(|_| tokio::spawn(client(requests.clone(), addr, next.clone())))
            .collect();
        let mut lat = Vec::new();
        for t in tasks {
            lat.extend(t.await.unwrap());
        }
        lat
    });
    let elapsed = start.elapsed();
    let cpu1 = thread_times();
    lat.sort();
    let pct = |p: f64| lat[((lat.len() as f64 * p) as usize).min(lat.len() - 1)];
    let rate = http_entries as f64 / elapsed.as_secs_f64();
    println!(
        "HTTP v2 hashedrekord: {http_entries} durable appends with {concurrency} concurrent clients in {:.2}s = {rate:.0}/s; submit->inclusion latency p50 {:?} p99 {:?} max {:?}",
        elapsed.as_secs_f64(),
        pct(0.50),
        pct(0.99),
        lat[lat.len() - 1]
    );
    let per = |d: Duration| d.as_secs_f64() * 1e6 / http_entries as f64;
    let http = cpu_since(&cpu0, &cpu1, "log-http");
    let log_threads = cpu_since(&cpu0, &cpu1, "keyless-log-");
    let seq = cpu_since(&cpu0, &cpu1, "keyless-log-seq").total;
    let commit = cpu_since(&cpu0, &cpu1, "keyless-log-com").total;
    let gen = cpu_since(&cpu0, &cpu1, "loadgen").total;
    let server_sys = http.sys + log_threads.sys;
    let http = http.total;
    let server = http + seq + commit;
    let total = cpu_since(&cpu0, &cpu1, "").total;
    println!(
        "CPU per append: server {:.0} µs (HTTP workers {:.0}, sequencer {:.0}, committer {:.0}; in the kernel {:.0}); load generator {:.0} µs; whole process {:.0} µs; CPU share {:.0}% of {cores} cores",
        per(server), per(http), per(seq), per(commit), per(server_sys), per(gen), per(total),
        100.0 * total.as_secs_f64() / (elapsed.as_secs_f64() * cores as f64)
    );
    let capacity = cores as f64 * 1e6 / per(server);
    println!(
        "server CPU-bound capacity on {cores} cores: {capacity:.0} appends/s; measured rate / single-core P-256 verify rate = {:.2}, capacity / that rate = {:.2}",
        rate / p256,
        capacity / p256
    );
    // This machine's speed drifts by tens of percent within minutes (a
    // shared host), so rates from different runs compare badly. The
    // server's CPU per append counted in signature checks, with the
    // verify rate measured on both sides of the run, moves much less.
    let p256_after = verify_rate(KeyAlgorithm::EcdsaP256);
    let verify_us = 2e6 / (p256 + p256_after);
    println!(
        "P-256 verify after the run: {p256_after:.0}/s; server CPU per append = {:.2} single-core P-256 verifies ({:.1} µs each, mean of before and after)",
        per(server) / verify_us,
        verify_us
    );
    println!(
        "RSS after {} entries: {:.1} MiB",
        log.published().size,
        rss_mib()
    );

    // Grow the log through the library API (no HTTP, no signatures) to
    // see memory at scale; entries are ~450-byte synthetic bodies.
    server_rt.block_on(async move {
        let target = rss_entries as u64;
        let start = Instant::now();
        let mut i = log.published().size;
        let mut next_report = 250_000u64;
        while i < target {
            let chunk: Vec<_> = (0..4096u64.min(target - i))
                .map(|k| {
                    let log = log.clone();
                    let body = format!("{{\"apiVersion\":\"0.0.2\",\"kind\":\"hashedrekord\",\"n\":{},\"pad\":\"{}\"}}", i + k, "x".repeat(400)).into_bytes();
                    tokio::spawn(async move { log.submit(Submission { body, lookup_key: Some(sha256(&(i + k).to_be_bytes())) }).await })
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
        if keep {
            println!("data directory kept: {}", dir.keep().display());
        }
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
