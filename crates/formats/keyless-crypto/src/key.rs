use aws_lc_rs::signature::{self, ParsedPublicKey, UnparsedPublicKey, VerificationAlgorithm};
use const_oid::ObjectIdentifier;
use der::{Decode, Encode};
use spki::SubjectPublicKeyInfoRef;

use crate::{CryptoError, KeyAlgorithm, SignatureAlgorithm};

const OID_EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const OID_P256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
const OID_P384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.34");
const OID_P521: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.35");
const OID_ED25519: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.112");
const OID_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");

/// A parsed public key. Existing values are always usable: parsing checks
/// the algorithm and that aws-lc accepts the key material.
#[derive(Clone)]
pub struct PublicKey {
    algorithm: KeyAlgorithm,
    /// The DER SubjectPublicKeyInfo, kept for comparison and key IDs.
    spki_der: Vec<u8>,
    /// The bit string inside the SPKI (an EC point, an Ed25519 key or a
    /// PKCS#1 RSA key) as aws-lc parsed it for the key's default scheme,
    /// the one nearly every signature uses: parsing an EC point costs a few
    /// percent of a verification, and the log checks one signature per
    /// request key. It keeps the bytes, for any other scheme.
    parsed: ParsedPublicKey,
}

impl std::fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "PublicKey({:?}, {} bytes)",
            self.algorithm,
            self.spki_der.len()
        )
    }
}

// aws-lc's parsed key is a pointer, so the compiler cannot see that a
// `PublicKey` is immutable once built; nothing a panic interrupts can leave
// it half-changed.
impl std::panic::UnwindSafe for PublicKey {}
impl std::panic::RefUnwindSafe for PublicKey {}

impl PartialEq for PublicKey {
    fn eq(&self, other: &Self) -> bool {
        self.spki_der == other.spki_der
    }
}
impl Eq for PublicKey {}

impl PublicKey {
    /// Parse a DER SubjectPublicKeyInfo.
    pub fn from_spki_der(der: &[u8]) -> Result<Self, CryptoError> {
        let spki = SubjectPublicKeyInfoRef::from_der(der).map_err(CryptoError::KeyDer)?;
        let raw = spki
            .subject_public_key
            .as_bytes()
            .ok_or_else(|| CryptoError::MalformedKey("key bit string has unused bits".into()))?;
        let algorithm = match spki.algorithm.oid {
            OID_EC_PUBLIC_KEY => {
                let curve: ObjectIdentifier = spki
                    .algorithm
                    .parameters_oid()
                    .map_err(|_| CryptoError::MalformedKey("EC key without named curve".into()))?;
                match curve {
                    OID_P256 => KeyAlgorithm::EcdsaP256,
                    OID_P384 => KeyAlgorithm::EcdsaP384,
                    OID_P521 => KeyAlgorithm::EcdsaP521,
                    other => return Err(CryptoError::UnsupportedKey(format!("EC curve {other}"))),
                }
            }
            OID_ED25519 => KeyAlgorithm::Ed25519,
            OID_RSA => KeyAlgorithm::Rsa,
            other => return Err(CryptoError::UnsupportedKey(format!("algorithm {other}"))),
        };
        // Re-encode to get a canonical DER form for equality comparisons.
        let spki_der = spki.to_der().map_err(CryptoError::KeyDer)?;
        let parsed = Self::parse_material(algorithm, raw)?;
        Ok(Self {
            algorithm,
            spki_der,
            parsed,
        })
    }

    /// Parse a bare PKCS#1 `RSAPublicKey` (trusted roots list some CT log keys
    /// this way, with key details `PKCS1_RSA_PKCS1V5`), by wrapping it in the
    /// SubjectPublicKeyInfo that every other key uses.
    pub fn from_pkcs1_rsa_der(der: &[u8]) -> Result<Self, CryptoError> {
        let spki = spki::SubjectPublicKeyInfoOwned {
            algorithm: spki::AlgorithmIdentifierOwned {
                oid: OID_RSA,
                parameters: Some(der::asn1::Null.into()),
            },
            subject_public_key: der::asn1::BitString::from_bytes(der)
                .map_err(CryptoError::KeyDer)?,
        };
        let spki_der = spki.to_der().map_err(CryptoError::KeyDer)?;
        Self::from_spki_der(&spki_der)
    }

    /// Parse a PEM `PUBLIC KEY` block.
    pub fn from_pem(pem: &str) -> Result<Self, CryptoError> {
        let (label, der) = crate::pem::decode(pem)?;
        if label != "PUBLIC KEY" {
            return Err(CryptoError::MalformedKey(format!(
                "PEM label {label:?}, expected \"PUBLIC KEY\""
            )));
        }
        Self::from_spki_der(&der)
    }

    /// The PEM `PUBLIC KEY` encoding.
    pub fn to_pem(&self) -> String {
        crate::pem::encode("PUBLIC KEY", &self.spki_der)
    }

