//! sign-blob end to end against the local stack, in process on loopback:
//! token → certificate (with SCT) → signature → RFC 3161 timestamp → Rekor v2
//! entry → bundle → self-verification. Prints p50/p99 of the whole flow and
//! the median of each step, as measured between the flow's progress events.
//!
//! `cargo bench -p keyless-cli --bench sign_blob` (KEYLESS_BENCH_SIGNS=N, default 200)

use std::sync::Mutex;
use std::time::{Duration, Instant};

use keyless_sign::http::{AnyRekor, FulcioClient, HttpClient, TsaClient};
use keyless_sign::{Artifact, Signer};

fn main() {
    let n: usize = std::env::var("KEYLESS_BENCH_SIGNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let dir = std::env::temp_dir().join(format!("keyless-bench-stack-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let stack = rt
        .block_on(keyless_cli::stack::start(
            &dir,
            "127.0.0.1:0".parse().expect("addr"),
        ))
        .expect("start stack");
    let trust = keyless_verify::TrustMaterial::from_json(
        &std::fs::read(dir.join("trusted_root.json")).expect("root"),
    )
    .expect("trust");
    let http = HttpClient::shared().expect("HTTP client");
    let signer = Signer {
        ca: FulcioClient::new(&stack.urls.ca_url, http.clone()),
        log: AnyRekor::new(&stack.urls.log_url, 2, http.clone()),
        tsa: Some(TsaClient::new(&stack.urls.tsa_url, http.clone())),
        trust: Some(trust),
    };
    let steps = 5;
    let mut totals: Vec<Duration> = Vec::with_capacity(n);
    let mut per_step: Vec<Vec<Duration>> = vec![Vec::new(); steps];
    for i in 0..n {
        let token = keyless_oidc_dev::mint_token(
            &dir.join("oidc"),
            None,
            &keyless_oidc_dev::MintOptions {
                subject: Some(format!("bench{i}@keyless.test")),
                ..Default::default()
            },
        )
        .expect("token");
        let digest = keyless_crypto::sha256(format!("artifact {i}").as_bytes());
        let marks = Mutex::new(Vec::new());
        let progress = |_: &str| marks.lock().expect("lock").push(Instant::now());
        let start = Instant::now();
        rt.block_on(signer.sign(
            &token,
            &format!("bench{i}@keyless.test"),
            &Artifact::Digest(digest),
            &progress,
        ))
        .expect("sign");
        let end = Instant::now();
        let mut m = marks.into_inner().expect("marks");
        m.push(end);
        // Events: keys, certificate, SCT verified, tlog created, end.
        let mut prev = start;
        for (s, t) in m.iter().enumerate().take(steps) {
            per_step[s].push(*t - prev);
            prev = *t;
        }
        totals.push(end - start);
    }
    totals.sort();
    let pct = |v: &[Duration], p: f64| v[((v.len() as f64 - 1.0) * p).round() as usize];
    println!("sign-blob end to end over loopback, {n} signatures (Rekor v2 + TSA):");
    println!(
        "  p50 {:.1} ms   p99 {:.1} ms",
        pct(&totals, 0.5).as_secs_f64() * 1e3,
        pct(&totals, 0.99).as_secs_f64() * 1e3
    );
    println!("  median per step (between progress events):");
    let labels = [
        "(start)",
        "ephemeral key generation",
        "certificate from the CA + SCT check",
        "signature + RFC 3161 timestamp + log entry",
        "bundle + self-verification",
    ];
    for (s, label) in labels.iter().enumerate() {
        let mut v = per_step[s].clone();
        v.sort();
        if !v.is_empty() {
            println!(
                "    {label:<42} {:>7.2} ms",
                pct(&v, 0.5).as_secs_f64() * 1e3
            );
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}
