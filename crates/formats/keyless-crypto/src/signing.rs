//! Private keys and signing, for the services (CA, log, TSA, dev OIDC
//! issuer) and the signing client's ephemeral keys.
//!
//! RSA keys (PKCS#1 v1.5 or PSS) can be generated and used through
//! [`SigningKey::sign_with`], for clients that must sign like other Sigstore
//! clients do and for tests; the services load only ECDSA and Ed25519 keys
//! ([`SigningKey::from_pkcs8_der`]).
//!
//! A `SigningKey` never prints its secret (`Debug` shows only the
//! algorithm) and is exported only as PKCS#8, for the caller to store with
//! 0600 permissions.

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{
    EcdsaKeyPair, EcdsaSigningAlgorithm, Ed25519KeyPair, KeyPair, RsaEncoding, RsaKeyPair,
    ECDSA_P256_SHA256_ASN1_SIGNING, ECDSA_P384_SHA384_ASN1_SIGNING, ECDSA_P521_SHA512_ASN1_SIGNING,
    RSA_PKCS1_SHA256, RSA_PKCS1_SHA384, RSA_PKCS1_SHA512, RSA_PSS_SHA256, RSA_PSS_SHA384,
    RSA_PSS_SHA512,
};

use crate::{CryptoError, HashAlgorithm, KeyAlgorithm, PublicKey, SignatureAlgorithm};

