//! Where a PKCS#11 key lives, apart from the key itself so that the token
//! helpers (`token.rs`) can take it without importing the module that
//! uses them.

use std::path::PathBuf;

/// The environment variable the user PIN is read from unless configured.
pub const DEFAULT_PIN_ENV: &str = "KEYLESS_PKCS11_PIN";

/// Debian's SoftHSM2 module (package `softhsm2`), used by the tests.
pub const SOFTHSM2_MODULE: &str = "/usr/lib/softhsm/libsofthsm2.so";

/// Where a key lives on a PKCS#11 token (for the CA: its intermediate key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pkcs11Config {
    /// Path of the PKCS#11 module (shared library), e.g.
    /// `/usr/lib/softhsm/libsofthsm2.so`.
    pub module: PathBuf,
    /// `CKA_LABEL` of the token (as `softhsm2-util --init-token --label`
    /// set it); exactly one initialised token must carry it.
    pub token_label: String,
    /// `CKA_LABEL` of the key pair: one private key, and its public key
    /// (from which `CKA_EC_POINT` and `CKA_EC_PARAMS` are read).
    pub key_label: String,
    /// Name of the environment variable holding the user PIN
    /// ([`DEFAULT_PIN_ENV`] by default). The PIN is never stored here.
    pub pin_env: String,
    /// Generate the key pair on the token (`C_GenerateKeyPair`, on-token,
    /// sensitive, non-extractable) when no key carries `key_label`, on the
    /// curve the caller asks for (the CA: its
    /// `KeyOptions::intermediate_algorithm`). Off by
    /// default: a missing key is then an error, which catches a mistyped
    /// label instead of silently minting a new key.
    pub generate_key: bool,
    /// Sessions kept open for signing (at least one).
    pub sessions: usize,
}

impl Pkcs11Config {
    /// A configuration with the default PIN variable, no key generation
    /// and two sessions.
    pub fn new(
        module: impl Into<PathBuf>,
        token_label: impl Into<String>,
        key_label: impl Into<String>,
    ) -> Self {
        Self {
            module: module.into(),
            token_label: token_label.into(),
            key_label: key_label.into(),
            pin_env: DEFAULT_PIN_ENV.into(),
            generate_key: false,
            sessions: 2,
        }
    }
}
