//! Run the bundle mutator against every conformance case for a number of
//! seconds (default 60), reporting iterations and outcomes; exits non-zero
//! on a panic or on a mutant of a negative case that verifies.
//!
//! `cargo run --release -p keyless-verify --example mutate -- 180`

use keyless_testkit::conformance as support;
use keyless_testkit::mutator;

use std::time::{Duration, Instant};

use keyless_verify::{Verifier, VerifierOptions};

fn main() {
    let secs: u64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(60);
    let seed = std::env::args()
        .nth(2)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5eed);
    let cases = support::cases();
    let verifiers: Vec<_> = cases
        .iter()
        .map(|c| Verifier::new(c.trust.clone(), VerifierOptions::default()))
        .collect();
    let mut rng = mutator::Rng::new(seed);
    let deadline = Instant::now() + Duration::from_secs(secs);
    let (mut runs, mut accepted) = (0u64, 0u64);
    while Instant::now() < deadline {
        let i = rng.below(cases.len());
        let case = &cases[i];
        let mutant = mutator::mutate(&case.bundle, &mut rng);
        let ok = match std::panic::catch_unwind(|| {
            verifiers[i]
                .verify_json(&mutant, &case.artifact, &case.policy)
                .is_ok()
        }) {
            Ok(ok) => ok,
            Err(_) => {
                let path = std::env::temp_dir().join(format!("keyless-crash-{runs}.json"));
                let _ = std::fs::write(&path, &mutant);
                eprintln!(
                    "PANIC on a mutant of {} (saved to {})",
                    case.name,
                    path.display()
                );
                std::process::exit(1);
            }
        };
        if ok && !case.expect_verify {
            eprintln!("a mutant of negative case {} verified", case.name);
            std::process::exit(1);
        }
        runs += 1;
        accepted += ok as u64;
    }
    println!("{runs} mutated bundles in {secs}s over {} cases: no panics; {accepted} still verified (semantically unchanged mutations)", cases.len());
}
