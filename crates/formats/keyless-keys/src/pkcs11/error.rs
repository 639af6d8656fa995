//! Why a PKCS#11 key could not be opened, apart from the key itself so that
//! the token helpers (`token.rs`) can return it without importing the
//! module that uses them.

use cryptoki::error::Error as CkError;
use keyless_crypto::CryptoError;
use thiserror::Error;

use super::ec::EcError;

/// Why the PKCS#11 key could not be opened. Messages name the module,
/// token, key label or PIN variable involved, never the PIN.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum Pkcs11Error {
    #[error("PKCS#11 module {path}: no such file; install the token vendor's PKCS#11 library (for SoftHSM2, Debian's softhsm2 package: scripts/ci/install-softhsm.sh)")]
    ModuleMissing { path: String },
    #[error("PKCS#11 module {path} could not be loaded: {reason}")]
    ModuleLoad { path: String, reason: String },
    #[error("PKCS#11 module {path}: C_Initialize failed")]
    Initialize {
        path: String,
        #[source]
        source: CkError,
    },
    #[error("no initialized token labelled {label:?} in PKCS#11 module {module} (tokens found: {found:?})")]
    TokenNotFound {
        label: String,
        module: String,
        found: Vec<String>,
    },
    #[error("{count} initialized tokens are labelled {label:?} in PKCS#11 module {module}; token labels must be unique")]
    AmbiguousToken {
        label: String,
        module: String,
        count: usize,
    },
    #[error("the PKCS#11 user PIN variable {var} is not set")]
    PinNotSet { var: String },
    #[error("the PKCS#11 user PIN variable {var} is empty")]
    PinEmpty { var: String },
    #[error("PKCS#11 login to token {token:?} failed: wrong user PIN (read from ${var})")]
    WrongPin { token: String, var: String },
    #[error("PKCS#11 login to token {token:?} failed: the user PIN is locked (too many wrong attempts); the token's security officer must reset it")]
    PinLocked { token: String },
    #[error("PKCS#11 login to token {token:?} failed")]
    Login {
        token: String,
        #[source]
        source: CkError,
    },
    #[error("no private key labelled {label:?} on PKCS#11 token {token:?}; create or import one with that label, or let the service generate it (--pkcs11-generate-key)")]
    KeyNotFound { label: String, token: String },
    #[error("{count} {class} objects are labelled {label:?} on PKCS#11 token {token:?}; the key label must name exactly one key pair")]
    AmbiguousKey {
        label: String,
        token: String,
        class: &'static str,
        count: usize,
    },
    #[error("no public key object labelled {label:?} on PKCS#11 token {token:?}: the key store reads the key's CKA_EC_POINT from it; import the public key with the same label (and CKA_ID)")]
    PublicKeyNotFound { label: String, token: String },
    #[error("key {label:?} on PKCS#11 token {token:?}: {reason}")]
    UnsupportedKey {
        label: String,
        token: String,
        reason: String,
    },
    /// The key's EC attributes are not a usable P-256/P-384 public key.
    #[error("key {label:?} on PKCS#11 token {token:?}")]
    Curve {
        label: String,
        token: String,
        #[source]
        source: EcError,
    },
    /// The token could not sign the self-test message.
    #[error("key {label:?} on PKCS#11 token {token:?} failed its signing self-test")]
    SelfTestSign {
        label: String,
        token: String,
        #[source]
        source: CryptoError,
    },
    #[error("key {label:?} on PKCS#11 token {token:?} failed its signing self-test: {reason}")]
    SelfTest {
        label: String,
        token: String,
        reason: String,
    },
    #[error("PKCS#11 {operation} on token {token:?} failed")]
    Token {
        operation: &'static str,
        token: String,
        #[source]
        source: CkError,
    },
}
