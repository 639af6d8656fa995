//! The one signing interface of the services: what the CA, the TSA, the
//! transparency log and the development OIDC issuer need from a key.
//!
//! They all sign byte strings they have encoded themselves (a TBS
//! certificate, CMS signed attributes, a checkpoint note, a JWT signing
//! input) with ECDSA P-256/P-384 or Ed25519, and need the public key (to
//! publish it or put it in a certificate) and the signature algorithm (to
//! write its identifier). Nothing else: no key export, no prehashing. So a
//! key held in memory ([`crate::SigningKey`]) and a key that never leaves
//! a hardware token (`keyless-keys`' PKCS#11 key) look the same to them.
//!
//! The trait lives here, at the bottom of the workspace, rather than in
//! `keyless-keys`, so that format crates (certificate profiles in
//! `keyless-x509`) can sign through it without depending on the key store
//! and its PKCS#11 loader.

use crate::{CryptoError, PublicKey, SignatureAlgorithm, SigningKey};

/// A private key that signs messages for a service.
///
/// ECDSA signatures are ASN.1 DER (`Ecdsa-Sig-Value`), as X.509, CMS and
/// Sigstore carry them; Ed25519 signatures are the 64 raw bytes.
/// Implementations must be usable from several request handlers at once
/// (`Send + Sync`): a backend whose handle is single-threaded serializes use
/// internally.
pub trait Signer: Send + Sync {
    /// The public half.
    fn public_key(&self) -> &PublicKey;

    /// The scheme [`Signer::sign`] produces: ECDSA with the curve's hash
    /// (SHA-256 for P-256, SHA-384 for P-384), pure Ed25519.
    fn signature_algorithm(&self) -> SignatureAlgorithm {
        self.public_key().default_signature_algorithm()
    }

    /// Sign `message` (hashed by the signer as
    /// [`Signer::signature_algorithm`] says).
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, CryptoError>;
}

impl Signer for SigningKey {
    fn public_key(&self) -> &PublicKey {
        SigningKey::public_key(self)
    }

    fn signature_algorithm(&self) -> SignatureAlgorithm {
        SigningKey::signature_algorithm(self)
    }

    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, CryptoError> {
        SigningKey::sign(self, message)
    }
}

impl<S: Signer + ?Sized> Signer for std::sync::Arc<S> {
    fn public_key(&self) -> &PublicKey {
        (**self).public_key()
    }

    fn signature_algorithm(&self) -> SignatureAlgorithm {
        (**self).signature_algorithm()
    }

    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, CryptoError> {
        (**self).sign(message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::KeyAlgorithm;

    /// Through the trait object, each key kind the services use signs in
    /// its default scheme and the signature verifies.
    #[test]
    fn signing_keys_sign_through_the_trait() {
        for alg in [
            KeyAlgorithm::EcdsaP256,
            KeyAlgorithm::EcdsaP384,
            KeyAlgorithm::Ed25519,
        ] {
            let key: Box<dyn Signer> = Box::new(SigningKey::generate(alg).unwrap());
            let sig = key.sign(b"message").unwrap();
            key.public_key()
                .verify(key.signature_algorithm(), b"message", &sig)
                .unwrap();
            assert!(key
                .public_key()
                .verify(key.signature_algorithm(), b"other", &sig)
                .is_err());
        }
    }
}
