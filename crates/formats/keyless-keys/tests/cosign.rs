//! cosign's key files: an encrypted key with an empty password (as
//! `COSIGN_PASSWORD="" cosign generate-key-pair` writes) loads and signs,
//! keys in the PEM forms `cosign import-key-pair` takes are imported, and a
//! wrong password is an error, never a panic. No key file is kept in the
//! repository: keys are made at run time. Agreement with cosign's own
//! encryption (go-securesystemslib's scrypt + secretbox) is checked on a
//! published Go test vector in `src/cosign/envelope.rs`.

use std::process::Command;

use keyless_crypto::{KeyAlgorithm, SigningKey};
use keyless_keys::cosign::{self, CosignKeyError};

/// An ECDSA P-256 key in cosign's encrypted PEM, empty password.
fn empty_password_key() -> String {
    let key = SigningKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
    cosign::encrypt(&key, b"").unwrap().private_pem.to_string()
}

#[test]
fn an_empty_password_key_loads_and_signs() {
    let pem = empty_password_key();
    assert!(pem.starts_with("-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----"));
    assert!(cosign::is_encrypted_key(&pem));
    let key = cosign::decrypt(&pem, b"").expect("the key with its empty password");
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
    let err = cosign::decrypt(&empty_password_key(), b"not-empty").unwrap_err();
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
