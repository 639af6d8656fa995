//! The log with its signing key on a PKCS#11 token: SoftHSM2 (Debian's
//! `softhsm2`, installed by scripts/ci/install-softhsm.sh), set up once
//! for this test binary by keyless-testkit's `softhsm`. The log signs its
//! checkpoints and Rekor v1 SETs through the token key; no key file is
//! written; a restart finds the same key.

use std::sync::OnceLock;

use keyless_crypto::KeyAlgorithm;
use keyless_keys::pkcs11::{Pkcs11Config, SOFTHSM2_MODULE};
use keyless_log::{LogConfig, LogKeyType, Submission};
use keyless_testkit::softhsm::SoftHsm;
use keyless_tlog::{NoteVerifier, SignedNote};

const TOKEN: &str = "keyless-log-test";
const PIN: &str = "user-pin-2718";
const PIN_VAR: &str = "KEYLESS_TEST_LOG_PKCS11_PIN";
const ORIGIN: &str = "pkcs11.log.test";

fn hsm() -> &'static SoftHsm {
    static HSM: OnceLock<SoftHsm> = OnceLock::new();
    HSM.get_or_init(|| {
        let hsm = SoftHsm::init(&[TOKEN], PIN);
        std::env::set_var(PIN_VAR, PIN);
        hsm
    })
}

fn config(dir: &std::path::Path, generate: bool) -> LogConfig {
    let mut pkcs11 = Pkcs11Config::new(SOFTHSM2_MODULE, TOKEN, "log-key");
    pkcs11.pin_env = PIN_VAR.into();
    pkcs11.generate_key = generate;
    let mut config = LogConfig::new(dir, ORIGIN);
    config.key_type = LogKeyType::EcdsaP256;
    config.pkcs11 = Some(pkcs11);
    config
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn checkpoints_and_sets_are_signed_by_the_token_key() {
    hsm();
    let dir = tempfile::tempdir().unwrap();
    let open = |generate| {
        let config = config(dir.path(), generate);
        tokio::task::spawn_blocking(move || keyless_log::open_from_config(config))
    };

    // Without --pkcs11-generate-key a missing key is an error, not a new key.
    let err = open(false).await.unwrap().unwrap_err();
    assert!(matches!(err, keyless_log::LogError::Pkcs11(_)), "{err:?}");

    let log = open(true).await.unwrap().unwrap();
    let public = log.public_key().clone();
    assert_eq!(public.algorithm(), KeyAlgorithm::EcdsaP256);
    assert!(
        !dir.path().join(keyless_log::keys::KEY_FILE).exists(),
        "no key file next to a token key"
    );
    let seq = log
        .submit(Submission {
            body: b"an entry".to_vec(),
            lookup_key: None,
        })
        .await
        .unwrap();
    // The checkpoint verifies with a verifier built from the token's public
    // key alone (ECDSA: the key hint is the key's, whatever the name).
    let note = SignedNote::parse(&seq.checkpoint.note).unwrap();
    note.verify(&NoteVerifier::new(ORIGIN, public.clone()).unwrap())
        .unwrap();
    note.verify(&NoteVerifier::any_name(public.clone()).unwrap())
        .unwrap();
    // What a personality signs (a Rekor v1 SET) is the token key's too.
    let set = log.sign(b"signed entry timestamp").unwrap();
    public
        .verify(
            public.default_signature_algorithm(),
            b"signed entry timestamp",
            &set,
        )
        .unwrap();
    drop(log);

    // A restart finds the same key on the token and the same log (once the
    // sequencer of the dropped handle has let go of the data directory).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let log = loop {
        match open(false).await.unwrap() {
            Err(keyless_log::LogError::Storage(keyless_log::StorageError::Locked { .. }))
                if std::time::Instant::now() < deadline =>
            {
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
            other => break other.unwrap(),
        }
    };
    assert_eq!(log.public_key(), &public);
    assert_eq!(log.published().size, 1);
}
