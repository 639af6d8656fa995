//! `verify_chain_trusted` (a trusted root chain whose own links were checked
//! once) gives exactly what `verify_chain` gives, on real Sigstore data:
//! the same path, or the same error, including when a link inside the
//! trusted chain does not verify (it is never taken on trust).

use base64::Engine;
use keyless_x509::{verify_chain, verify_chain_trusted, Certificate, Purpose, TrustedChain};
use serde_json::Value;

const SHARED: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../testdata/sigstore-conformance"
);

fn json(path: &str) -> Value {
    let text = std::fs::read_to_string(format!("{SHARED}/{path}")).expect("read test data");
    serde_json::from_str(&text).expect("parse test data")
}

fn der(s: &Value) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD
        .decode(s.as_str().expect("base64 string"))
        .expect("base64")
}

fn leaf(case: &str) -> Certificate {
    let b = json(&format!("assets/bundle-verify/{case}/bundle.sigstore.json"));
    let vm = &b["verificationMaterial"];
    let raw = if vm["certificate"].is_object() {
        &vm["certificate"]["rawBytes"]
    } else {
        &vm["x509CertificateChain"]["certificates"][0]["rawBytes"]
    };
    Certificate::from_der(&der(raw)).expect("leaf parses")
}

fn fulcio_chains() -> Vec<Vec<Certificate>> {
    json("public-good-trust/trusted_root.json")["certificateAuthorities"]
        .as_array()
        .expect("authorities")
        .iter()
        .map(|ca| {
            ca["certChain"]["certificates"]
                .as_array()
                .expect("certs")
                .iter()
                .map(|c| Certificate::from_der(&der(&c["rawBytes"])).expect("CA cert parses"))
                .collect()
        })
        .collect()
}

/// Same answers as `verify_chain` for real leaves, at times inside and
/// outside the certificates' validity, against every public-good CA.
#[test]
fn same_answers_as_verify_chain() {
    let mut ok = 0;
    for case in ["happy-path-v0.3", "happy-path-v0.1", "happy-path-v0.2"] {
        let leaf = leaf(case);
        for at in [
            leaf.not_before() + 60,
            leaf.not_before() - 1,
            leaf.not_after() + 1,
            0,
        ] {
            for chain in fulcio_chains() {
                let trusted = TrustedChain::new(chain.clone());
                let plain = verify_chain(&leaf, &[], &chain, at, Purpose::CodeSigning);
                let cached =
                    verify_chain_trusted(&leaf, &[], &trusted, at, Purpose::CodeSigning).map(owned);
                assert_eq!(plain, cached, "{case} at {at}");
                ok += usize::from(cached.is_ok());
                // The purpose is still checked on a cached chain.
                assert!(
                    verify_chain_trusted(&leaf, &[], &trusted, at, Purpose::TimeStamping).is_err(),
                    "{case} at {at}"
                );
            }
        }
    }
    assert_eq!(ok, 3, "each leaf chains once, inside its validity");
}

/// An intermediate in the trusted chain whose signature by the root is
/// broken: building the `TrustedChain` records no link for it, so the path
/// fails exactly as without the cache; and a good copy of the intermediate
/// offered as untrusted still builds the path, its link checked for real.
#[test]
fn a_broken_link_in_the_trusted_chain_is_not_trusted() {
    let leaf = leaf("happy-path-v0.3");
    let at = leaf.not_before() + 60;
    let good = fulcio_chains()
        .into_iter()
        .find(|c| verify_chain(&leaf, &[], c, at, Purpose::CodeSigning).is_ok())
        .expect("a public-good chain for the leaf");
    assert!(good.len() >= 2, "intermediate and root");
    // Flip the last byte of the intermediate's signature value.
    let mut bytes = good[0].der().to_vec();
    let last = bytes.len() - 1;
    bytes[last] ^= 0x01;
    let broken = Certificate::from_der(&bytes).expect("still well-formed DER");
    let mut chain = good.clone();
    chain[0] = broken;

    let trusted = TrustedChain::new(chain.clone());
    let plain = verify_chain(&leaf, &[], &chain, at, Purpose::CodeSigning);
    let cached = verify_chain_trusted(&leaf, &[], &trusted, at, Purpose::CodeSigning).map(owned);
    assert!(
        cached.is_err(),
        "a link whose signature fails must not verify"
    );
    assert_eq!(plain, cached);

    let with_good = verify_chain_trusted(&leaf, &good[..1], &trusted, at, Purpose::CodeSigning)
        .expect("the untrusted good intermediate is checked and used");
    assert_eq!(*with_good[1], good[0]);
}

/// `verify_chain_trusted` returns the path by reference; `verify_chain`'s is owned.
fn owned(path: Vec<&Certificate>) -> Vec<Certificate> {
    path.into_iter().cloned().collect()
}

/// The SCT check hashes the issuer's SubjectPublicKeyInfo from its parsed
/// key; that is the same DER the decoded certificate encodes.
#[test]
fn parsed_key_spki_is_the_certificates() {
    let leaves = ["happy-path-v0.3", "happy-path-v0.1", "happy-path-v0.2"].map(leaf);
    let chains = fulcio_chains();
    let certs: Vec<&Certificate> = chains.iter().flatten().chain(&leaves).collect();
    for cert in &certs {
        let key = cert.public_key_ref().expect("keys parse");
        assert_eq!(key.spki_der(), cert.spki_der().unwrap().as_slice());
    }
    // The public-good root's three CA certificates (P-384) and three leaves (P-256).
    assert_eq!(certs.len(), 6);
}
