//! keyless against crates.io `sigstore-verify` 0.15.1, in one process, on
//! the same bundles, with the same trusted root, identity policy and
//! artifact bytes, interleaved so that a noisy machine slows both alike.
//!
//! ```text
//! cargo bench -p keyless-verify --bench peer
//! ```
//!
//! Each side parses the bundle JSON and verifies it fully (chain, SCT,
//! log entry with its signed entry timestamp or checkpoint, signature over
//! the artifact, identity policy). Rounds alternate keyless and peer; the
//! report is the median time per verification over rounds and the ratio
//! peer / keyless (above 1 means keyless is faster), also of the fastest
//! rounds (`ratio/min`, the least disturbed by other load), next to a
//! single-core ECDSA P-256 verify measured in the same rounds, and keyless's
//! time in those verifies (median of the per-round ratios).
//! `KEYLESS_PEER_ROUNDS` (default 41) and `KEYLESS_PEER_MS` (milliseconds
//! per side per round, default 40) set the length; `KEYLESS_PEER_BUNDLE`
//! (a bundle name) runs only that bundle, e.g. under callgrind.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use keyless_crypto::{KeyAlgorithm, SigningKey};
use keyless_verify::{
    Artifact, Identity, Matcher, Policy, TrustMaterial, Verifier, VerifierOptions,
};

const IDENTITY: &str = "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main";
const ISSUER: &str = "https://token.actions.githubusercontent.com";

struct Case {
    name: &'static str,
    bundle: String,
    root: String,
}

fn assets() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../testdata/sigstore-conformance/assets")
}

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let rounds = env_or("KEYLESS_PEER_ROUNDS", 41);
    let slice = Duration::from_millis(env_or("KEYLESS_PEER_MS", 40));
    let a = assets();
    let artifact = std::fs::read(a.join("bundle-verify/a.txt")).expect("a.txt");
    let read = |p: &str| std::fs::read_to_string(a.join(p)).expect(p);
    let cases = [
        Case {
            name: "happy-path-v0.3",
            bundle: read("bundle-verify/happy-path-v0.3/bundle.sigstore.json"),
            // The conformance suite's PUBLIC-GOOD root; both sides read these bytes.
            root: keyless_verify::PUBLIC_GOOD_TRUSTED_ROOT.to_string(),
        },
        Case {
            name: "rekor2-happy-path",
            bundle: read("bundle-verify/rekor2-happy-path/bundle.sigstore.json"),
            root: read("bundle-verify/rekor2-happy-path/trusted_root.json"),
        },
    ];

    // The yardstick is measured inside every round too, next to both
    // sides, so that "P-256 verifies per bundle" is a same-moment ratio on
    // a machine whose load changes.
    let key = SigningKey::generate(KeyAlgorithm::EcdsaP256).expect("key");
    let sig = key.sign(b"baseline").expect("sign");
    let public = key.public_key();
    let p256 = || {
        public
            .verify(key.signature_algorithm(), b"baseline", &sig)
            .expect("verify");
    };
    println!(
        "{rounds} rounds, {} ms per side per round, interleaved",
        slice.as_millis()
    );
    println!(
        "{:<20} {:>12} {:>12} {:>8} {:>10} {:>12} {:>16}",
        "bundle", "keyless", "peer", "ratio", "ratio/min", "P-256 verify", "keyless in P-256"
    );

    let only = std::env::var("KEYLESS_PEER_BUNDLE").ok();
    for case in cases
        .iter()
        .filter(|c| only.as_deref().is_none_or(|o| o == c.name))
    {
        // keyless: trust loaded once; per verification, JSON parse + verify.
        let trust = TrustMaterial::from_json(case.root.as_bytes()).expect("keyless root");
        let kv = Verifier::new(trust, VerifierOptions::default());
        let kpolicy = Policy::identity(Identity::new(
            Matcher::exact(IDENTITY),
            Matcher::exact(ISSUER),
        ));
        let kart = Artifact::Bytes(artifact.clone());
        let keyless = || {
            kv.verify_json(case.bundle.as_bytes(), &kart, &kpolicy)
                .expect("keyless verifies");
        };

        // sigstore-verify: same root bytes, same identity and issuer, same
        // artifact bytes (hashed by the verifier, as keyless does).
        let sroot = sigstore_trust_root::TrustedRoot::from_json(&case.root).expect("peer root");
        let sv = sigstore_verify::Verifier::new(&sroot).expect("peer verifier");
        let spolicy = sigstore_verify::VerificationPolicy::new(IDENTITY, ISSUER);
        let peer = || {
            let bundle = sigstore_types::Bundle::from_json(&case.bundle).expect("peer parses");
            sv.verify(artifact.as_slice(), &bundle, &spolicy)
                .expect("peer verifies");
        };

        let (mut k, mut p, mut b, mut kb) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for r in 0..rounds {
            let base = per_call(slice / 2, p256);
            b.push(base);
            // Alternate which side goes first, so neither always gets the warm turn.
            if r % 2 == 0 {
                k.push(per_call(slice, keyless));
                p.push(per_call(slice, peer));
            } else {
                p.push(per_call(slice, peer));
                k.push(per_call(slice, keyless));
            }
            kb.push(k[k.len() - 1] / base);
        }
        // Ratio of medians, and the median of the per-round P-256 ratios.
        let (km, pm, bm, kbm) = (
            median(&mut k),
            median(&mut p),
            median(&mut b),
            median(&mut kb),
        );
        println!(
            "{:<20} {:>10.1}µs {:>10.1}µs {:>7.2}× {:>9.2}× {:>10.1}µs {:>16.1}",
            case.name,
            km * 1e6,
            pm * 1e6,
            pm / km,
            p[0] / k[0],
            bm * 1e6,
            kbm
        );
    }
}

/// Mean seconds per call of `f` over about `budget`.
fn per_call(budget: Duration, mut f: impl FnMut()) -> f64 {
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed() < budget || n == 0 {
        f();
        n += 1;
    }
    start.elapsed().as_secs_f64() / n as f64
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}