enum Inner {
    Ecdsa(EcdsaKeyPair),
    Ed25519(Ed25519KeyPair),
    Rsa(RsaKeyPair),
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
    /// A fresh key from the system's secure random source (RSA: 3072 bits).
    pub fn generate(alg: KeyAlgorithm) -> Result<Self, CryptoError> {
        let rng = SystemRandom::new();
        if alg == KeyAlgorithm::Rsa {
            return Self::generate_rsa();
        }
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

    fn generate_rsa() -> Result<Self, CryptoError> {
        let failed = || CryptoError::UnsupportedKey("RSA key generation failed".into());
        let kp = RsaKeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa3072).map_err(|_| failed())?;
        let pkcs8 = kp.as_der().map_err(|_| failed())?.as_ref().to_vec();
        let spki = kp
            .public_key()
            .as_der()
            .map_err(|_| failed())?
            .as_ref()
            .to_vec();
        Ok(Self {
            inner: Inner::Rsa(kp),
            public: PublicKey::from_spki_der(&spki)?,
            pkcs8,
        })
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
            Inner::Rsa(k) => k.public_key().as_der().map(|d| d.as_ref().to_vec()),
        }
        .map_err(|_| CryptoError::MalformedKey("cannot encode public key".into()))?;
        Ok(Self {
            inner,
            public: PublicKey::from_spki_der(&spki)?,
            pkcs8: der.to_vec(),
        })
    }

    /// Load a PKCS#8 private key of any kind a client's long-lived key may
    /// be (cosign's `--key`): what [`Self::from_pkcs8_der`] loads, or RSA
    /// (2048 to 8192 bits). Kept apart so that the services still refuse
    /// RSA keys.
    pub fn from_client_pkcs8_der(der: &[u8]) -> Result<Self, CryptoError> {
        if let Ok(key) = Self::from_pkcs8_der(der) {
            return Ok(key);
        }
        let kp = RsaKeyPair::from_pkcs8(der).map_err(|_| {
            CryptoError::MalformedKey("not a PKCS#8 ECDSA, Ed25519 or RSA private key".into())
        })?;
        let spki = kp
            .public_key()
            .as_der()
            .map_err(|_| CryptoError::MalformedKey("cannot encode public key".into()))?
            .as_ref()
            .to_vec();
        Ok(Self {
            inner: Inner::Rsa(kp),
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
        crate::pem::encode("PRIVATE KEY", &self.pkcs8)
    }

    pub fn public_key(&self) -> &PublicKey {
        &self.public
    }

    /// The scheme `sign` uses: the curve's hash for ECDSA, pure Ed25519,
    /// PKCS#1 v1.5 with SHA-256 for RSA.
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
            Inner::Rsa(_) => self.sign_with(self.signature_algorithm(), message),
        }
    }

    /// Sign a message known by its digest (ECDSA and RSA), e.g. a large
    /// artifact hashed as a stream, with the key's default scheme.
    pub fn sign_prehashed(&self, digest: &[u8]) -> Result<Vec<u8>, CryptoError> {
        self.sign_prehashed_with(self.signature_algorithm(), digest)
    }

    /// Sign `message` with scheme `alg`, which must suit the key: any SHA-2
    /// hash with any ECDSA curve, PKCS#1 v1.5 or PSS with any SHA-2 hash
    /// for RSA, pure Ed25519.
    pub fn sign_with(
        &self,
        alg: SignatureAlgorithm,
        message: &[u8],
    ) -> Result<Vec<u8>, CryptoError> {
        match (&self.inner, alg.hash()) {
            (Inner::Ed25519(k), None) => Ok(k.sign(message).as_ref().to_vec()),
            (_, Some(hash)) => self.sign_prehashed_with(alg, &hash.digest(message)),
            (_, None) => Err(self.mismatch(alg)),
        }
    }

    /// Sign a message known by its `digest` under `alg`'s hash.
    ///
    /// aws-lc-rs signs ECDSA only with the curve's own hash (and P-521 with
    /// a few more), but an ECDSA signature depends on the digest only as
    /// the integer its leftmost bits make (FIPS 186-5 §6.4.1, bits2int):
    /// left-padding a shorter digest with zeros, or keeping the leftmost
    /// bytes of a longer one (the orders of P-256 and P-384 are whole
    /// bytes; P-521's 521 bits exceed every SHA-2 output, so nothing is cut
    /// there), gives a digest of the curve's hash with the same integer, and
    /// its signature is the signature under `alg`. The tests check every
    /// combination against aws-lc's verifier for `alg`.
    pub fn sign_prehashed_with(
        &self,
        alg: SignatureAlgorithm,
        digest: &[u8],
    ) -> Result<Vec<u8>, CryptoError> {
        let hash: HashAlgorithm = alg.hash().ok_or(CryptoError::NeedsMessage(alg))?;
        if !SignatureAlgorithm::for_key_and_hash(self.public.algorithm(), hash).contains(&alg) {
            return Err(self.mismatch(alg));
        }
        // Checks the digest's length against the declared hash.
        hash.import(digest)?;
        match &self.inner {
            Inner::Ecdsa(k) => {
                let native = self
                    .signature_algorithm()
                    .hash()
                    .ok_or(CryptoError::NeedsMessage(alg))?;
                let len = native.output_len();
                let mut same_integer = vec![0u8; len.saturating_sub(digest.len())];
                same_integer.extend_from_slice(&digest[..digest.len().min(len)]);
                k.sign_digest(&native.import(&same_integer)?)
                    .map(|s| s.as_ref().to_vec())
                    .map_err(|_| CryptoError::BadSignature)
            }
            Inner::Rsa(k) => {
                let encoding: &'static dyn RsaEncoding = match alg {
                    SignatureAlgorithm::RsaPkcs1Sha256 => &RSA_PKCS1_SHA256,
                    SignatureAlgorithm::RsaPkcs1Sha384 => &RSA_PKCS1_SHA384,
                    SignatureAlgorithm::RsaPkcs1Sha512 => &RSA_PKCS1_SHA512,
                    SignatureAlgorithm::RsaPssSha256 => &RSA_PSS_SHA256,
                    SignatureAlgorithm::RsaPssSha384 => &RSA_PSS_SHA384,
                    SignatureAlgorithm::RsaPssSha512 => &RSA_PSS_SHA512,
                    _ => return Err(self.mismatch(alg)),
                };
                let mut sig = vec![0u8; k.public_modulus_len()];
                k.sign_digest(encoding, &hash.import(digest)?, &mut sig)
                    .map_err(|_| CryptoError::BadSignature)?;
                Ok(sig)
            }
            Inner::Ed25519(_) => Err(CryptoError::NeedsMessage(alg)),
        }
    }

    fn mismatch(&self, algorithm: SignatureAlgorithm) -> CryptoError {
        CryptoError::AlgorithmMismatch {
            algorithm,
            key: self.public.algorithm(),
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

    /// Every scheme each key kind allows signs (whole and prehashed) in a
    /// way aws-lc's verifier for exactly that scheme accepts; a signature
    /// under one hash does not verify under another, and schemes that do
    /// not suit the key are refused.
    #[test]
    fn sign_with_every_scheme_the_key_allows() {
        use HashAlgorithm as H;
        for key_alg in [
            KeyAlgorithm::EcdsaP256,
            KeyAlgorithm::EcdsaP384,
            KeyAlgorithm::EcdsaP521,
            KeyAlgorithm::Rsa,
            KeyAlgorithm::Ed25519,
        ] {
            let k = SigningKey::generate(key_alg).unwrap();
            let public = k.public_key();
            for hash in [H::Sha256, H::Sha384, H::Sha512] {
                for &alg in SignatureAlgorithm::for_key_and_hash(key_alg, hash) {
                    let sig = k.sign_with(alg, b"artifact").unwrap();
                    public.verify(alg, b"artifact", &sig).unwrap_or_else(|e| {
                        panic!("{key_alg:?} {alg:?}: {e}");
                    });
                    assert_eq!(
                        public.verify(alg, b"other", &sig),
                        Err(CryptoError::BadSignature)
                    );
                    let Some(h) = alg.hash() else { continue };
                    let sig = k.sign_prehashed_with(alg, &h.digest(b"artifact")).unwrap();
                    public.verify(alg, b"artifact", &sig).unwrap();
                    // The same signature is no signature under another hash.
                    for &other in SignatureAlgorithm::for_key_and_hash(key_alg, H::Sha384)
                        .iter()
                        .chain(SignatureAlgorithm::for_key_and_hash(key_alg, H::Sha256))
                        .filter(|o| o.hash() != Some(h))
                    {
                        assert!(
                            public.verify(other, b"artifact", &sig).is_err(),
                            "{alg:?} as {other:?}"
                        );
                    }
                }
            }
        }
        let ec = SigningKey::generate(KeyAlgorithm::EcdsaP384).unwrap();
        assert!(matches!(
            ec.sign_with(SignatureAlgorithm::RsaPssSha256, b"m"),
            Err(CryptoError::AlgorithmMismatch { .. })
        ));
        assert!(matches!(
            ec.sign_prehashed_with(SignatureAlgorithm::EcdsaSha256, &[0; 48]),
            Err(CryptoError::DigestLength { .. })
        ));
        let ed = SigningKey::generate(KeyAlgorithm::Ed25519).unwrap();
        assert!(matches!(
            ed.sign_with(SignatureAlgorithm::EcdsaSha256, b"m"),
            Err(CryptoError::AlgorithmMismatch { .. })
        ));
    }

    /// RSA keys are generated, sign with PKCS#1 v1.5 SHA-256 by default,
    /// and do not print their secret.
    #[test]
    fn rsa_key_default_scheme() {
        let k = SigningKey::generate(KeyAlgorithm::Rsa).unwrap();
        assert_eq!(k.public_key().algorithm(), KeyAlgorithm::Rsa);
        assert_eq!(k.signature_algorithm(), SignatureAlgorithm::RsaPkcs1Sha256);
        let sig = k.sign(b"msg").unwrap();
        k.public_key()
            .verify(SignatureAlgorithm::RsaPkcs1Sha256, b"msg", &sig)
            .unwrap();
        assert!(k
            .public_key()
            .verify(SignatureAlgorithm::RsaPssSha256, b"msg", &sig)
            .is_err());
        assert!(!format!("{k:?}").contains("PRIVATE"));
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
