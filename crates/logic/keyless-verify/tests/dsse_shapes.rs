//! DSSE bundles in the shapes public logs write them: Rekor v1 `dsse
//! 0.0.1` and `intoto 0.0.2` entries are verified; Rekor v2's `dsse 0.0.2`,
//! removed from the spec in 2026-05 ("DSSE as hashedrekord"), is refused
//! as the other clients refuse it. And in-toto subjects named by SHA-512
//! only (npm provenance) are matched by file and by `sha512:<hex>`.

use keyless_crypto::{HashAlgorithm, KeyAlgorithm};
use keyless_testkit::minted::{Dsse, Instance, Signer};
use keyless_verify::{Artifact, ErrorKind, VerificationError};
use serde_json::json;

const PACKAGE: &[u8] = b"a package tarball, as npm publishes it\n";

fn statement(subject_digest: serde_json::Value) -> serde_json::Value {
    json!({
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": "pkg:npm/example@1.0.0", "digest": subject_digest}],
        "predicateType": "https://slsa.dev/provenance/v1",
        "predicate": {},
    })
}

fn sha512_only() -> serde_json::Value {
    json!({"sha512": hex::encode(HashAlgorithm::Sha512.digest(PACKAGE))})
}

fn verify(
    instance: &Instance,
    bundle: &[u8],
    artifact: &Artifact,
) -> Result<(), VerificationError> {
    instance
        .verifier()
        .verify_json(bundle, artifact, &Instance::policy())
        .map(|_| ())
}

fn v1_bundle(instance: &Instance, signer: &Signer, dsse: &Dsse, kind: &str) -> Vec<u8> {
    let (version, body) = match kind {
        "dsse" => ("0.0.1", dsse.dsse_v001_body(signer)),
        _ => ("0.0.2", dsse.intoto_v002_body(signer)),
    };
    dsse.bundle(
        signer,
        instance.v1_entry(kind, version, &body, signer.issued_at, true),
    )
}

/// A statement whose only subject digest is SHA-512 verifies with the file
/// (hashed under SHA-512) and with its `sha512:<hex>`; a `sha256:<hex>`
/// cannot be compared and says so; another file is not a subject. Both
/// Rekor v1 entry kinds for DSSE carry it.
#[test]
fn sha512_only_subject_by_file_and_by_digest() {
    let instance = Instance::new();
    let signer = instance.signer(KeyAlgorithm::EcdsaP256);
    let dsse = Dsse::sign(&signer, &statement(sha512_only()));
    let path = std::env::temp_dir().join(format!("keyless-verify-npm-{}.tgz", std::process::id()));
    std::fs::write(&path, PACKAGE).expect("write package");
    for kind in ["dsse", "intoto"] {
        let bundle = v1_bundle(&instance, &signer, &dsse, kind);
        verify(&instance, &bundle, &Artifact::File(path.clone()))
            .unwrap_or_else(|e| panic!("{kind}, by file: {e}"));
        let sha512 = format!(
            "sha512:{}",
            hex::encode(HashAlgorithm::Sha512.digest(PACKAGE))
        );
        verify(&instance, &bundle, &Artifact::from_arg(&sha512))
            .unwrap_or_else(|e| panic!("{kind}, by digest: {e}"));

        let sha256 = format!(
            "sha256:{}",
            hex::encode(HashAlgorithm::Sha256.digest(PACKAGE))
        );
        let e = verify(&instance, &bundle, &Artifact::from_arg(&sha256)).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Artifact, "{e}");
        assert!(e.to_string().contains("named by [sha512] only"), "{e}");

        let e = verify(
            &instance,
            &bundle,
            &Artifact::Bytes(b"another tarball".to_vec()),
        )
        .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Artifact, "{e}");
        assert!(
            e.to_string()
                .contains("not among the in-toto statement's subjects"),
            "{e}"
        );
    }
    std::fs::remove_file(path).expect("remove package");
}

/// A subject with a matching SHA-256 but a SHA-512 of another file is not
/// this artifact; one whose digests all match is.
#[test]
fn every_digest_of_a_subject_must_match() {
    let instance = Instance::new();
    let signer = instance.signer(KeyAlgorithm::EcdsaP256);
    let sha256 = hex::encode(HashAlgorithm::Sha256.digest(PACKAGE));
    let bad = statement(
        json!({"sha256": sha256, "sha512": hex::encode(HashAlgorithm::Sha512.digest(b"x"))}),
    );
    let dsse = Dsse::sign(&signer, &bad);
    let bundle = v1_bundle(&instance, &signer, &dsse, "dsse");
    let e = verify(&instance, &bundle, &Artifact::Bytes(PACKAGE.to_vec())).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Artifact, "{e}");
    // Given only the SHA-256, the one digest that can be compared matches.
    verify(
        &instance,
        &bundle,
        &Artifact::from_arg(&format!("sha256:{sha256}")),
    )
    .expect("sha256 subject digest");

    let good = statement(
        json!({"sha256": sha256, "sha512": hex::encode(HashAlgorithm::Sha512.digest(PACKAGE))}),
    );
    let dsse = Dsse::sign(&signer, &good);
    let bundle = v1_bundle(&instance, &signer, &dsse, "dsse");
    verify(&instance, &bundle, &Artifact::Bytes(PACKAGE.to_vec())).expect("both digests match");
}

/// A DSSE bundle whose entry is Rekor v2 `dsse 0.0.2` is refused for its
/// kind, with the reason, before anything else about the entry; the same
/// envelope logged as `hashedrekord 0.0.2` (SHA-256 of its PAE) verifies.
#[test]
fn rekor_v2_dsse_entry_kind_is_refused() {
    let instance = Instance::new();
    let signer = instance.signer(KeyAlgorithm::EcdsaP256);
    let dsse = Dsse::sign(&signer, &statement(sha512_only()));
    let entry = instance.v1_entry(
        "dsse",
        "0.0.2",
        &dsse.dsse_v002_body(&signer),
        signer.issued_at,
        true,
    );
    let bundle = dsse.bundle(&signer, entry);
    let e = verify(&instance, &bundle, &Artifact::Bytes(PACKAGE.to_vec())).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::LogEntry, "{e}");
    let msg = e.to_string();
    assert!(
        msg.contains("unsupported entry type 'dsse:0.0.2' for a DSSE bundle"),
        "{msg}"
    );
    assert!(msg.contains("hashedrekord 0.0.2"), "{msg}");

    let entry = instance.v1_entry(
        "hashedrekord",
        "0.0.2",
        &dsse.hashedrekord_v002_body(&signer),
        signer.issued_at,
        true,
    );
    let bundle = dsse.bundle(&signer, entry);
    verify(&instance, &bundle, &Artifact::Bytes(PACKAGE.to_vec()))
        .expect("DSSE as hashedrekord 0.0.2");
    // And that entry is bound to the envelope: another payload's PAE is refused.
    let other = Dsse::sign(
        &signer,
        &statement(json!({"sha512": hex::encode(HashAlgorithm::Sha512.digest(b"x"))})),
    );
    let entry = instance.v1_entry(
        "hashedrekord",
        "0.0.2",
        &other.hashedrekord_v002_body(&signer),
        signer.issued_at,
        true,
    );
    let e = verify(
        &instance,
        &dsse.bundle(&signer, entry),
        &Artifact::Bytes(PACKAGE.to_vec()),
    )
    .unwrap_err();
    assert!(e.to_string().contains("artifact digest differs"), "{e}");
}
