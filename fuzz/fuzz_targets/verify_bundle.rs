//! Bundle parsing and full verification against the embedded public-good
//! root: any input must produce Ok or Err, never a panic or a hang.
#![no_main]

use std::sync::OnceLock;

use keyless_verify::{
    Artifact, Identity, Matcher, Policy, TrustMaterial, Verifier, VerifierOptions,
};
use libfuzzer_sys::fuzz_target;

fn verifier() -> &'static (Verifier, Policy, Artifact) {
    static V: OnceLock<(Verifier, Policy, Artifact)> = OnceLock::new();
    V.get_or_init(|| {
        let trust = TrustMaterial::public_good().expect("embedded root");
        let policy = Policy::identity(Identity::new(
            Matcher::exact("https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main"),
            Matcher::exact("https://token.actions.githubusercontent.com"),
        ));
        (Verifier::new(trust, VerifierOptions::default()), policy, Artifact::Bytes(b"hello, world!\n".to_vec()))
    })
}

fuzz_target!(|data: &[u8]| {
    let (v, policy, artifact) = verifier();
    let _ = v.verify_json(data, artifact, policy);
});
