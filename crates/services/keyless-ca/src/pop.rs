//! Proof of possession (SPEC-CHECKS §3.1 step 7): the requester shows it
//! holds the private key, either by signing the token's challenge claim
//! or by a PKCS#10 CSR whose self-signature verifies. CSR subject and
//! extensions are ignored: the certificate is built from the token only.
//!
//! Keys must pass the same bar as Fulcio's `goodkey`: ECDSA P-256/384/521,
//! Ed25519, RSA 2048–4096 bits (multiple of 8) with e = 65537.

use der::asn1::UintRef;
use der::{Decode, Reader, Sequence, SliceReader};
use keyless_crypto::{KeyAlgorithm, PublicKey, SignatureAlgorithm};
use x509_cert::request::CertReq;

use crate::error::PopError;

/// What the requester submitted as its key.
#[derive(Debug, Clone)]
pub enum KeyRequest {
    /// A public key and a signature over the challenge claim.
    Signed {
        /// PEM `PUBLIC KEY`, or DER SPKI.
        public_key: Vec<u8>,
        /// The declared algorithm (`ECDSA`, `ED25519`, `RSA_PSS`), if any.
        algorithm: Option<String>,
        proof: Vec<u8>,
    },
    /// A PKCS#10 request, PEM or DER.
    Csr(Vec<u8>),
}

#[derive(Sequence)]
struct RsaPublicKey<'a> {
    modulus: UintRef<'a>,
    public_exponent: UintRef<'a>,
}

/// Check a key against the allowed types and sizes.
pub fn check_key(key: &PublicKey) -> Result<(), PopError> {
    match key.algorithm() {
        KeyAlgorithm::EcdsaP256
        | KeyAlgorithm::EcdsaP384
        | KeyAlgorithm::EcdsaP521
        | KeyAlgorithm::Ed25519 => Ok(()),
        KeyAlgorithm::Rsa => {
            let spki = spki::SubjectPublicKeyInfoRef::from_der(key.spki_der())
                .map_err(PopError::MalformedKeyDer)?;
            let bits = spki
                .subject_public_key
                .as_bytes()
                .ok_or(PopError::RsaBitString)?;
            let rsa = RsaPublicKey::from_der(bits).map_err(PopError::MalformedKeyDer)?;
            let m = rsa.modulus.as_bytes();
            let lead = m.first().copied().unwrap_or(0);
            let size = (m.len() * 8).saturating_sub(lead.leading_zeros() as usize);
            if !(2048..=4096).contains(&size) || size % 8 != 0 {
                return Err(PopError::UnsupportedKey(format!(
                    "RSA-{size}: sizes 2048–4096 (multiple of 8) only"
                )));
            }
            if rsa.public_exponent.as_bytes() != [0x01, 0x00, 0x01] {
                return Err(PopError::UnsupportedKey(
                    "RSA public exponent must be 65537".into(),
                ));
            }
            Ok(())
        }
        other => Err(PopError::UnsupportedKey(format!("{other:?}"))),
    }
}

fn parse_public_key(bytes: &[u8]) -> Result<PublicKey, PopError> {
    let key = match std::str::from_utf8(bytes) {
        Ok(text) if text.trim_start().starts_with("-----BEGIN") => PublicKey::from_pem(text),
        _ => PublicKey::from_spki_der(bytes),
    };
    key.map_err(|e| match e {
        keyless_crypto::CryptoError::UnsupportedKey(k) => PopError::UnsupportedKey(k),
        other => PopError::MalformedKey(other),
    })
}

fn declared_matches(declared: &str, key: KeyAlgorithm) -> bool {
    match declared {
        "" | "PUBLIC_KEY_ALGORITHM_UNSPECIFIED" => true,
        "ECDSA" | "EC" => matches!(
            key,
            KeyAlgorithm::EcdsaP256 | KeyAlgorithm::EcdsaP384 | KeyAlgorithm::EcdsaP521
        ),
        "ED25519" => key == KeyAlgorithm::Ed25519,
        "RSA_PSS" | "RSA" => key == KeyAlgorithm::Rsa,
        _ => false,
    }
}

/// The schemes a challenge signature may use with this key: Fulcio
/// verifies with SHA-256 for every ECDSA curve and RSA; we also accept
/// the curve's own hash, which is what `SigningKey::sign` produces.
fn challenge_algorithms(key: &PublicKey) -> Vec<SignatureAlgorithm> {
    match key.algorithm() {
        KeyAlgorithm::EcdsaP256 => vec![SignatureAlgorithm::EcdsaSha256],
        KeyAlgorithm::EcdsaP384 => vec![
            SignatureAlgorithm::EcdsaSha256,
            SignatureAlgorithm::EcdsaSha384,
        ],
        KeyAlgorithm::EcdsaP521 => vec![
            SignatureAlgorithm::EcdsaSha256,
            SignatureAlgorithm::EcdsaSha512,
        ],
        KeyAlgorithm::Ed25519 => vec![SignatureAlgorithm::Ed25519],
        _ => vec![
            SignatureAlgorithm::RsaPkcs1Sha256,
            SignatureAlgorithm::RsaPssSha256,
        ],
    }
}

