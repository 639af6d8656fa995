//! `keyless verify-blob` with bundles that do not hash with SHA-256 by the
//! key's default: a P-384 key over a SHA-256 prehash (older
//! sigstore-python) and an in-toto statement whose subject is named by
//! SHA-512 only (npm provenance), by file and by `<alg>:<hex>`. The bundles
//! and trusted root are minted at test time (keyless_testkit::minted).

use std::path::PathBuf;
use std::process::Command;

use keyless_crypto::{HashAlgorithm, KeyAlgorithm, SignatureAlgorithm};
use keyless_testkit::minted::{Dsse, Instance, MessageBundle, EMAIL, ISSUER};
use serde_json::json;

struct Dir(PathBuf);

impl Dir {
    fn new(tag: &str) -> Self {
        let d =
            std::env::temp_dir().join(format!("keyless-cli-digests-{tag}-{}", std::process::id()));
        std::fs::create_dir_all(&d).expect("temp dir");
        Self(d)
    }

    fn write(&self, name: &str, data: &[u8]) -> String {
        let p = self.0.join(name);
        std::fs::write(&p, data).expect("write");
        p.display().to_string()
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn verify_blob(root: &str, bundle: &str, artifact: &str) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_keyless"))
        .args([
            "verify-blob",
            "--bundle",
            bundle,
            "--trusted-root",
            root,
            "--certificate-identity",
            EMAIL,
            "--certificate-oidc-issuer",
            ISSUER,
            artifact,
        ])
        .output()
        .expect("run keyless");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn digest_arg(alg: HashAlgorithm, data: &[u8]) -> String {
    format!("{}:{}", alg.name(), hex::encode(alg.digest(data)))
}

#[test]
fn p384_key_over_sha256_by_file_and_by_sha256_digest() {
    let dir = Dir::new("p384");
    let instance = Instance::new();
    let root = dir.write("trusted_root.json", instance.trusted_root_json.as_bytes());
    let artifact = b"signed by sigstore-python 1.x with a P-384 key\n";
    let file = dir.write("artifact.txt", artifact);
    let signer = instance.signer(KeyAlgorithm::EcdsaP384);
    let bundle = MessageBundle {
        signer: &signer,
        scheme: SignatureAlgorithm::EcdsaSha256,
        declared: HashAlgorithm::Sha256,
        logged: HashAlgorithm::Sha256,
    }
    .mint(&instance, artifact);
    let bundle = dir.write("bundle.json", &bundle);

    for arg in [file.clone(), digest_arg(HashAlgorithm::Sha256, artifact)] {
        let (code, err) = verify_blob(&root, &bundle, &arg);
        assert_eq!(code, 0, "{arg}: {err}");
        assert!(err.contains("Verified OK"), "{err}");
    }
    let (code, err) = verify_blob(&root, &bundle, &digest_arg(HashAlgorithm::Sha384, artifact));
    assert_ne!(code, 0, "{err}");
    assert!(
        err.contains("given as a sha384 digest, but sha256 is needed"),
        "{err}"
    );
}

#[test]
fn sha512_only_subject_by_file_and_by_sha512_digest() {
    let dir = Dir::new("sha512");
    let instance = Instance::new();
    let root = dir.write("trusted_root.json", instance.trusted_root_json.as_bytes());
    let package = b"npm package tarball\n";
    let file = dir.write("package.tgz", package);
    let signer = instance.signer(KeyAlgorithm::EcdsaP256);
    let statement = json!({
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": "pkg:npm/example@1.0.0", "digest": {"sha512": hex::encode(HashAlgorithm::Sha512.digest(package))}}],
        "predicateType": "https://slsa.dev/provenance/v1",
        "predicate": {},
    });
    let dsse = Dsse::sign(&signer, &statement);
    let entry = instance.v1_entry(
        "dsse",
        "0.0.1",
        &dsse.dsse_v001_body(&signer),
        signer.issued_at,
        true,
    );
    let bundle = dir.write("bundle.json", &dsse.bundle(&signer, entry));

    for arg in [file, digest_arg(HashAlgorithm::Sha512, package)] {
        let (code, err) = verify_blob(&root, &bundle, &arg);
        assert_eq!(code, 0, "{arg}: {err}");
    }
    let wrong = dir.write("other.tgz", b"another tarball\n");
    let (code, err) = verify_blob(&root, &bundle, &wrong);
    assert_ne!(code, 0, "{err}");
    assert!(
        err.contains("not among the in-toto statement's subjects"),
        "{err}"
    );
}
