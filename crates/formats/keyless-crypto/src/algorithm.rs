//! The algorithm names (hashes, key kinds, signature schemes) on their own,
//! so that [`crate::CryptoError`] can name them without importing the
//! modules that return it.

use aws_lc_rs::digest;
use const_oid::ObjectIdentifier;

/// The hash functions Sigstore uses for artifacts, logs and certificates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum HashAlgorithm {
    Sha256,
    Sha384,
    Sha512,
}

impl HashAlgorithm {
    pub(crate) fn aws(self) -> &'static digest::Algorithm {
        match self {
            Self::Sha256 => &digest::SHA256,
            Self::Sha384 => &digest::SHA384,
            Self::Sha512 => &digest::SHA512,
        }
    }

    /// Output length in bytes.
    pub fn output_len(self) -> usize {
        self.aws().output_len()
    }

    /// Hash `data` in one go.
    pub fn digest(self, data: &[u8]) -> Vec<u8> {
        digest::digest(self.aws(), data).as_ref().to_vec()
    }

    /// The name used by Sigstore's `HashAlgorithm` enum in protobuf-specs.
    pub fn proto_name(self) -> &'static str {
        match self {
            Self::Sha256 => "SHA2_256",
            Self::Sha384 => "SHA2_384",
            Self::Sha512 => "SHA2_512",
        }
    }

    /// The lower-case name Rekor v1 entries (`data.hash.algorithm`),
    /// in-toto subjects and `<name>:<hex>` artifact digests use.
    pub fn name(self) -> &'static str {
        match self {
            Self::Sha256 => "sha256",
            Self::Sha384 => "sha384",
            Self::Sha512 => "sha512",
        }
    }

    /// Parse the lower-case name (`sha256`, `sha384`, `sha512`).
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "sha256" => Some(Self::Sha256),
            "sha384" => Some(Self::Sha384),
            "sha512" => Some(Self::Sha512),
            _ => None,
        }
    }

    /// Parse the protobuf-specs enum name.
    pub fn from_proto_name(name: &str) -> Option<Self> {
        match name {
            "SHA2_256" => Some(Self::Sha256),
            "SHA2_384" => Some(Self::Sha384),
            "SHA2_512" => Some(Self::Sha512),
            _ => None,
        }
    }
}

/// The kind of a public key, with the parameters that matter for verification.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum KeyAlgorithm {
    EcdsaP256,
    EcdsaP384,
    EcdsaP521,
    Ed25519,
    Rsa,
}

/// A signature scheme: key family, padding and hash together, as named by
/// X.509 signature algorithm OIDs and Sigstore's key-details registry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SignatureAlgorithm {
    EcdsaSha256,
    EcdsaSha384,
    EcdsaSha512,
    Ed25519,
    RsaPkcs1Sha256,
    RsaPkcs1Sha384,
    RsaPkcs1Sha512,
    RsaPssSha256,
    RsaPssSha384,
    RsaPssSha512,
}

impl SignatureAlgorithm {
    /// The hash the scheme applies to the message, if it hashes at all
    /// (Ed25519 signs the message itself).
    pub fn hash(self) -> Option<HashAlgorithm> {
        use SignatureAlgorithm::*;
        match self {
            EcdsaSha256 | RsaPkcs1Sha256 | RsaPssSha256 => Some(HashAlgorithm::Sha256),
            EcdsaSha384 | RsaPkcs1Sha384 | RsaPssSha384 => Some(HashAlgorithm::Sha384),
            EcdsaSha512 | RsaPkcs1Sha512 | RsaPssSha512 => Some(HashAlgorithm::Sha512),
            Ed25519 => None,
        }
    }

