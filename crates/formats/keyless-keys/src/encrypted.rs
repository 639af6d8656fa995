//! Password-protected key files: PKCS#8 `ENCRYPTED PRIVATE KEY` (PBES2 with
//! scrypt or PBKDF2-HMAC-SHA256, AES-128/256-CBC, as
//! `openssl pkcs8 -topk8 -v2 aes-256-cbc [-scrypt]` writes), decrypted by
//! RustCrypto's `pkcs8`. Keys we encrypt use scrypt (log₂N = 15, r = 8,
//! p = 1: 32 MiB, the `pkcs8` crate's recommendation) and AES-256-CBC.

use keyless_crypto::SigningKey;
use pkcs8::der::EncodePem;

pub use crate::decode_error::DecodeError;
use crate::KeyError;

/// A password, wiped from memory on drop.
pub type Password = zeroize::Zeroizing<Vec<u8>>;

/// The password held in environment variable `var`. A missing or empty
/// variable is an error (fail closed: never fall back to no password).
pub fn password_from_env(var: &str) -> Result<Password, KeyError> {
    match std::env::var_os(var) {
        None => Err(KeyError::Password {
            var: var.into(),
            problem: "not set",
        }),
        Some(v) if v.is_empty() => Err(KeyError::Password {
            var: var.into(),
            problem: "empty",
        }),
        Some(v) => {
            #[cfg(unix)]
            let bytes = std::os::unix::ffi::OsStringExt::into_vec(v);
            #[cfg(not(unix))]
            let bytes = v.to_string_lossy().into_owned().into_bytes();
            Ok(Password::new(bytes))
        }
    }
}

/// Encrypt `key` as an `ENCRYPTED PRIVATE KEY` PEM (PBES2, scrypt,
/// AES-256-CBC). Still store it 0600: it is a key file.
pub fn encrypt_pem(key: &SigningKey, password: &[u8]) -> Result<String, KeyError> {
    fn fail(e: impl std::error::Error + Send + Sync + 'static) -> KeyError {
        KeyError::Encrypt(Box::new(e))
    }
    let info = pkcs8::PrivateKeyInfo::try_from(key.to_pkcs8_der()).map_err(fail)?;
    let mut salt = [0u8; 16];
    let mut iv = [0u8; 16];
    aws_lc_rs::rand::fill(&mut salt).map_err(|_| KeyError::Random { what: "salt" })?;
    aws_lc_rs::rand::fill(&mut iv).map_err(|_| KeyError::Random { what: "IV" })?;
    let params = pkcs8::pkcs5::pbes2::Parameters::scrypt_aes256cbc(
        pkcs8::pkcs5::scrypt::Params::recommended(),
        &salt,
        &iv,
    )
    .map_err(|e| fail(pkcs8::Error::EncryptedPrivateKey(e)))?;
    let doc = info.encrypt_with_params(params, password).map_err(fail)?;
    let enc = pkcs8::EncryptedPrivateKeyInfo::try_from(doc.as_bytes()).map_err(fail)?;
    enc.to_pem(pkcs8::LineEnding::LF).map_err(fail)
}

/// Decode a PEM private key: `PRIVATE KEY` when no password is given, or
/// `ENCRYPTED PRIVATE KEY` with `password`. A plain key when a password is
/// configured is refused too: the operator asked for encryption at rest.
pub fn decode_pem(pem: &str, password: Option<&[u8]>) -> Result<SigningKey, DecodeError> {
    let (label, der) = keyless_crypto::pem::decode(pem).map_err(DecodeError::Pem)?;
    match (label.as_str(), password) {
        ("PRIVATE KEY", None) => SigningKey::from_pkcs8_der(&der).map_err(DecodeError::Key),
        ("PRIVATE KEY", Some(_)) => Err(DecodeError::NotEncrypted),
        ("ENCRYPTED PRIVATE KEY", None) => Err(DecodeError::NoPassword),
        ("ENCRYPTED PRIVATE KEY", Some(pw)) => {
            let enc = pkcs8::EncryptedPrivateKeyInfo::try_from(der.as_slice())
                .map_err(DecodeError::NotEncryptedPkcs8)?;
            let plain = enc.decrypt(pw).map_err(|_| DecodeError::Decrypt)?;
            SigningKey::from_pkcs8_der(plain.as_bytes()).map_err(DecodeError::DecryptedNotAKey)
        }
        (other, _) => Err(DecodeError::Label(other.to_owned())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use keyless_crypto::KeyAlgorithm;

    /// `openssl pkcs8 -topk8 -v2 aes-256-cbc` writes PBKDF2-HMAC-SHA256 +
    /// AES-256-CBC: that form is read as well as our scrypt one.
    #[test]
    fn pbkdf2_and_scrypt_encrypted_keys_are_read() {
        let key = SigningKey::generate(KeyAlgorithm::EcdsaP384).unwrap();
        let info = pkcs8::PrivateKeyInfo::try_from(key.to_pkcs8_der()).unwrap();
        let (salt, iv) = ([7u8; 16], [9u8; 16]);
        let params =
            pkcs8::pkcs5::pbes2::Parameters::pbkdf2_sha256_aes256cbc(100_000, &salt, &iv).unwrap();
        let doc = info.encrypt_with_params(params, b"pw").unwrap();
        let pem = pkcs8::EncryptedPrivateKeyInfo::try_from(doc.as_bytes())
            .unwrap()
            .to_pem(pkcs8::LineEnding::LF)
            .unwrap();
        assert_eq!(
            decode_pem(&pem, Some(b"pw")).unwrap().public_key(),
            key.public_key()
        );
        assert!(matches!(
            decode_pem(&pem, Some(b"nope")),
            Err(DecodeError::Decrypt)
        ));
        assert!(decode_pem(&pem, Some(b"nope"))
            .unwrap_err()
            .to_string()
            .contains("wrong password"));
        assert!(decode_pem(&pem, None)
            .unwrap_err()
            .to_string()
            .contains("no key password"));
        let ours = encrypt_pem(&key, b"pw").unwrap();
        assert!(ours.starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----\n"));
        assert_eq!(
            decode_pem(&ours, Some(b"pw")).unwrap().public_key(),
            key.public_key()
        );
        assert!(decode_pem(&key.to_pkcs8_pem(), Some(b"pw"))
            .unwrap_err()
            .to_string()
            .contains("not encrypted"));
    }

    #[test]
    fn password_variable_must_be_set_and_non_empty() {
        let var = "KEYLESS_KEYS_TEST_PASSWORD_ENV";
        std::env::remove_var(var);
        assert!(password_from_env(var)
            .unwrap_err()
            .to_string()
            .contains("not set"));
        std::env::set_var(var, "");
        assert!(password_from_env(var)
            .unwrap_err()
            .to_string()
            .contains("empty"));
        std::env::set_var(var, "secret");
        assert_eq!(password_from_env(var).unwrap().as_slice(), b"secret");
        std::env::remove_var(var);
    }
}
