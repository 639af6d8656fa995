//! The verifier checks each Fulcio authority's own chain (intermediate →
//! root) once, when it is built, not per bundle. That must not weaken
//! anything: a trusted root whose intermediate is not signed by its root
//! still fails every bundle that chains through it, every time, with the
//! chain named as the failed check.

use keyless_verify::{
    Artifact, ErrorKind, Identity, Matcher, Policy, TrustMaterial, Verifier, VerifierOptions,
};
use keyless_x509::Certificate;

const ID: &str = "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main";
const ISSUER: &str = "https://token.actions.githubusercontent.com";

fn asset(path: &str) -> Vec<u8> {
    std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../../testdata/sigstore-conformance/assets/bundle-verify")
            .join(path),
    )
    .expect("conformance data")
}

fn verify(trust: TrustMaterial) -> Result<(), keyless_verify::VerificationError> {
    let verifier = Verifier::new(trust, VerifierOptions::default());
    let policy = Policy::identity(Identity::new(Matcher::exact(ID), Matcher::exact(ISSUER)));
    let bundle = asset("happy-path-v0.3/bundle.sigstore.json");
    let artifact = Artifact::Bytes(asset("a.txt"));
    // Twice with one verifier: the second verification must not be
    // answered from anything the first one left behind.
    verifier.verify_json(&bundle, &artifact, &policy)?;
    verifier
        .verify_json(&bundle, &artifact, &policy)
        .map(|_| ())
}

#[test]
fn a_trusted_intermediate_not_signed_by_its_root_fails_every_time() {
    verify(TrustMaterial::public_good().expect("root")).expect("the untouched root verifies");

    let mut trust = TrustMaterial::public_good().expect("root");
    let mut broken = 0;
    for ca in &mut trust.fulcio {
        if ca.chain.len() < 2 {
            continue;
        }
        // Flip the last byte of the intermediate's signature by the root.
        let mut der = ca.chain[0].der().to_vec();
        let last = der.len() - 1;
        der[last] ^= 0x01;
        ca.chain[0] = Certificate::from_der(&der).expect("still well-formed DER");
        broken += 1;
    }
    assert!(broken > 0, "the public-good root has Fulcio intermediates");
    let verifier = Verifier::new(trust, VerifierOptions::default());
    let policy = Policy::identity(Identity::new(Matcher::exact(ID), Matcher::exact(ISSUER)));
    let bundle = asset("happy-path-v0.3/bundle.sigstore.json");
    for _ in 0..2 {
        let err = verifier
            .verify_json(&bundle, &Artifact::Bytes(asset("a.txt")), &policy)
            .expect_err("an intermediate its root did not sign is not trusted");
        assert_eq!(err.kind(), ErrorKind::Certificate, "{err}");
    }
}
