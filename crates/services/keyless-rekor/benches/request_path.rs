//! Where a log append's CPU goes before and after the log itself: the
//! request's parse and signature check, and the response's encoding, one
//! at a time on one core. Complements `loadgen`, which measures the whole
//! path over HTTP but only as a total per thread.
//!
//! cargo bench -p keyless-log --bench request_path
//! Environment: REQUEST_PATH_ITERATIONS (default 20000).

use std::time::Instant;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use keyless_crypto::{sha256, KeyAlgorithm, PublicKey, SigningKey};
use keyless_rekor::entries::v2::parse_request;
use keyless_types::wire;

fn per_op(n: usize, mut f: impl FnMut(usize)) -> f64 {
    // Warm up caches and the allocator first.
    for i in 0..n / 10 {
        f(i);
    }
    let t = Instant::now();
    for i in 0..n {
        f(i);
    }
    t.elapsed().as_secs_f64() * 1e6 / n as f64
}

fn main() {
    let n: usize = std::env::var("REQUEST_PATH_ITERATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000);
    let key = SigningKey::generate(KeyAlgorithm::EcdsaP256).expect("key");
    let spki = key.public_key().spki_der().to_vec();
    let artifacts: Vec<Vec<u8>> = (0..n)
        .map(|i| format!("artifact {i}").into_bytes())
        .collect();
    let sigs: Vec<Vec<u8>> = artifacts
        .iter()
        .map(|a| key.sign(a).expect("sign"))
        .collect();
    let requests: Vec<Vec<u8>> = artifacts
        .iter()
        .zip(&sigs)
        .map(|(a, s)| {
            serde_json::to_vec(&serde_json::json!({ "hashedRekordRequestV002": {
                "digest": B64.encode(sha256(a)),
                "signature": { "content": B64.encode(s), "verifier": { "publicKey": { "rawBytes": B64.encode(&spki) }, "keyDetails": "PKIX_ECDSA_P256_SHA_256" } },
            }}))
            .expect("json")
        })
        .collect();

    let alg = key.signature_algorithm();
    let verify = per_op(n, |i| {
        let k = PublicKey::from_spki_der(&spki).expect("spki");
        k.verify(alg, &artifacts[i], &sigs[i]).expect("verify");
    });
    let mut bodies = Vec::with_capacity(n);
    let parse = per_op(n, |i| {
        let e = parse_request(&requests[i]).expect("parse");
        if bodies.len() < n {
            bodies.push(e.body);
        }
    });
    let note = "keyless.example/log\n123456789\nq83vEjRWeJq83vEjRWeJq83vEjRWeJq83vEjRWeJq8M=\n\n\u{2014} keyless.example/log AAAAAXNpZ25hdHVyZS1vZi1hYm91dC1zZXZlbnR5LXR3by1ieXRlcy1mb3ItYS1wMjU2LWtleS1pbi1kZXItZm9ybS0tLS0=\n";
    let respond = per_op(n, |i| {
        let tle = wire::TransparencyLogEntry {
            log_index: i as i64,
            log_id: wire::LogId {
                key_id: vec![7; 32],
            },
            kind_version: wire::KindVersion {
                kind: "hashedrekord".into(),
                version: "0.0.2".into(),
            },
            integrated_time: None,
            inclusion_promise: None,
            inclusion_proof: Some(wire::InclusionProof {
                log_index: i as i64,
                root_hash: vec![9; 32],
                tree_size: 123_456_789,
                hashes: (0..27).map(|h| vec![h as u8; 32]).collect(),
                checkpoint: Some(wire::Checkpoint {
                    envelope: note.into(),
                }),
            }),
            canonicalized_body: bodies[i % bodies.len()].clone(),
            canonicalized_body_b64: None,
        };
        std::hint::black_box(serde_json::to_vec(&tle).expect("json"));
    });
    println!("per request, one core ({n} iterations, ECDSA P-256, hashedrekord 0.0.2):");
    println!("  parse key + verify signature:        {verify:6.1} µs");
    println!(
        "  parse_request (JSON, key, verify, canonical body): {parse:6.1} µs  (non-verify part {:.1} µs)",
        parse - verify
    );
    println!("  TransparencyLogEntry to JSON (27-hash proof):      {respond:6.1} µs");
}
