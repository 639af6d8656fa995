//! Message signatures by every key kind with every SHA-2 hash, verified by
//! file and by digest: the hash is the one the bundle declares (and its log
//! entry records), never one the key's curve implies. Older sigstore-python
//! signed SHA-256 prehashes with P-384 keys; sigstore-go and -python verify
//! those bundles, and so must we. Each mismatch between what was signed,
//! what the bundle declares and what the log recorded is refused.

use keyless_crypto::{HashAlgorithm, KeyAlgorithm, SignatureAlgorithm};
use keyless_testkit::minted::{Instance, MessageBundle};
use keyless_verify::{Artifact, ErrorKind, VerificationError};

const ARTIFACT: &[u8] = b"an artifact signed by every kind of key\n";

fn temp_file(tag: &str, data: &[u8]) -> std::path::PathBuf {
    let path =
        std::env::temp_dir().join(format!("keyless-verify-alg-{tag}-{}", std::process::id()));
    std::fs::write(&path, data).expect("write artifact");
    path
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

fn by_digest(hash: HashAlgorithm, data: &[u8]) -> Artifact {
    Artifact::from_arg(&format!(
        "{}:{}",
        hash.name(),
        hex::encode(hash.digest(data))
    ))
}

/// Every valid (key, hash, scheme) combination verifies by file and by a
/// digest under the declared hash; Ed25519, which signs the message itself,
/// verifies by file and is refused, with a clear reason, by digest.
#[test]
fn every_key_kind_with_every_hash_verifies() {
    let instance = Instance::new();
    let path = temp_file("ok", ARTIFACT);
    let file = Artifact::File(path.clone());
    for key_alg in [
        KeyAlgorithm::EcdsaP256,
        KeyAlgorithm::EcdsaP384,
        KeyAlgorithm::EcdsaP521,
        KeyAlgorithm::Rsa,
        KeyAlgorithm::Ed25519,
    ] {
        let signer = instance.signer(key_alg);
        for hash in [
            HashAlgorithm::Sha256,
            HashAlgorithm::Sha384,
            HashAlgorithm::Sha512,
        ] {
            for &scheme in SignatureAlgorithm::for_key_and_hash(key_alg, hash) {
                let what = format!("{key_alg:?} {scheme:?} declared {hash:?}");
                let bundle = MessageBundle {
                    signer: &signer,
                    scheme,
                    declared: hash,
                    logged: hash,
                }
                .mint(&instance, ARTIFACT);
                verify(&instance, &bundle, &file)
                    .unwrap_or_else(|e| panic!("{what}, by file: {e}"));
                let digest = by_digest(hash, ARTIFACT);
                match (key_alg, verify(&instance, &bundle, &digest)) {
                    (KeyAlgorithm::Ed25519, Err(e)) => {
                        assert_eq!(e.kind(), ErrorKind::Artifact, "{what}: {e}");
                        assert!(e.to_string().contains("Ed25519"), "{what}: {e}");
                    }
                    (KeyAlgorithm::Ed25519, Ok(())) => {
                        panic!("{what}: verified from a digest alone")
                    }
                    (_, r) => r.unwrap_or_else(|e| panic!("{what}, by digest: {e}")),
                }
                // Another file is refused.
                let other = verify(
                    &instance,
                    &bundle,
                    &Artifact::Bytes(b"another artifact".to_vec()),
                )
                .expect_err("another artifact verified");
                assert_eq!(other.kind(), ErrorKind::Artifact, "{what}: {other}");
            }
        }
    }
    std::fs::remove_file(path).expect("remove artifact");
}

/// The case of the issue: a P-384 key, `SHA2_256` declared and logged, the
/// signature over the SHA-256 prehash, given as `sha256:<hex>`.
#[test]
fn p384_key_with_sha256_digest_verifies_from_its_sha256_digest() {
    let instance = Instance::new();
    let signer = instance.signer(KeyAlgorithm::EcdsaP384);
    let bundle = MessageBundle {
        signer: &signer,
        scheme: SignatureAlgorithm::EcdsaSha256,
        declared: HashAlgorithm::Sha256,
        logged: HashAlgorithm::Sha256,
    }
    .mint(&instance, ARTIFACT);
    verify(
        &instance,
        &bundle,
        &by_digest(HashAlgorithm::Sha256, ARTIFACT),
    )
    .expect("P-384 over SHA-256 verifies");
    // The SHA-384 digest of the same file is not what the bundle declares.
    let e = verify(
        &instance,
        &bundle,
        &by_digest(HashAlgorithm::Sha384, ARTIFACT),
    )
    .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Artifact, "{e}");
    assert!(
        e.to_string()
            .contains("given as a sha384 digest, but sha256 is needed"),
        "{e}"
    );
}

