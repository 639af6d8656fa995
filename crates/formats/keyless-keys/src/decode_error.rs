//! Why a PEM private key could not be decoded, apart from
//! [`crate::encrypted`] (which re-exports it) so that [`crate::KeyError`]
//! can carry it without importing the module that returns `KeyError`.

use keyless_crypto::CryptoError;
use thiserror::Error;

/// Why a PEM private key could not be decoded. The message says what is
/// wrong with the key (and how to fix a password mismatch); the lower
/// error, where there is one, is the source.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// Not PEM at all, or PEM that does not decode.
    #[error("not a PEM private key")]
    Pem(#[source] CryptoError),
    /// A `PRIVATE KEY` that is not a usable key.
    #[error("not a usable private key")]
    Key(#[source] CryptoError),
    #[error(
        "the key is not encrypted, but a key password is configured; encrypt it \
         (openssl pkcs8 -topk8 -v2 aes-256-cbc -scrypt) or drop the password setting"
    )]
    NotEncrypted,
    #[error(
        "the key is encrypted (ENCRYPTED PRIVATE KEY) but no key password variable is configured"
    )]
    NoPassword,
    #[error("not an encrypted PKCS#8 key")]
    NotEncryptedPkcs8(#[source] pkcs8::Error),
    /// Deliberately without the cipher's error: it adds nothing an
    /// operator can act on.
    #[error("cannot decrypt the key: wrong password, or an unsupported or corrupt encryption")]
    Decrypt,
    #[error("decrypted, but not a usable key; wrong password?")]
    DecryptedNotAKey(#[source] CryptoError),
    #[error("PEM label {0:?}, expected PRIVATE KEY or ENCRYPTED PRIVATE KEY")]
    Label(String),
}
