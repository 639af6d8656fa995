//! Verifications per second on the conformance positives.
//!
//! `cargo bench -p keyless-verify --bench verify` prints, per bundle, the
//! mean time of one full verification (parse + every check) and the
//! overall rate, next to the machine's single-core ECDSA P-256 verify rate
//! as a baseline, so that the ratio says how much beyond raw signature
//! checks a verification costs.

use keyless_testkit::conformance as support;

use std::time::{Duration, Instant};

use keyless_crypto::{KeyAlgorithm, SigningKey};
use keyless_verify::{Verifier, VerifierOptions};

fn main() {
    let budget = Duration::from_millis(
        std::env::var("KEYLESS_BENCH_MS_PER_CASE")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(300),
    );

    // Baseline: raw ECDSA P-256 verifications per second on one core.
    let key = SigningKey::generate(KeyAlgorithm::EcdsaP256).expect("key");
    let sig = key.sign(b"baseline").expect("sign");
    let (n, t) = repeat(budget, || {
        key.public_key()
            .verify(key.signature_algorithm(), b"baseline", &sig)
            .expect("verify");
    });
    let baseline = n as f64 / t.as_secs_f64();
    println!("baseline: ECDSA P-256 verify {baseline:.0}/s (one core)");

    let cases: Vec<_> = support::cases()
        .into_iter()
        .filter(|c| c.expect_verify)
        .collect();
    let (mut total_n, mut total_t) = (0u64, Duration::ZERO);
    println!("{:<48} {:>12} {:>10}", "bundle", "per verify", "verify/s");
    for case in &cases {
        let verifier = Verifier::new(case.trust.clone(), VerifierOptions::default());
        verifier
            .verify_json(&case.bundle, &case.artifact, &case.policy)
            .expect("positive case verifies");
        let (n, t) = repeat(budget, || {
            verifier
                .verify_json(&case.bundle, &case.artifact, &case.policy)
                .expect("verifies");
        });
        total_n += n;
        total_t += t;
        let per = t / n as u32;
        println!(
            "{:<48} {:>10.1}µs {:>10.0}",
            case.name,
            per.as_secs_f64() * 1e6,
            n as f64 / t.as_secs_f64()
        );
    }
    let rate = total_n as f64 / total_t.as_secs_f64();
    println!("overall: {rate:.0} verifications/s over {} bundles; {:.1} ECDSA verifies' worth of time each", cases.len(), baseline / rate);
}

fn repeat(budget: Duration, mut f: impl FnMut()) -> (u64, Duration) {
    let start = Instant::now();
    let mut n = 0;
    while start.elapsed() < budget || n == 0 {
        f();
        n += 1;
    }
    (n, start.elapsed())
}