    /// The schemes a key of kind `key` may have used to sign a message
    /// hashed with `hash`, in the order to try them. The hash is the one the
    /// signed object declares (a bundle's message digest, bound to its log
    /// entry), never one implied by the key: P-384 keys sign SHA-256
    /// prehashes in the wild (older sigstore-python), and every curve goes
    /// with every SHA-2 hash. RSA keys do not say which padding they sign
    /// with, so both PKCS#1 v1.5 (the Sigstore default, tried first) and PSS
    /// (salt as long as the hash, as sigstore-go and aws-lc use) are tried,
    /// always with the declared hash: either one verifying is a signature by
    /// this key over this digest. Ed25519 signs the message itself, so it
    /// has one scheme whatever the hash.
    pub fn for_key_and_hash(key: KeyAlgorithm, hash: HashAlgorithm) -> &'static [Self] {
        use HashAlgorithm as H;
        use KeyAlgorithm as K;
        use SignatureAlgorithm as S;
        match (key, hash) {
            (K::EcdsaP256 | K::EcdsaP384 | K::EcdsaP521, H::Sha256) => &[S::EcdsaSha256],
            (K::EcdsaP256 | K::EcdsaP384 | K::EcdsaP521, H::Sha384) => &[S::EcdsaSha384],
            (K::EcdsaP256 | K::EcdsaP384 | K::EcdsaP521, H::Sha512) => &[S::EcdsaSha512],
            (K::Rsa, H::Sha256) => &[S::RsaPkcs1Sha256, S::RsaPssSha256],
            (K::Rsa, H::Sha384) => &[S::RsaPkcs1Sha384, S::RsaPssSha384],
            (K::Rsa, H::Sha512) => &[S::RsaPkcs1Sha512, S::RsaPssSha512],
            (K::Ed25519, _) => &[S::Ed25519],
        }
    }

    /// Map an X.509 / CMS signature algorithm OID. RSASSA-PSS needs its
    /// parameters to pick the hash, which the caller passes as the hash it found.
    ///
    /// Compared as OIDs, not as dotted text: every certificate signature
    /// check of every bundle comes through here.
    pub fn from_oid(oid: &ObjectIdentifier, pss_hash: Option<HashAlgorithm>) -> Option<Self> {
        const ECDSA_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");
        const ECDSA_SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.3");
        const ECDSA_SHA512: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.4");
        const ED25519: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.112");
        const RSA_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.11");
        const RSA_SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.12");
        const RSA_SHA512: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.13");
        const RSA_PSS: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.10");
        Some(match *oid {
            ECDSA_SHA256 => Self::EcdsaSha256,
            ECDSA_SHA384 => Self::EcdsaSha384,
            ECDSA_SHA512 => Self::EcdsaSha512,
            ED25519 => Self::Ed25519,
            RSA_SHA256 => Self::RsaPkcs1Sha256,
            RSA_SHA384 => Self::RsaPkcs1Sha384,
            RSA_SHA512 => Self::RsaPkcs1Sha512,
            RSA_PSS => match pss_hash? {
                HashAlgorithm::Sha256 => Self::RsaPssSha256,
                HashAlgorithm::Sha384 => Self::RsaPssSha384,
                HashAlgorithm::Sha512 => Self::RsaPssSha512,
            },
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::{HashAlgorithm, SignatureAlgorithm as S};
    use const_oid::ObjectIdentifier;

    /// Every signature algorithm OID maps to its scheme, PSS only with a
    /// hash, and nothing else maps.
    #[test]
    fn from_oid_maps_each_algorithm() {
        let of = |dotted: &str, pss| S::from_oid(&ObjectIdentifier::new_unwrap(dotted), pss);
        assert_eq!(of("1.2.840.10045.4.3.2", None), Some(S::EcdsaSha256));
        assert_eq!(of("1.2.840.10045.4.3.3", None), Some(S::EcdsaSha384));
        assert_eq!(of("1.2.840.10045.4.3.4", None), Some(S::EcdsaSha512));
        assert_eq!(of("1.3.101.112", None), Some(S::Ed25519));
        assert_eq!(of("1.2.840.113549.1.1.11", None), Some(S::RsaPkcs1Sha256));
        assert_eq!(of("1.2.840.113549.1.1.12", None), Some(S::RsaPkcs1Sha384));
        assert_eq!(of("1.2.840.113549.1.1.13", None), Some(S::RsaPkcs1Sha512));
        assert_eq!(of("1.2.840.113549.1.1.10", None), None);
        assert_eq!(
            of("1.2.840.113549.1.1.10", Some(HashAlgorithm::Sha384)),
            Some(S::RsaPssSha384)
        );
        assert_eq!(of("1.2.840.10045.4.3.1", None), None);
        assert_eq!(of("1.2.840.113549.1.1.5", None), None);
    }
}