    /// Make sure aws-lc accepts the key, so that a bad point is reported
    /// when the key is loaded rather than as a bad signature later.
    fn parse_material(algorithm: KeyAlgorithm, raw: &[u8]) -> Result<ParsedPublicKey, CryptoError> {
        let verifier = aws_algorithm(algorithm, default_signature_algorithm(algorithm))?;
        ParsedPublicKey::new(verifier, raw).map_err(|e| CryptoError::MalformedKey(e.to_string()))
    }

    pub fn algorithm(&self) -> KeyAlgorithm {
        self.algorithm
    }

    /// The DER SubjectPublicKeyInfo.
    pub fn spki_der(&self) -> &[u8] {
        &self.spki_der
    }

    /// The signature scheme Sigstore uses with this key when nothing else is
    /// said (protobuf-specs `PublicKeyDetails`): the hash follows the curve.
    pub fn default_signature_algorithm(&self) -> SignatureAlgorithm {
        default_signature_algorithm(self.algorithm)
    }

    /// The key for a scheme other than its default, parsed again on use.
    fn unparsed(&self, alg: SignatureAlgorithm) -> Result<UnparsedPublicKey<&[u8]>, CryptoError> {
        Ok(UnparsedPublicKey::new(
            aws_algorithm(self.algorithm, alg)?,
            self.parsed.as_ref(),
        ))
    }

    /// Verify `signature` over `message` with the given scheme.
    pub fn verify(
        &self,
        alg: SignatureAlgorithm,
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), CryptoError> {
        let checked = if alg == self.default_signature_algorithm() {
            self.parsed.verify_sig(message, signature)
        } else {
            self.unparsed(alg)?.verify(message, signature)
        };
        checked.map_err(|_| CryptoError::BadSignature)
    }

    /// Verify `signature` over a message known only by its `digest` (the
    /// `sha256:<hex>` artifact form). Ed25519 cannot do this.
    pub fn verify_prehashed(
        &self,
        alg: SignatureAlgorithm,
        digest: &[u8],
        signature: &[u8],
    ) -> Result<(), CryptoError> {
        let hash = alg.hash().ok_or(CryptoError::NeedsMessage(alg))?;
        let digest = hash.import(digest)?;
        let checked = if alg == self.default_signature_algorithm() {
            self.parsed.verify_digest_sig(&digest, signature)
        } else {
            self.unparsed(alg)?.verify_digest(&digest, signature)
        };
        checked.map_err(|_| CryptoError::BadSignature)
    }
}

/// The signature scheme Sigstore uses with a key when nothing else is said.
fn default_signature_algorithm(key: KeyAlgorithm) -> SignatureAlgorithm {
    match key {
        KeyAlgorithm::EcdsaP256 => SignatureAlgorithm::EcdsaSha256,
        KeyAlgorithm::EcdsaP384 => SignatureAlgorithm::EcdsaSha384,
        KeyAlgorithm::EcdsaP521 => SignatureAlgorithm::EcdsaSha512,
        KeyAlgorithm::Ed25519 => SignatureAlgorithm::Ed25519,
        KeyAlgorithm::Rsa => SignatureAlgorithm::RsaPkcs1Sha256,
    }
}

