//! Unit tests of the TSA's key material: the generated chain, and the
//! key files load_or_generate writes and reads back.

use std::fs;
use std::path::PathBuf;

use super::*;

#[test]
fn generated_chain_validates_for_time_stamping() {
    for alg in [KeyAlgorithm::EcdsaP256, KeyAlgorithm::EcdsaP384] {
        let now = 1_750_000_000;
        let g = generate(alg, "test", now, None).unwrap();
        let chain = &g.chain;
        let at = now as i64;
        verify_chain(&chain[0], &[], chain, at, Purpose::TimeStamping).unwrap();
        assert!(!chain[0].is_ca());
        let (critical, eku) = chain[0].extended_key_usage().unwrap().unwrap();
        assert!(critical);
        assert_eq!(eku.0, vec![ID_KP_TIME_STAMPING]);
        assert!(chain[0].not_before() < at && chain[0].not_after() > at);
    }
}

#[test]
fn ed25519_is_refused() {
    assert!(matches!(
        generate(KeyAlgorithm::Ed25519, "t", 1_750_000_000, None),
        Err(PkiError::UnsupportedAlgorithm(_))
    ));
}

fn temp_dir(tag: &str) -> PathBuf {
    let mut r = [0u8; 8];
    aws_lc_rs::rand::fill(&mut r).unwrap();
    let hex: String = r.iter().map(|b| format!("{b:02x}")).collect();
    std::env::temp_dir().join(format!(
        "keyless-tsa-store-{tag}-{}-{hex}",
        std::process::id()
    ))
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// The chain's keys are written 0600 and the signing key loads back;
/// once its file is readable by group or others the TSA refuses to
/// start, naming the file and its mode, and starts again after
/// `chmod 600`.
#[cfg(unix)]
#[test]
fn group_readable_signing_key_is_refused_at_start() {
    use std::os::unix::fs::PermissionsExt;
    let dir = temp_dir("perms");
    let first = load_or_generate(&dir, KeyAlgorithm::EcdsaP256, "test", now(), None).unwrap();
    for name in ["root.key", "intermediate.key", "signing.key"] {
        assert_eq!(
            fs::metadata(dir.join(name)).unwrap().permissions().mode() & 0o777,
            0o600,
            "{name}"
        );
    }
    let again = load_or_generate(&dir, KeyAlgorithm::EcdsaP256, "test", now(), None).unwrap();
    assert_eq!(again.leaf_key.public_key(), first.leaf_key.public_key());

    let key = dir.join("signing.key");
    fs::set_permissions(&key, fs::Permissions::from_mode(0o640)).unwrap();
    let e = load_or_generate(&dir, KeyAlgorithm::EcdsaP256, "test", now(), None)
        .err()
        .expect("refused")
        .to_string();
    assert!(
        e.contains(&key.display().to_string())
            && e.contains("permissions 640")
            && e.contains("chmod 600"),
        "{e}"
    );
    fs::set_permissions(&key, fs::Permissions::from_mode(0o600)).unwrap();
    load_or_generate(&dir, KeyAlgorithm::EcdsaP256, "test", now(), None).unwrap();
    let _ = fs::remove_dir_all(&dir);
}
