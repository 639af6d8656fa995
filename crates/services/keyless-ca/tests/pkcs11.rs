//! The CA with its intermediate key on a PKCS#11 token: SoftHSM2 (Debian's
//! `softhsm2`, installed by scripts/ci/install-softhsm.sh).
//!
//! All PKCS#11 tests live in this one binary: SoftHSM2 reads its
//! configuration (`SOFTHSM2_CONF`, pointing at a token directory in a temp
//! dir) once, at `C_Initialize`, and a process initialises a module once.
//! [`hsm`] sets the variable and creates the tokens before any test loads
//! the module. If the module is missing, every test fails and says how to
//! install it: a PKCS#11 test that silently passes tests nothing.

mod support;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use keyless_ca::pkcs11::{Pkcs11Config, SOFTHSM2_MODULE};
use keyless_ca::pki::{INTERMEDIATE_CERT, INTERMEDIATE_KEY, ROOT_CERT, ROOT_KEY};
use keyless_ca::{CaKey, CaMaterial, KeyOptions, SetupError};
use keyless_crypto::{KeyAlgorithm, PublicKey, SigningKey};
use keyless_testkit::softhsm::{softhsm2_util, SoftHsm};
use support::*;

/// The token the CA uses, and a second one only the wrong-PIN test logs
/// in to (PKCS#11 login state is shared by all sessions of a process, so
/// a token another test is logged in to would accept any PIN).
const TOKEN: &str = "keyless-ca-test";
const PIN_TOKEN: &str = "keyless-pin-test";
const PIN: &str = "user-pin-4711";
const WRONG_PIN: &str = "not-the-pin-0815";
const PIN_VAR: &str = "KEYLESS_TEST_PKCS11_PIN";
const WRONG_PIN_VAR: &str = "KEYLESS_TEST_PKCS11_WRONG_PIN";
const UNSET_PIN_VAR: &str = "KEYLESS_TEST_PKCS11_PIN_NEVER_SET";
/// A P-256 key generated here and imported with softhsm2-util.
const IMPORTED: &str = "ca-imported-p256";

struct Hsm {
    imported: PublicKey,
    /// Keeps the token directory for the life of the test binary.
    _softhsm: SoftHsm,
}

/// Once per test binary: a private SoftHSM2 token directory with two
/// tokens, and an imported P-256 key on the first.
fn hsm() -> &'static Hsm {
    static HSM: OnceLock<Hsm> = OnceLock::new();
    HSM.get_or_init(|| {
        let softhsm = SoftHsm::init(&[TOKEN, PIN_TOKEN], PIN);
        std::env::set_var(PIN_VAR, PIN);
        std::env::set_var(WRONG_PIN_VAR, WRONG_PIN);
        std::env::remove_var(UNSET_PIN_VAR);
        let key = SigningKey::generate(KeyAlgorithm::EcdsaP256).expect("key");
        let pem = softhsm.path().join("import.key.pem");
        keyless_ca::pki::write_secret(&pem, key.to_pkcs8_pem().as_bytes()).expect("key file");
        let pem_path = pem.to_string_lossy().into_owned();
        softhsm2_util(&[
            "--import", &pem_path, "--token", TOKEN, "--label", IMPORTED, "--id", "a1b2", "--pin",
            PIN,
        ]);
        std::fs::remove_file(&pem).expect("remove key file");
        Hsm {
            imported: key.public_key().clone(),
            _softhsm: softhsm,
        }
    })
}

fn config(key_label: &str) -> Pkcs11Config {
    let mut c = Pkcs11Config::new(SOFTHSM2_MODULE, TOKEN, key_label);
    c.pin_env = PIN_VAR.into();
    c
}

fn options(pkcs11: Pkcs11Config) -> KeyOptions {
    KeyOptions {
        pkcs11: Some(pkcs11),
        ..KeyOptions::default()
    }
}

fn setup_error(dir: &Path, opts: &KeyOptions) -> String {
    let err: SetupError = CaMaterial::load_or_create_with(dir, opts).expect_err("must fail");
    // Shown with --nocapture: what an operator reads.
    eprintln!("expected error: {err}");
    err.to_string()
}

