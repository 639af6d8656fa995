//! cosign's key files: a key cosign generated loads unchanged, keys in the
//! PEM forms `cosign import-key-pair` takes are imported, and a wrong
//! password is an error, never a panic.

use std::process::Command;

use keyless_crypto::KeyAlgorithm;
use keyless_keys::cosign::{self, CosignKeyError};

const COSIGN_KEY: &str = include_str!("testdata/cosign_generated_empty_password.key");

#[test]
fn a_key_cosign_generated_loads_and_signs() {
    assert!(cosign::is_encrypted_key(COSIGN_KEY));
    let key = cosign::decrypt(COSIGN_KEY, b"").expect("cosign's key with its empty password");
    assert_eq!(key.public_key().algorithm(), KeyAlgorithm::EcdsaP256);
    let sig = key.sign(b"payload").unwrap();
    key.public_key()
        .verify(key.signature_algorithm(), b"payload", &sig)
        .unwrap();
    // Re-encrypting under a password and reading back keeps the key.
    let pair = cosign::encrypt(&key, b"pw").unwrap();
    let again = cosign::decrypt(&pair.private_pem, b"pw").unwrap();
    assert_eq!(again.public_key(), key.public_key());
}

#[test]
fn a_wrong_password_is_a_clear_error() {
    let err = cosign::decrypt(COSIGN_KEY, b"not-empty").unwrap_err();
    assert!(matches!(err, CosignKeyError::WrongPassword), "{err:?}");
    assert_eq!(
        err.to_string(),
        "decrypt: wrong password? (or the key file is corrupt)"
    );
}

/// `openssl` writes each PEM form `cosign import-key-pair` accepts.
fn openssl(args: &[&str]) -> String {
    let out = Command::new("openssl")
        .args(args)
        .output()
        .expect("openssl (Debian package openssl) must be installed");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn imports_pkcs8_sec1_and_pkcs1_keys() {
    let ec_pkcs8 = openssl(&[
        "genpkey",
        "-algorithm",
        "EC",
        "-pkeyopt",
        "ec_paramgen_curve:P-384",
    ]);
    let dir = std::env::temp_dir().join(format!("keyless-cosign-import-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p8 = dir.join("ec.pem");
    std::fs::write(&p8, &ec_pkcs8).unwrap();
    let sec1 = openssl(&["ec", "-in", p8.to_str().unwrap()]);
    assert!(sec1.starts_with("-----BEGIN EC PRIVATE KEY-----"), "{sec1}");
    let rsa_p8 = openssl(&[
        "genpkey",
        "-algorithm",
        "RSA",
        "-pkeyopt",
        "rsa_keygen_bits:2048",
    ]);
    let rsa_file = dir.join("rsa.pem");
    std::fs::write(&rsa_file, &rsa_p8).unwrap();
    let rsa_pkcs1 = openssl(&["rsa", "-in", rsa_file.to_str().unwrap(), "-traditional"]);
    assert!(
        rsa_pkcs1.starts_with("-----BEGIN RSA PRIVATE KEY-----"),
        "{rsa_pkcs1}"
    );
    let ed = openssl(&["genpkey", "-algorithm", "ED25519"]);
    let weak_rsa = openssl(&[
        "genpkey",
        "-algorithm",
        "RSA",
        "-pkeyopt",
        "rsa_keygen_bits:1024",
    ]);
    std::fs::remove_dir_all(&dir).unwrap();

    for (name, pem, alg) in [
        ("EC PKCS#8", &ec_pkcs8, KeyAlgorithm::EcdsaP384),
        ("EC SEC1", &sec1, KeyAlgorithm::EcdsaP384),
        ("RSA PKCS#8", &rsa_p8, KeyAlgorithm::Rsa),
        ("RSA PKCS#1", &rsa_pkcs1, KeyAlgorithm::Rsa),
        ("Ed25519", &ed, KeyAlgorithm::Ed25519),
    ] {
        let key = cosign::import_private_key(pem).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(key.public_key().algorithm(), alg, "{name}");
        let pair = cosign::encrypt(&key, b"secret").unwrap();
        let back = cosign::decrypt(&pair.private_pem, b"secret").unwrap();
        assert_eq!(back.public_key(), key.public_key(), "{name}");
        let sig = back.sign(b"m").unwrap();
        key.public_key()
            .verify(back.signature_algorithm(), b"m", &sig)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
    }
    // The PKCS#1 and PKCS#8 forms of one RSA key are the same key.
    assert_eq!(
        cosign::import_private_key(&rsa_p8).unwrap().public_key(),
        cosign::import_private_key(&rsa_pkcs1).unwrap().public_key()
    );
    // RSA below 2048 bits is refused, as sigstore refuses it.
    let err = cosign::import_private_key(&weak_rsa).unwrap_err();
    assert!(matches!(err, CosignKeyError::Key(_)), "{err}");
    let err = cosign::import_private_key(
        "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
    )
    .unwrap_err();
    assert!(matches!(err, CosignKeyError::Pem(_)), "{err}");
}
