//! A loaded signing key of either kind.

use keyless_crypto::{CryptoError, PublicKey, SignatureAlgorithm, Signer, SigningKey};

use crate::pkcs11::Pkcs11Key;

/// A service's signing key: in memory (loaded from a key file) or on a
/// PKCS#11 token. An enum rather than a `Box<dyn Signer>` so that it stays
/// `Debug`, needs no allocation, and callers can see (and log) which kind
/// of key is in use.
pub enum Key {
    /// A key held in process memory, loaded from a key file.
    Software(SigningKey),
    /// A key on a PKCS#11 token, used through logged-in sessions.
    Pkcs11(Pkcs11Key),
}

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Key::Software(k) => f.debug_tuple("Software").field(k).finish(),
            Key::Pkcs11(k) => f.debug_tuple("Pkcs11").field(k).finish(),
        }
    }
}

impl From<SigningKey> for Key {
    fn from(key: SigningKey) -> Self {
        Key::Software(key)
    }
}

impl From<Pkcs11Key> for Key {
    fn from(key: Pkcs11Key) -> Self {
        Key::Pkcs11(key)
    }
}

/// Inherent methods mirroring [`SigningKey`]'s, so that code written
/// against the software key (tests, tools) reads the same, and calls need
/// no trait import.
impl Key {
    /// The public half.
    pub fn public_key(&self) -> &PublicKey {
        Signer::public_key(self)
    }

    /// See [`Signer::signature_algorithm`].
    pub fn signature_algorithm(&self) -> SignatureAlgorithm {
        Signer::signature_algorithm(self)
    }

    /// See [`Signer::sign`].
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>, CryptoError> {
        Signer::sign(self, message)
    }

    /// The in-memory key, if that is where the key lives.
    pub fn as_software(&self) -> Option<&SigningKey> {
        match self {
            Key::Software(k) => Some(k),
            Key::Pkcs11(_) => None,
        }
    }
}

impl Signer for Key {
    fn public_key(&self) -> &PublicKey {
        match self {
            Key::Software(k) => k.public_key(),
            Key::Pkcs11(k) => Signer::public_key(k),
        }
    }

    fn signature_algorithm(&self) -> SignatureAlgorithm {
        match self {
            Key::Software(k) => k.signature_algorithm(),
            Key::Pkcs11(k) => Signer::signature_algorithm(k),
        }
    }

    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, CryptoError> {
        match self {
            Key::Software(k) => k.sign(message),
            Key::Pkcs11(k) => Signer::sign(k, message),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use keyless_crypto::KeyAlgorithm;

    /// A software `Key` signs as its key does, through the trait object
    /// and the inherent methods alike, for every service key type.
    #[test]
    fn software_key_signs_through_signer() {
        for alg in [
            KeyAlgorithm::EcdsaP256,
            KeyAlgorithm::EcdsaP384,
            KeyAlgorithm::Ed25519,
        ] {
            let key: Key = SigningKey::generate(alg).unwrap().into();
            assert_eq!(key.public_key().algorithm(), alg);
            assert!(key.as_software().is_some());
            let dyn_key: &dyn Signer = &key;
            let sig = dyn_key.sign(b"tbs").unwrap();
            key.public_key()
                .verify(key.signature_algorithm(), b"tbs", &sig)
                .unwrap();
            let sig = key.sign(b"tbs").unwrap();
            key.public_key()
                .verify(dyn_key.signature_algorithm(), b"tbs", &sig)
                .unwrap();
            assert!(
                format!("{key:?}").starts_with("Software(SigningKey("),
                "{key:?}"
            );
        }
    }
}