fn token_key(material: &CaMaterial) -> &keyless_ca::pkcs11::Pkcs11Key {
    match &material.intermediate_key {
        CaKey::Pkcs11(k) => k,
        other => panic!("expected a PKCS#11 key, got {other:?}"),
    }
}

/// Issue a certificate through the Fulcio v2 API with a development OIDC
/// token, and verify it as a client does, from the CA's trusted root.
async fn issue_and_verify(stack: &Stack, subject: &str) -> Issued {
    let key = SigningKey::generate(KeyAlgorithm::EcdsaP256).expect("key");
    let issued = issue_for(stack, email(subject), &key, subject).await;
    assert_eq!(
        &issued.leaf.public_key().expect("leaf key"),
        key.public_key()
    );
    assert_eq!(
        verify_like_a_client(stack, &issued).sans,
        vec![subject.to_string()]
    );
    issued
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .expect("metadata")
        .permissions()
        .mode()
        & 0o777
}

/// An existing (imported) P-256 key: the CA creates the root in software,
/// issues the intermediate certificate for the token's public key, signs
/// with the token, and comes back up on the same data directory.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn imported_token_key_issues_certificates_that_verify() {
    let hsm = hsm();
    let stack = start_with(|c| c.keys.pkcs11 = Some(config(IMPORTED))).await;
    let ca_dir: PathBuf = stack.dir.join("ca");
    assert!(ca_dir.join(ROOT_CERT).exists() && ca_dir.join(INTERMEDIATE_CERT).exists());
    assert!(
        !ca_dir.join(INTERMEDIATE_KEY).exists(),
        "the issuing key stays on the token"
    );
    #[cfg(unix)]
    assert_eq!(mode(&ca_dir.join(ROOT_KEY)), 0o600);
    assert_eq!(
        stack.ca.issuer.intermediate().public_key().expect("key"),
        hsm.imported
    );

    let first = issue_and_verify(&stack, "alice@keyless.test").await;
    assert_eq!(
        first.chain[0].public_key().expect("key").algorithm(),
        KeyAlgorithm::EcdsaP256
    );
    // Concurrent requests share the session pool.
    let (a, b, c) = tokio::join!(
        issue_and_verify(&stack, "b@keyless.test"),
        issue_and_verify(&stack, "c@keyless.test"),
        issue_and_verify(&stack, "d@keyless.test")
    );
    for issued in [a, b, c] {
        assert_eq!(issued.chain[0], first.chain[0]);
    }
    assert_eq!(stack.ca.ct.size(), 4);

    // Restart on the same directory: same chain, same token key.
    let again =
        CaMaterial::load_or_create_with(&ca_dir, &options(config(IMPORTED))).expect("reload");
    assert_eq!(again.intermediate, first.chain[0]);
    assert_eq!(again.intermediate_key.public_key(), &hsm.imported);
    // Without the token there is no key file to fall back to: say so.
    let e = setup_error(&ca_dir, &KeyOptions::default());
    assert!(
        e.contains(INTERMEDIATE_KEY)
            && e.contains("PKCS#11 token")
            && e.contains("--pkcs11-module"),
        "{e}"
    );
}

