//! Reading the conformance cases from `testdata/sigstore-conformance` for tests,
//! benches and the mutation fuzzer.
//!
//! The cases are real Sigstore bundles with the verdict other clients reach
//! (`cases.tsv`); reading them in one place keeps every consumer on the same
//! selection of cases and the same trusted roots and policies.

use std::path::{Path, PathBuf};

use keyless_verify::{Artifact, Identity, Matcher, Policy, TrustMaterial};

/// The checked-in conformance data directory (`testdata/sigstore-conformance`).
pub fn shared() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../testdata/sigstore-conformance")
}

/// One conformance case, ready to verify.
pub struct Case {
    pub name: String,
    pub expect_verify: bool,
    pub bundle: Vec<u8>,
    pub trust: TrustMaterial,
    pub policy: Policy,
    pub artifact: Artifact,
}

/// Every case whose trusted root and key parse (the ones that do not are
/// negative cases about exactly that).
pub fn cases() -> Vec<Case> {
    let base = shared();
    let assets = base.join("assets");
    let tsv = std::fs::read_to_string(base.join("cases.tsv"))
        .expect("conformance data in testdata/sigstore-conformance");
    let mut out = Vec::new();
    for line in tsv.lines().skip(1).filter(|l| !l.is_empty()) {
        let f: Vec<&str> = line.split('\t').collect();
        let trust = if f[3] == "PUBLIC-GOOD" {
            TrustMaterial::public_good()
        } else {
            TrustMaterial::from_json(&std::fs::read(assets.join(f[3])).expect("trusted root"))
        };
        let Ok(trust) = trust else { continue };
        let policy = if f[2] == "key" {
            let pem = std::fs::read_to_string(assets.join(f[6])).expect("key");
            match keyless_crypto::PublicKey::from_pem(&pem) {
                Ok(k) => Policy::Key(k),
                Err(_) => continue,
            }
        } else {
            Policy::identity(Identity::new(Matcher::exact(f[7]), Matcher::exact(f[8])))
        };
        out.push(Case {
            name: f[0].to_string(),
            expect_verify: f[1] == "verify",
            bundle: std::fs::read(
                assets
                    .join("bundle-verify")
                    .join(f[0])
                    .join("bundle.sigstore.json"),
            )
            .expect("bundle"),
            trust,
            policy,
            artifact: Artifact::Bytes(std::fs::read(assets.join(f[4])).expect("artifact")),
        });
    }
    out
}