/// Verify the proof of possession and return the key to certify.
pub fn verify(
    req: &KeyRequest,
    challenge: &str,
    challenge_claim: &str,
) -> Result<PublicKey, PopError> {
    match req {
        KeyRequest::Signed {
            public_key,
            algorithm,
            proof,
        } => {
            let key = parse_public_key(public_key)?;
            check_key(&key)?;
            if let Some(declared) = algorithm {
                if !declared_matches(declared, key.algorithm()) {
                    return Err(PopError::AlgorithmMismatch {
                        declared: declared.clone(),
                        actual: format!("{:?}", key.algorithm()),
                    });
                }
            }
            let ok = challenge_algorithms(&key)
                .into_iter()
                .any(|alg| key.verify(alg, challenge.as_bytes(), proof).is_ok());
            if !ok {
                return Err(PopError::Signature {
                    claim: challenge_claim.to_string(),
                });
            }
            Ok(key)
        }
        KeyRequest::Csr(bytes) => verify_csr(bytes),
    }
}

/// Parse a PEM or DER PKCS#10 request and check its self-signature.
pub fn verify_csr(bytes: &[u8]) -> Result<PublicKey, PopError> {
    let der = match std::str::from_utf8(bytes) {
        Ok(text) if text.trim_start().starts_with("-----BEGIN") => {
            let (label, der) = keyless_crypto::pem::decode(text).map_err(PopError::CsrPem)?;
            if label != "CERTIFICATE REQUEST" && label != "NEW CERTIFICATE REQUEST" {
                return Err(PopError::CsrPemLabel(label));
            }
            der
        }
        _ => bytes.to_vec(),
    };
    let req = CertReq::from_der(&der).map_err(PopError::MalformedCsr)?;
    // The signature is over the CertificationRequestInfo bytes as received.
    let info = info_bytes(&der).map_err(PopError::MalformedCsr)?;
    let spki = der::Encode::to_der(&req.info.public_key).map_err(PopError::MalformedCsr)?;
    let key = PublicKey::from_spki_der(&spki).map_err(|e| match e {
        keyless_crypto::CryptoError::UnsupportedKey(k) => PopError::UnsupportedKey(k),
        other => PopError::MalformedKey(other),
    })?;
    check_key(&key)?;
    let alg = SignatureAlgorithm::from_oid(&req.algorithm.oid, None)
        .ok_or_else(|| PopError::CsrAlgorithm(req.algorithm.oid.to_string()))?;
    let sig = req.signature.as_bytes().ok_or(PopError::CsrSignature)?;
    key.verify(alg, info, sig)
        .map_err(|_| PopError::CsrSignature)?;
    Ok(key)
}

fn info_bytes(der: &[u8]) -> der::Result<&[u8]> {
    let mut reader = SliceReader::new(der)?;
    let info = reader.sequence(|seq| {
        let info = seq.tlv_bytes()?;
        let _alg = seq.tlv_bytes()?;
        let _sig = seq.tlv_bytes()?;
        Ok(info)
    })?;
    reader.finish(info)
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_lc_rs::encoding::AsDer;
    use aws_lc_rs::rsa::{KeyPair, KeySize};
    use aws_lc_rs::signature::{KeyPair as _, RSA_PKCS1_SHA256};

    fn rsa(size: KeySize) -> (KeyPair, PublicKey) {
        let kp = KeyPair::generate(size).unwrap();
        let spki = kp.public_key().as_der().unwrap();
        let key = PublicKey::from_spki_der(spki.as_ref()).unwrap();
        (kp, key)
    }

    #[test]
    fn rsa_keys_and_pop() {
        let (kp, key) = rsa(KeySize::Rsa2048);
        check_key(&key).unwrap();
        let mut sig = vec![0u8; kp.public_modulus_len()];
        kp.sign(
            &RSA_PKCS1_SHA256,
            &aws_lc_rs::rand::SystemRandom::new(),
            b"sub-1",
            &mut sig,
        )
        .unwrap();
        let req = KeyRequest::Signed {
            public_key: key.to_pem().into_bytes(),
            algorithm: Some("RSA_PSS".into()),
            proof: sig.clone(),
        };
        assert_eq!(verify(&req, "sub-1", "sub").unwrap(), key);
        assert_eq!(
            verify(&req, "sub-2", "sub"),
            Err(PopError::Signature {
                claim: "sub".into()
            })
        );
        // (An 8192-bit key is refused by the size check too; generating one
        // takes ~40 s in a debug build, so it is not exercised here.)
    }

    #[test]
    fn garbage_keys_and_csrs() {
        let req = KeyRequest::Signed {
            public_key: b"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----".to_vec(),
            algorithm: None,
            proof: vec![],
        };
        assert!(matches!(
            verify(&req, "x", "sub"),
            Err(PopError::MalformedKey(_))
        ));
        assert!(matches!(
            verify_csr(b"\x30\x03\x02\x01\x00"),
            Err(PopError::MalformedCsr(_))
        ));
    }
}