/// With `generate_key`, a missing key is generated on the token (P-384
/// here), sensitive and not extractable, and found (not regenerated) on
/// the next start.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn key_generated_on_the_token_issues_certificates_that_verify() {
    hsm();
    let label = "ca-generated-p384";
    let mut cfg = config(label);
    cfg.generate_key = true;
    let stack = start_with(|c| {
        c.keys.intermediate_algorithm = KeyAlgorithm::EcdsaP384;
        c.keys.pkcs11 = Some(cfg.clone());
    })
    .await;
    let issued = issue_and_verify(&stack, "carol@keyless.test").await;
    let generated = issued.chain[0].public_key().expect("key");
    assert_eq!(generated.algorithm(), KeyAlgorithm::EcdsaP384);

    // A second CA (fresh data dir) on the same label uses the same key,
    // generation allowed or not.
    for generate in [true, false] {
        cfg.generate_key = generate;
        let dir = temp_dir("pkcs11-regen");
        let m = CaMaterial::load_or_create_with(
            &dir,
            &KeyOptions {
                intermediate_algorithm: KeyAlgorithm::EcdsaP256,
                ..options(cfg.clone())
            },
        )
        .expect("second CA");
        assert_eq!(
            m.intermediate_key.public_key(),
            &generated,
            "generate_key={generate}"
        );
        let k = token_key(&m);
        assert_eq!((k.token_label(), k.key_label()), (TOKEN, label));
        let p = k.protection();
        assert!(p.sensitive && !p.extractable, "{p:?}");
        // The token key signs, and the signature verifies under the certificate.
        let sig = m.intermediate_key.sign(b"tbs").expect("sign");
        m.intermediate
            .public_key()
            .expect("key")
            .verify(m.intermediate_key.signature_algorithm(), b"tbs", &sig)
            .expect("verifies");
        let _ = std::fs::remove_dir_all(&dir);
    }
}

#[test]
fn wrong_pin_is_a_clear_error_and_writes_nothing() {
    hsm();
    let dir = temp_dir("pkcs11-wrong-pin");
    let mut cfg = Pkcs11Config::new(SOFTHSM2_MODULE, PIN_TOKEN, IMPORTED);
    cfg.pin_env = WRONG_PIN_VAR.into();
    let e = setup_error(&dir, &options(cfg.clone()));
    assert!(
        e.contains("wrong user PIN") && e.contains(WRONG_PIN_VAR) && e.contains(PIN_TOKEN),
        "{e}"
    );
    assert!(
        !e.contains(WRONG_PIN) && !e.contains(PIN),
        "the PIN never appears: {e}"
    );
    assert!(
        !dir.join(ROOT_CERT).exists() && !dir.join(ROOT_KEY).exists(),
        "nothing created on failure"
    );

    cfg.pin_env = UNSET_PIN_VAR.into();
    let e = setup_error(&dir, &options(cfg));
    assert!(e.contains(UNSET_PIN_VAR) && e.contains("not set"), "{e}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn missing_key_label_is_a_clear_error() {
    hsm();
    let dir = temp_dir("pkcs11-no-key");
    let e = setup_error(&dir, &options(config("no-such-key")));
    assert!(
        e.contains("no private key labelled \"no-such-key\"") && e.contains(TOKEN),
        "{e}"
    );
    assert!(!dir.join(ROOT_CERT).exists());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn missing_module_is_a_clear_error() {
    hsm();
    let dir = temp_dir("pkcs11-no-module");
    let mut cfg = config(IMPORTED);
    cfg.module = PathBuf::from("/nonexistent/keyless/libpkcs11-missing.so");
    let e = setup_error(&dir, &options(cfg));
    assert!(
        e.contains("/nonexistent/keyless/libpkcs11-missing.so") && e.contains("no such file"),
        "{e}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn unknown_token_label_lists_the_tokens_found() {
    hsm();
    let dir = temp_dir("pkcs11-no-token");
    let mut cfg = config(IMPORTED);
    cfg.token_label = "no-such-token".into();
    let e = setup_error(&dir, &options(cfg));
    assert!(
        e.contains("no initialized token labelled \"no-such-token\"") && e.contains(TOKEN),
        "{e}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// A data directory set up with a software intermediate key cannot be
/// switched to a token key silently: the certificate names another key.
#[test]
fn token_key_not_matching_the_intermediate_certificate_is_refused() {
    hsm();
    let dir = temp_dir("pkcs11-mismatch");
    CaMaterial::load_or_create(&dir).expect("software CA");
    let e = setup_error(&dir, &options(config(IMPORTED)));
    assert!(
        e.contains(INTERMEDIATE_CERT)
            && e.contains(IMPORTED)
            && e.contains("different intermediate key"),
        "{e}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
