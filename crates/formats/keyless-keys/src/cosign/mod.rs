//! cosign's key files, so that a team's existing `cosign.key` signs here
//! unchanged and a key made here signs with cosign.
//!
//! `cosign.key` is one PEM block of type `ENCRYPTED SIGSTORE PRIVATE KEY`
//! (cosign before 2.0 wrote `ENCRYPTED COSIGN PRIVATE KEY`; both are read)
//! whose contents are a JSON envelope ([`envelope`]): scrypt derives a
//! secretbox key from the password, and NaCl secretbox (XSalsa20-Poly1305)
//! seals the PKCS#8 DER of the private key. `cosign.pub` is a plain
//! `PUBLIC KEY` PEM (SubjectPublicKeyInfo).
//!
//! The password may be empty, as cosign allows (`COSIGN_PASSWORD=""`): the
//! file is then still a valid envelope, only without secrecy. Choosing the
//! password source (variable, prompt) is the caller's job.

mod envelope;
mod error;
mod import;

use keyless_crypto::{KeyAlgorithm, SigningKey};
use zeroize::Zeroizing;

pub use error::CosignKeyError;
pub use import::import_private_key;

/// The PEM type cosign writes since 2.0.
pub const SIGSTORE_PEM_TYPE: &str = "ENCRYPTED SIGSTORE PRIVATE KEY";
/// The PEM type cosign 1.x wrote; still read.
pub const COSIGN_PEM_TYPE: &str = "ENCRYPTED COSIGN PRIVATE KEY";

/// Largest key file read (PEM text); a cosign RSA-4096 key is about 4 KiB.
pub const MAX_KEY_FILE: usize = 64 * 1024;

/// A key pair as cosign stores it: the encrypted private key and the
/// public key, both PEM text.
pub struct KeyPairPem {
    /// `ENCRYPTED SIGSTORE PRIVATE KEY` PEM. Write it 0600.
    pub private_pem: Zeroizing<String>,
    /// `PUBLIC KEY` PEM.
    pub public_pem: String,
}

impl std::fmt::Debug for KeyPairPem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyPairPem")
            .field("public_pem", &self.public_pem)
            .finish_non_exhaustive()
    }
}

/// Whether `pem` is one of cosign's encrypted private keys (by its PEM
/// type only; nothing is decrypted).
pub fn is_encrypted_key(pem: &str) -> bool {
    let first = pem.trim_start().lines().next().unwrap_or_default().trim();
    first == format!("-----BEGIN {SIGSTORE_PEM_TYPE}-----")
        || first == format!("-----BEGIN {COSIGN_PEM_TYPE}-----")
}

/// Encrypt `key` under `password` in cosign's format, with its public key.
pub fn encrypt(key: &SigningKey, password: &[u8]) -> Result<KeyPairPem, CosignKeyError> {
    let json = envelope::seal(key.to_pkcs8_der(), password, envelope::WRITE_PARAMS)?;
    Ok(KeyPairPem {
        private_pem: Zeroizing::new(keyless_crypto::pem::encode(SIGSTORE_PEM_TYPE, &json)),
        public_pem: key.public_key().to_pem(),
    })
}

/// A fresh ECDSA P-256 key (what `cosign generate-key-pair` makes),
/// encrypted under `password`.
pub fn generate(password: &[u8]) -> Result<(SigningKey, KeyPairPem), CosignKeyError> {
    let key = SigningKey::generate(KeyAlgorithm::EcdsaP256)
        .map_err(|e| CosignKeyError::Encrypt(format!("generating a key: {e}")))?;
    let pem = encrypt(&key, password)?;
    Ok((key, pem))
}

/// Decrypt a cosign key file's text with `password`.
pub fn decrypt(pem: &str, password: &[u8]) -> Result<SigningKey, CosignKeyError> {
    if pem.len() > MAX_KEY_FILE {
        return Err(CosignKeyError::Pem(format!(
            "{} bytes, more than {MAX_KEY_FILE}",
            pem.len()
        )));
    }
    let (label, json) =
        keyless_crypto::pem::decode(pem).map_err(|e| CosignKeyError::Pem(e.to_string()))?;
    if label != SIGSTORE_PEM_TYPE && label != COSIGN_PEM_TYPE {
        return Err(CosignKeyError::Pem(format!(
            "PEM type {label:?}; expected {SIGSTORE_PEM_TYPE}"
        )));
    }
    let pkcs8 = envelope::open(&json, password)?;
    SigningKey::from_client_pkcs8_der(&pkcs8).map_err(|e| CosignKeyError::Key(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_pair_round_trips_and_wrong_password_is_refused() {
        let (key, pem) = generate(b"hunter2").unwrap();
        assert!(pem
            .private_pem
            .starts_with("-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n"));
        assert!(is_encrypted_key(&pem.private_pem));
        assert!(!is_encrypted_key(&pem.public_pem));
        assert_eq!(pem.public_pem, key.public_key().to_pem());
        let back = decrypt(&pem.private_pem, b"hunter2").unwrap();
        assert_eq!(back.public_key(), key.public_key());
        let err = decrypt(&pem.private_pem, b"hunter3").unwrap_err();
        assert!(err.to_string().contains("wrong password"), "{err}");
        // The envelope is cosign's: standard scrypt parameters, a 32-byte
        // salt and a 24-byte nonce.
        let (_, json) = keyless_crypto::pem::decode(&pem.private_pem).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&json).unwrap();
        assert_eq!(v["kdf"]["name"], "scrypt");
        assert_eq!(
            v["kdf"]["params"],
            serde_json::json!({"N": 65536, "r": 8, "p": 1})
        );
        assert_eq!(v["cipher"]["name"], "nacl/secretbox");
        // Debug output never shows the private half, even encrypted.
        assert!(!format!("{pem:?}").contains("PRIVATE KEY"));
    }

    #[test]
    fn other_pem_types_are_refused() {
        let key = SigningKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
        let err = decrypt(&key.to_pkcs8_pem(), b"").unwrap_err();
        assert!(matches!(err, CosignKeyError::Pem(_)), "{err}");
        let huge = "A".repeat(MAX_KEY_FILE + 1);
        assert!(matches!(decrypt(&huge, b""), Err(CosignKeyError::Pem(_))));
    }
}
