//! The TSA with its signing key on a PKCS#11 token: SoftHSM2 (Debian's
//! `softhsm2`, installed by scripts/ci/install-softhsm.sh), set up once per
//! test binary by keyless-testkit's `softhsm` (SoftHSM2 reads its
//! configuration once per process). If the module is missing every test
//! fails and says how to install it.

mod support;

use std::sync::OnceLock;

use keyless_crypto::{HashAlgorithm, KeyAlgorithm};
use keyless_keys::pkcs11::{Pkcs11Config, SOFTHSM2_MODULE};
use keyless_testkit::softhsm::SoftHsm;
use keyless_tsa::{Tsa, TsaConfig, TsaError};
use keyless_tsp::issue::TimestampRequest;
use keyless_tsp::TimestampToken;

const TOKEN: &str = "keyless-tsa-test";
const PIN: &str = "user-pin-4711";
const PIN_VAR: &str = "KEYLESS_TEST_TSA_PKCS11_PIN";
const SIGNATURE: &[u8] = b"MEUCIQD-example-signature-bytes";

fn hsm() -> &'static SoftHsm {
    static HSM: OnceLock<SoftHsm> = OnceLock::new();
    HSM.get_or_init(|| {
        let hsm = SoftHsm::init(&[TOKEN], PIN);
        std::env::set_var(PIN_VAR, PIN);
        hsm
    })
}

fn token_config(key_label: &str, generate: bool) -> Pkcs11Config {
    let mut c = Pkcs11Config::new(SOFTHSM2_MODULE, TOKEN, key_label);
    c.pin_env = PIN_VAR.into();
    c.generate_key = generate;
    c
}

/// Timestamp SIGNATURE with `tsa` and check the token against its chain,
/// returning the token.
fn timestamp_and_verify(tsa: &Tsa) -> TimestampToken {
    let req = TimestampRequest::for_data(HashAlgorithm::Sha256, SIGNATURE)
        .with_cert_req(true)
        .to_der()
        .expect("request");
    let reply = tsa.timestamp_der(&req);
    assert_eq!(reply.failure, None);
    let token = TimestampToken::from_der(&reply.der).expect("token");
    token
        .verify(SIGNATURE, tsa.chain())
        .expect("token verifies");
    assert!(token.verify(b"another signature", tsa.chain()).is_err());
    token
}

/// A key generated on the token signs timestamps that verify under the
/// chain; the data directory holds no signing key; a restart on the same
/// directory uses the same token key; without the token the TSA refuses
/// to start and says why.
#[test]
fn timestamps_signed_on_the_token_verify() {
    hsm();
    for (alg, label) in [
        (KeyAlgorithm::EcdsaP256, "tsa-p256"),
        (KeyAlgorithm::EcdsaP384, "tsa-p384"),
    ] {
        let dir = support::temp_dir("pkcs11");
        let config = TsaConfig::new(&dir)
            .with_algorithm(alg)
            .with_pkcs11(token_config(label, true));
        let tsa = Tsa::open(&config).expect("TSA on the token");
        assert!(
            !dir.join("signing.key").exists(),
            "the signing key stays on the token"
        );
        assert!(dir.join("root.key").exists() && dir.join("intermediate.key").exists());
        let leaf_key = tsa.chain()[0].public_key().expect("leaf key");
        assert_eq!(leaf_key.algorithm(), alg);
        let token = timestamp_and_verify(&tsa);
        assert_eq!(&token.embedded_certificates()[0], &tsa.chain()[0]);

        // Restart: the same chain, the key found (not generated) again.
        let again = Tsa::open(&config.clone().with_pkcs11(token_config(label, false)))
            .expect("restart on the token");
        assert_eq!(again.chain(), tsa.chain());
        timestamp_and_verify(&again);

        // Without the token there is no key file to fall back to.
        let e = Tsa::open(&TsaConfig::new(&dir)).expect_err("no key");
        assert!(matches!(e, TsaError::SigningKeyMissing { .. }), "{e:?}");
        let msg = e.to_string();
        assert!(
            msg.contains("signing.key") && msg.contains("--pkcs11-module"),
            "{msg}"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}

/// Another token key than the one the stored certificate names is
/// refused, naming the key and the token; a missing label without
/// generation is an error that writes nothing.
#[test]
fn the_wrong_or_a_missing_token_key_is_refused() {
    hsm();
    let dir = support::temp_dir("pkcs11-mismatch");
    Tsa::open(&TsaConfig::new(&dir).with_pkcs11(token_config("tsa-first", true))).expect("first");
    let e = Tsa::open(&TsaConfig::new(&dir).with_pkcs11(token_config("tsa-second", true)))
        .expect_err("another key");
    assert!(matches!(e, TsaError::TokenKeyMismatch { .. }), "{e:?}");
    let msg = e.to_string();
    assert!(
        msg.contains("tsa-second") && msg.contains(TOKEN) && msg.contains("signing.pem"),
        "{msg}"
    );
    let _ = std::fs::remove_dir_all(&dir);

    let fresh = support::temp_dir("pkcs11-missing");
    let e = Tsa::open(&TsaConfig::new(&fresh).with_pkcs11(token_config("tsa-no-such-key", false)))
        .expect_err("missing key");
    assert!(matches!(e, TsaError::Pkcs11(_)), "{e:?}");
    assert!(
        !fresh.exists(),
        "nothing written before the token key opened"
    );
}