/// aws-lc's verifier for scheme `alg` with a key of kind `key`, or
/// `AlgorithmMismatch` when the two do not go together.
fn aws_algorithm(
    key: KeyAlgorithm,
    alg: SignatureAlgorithm,
) -> Result<&'static dyn VerificationAlgorithm, CryptoError> {
    use KeyAlgorithm as K;
    use SignatureAlgorithm as S;
    Ok(match (key, alg) {
        (K::EcdsaP256, S::EcdsaSha256) => &signature::ECDSA_P256_SHA256_ASN1,
        (K::EcdsaP256, S::EcdsaSha384) => &signature::ECDSA_P256_SHA384_ASN1,
        (K::EcdsaP256, S::EcdsaSha512) => &signature::ECDSA_P256_SHA512_ASN1,
        (K::EcdsaP384, S::EcdsaSha256) => &signature::ECDSA_P384_SHA256_ASN1,
        (K::EcdsaP384, S::EcdsaSha384) => &signature::ECDSA_P384_SHA384_ASN1,
        (K::EcdsaP384, S::EcdsaSha512) => &signature::ECDSA_P384_SHA512_ASN1,
        (K::EcdsaP521, S::EcdsaSha256) => &signature::ECDSA_P521_SHA256_ASN1,
        (K::EcdsaP521, S::EcdsaSha384) => &signature::ECDSA_P521_SHA384_ASN1,
        (K::EcdsaP521, S::EcdsaSha512) => &signature::ECDSA_P521_SHA512_ASN1,
        (K::Ed25519, S::Ed25519) => &signature::ED25519,
        (K::Rsa, S::RsaPkcs1Sha256) => &signature::RSA_PKCS1_2048_8192_SHA256,
        (K::Rsa, S::RsaPkcs1Sha384) => &signature::RSA_PKCS1_2048_8192_SHA384,
        (K::Rsa, S::RsaPkcs1Sha512) => &signature::RSA_PKCS1_2048_8192_SHA512,
        (K::Rsa, S::RsaPssSha256) => &signature::RSA_PSS_2048_8192_SHA256,
        (K::Rsa, S::RsaPssSha384) => &signature::RSA_PSS_2048_8192_SHA384,
        (K::Rsa, S::RsaPssSha512) => &signature::RSA_PSS_2048_8192_SHA512,
        _ => {
            return Err(CryptoError::AlgorithmMismatch {
                algorithm: alg,
                key,
            })
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_lc_rs::encoding::AsDer;
    use aws_lc_rs::rand::SystemRandom;
    use aws_lc_rs::signature::{
        EcdsaKeyPair, Ed25519KeyPair, KeyPair, ECDSA_P256_SHA256_ASN1_SIGNING,
    };

    /// `sig` verifies over `msg` under `alg`, given the message and given
    /// only its digest.
    fn verifies_whole_and_prehashed(
        key: &PublicKey,
        alg: SignatureAlgorithm,
        msg: &[u8],
        sig: &[u8],
    ) {
        key.verify(alg, msg, sig).unwrap();
        let digest = alg.hash().unwrap().digest(msg);
        key.verify_prehashed(alg, &digest, sig).unwrap();
    }

    #[test]
    fn ecdsa_roundtrip_and_prehash() {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &rng).unwrap();
        let kp = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, pkcs8.as_ref()).unwrap();
        let spki = kp.public_key().as_der().unwrap();
        let key = PublicKey::from_spki_der(spki.as_ref()).unwrap();
        assert_eq!(key.algorithm(), KeyAlgorithm::EcdsaP256);
        let msg = b"hello";
        let sig = kp.sign(&rng, msg).unwrap();
        verifies_whole_and_prehashed(&key, SignatureAlgorithm::EcdsaSha256, msg, sig.as_ref());
        assert_eq!(
            key.verify(SignatureAlgorithm::EcdsaSha256, b"other", sig.as_ref()),
            Err(CryptoError::BadSignature)
        );
        let pem = key.to_pem();
        assert_eq!(PublicKey::from_pem(&pem).unwrap(), key);
    }

    /// The key is parsed once for its default scheme (P-521 with
    /// SHA-512); another scheme the key allows still verifies, with and
    /// without a prehashed message, and a scheme for another key kind is
    /// refused.
    #[test]
    fn ecdsa_other_hash_than_the_default() {
        use aws_lc_rs::signature::ECDSA_P521_SHA256_ASN1_SIGNING as P521_SHA256;
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&P521_SHA256, &rng).unwrap();
        let kp = EcdsaKeyPair::from_pkcs8(&P521_SHA256, pkcs8.as_ref()).unwrap();
        let key = PublicKey::from_spki_der(kp.public_key().as_der().unwrap().as_ref()).unwrap();
        assert_eq!(
            key.default_signature_algorithm(),
            SignatureAlgorithm::EcdsaSha512
        );
        let msg = b"hello";
        let sig = kp.sign(&rng, msg).unwrap();
        verifies_whole_and_prehashed(&key, SignatureAlgorithm::EcdsaSha256, msg, sig.as_ref());
        assert_eq!(
            key.verify(SignatureAlgorithm::EcdsaSha512, msg, sig.as_ref()),
            Err(CryptoError::BadSignature)
        );
        assert!(matches!(
            key.verify(SignatureAlgorithm::Ed25519, msg, sig.as_ref()),
            Err(CryptoError::AlgorithmMismatch { .. })
        ));
    }

    #[test]
    fn ed25519_needs_message() {
        let rng = SystemRandom::new();
        let pkcs8 = Ed25519KeyPair::generate_pkcs8(&rng).unwrap();
        let kp = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).unwrap();
        let spki = kp.public_key().as_der().unwrap();
        let key = PublicKey::from_spki_der(spki.as_ref()).unwrap();
        let sig = kp.sign(b"m");
        key.verify(SignatureAlgorithm::Ed25519, b"m", sig.as_ref())
            .unwrap();
        assert!(matches!(
            key.verify_prehashed(SignatureAlgorithm::Ed25519, &[0; 32], sig.as_ref()),
            Err(CryptoError::NeedsMessage(_))
        ));
        assert!(matches!(
            key.verify(SignatureAlgorithm::EcdsaSha256, b"m", sig.as_ref()),
            Err(CryptoError::AlgorithmMismatch { .. })
        ));
    }

    #[test]
    fn garbage_is_malformed() {
        assert!(matches!(
            PublicKey::from_spki_der(b"\x30\x03\x02\x01\x00"),
            Err(CryptoError::KeyDer(_))
        ));
    }
}
