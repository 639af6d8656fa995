//! Shapes of real public-good bundles that the conformance suite does not
//! exercise, derived from its real bundles (tests/data/README.md): a v0.1
//! bundle with only an inclusion promise (what sigstore-python 1.x and
//! cosign wrote before inclusion proofs), and a v0.1 chain of leaf and
//! intermediate from sigstore-python of May 2023, whose ephemeral key is
//! P-384 and whose message digest is SHA-256.

use keyless_verify::{
    Artifact, ErrorKind, Identity, Matcher, Policy, TrustMaterial, Verifier, VerifierOptions,
};
use serde_json::Value;

const ID: &str = "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main";
const ISSUER: &str = "https://token.actions.githubusercontent.com";

fn data(name: &str) -> Vec<u8> {
    std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data")
            .join(name),
    )
    .expect("test data")
}

fn json(name: &str) -> Value {
    serde_json::from_slice(&data(name)).expect("bundle JSON")
}

fn verify(bundle: &Value, artifact: &[u8]) -> Result<(), keyless_verify::VerificationError> {
    verify_as(bundle, artifact, ID, ISSUER)
}

/// Verify by file and by `sha256:<hex>`, for the identity `san`/`issuer`.
fn verify_as(
    bundle: &Value,
    artifact: &[u8],
    san: &str,
    issuer: &str,
) -> Result<(), keyless_verify::VerificationError> {
    let verifier = Verifier::new(
        TrustMaterial::public_good().expect("public-good root"),
        VerifierOptions::default(),
    );
    let policy = Policy::identity(Identity::new(Matcher::exact(san), Matcher::exact(issuer)));
    let bytes = serde_json::to_vec(bundle).expect("bundle JSON");
    verifier.verify_json(&bytes, &Artifact::Bytes(artifact.to_vec()), &policy)?;
    let digest = Artifact::from_arg(&format!("sha256:{}", keyless_crypto::sha256_hex(artifact)));
    verifier.verify_json(&bytes, &digest, &policy).map(|_| ())
}

/// A v0.1 bundle whose Rekor v1 entry has its signed entry timestamp and
/// no inclusion proof verifies (by file and by digest): the promise is the
/// log's signed word that it included the entry. From v0.2 on a proof is
/// required.
#[test]
fn v01_with_inclusion_promise_only() {
    let mut bundle = json("happy-path-v0.1.sigstore.json");
    verify(&bundle, &data("a.txt")).expect("as published");
    let entry = &mut bundle["verificationMaterial"]["tlogEntries"][0];
    assert!(entry
        .as_object_mut()
        .expect("entry")
        .remove("inclusionProof")
        .is_some());
    verify(&bundle, &data("a.txt")).expect("promise only");

    bundle["mediaType"] = "application/vnd.dev.sigstore.bundle+json;version=0.2".into();
    let e = verify(&bundle, &data("a.txt")).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Bundle, "{e}");
}

/// A v0.1 `x509CertificateChain` of leaf and intermediate verifies (the
/// intermediate is not used: the chain is built from the trusted root);
/// with the root in it, it is refused, as conformance requires. The
/// bundle is the issue's shape: a P-384 key that signed the SHA-256
/// prehash, `SHA2_256` declared and logged, verified by file and by
/// `sha256:<hex>`.
#[test]
fn v01_chain_with_intermediate_p384_key_sha256_digest() {
    const SAN: &str = "a@tny.town";
    const OAUTH: &str = "https://github.com/login/oauth";
    let mut bundle = json("with-root-cert-v0.1.sigstore.json");
    let artifact = data("with-root-cert-v0.1.artifact");
    assert_eq!(
        bundle["messageSignature"]["messageDigest"]["algorithm"],
        "SHA2_256"
    );
    let certs = bundle["verificationMaterial"]["x509CertificateChain"]["certificates"]
        .as_array_mut()
        .expect("chain");
    let leaf = keyless_x509::Certificate::from_der(
        &keyless_types::b64::decode(certs[0]["rawBytes"].as_str().expect("leaf")).expect("base64"),
    )
    .expect("leaf parses");
    assert_eq!(
        leaf.public_key().expect("leaf key").algorithm(),
        keyless_crypto::KeyAlgorithm::EcdsaP384
    );
    // As published: leaf, root, intermediate.
    assert_eq!(certs.len(), 3, "leaf, root, intermediate");
    let e = verify_as(&bundle, &artifact, SAN, OAUTH).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Certificate, "{e}");

    bundle["verificationMaterial"]["x509CertificateChain"]["certificates"]
        .as_array_mut()
        .expect("chain")
        .remove(1);
    // Its inclusion proof (May 2023) has no checkpoint, which tlog.rs
    // refuses (an unsigned root hash); the promise alone is what such a
    // v0.1 bundle is verified by here.
    let e = verify_as(&bundle, &artifact, SAN, OAUTH).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Checkpoint, "{e}");
    let entry = &mut bundle["verificationMaterial"]["tlogEntries"][0];
    assert!(entry
        .as_object_mut()
        .expect("entry")
        .remove("inclusionProof")
        .is_some());
    verify_as(&bundle, &artifact, SAN, OAUTH).expect("leaf and intermediate, P-384 over SHA-256");

    // The SHA-384 digest of the file is not what the bundle declares.
    let verifier = Verifier::new(
        TrustMaterial::public_good().expect("public-good root"),
        VerifierOptions::default(),
    );
    let policy = Policy::identity(Identity::new(Matcher::exact(SAN), Matcher::exact(OAUTH)));
    let sha384 = Artifact::from_arg(&format!(
        "sha384:{}",
        hex::encode(keyless_crypto::HashAlgorithm::Sha384.digest(&artifact))
    ));
    let e = verifier
        .verify_json(
            &serde_json::to_vec(&bundle).expect("JSON"),
            &sha384,
            &policy,
        )
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Artifact, "{e}");
}
