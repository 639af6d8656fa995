//! The EC encodings a PKCS#11 token speaks and X.509 needs: curve OIDs in
//! `CKA_EC_PARAMS`, the point in `CKA_EC_POINT` (wrapped or bare), and
//! `CKM_ECDSA`'s fixed-size `r || s` turned into DER, all with the `der`
//! crate's encoders.

use const_oid::ObjectIdentifier;
use der::asn1::{Any, BitString, OctetStringRef, UintRef};
use der::{Decode, Encode};
use keyless_crypto::{HashAlgorithm, KeyAlgorithm, PublicKey};
use spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};
use thiserror::Error;

/// Why a token's EC attribute or signature could not be used. The lower
/// `der` or `keyless-crypto` error is the source, not part of the message.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum EcError {
    #[error("CKA_EC_PARAMS is not a named curve OID")]
    NotNamedCurve(#[source] der::Error),
    #[error("curve {0}: only P-256 and P-384 keys are supported")]
    UnsupportedCurve(ObjectIdentifier),
    #[error("CKA_EC_POINT is neither a point nor a DER OCTET STRING")]
    PointEncoding(#[source] der::Error),
    #[error("CKA_EC_POINT is not an uncompressed point on the key's curve")]
    NotUncompressed,
    #[error("encoding CKA_EC_PARAMS")]
    CurveParams(#[source] der::Error),
    #[error("encoding the public key's SubjectPublicKeyInfo")]
    Spki(#[source] der::Error),
    #[error("CKA_EC_POINT is not a valid public key")]
    InvalidPoint(#[source] keyless_crypto::CryptoError),
    #[error("ECDSA signature is {found} bytes, expected {expected}")]
    SignatureLength { found: usize, expected: usize },
    #[error("encoding the ECDSA signature as DER")]
    SignatureDer(#[source] der::Error),
}

const OID_EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const OID_P256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
const OID_P384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.34");

/// The curve's key algorithm, scalar size and hash, from `CKA_EC_PARAMS`
/// (a DER namedCurve OID; explicit curve parameters are not accepted).
pub(super) fn curve_from_params(
    params: &[u8],
) -> Result<(KeyAlgorithm, ObjectIdentifier, usize, HashAlgorithm), EcError> {
    let oid = ObjectIdentifier::from_der(params).map_err(EcError::NotNamedCurve)?;
    match oid {
        OID_P256 => Ok((KeyAlgorithm::EcdsaP256, oid, 32, HashAlgorithm::Sha256)),
        OID_P384 => Ok((KeyAlgorithm::EcdsaP384, oid, 48, HashAlgorithm::Sha384)),
        other => Err(EcError::UnsupportedCurve(other)),
    }
}

pub(super) fn curve_oid(alg: KeyAlgorithm) -> Option<ObjectIdentifier> {
    match alg {
        KeyAlgorithm::EcdsaP256 => Some(OID_P256),
        KeyAlgorithm::EcdsaP384 => Some(OID_P384),
        _ => None,
    }
}

/// The uncompressed point from `CKA_EC_POINT`: PKCS#11 specifies a DER
/// OCTET STRING around it, but some tokens return the bare point. The two
/// cannot be confused: their lengths differ by the DER header.
pub(super) fn ec_point(value: &[u8], field_len: usize) -> Result<Vec<u8>, EcError> {
    let uncompressed = |p: &[u8]| p.len() == 1 + 2 * field_len && p[0] == 0x04;
    if uncompressed(value) {
        return Ok(value.to_vec());
    }
    let inner = OctetStringRef::from_der(value).map_err(EcError::PointEncoding)?;
    if uncompressed(inner.as_bytes()) {
        Ok(inner.as_bytes().to_vec())
    } else {
        Err(EcError::NotUncompressed)
    }
}

/// SubjectPublicKeyInfo (id-ecPublicKey, namedCurve) around `point`.
pub(super) fn public_key(curve: ObjectIdentifier, point: &[u8]) -> Result<PublicKey, EcError> {
    let spki = SubjectPublicKeyInfoOwned {
        algorithm: AlgorithmIdentifierOwned {
            oid: OID_EC_PUBLIC_KEY,
            parameters: Some(Any::encode_from(&curve).map_err(EcError::Spki)?),
        },
        subject_public_key: BitString::from_bytes(point).map_err(EcError::Spki)?,
    };
    let der = spki.to_der().map_err(EcError::Spki)?;
    PublicKey::from_spki_der(&der).map_err(EcError::InvalidPoint)
}

/// ASN.1 `Ecdsa-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER }` (RFC 3279
/// §2.2.3), encoded by `der`.
#[derive(der::Sequence)]
struct EcdsaSigValue<'a> {
    r: UintRef<'a>,
    s: UintRef<'a>,
}

/// Convert a PKCS#11 ECDSA signature (`r || s`, each `field_len` bytes,
/// big-endian) into DER. `UintRef` strips leading zeros and adds the sign
/// octet where the high bit is set, as DER requires.
pub fn raw_signature_to_der(raw: &[u8], field_len: usize) -> Result<Vec<u8>, EcError> {
    if raw.len() != 2 * field_len {
        return Err(EcError::SignatureLength {
            found: raw.len(),
            expected: 2 * field_len,
        });
    }
    let (r, s) = raw.split_at(field_len);
    let value = EcdsaSigValue {
        r: UintRef::new(r).map_err(EcError::SignatureDer)?,
        s: UintRef::new(s).map_err(EcError::SignatureDer)?,
    };
    value.to_der().map_err(EcError::SignatureDer)
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_lc_rs::signature::{
        EcdsaKeyPair, ECDSA_P256_SHA256_FIXED_SIGNING, ECDSA_P384_SHA384_FIXED_SIGNING,
    };
    use keyless_crypto::SigningKey;

    /// A fixed-format (`r || s`) signature from aws-lc-rs, converted by
    /// us, verifies as DER under the same key: the conversion is what a
    /// token's CKM_ECDSA output goes through.
    #[test]
    fn raw_signatures_convert_to_der_that_verifies() {
        for (alg, fixed, n) in [
            (
                KeyAlgorithm::EcdsaP256,
                &ECDSA_P256_SHA256_FIXED_SIGNING,
                32,
            ),
            (
                KeyAlgorithm::EcdsaP384,
                &ECDSA_P384_SHA384_FIXED_SIGNING,
                48,
            ),
        ] {
            let key = SigningKey::generate(alg).unwrap();
            let pair = EcdsaKeyPair::from_pkcs8(fixed, key.to_pkcs8_der()).unwrap();
            // Enough signatures that some r or s has a high bit set or a
            // leading zero byte.
            for i in 0..64u32 {
                let msg = i.to_be_bytes();
                let raw = pair
                    .sign(&aws_lc_rs::rand::SystemRandom::new(), &msg)
                    .unwrap();
                let der = raw_signature_to_der(raw.as_ref(), n).unwrap();
                key.public_key()
                    .verify(key.signature_algorithm(), &msg, &der)
                    .unwrap();
            }
        }
    }

    #[test]
    fn integer_encoding_is_minimal_and_positive() {
        let mut raw = vec![0u8; 64];
        raw[31] = 0x01; // r = 1
        raw[32] = 0x80; // s has its high bit set
        let der = raw_signature_to_der(&raw, 32).unwrap();
        // SEQUENCE { INTEGER 1 (3 octets), INTEGER 0x00 0x80… (2 + 33 octets) }
        assert_eq!(&der[..5], &[0x30, 3 + 2 + 33, 0x02, 0x01, 0x01]);
        assert_eq!(&der[5..8], &[0x02, 33, 0x00]);
        assert!(raw_signature_to_der(&raw[..63], 32)
            .unwrap_err()
            .to_string()
            .contains("63 bytes"));
    }

    #[test]
    fn ec_point_accepts_der_wrapped_and_bare_points() {
        let key = SigningKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
        let spki = spki::SubjectPublicKeyInfoRef::from_der(key.public_key().spki_der()).unwrap();
        let bare = spki.subject_public_key.raw_bytes().to_vec();
        let wrapped = der::asn1::OctetString::new(bare.clone())
            .unwrap()
            .to_der()
            .unwrap();
        assert_eq!(ec_point(&bare, 32).unwrap(), bare);
        assert_eq!(ec_point(&wrapped, 32).unwrap(), bare);
        assert!(ec_point(&wrapped, 48).is_err());
        let params = OID_P256.to_der().unwrap();
        let (alg, curve, n, _) = curve_from_params(&params).unwrap();
        assert_eq!((alg, n), (KeyAlgorithm::EcdsaP256, 32));
        assert_eq!(&public_key(curve, &bare).unwrap(), key.public_key());
        let p521 = ObjectIdentifier::new_unwrap("1.3.132.0.35")
            .to_der()
            .unwrap();
        assert!(curve_from_params(&p521)
            .unwrap_err()
            .to_string()
            .contains("only P-256 and P-384"));
    }
}