/// The signature is checked with the declared hash only: a P-384
/// signature over the SHA-384 prehash (the curve's default) in a bundle
/// that declares SHA-256 is refused, and so is the reverse.
#[test]
fn signature_under_another_hash_than_declared_is_refused() {
    let instance = Instance::new();
    let cases = [
        (
            KeyAlgorithm::EcdsaP384,
            SignatureAlgorithm::EcdsaSha384,
            HashAlgorithm::Sha256,
        ),
        (
            KeyAlgorithm::EcdsaP384,
            SignatureAlgorithm::EcdsaSha256,
            HashAlgorithm::Sha384,
        ),
        (
            KeyAlgorithm::EcdsaP256,
            SignatureAlgorithm::EcdsaSha256,
            HashAlgorithm::Sha512,
        ),
        (
            KeyAlgorithm::EcdsaP521,
            SignatureAlgorithm::EcdsaSha512,
            HashAlgorithm::Sha256,
        ),
        (
            KeyAlgorithm::Rsa,
            SignatureAlgorithm::RsaPkcs1Sha256,
            HashAlgorithm::Sha384,
        ),
        (
            KeyAlgorithm::Rsa,
            SignatureAlgorithm::RsaPssSha512,
            HashAlgorithm::Sha256,
        ),
    ];
    for (key_alg, scheme, declared) in cases {
        let signer = instance.signer(key_alg);
        let bundle = MessageBundle {
            signer: &signer,
            scheme,
            declared,
            logged: declared,
        }
        .mint(&instance, ARTIFACT);
        let e = verify(&instance, &bundle, &Artifact::Bytes(ARTIFACT.to_vec())).unwrap_err();
        assert_eq!(
            e.kind(),
            ErrorKind::Signature,
            "{key_alg:?} {scheme:?} declared {declared:?}: {e}"
        );
    }
}

/// The bundle's message digest and the log entry must name the same hash:
/// a signature valid under the bundle's hash, logged under another, is
/// refused at the entry binding, whichever way round.
#[test]
fn bundle_and_log_entry_digest_algorithms_must_agree() {
    let instance = Instance::new();
    let signer = instance.signer(KeyAlgorithm::EcdsaP384);
    for (declared, logged) in [
        (HashAlgorithm::Sha384, HashAlgorithm::Sha256),
        (HashAlgorithm::Sha256, HashAlgorithm::Sha384),
        (HashAlgorithm::Sha256, HashAlgorithm::Sha512),
    ] {
        let scheme = SignatureAlgorithm::for_key_and_hash(KeyAlgorithm::EcdsaP384, declared)[0];
        let bundle = MessageBundle {
            signer: &signer,
            scheme,
            declared,
            logged,
        }
        .mint(&instance, ARTIFACT);
        let e = verify(&instance, &bundle, &Artifact::Bytes(ARTIFACT.to_vec())).unwrap_err();
        assert_eq!(
            e.kind(),
            ErrorKind::LogEntry,
            "{declared:?} vs {logged:?}: {e}"
        );
        let msg = e.to_string();
        assert!(msg.contains("digest algorithm differs"), "{msg}");
        assert!(msg.contains(logged.name()), "{msg}");
    }
}

/// An RSA signature is tried as PKCS#1 v1.5 and then PSS, both with the
/// declared hash; a PSS signature is not taken for PKCS#1 v1.5 under
/// another hash.
#[test]
fn rsa_pss_and_pkcs1_with_declared_hash() {
    let instance = Instance::new();
    let signer = instance.signer(KeyAlgorithm::Rsa);
    for scheme in [
        SignatureAlgorithm::RsaPssSha384,
        SignatureAlgorithm::RsaPkcs1Sha384,
    ] {
        let bundle = MessageBundle {
            signer: &signer,
            scheme,
            declared: HashAlgorithm::Sha384,
            logged: HashAlgorithm::Sha384,
        }
        .mint(&instance, ARTIFACT);
        verify(
            &instance,
            &bundle,
            &by_digest(HashAlgorithm::Sha384, ARTIFACT),
        )
        .unwrap_or_else(|e| panic!("{scheme:?}: {e}"));
    }
}

/// The message digest is optional: without it, the hash is the one the
/// hashedrekord entry records (P-384 over SHA-256 here, which the key's
/// default would get wrong), and a signature under another hash than the
/// entry's is refused.
#[test]
fn without_message_digest_the_entry_names_the_hash() {
    let instance = Instance::new();
    let signer = instance.signer(KeyAlgorithm::EcdsaP384);
    let strip = |bundle: Vec<u8>| {
        let mut v: serde_json::Value = serde_json::from_slice(&bundle).expect("bundle JSON");
        let ms = v["messageSignature"]
            .as_object_mut()
            .expect("message signature");
        assert!(ms.remove("messageDigest").is_some());
        serde_json::to_vec(&v).expect("bundle JSON")
    };
    let bundle = strip(
        MessageBundle {
            signer: &signer,
            scheme: SignatureAlgorithm::EcdsaSha256,
            declared: HashAlgorithm::Sha256,
            logged: HashAlgorithm::Sha256,
        }
        .mint(&instance, ARTIFACT),
    );
    verify(&instance, &bundle, &Artifact::Bytes(ARTIFACT.to_vec())).expect("hash from the entry");
    verify(
        &instance,
        &bundle,
        &by_digest(HashAlgorithm::Sha256, ARTIFACT),
    )
    .expect("by sha256 digest");

    let bundle = strip(
        MessageBundle {
            signer: &signer,
            scheme: SignatureAlgorithm::EcdsaSha384,
            declared: HashAlgorithm::Sha384,
            logged: HashAlgorithm::Sha256,
        }
        .mint(&instance, ARTIFACT),
    );
    let e = verify(&instance, &bundle, &Artifact::Bytes(ARTIFACT.to_vec())).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Signature, "{e}");
}
