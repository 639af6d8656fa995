//! Private keys and signing, for the services (CA, log, TSA, dev OIDC
//! issuer) and the signing client's ephemeral keys.
//!
//! A `SigningKey` never prints its secret (`Debug` shows only the
//! algorithm) and is exported only as PKCS#8, for the caller to store with
//! 0600 permissions.

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{
    EcdsaKeyPair, EcdsaSigningAlgorithm, Ed25519KeyPair, KeyPair, ECDSA_P256_SHA256_ASN1_SIGNING,
    ECDSA_P384_SHA384_ASN1_SIGNING, ECDSA_P521_SHA512_ASN1_SIGNING,
};

use crate::{CryptoError, HashAlgorithm, KeyAlgorithm, PublicKey, SignatureAlgorithm};

enum Inner {
    Ecdsa(EcdsaKeyPair),
    Ed25519(Ed25519KeyPair),
}

/// A private key that can sign.
pub struct SigningKey {
    inner: Inner,
    public: PublicKey,
    pkcs8: Vec<u8>,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SigningKey({:?})", self.public.algorithm())
    }
}

fn ecdsa_alg(alg: KeyAlgorithm) -> Option<&'static EcdsaSigningAlgorithm> {
    match alg {
        KeyAlgorithm::EcdsaP256 => Some(&ECDSA_P256_SHA256_ASN1_SIGNING),
        KeyAlgorithm::EcdsaP384 => Some(&ECDSA_P384_SHA384_ASN1_SIGNING),
        KeyAlgorithm::EcdsaP521 => Some(&ECDSA_P521_SHA512_ASN1_SIGNING),
        _ => None,
    }
}

impl SigningKey {
    /// A fresh key from the system's secure random source.
    pub fn generate(alg: KeyAlgorithm) -> Result<Self, CryptoError> {
        let rng = SystemRandom::new();
        let pkcs8 = match alg {
            KeyAlgorithm::Ed25519 => Ed25519KeyPair::generate_pkcs8(&rng),
            other => {
                let a = ecdsa_alg(other).ok_or_else(|| {
                    CryptoError::UnsupportedKey(format!("cannot generate {other:?} keys"))
                })?;
                EcdsaKeyPair::generate_pkcs8(a, &rng)
            }
        }
        .map_err(|_| CryptoError::UnsupportedKey("key generation failed".into()))?;
        Self::from_pkcs8_der(pkcs8.as_ref())
    }

    /// Load a PKCS#8 private key (ECDSA P-256/384/521 or Ed25519).
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self, CryptoError> {
        let inner = [
            KeyAlgorithm::EcdsaP256,
            KeyAlgorithm::EcdsaP384,
            KeyAlgorithm::EcdsaP521,
        ]
        .into_iter()
        .filter_map(ecdsa_alg)
        .find_map(|a| EcdsaKeyPair::from_pkcs8(a, der).ok())
        .map(Inner::Ecdsa)
        .or_else(|| Ed25519KeyPair::from_pkcs8(der).ok().map(Inner::Ed25519))
        .ok_or_else(|| {
            CryptoError::MalformedKey("not a PKCS#8 ECDSA or Ed25519 private key".into())
        })?;
        let spki = match &inner {
            Inner::Ecdsa(k) => k.public_key().as_der().map(|d| d.as_ref().to_vec()),
            Inner::Ed25519(k) => k.public_key().as_der().map(|d| d.as_ref().to_vec()),
        }
        .map_err(|_| CryptoError::MalformedKey("cannot encode public key".into()))?;
        Ok(Self {
            inner,
            public: PublicKey::from_spki_der(&spki)?,
            pkcs8: der.to_vec(),
        })
    }

    /// Load a PEM `PRIVATE KEY` (PKCS#8).
    pub fn from_pkcs8_pem(pem: &str) -> Result<Self, CryptoError> {
        let (label, der) = crate::pem::decode(pem)?;
        if label != "PRIVATE KEY" {
            return Err(CryptoError::MalformedKey(format!(
                "PEM label {label:?}, expected \"PRIVATE KEY\""
            )));
        }
        Self::from_pkcs8_der(&der)
    }

    /// PKCS#8 DER. Secret: store with 0600 permissions, never log.
    pub fn to_pkcs8_der(&self) -> &[u8] {
        &self.pkcs8
    }

    /// PKCS#8 PEM. Secret: store with 0600 permissions, never log.
    pub fn to_pkcs8_pem(&self) -> String {
        pem_rfc7468::encode_string("PRIVATE KEY", pem_rfc7468::LineEnding::LF, &self.pkcs8)
            .unwrap_or_default()
    }

    pub fn public_key(&self) -> &PublicKey {
        &self.public
    }

    /// The scheme `sign` uses: the curve's hash for ECDSA, pure Ed25519.
    pub fn signature_algorithm(&self) -> SignatureAlgorithm {
        self.public.default_signature_algorithm()
    }

    /// Sign a message (ECDSA signatures are ASN.1 DER).
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>, CryptoError> {
        match &self.inner {
            Inner::Ecdsa(k) => k
                .sign(&SystemRandom::new(), message)
                .map(|s| s.as_ref().to_vec())
                .map_err(|_| CryptoError::BadSignature),
            Inner::Ed25519(k) => Ok(k.sign(message).as_ref().to_vec()),
        }
    }

    /// Sign a message known by its digest (ECDSA only), e.g. a large
    /// artifact hashed as a stream.
    pub fn sign_prehashed(&self, digest: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let alg = self.signature_algorithm();
        let hash: HashAlgorithm = alg.hash().ok_or(CryptoError::NeedsMessage(alg))?;
        match &self.inner {
            Inner::Ecdsa(k) => k
                .sign_digest(&hash.import(digest)?)
                .map(|s| s.as_ref().to_vec())
                .map_err(|_| CryptoError::BadSignature),
            Inner::Ed25519(_) => Err(CryptoError::NeedsMessage(alg)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_and_verify_every_algorithm() {
        for alg in [
            KeyAlgorithm::EcdsaP256,
            KeyAlgorithm::EcdsaP384,
            KeyAlgorithm::Ed25519,
        ] {
            let k = SigningKey::generate(alg).unwrap();
            let sig = k.sign(b"msg").unwrap();
            k.public_key()
                .verify(k.signature_algorithm(), b"msg", &sig)
                .unwrap();
            assert!(k
                .public_key()
                .verify(k.signature_algorithm(), b"other", &sig)
                .is_err());
            let again = SigningKey::from_pkcs8_pem(&k.to_pkcs8_pem()).unwrap();
            assert_eq!(again.public_key(), k.public_key());
            assert!(!format!("{k:?}").contains("PRIVATE"));
        }
    }

    #[test]
    fn prehashed_signature_verifies_over_message() {
        let k = SigningKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
        let digest = HashAlgorithm::Sha256.digest(b"big artifact");
        let sig = k.sign_prehashed(&digest).unwrap();
        k.public_key()
            .verify(SignatureAlgorithm::EcdsaSha256, b"big artifact", &sig)
            .unwrap();
    }
}
