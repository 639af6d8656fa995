//! Random mutation of real bundles: whatever the bytes, verification must
//! return (Ok or Err) and never panic, and a mutated bundle must never
//! verify unless the mutation left it semantically unchanged.
//!
//! This is the stable-toolchain counterpart of the libFuzzer target in
//! `fuzz/`; `cargo run --release -p keyless-verify --example mutate -- 180`
//! runs the same mutator for three minutes.

use keyless_testkit::{conformance, mutator};
use keyless_verify::{Verifier, VerifierOptions};

#[test]
fn mutated_bundles_never_panic() {
    let cases = conformance::cases();
    assert!(cases.len() > 60, "conformance cases found");
    let mut rng = mutator::Rng::new(0x5eed_cafe);
    let mut verified_mutants = 0;
    for case in &cases {
        let verifier = Verifier::new(case.trust.clone(), VerifierOptions::default());
        for _ in 0..30 {
            let mutant = mutator::mutate(&case.bundle, &mut rng);
            let outcome = std::panic::catch_unwind(|| {
                verifier
                    .verify_json(&mutant, &case.artifact, &case.policy)
                    .is_ok()
            });
            let ok = outcome.unwrap_or_else(|_| panic!("panic on a mutant of {}", case.name));
            if ok && !case.expect_verify {
                panic!("a mutant of negative case {} verified", case.name);
            }
            verified_mutants += ok as usize;
        }
    }
    // Most mutations must break verification; a few (whitespace, unused
    // fields) legitimately do not.
    assert!(
        verified_mutants < cases.len() * 30 / 4,
        "{verified_mutants} mutants verified"
    );
}
