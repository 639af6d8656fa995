//! The testkit checks itself: a helper that silently stopped doing its job
//! (no conformance cases read, bundles that verify whatever the artifact, a
//! mutator that is not reproducible) would make the tests built on it pass
//! for the wrong reason.

use std::collections::HashSet;

use keyless_crypto::{HashAlgorithm, KeyAlgorithm, SignatureAlgorithm};
use keyless_testkit::minted::{Instance, MessageBundle};
use keyless_testkit::{conformance, mutator};
use keyless_verify::Artifact;

#[test]
fn conformance_cases_are_read_with_both_verdicts() {
    let cases = conformance::cases();
    assert!(
        cases.len() > 60,
        "only {} conformance cases read",
        cases.len()
    );
    assert!(
        cases.iter().any(|c| c.expect_verify),
        "no case expected to verify"
    );
    assert!(
        cases.iter().any(|c| !c.expect_verify),
        "no case expected to fail"
    );
    let names: HashSet<&str> = cases.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names.len(), cases.len(), "case names repeat");
}

#[test]
fn minted_bundle_verifies_for_its_artifact_only() {
    let instance = Instance::new();
    let signer = instance.signer(KeyAlgorithm::EcdsaP256);
    let bundle = MessageBundle {
        signer: &signer,
        scheme: SignatureAlgorithm::EcdsaSha256,
        declared: HashAlgorithm::Sha256,
        logged: HashAlgorithm::Sha256,
    }
    .mint(&instance, b"artifact");
    let verifier = instance.verifier();
    verifier
        .verify_json(
            &bundle,
            &Artifact::Bytes(b"artifact".to_vec()),
            &Instance::policy(),
        )
        .expect("a minted bundle verifies against the instance's trusted root");
    assert!(
        verifier
            .verify_json(
                &bundle,
                &Artifact::Bytes(b"another artifact".to_vec()),
                &Instance::policy()
            )
            .is_err(),
        "a minted bundle verified for an artifact it does not sign"
    );
}

#[test]
fn mutator_is_reproducible_from_a_seed() {
    let input = br#"{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json","a":[1,2,3]}"#;
    let run = |seed| {
        let mut rng = mutator::Rng::new(seed);
        (0..50)
            .map(|_| mutator::mutate(input, &mut rng))
            .collect::<Vec<_>>()
    };
    let first = run(7);
    assert_eq!(first, run(7), "same seed, different mutants");
    assert!(
        first.iter().any(|m| m.as_slice() != input),
        "no mutant differs from the input"
    );
}
