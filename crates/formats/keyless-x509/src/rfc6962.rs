//! The RFC 6962 wire formats both sides of Certificate Transparency share:
//! the signed data of a precertificate entry, and SCTs encoded with
//! `x509-cert`'s types (`ext::pkix::sct`, TLS-encoded by `tls_codec`).
//!
//! The CA's CT log signs and encodes with these; the verifier rebuilds the
//! same signed data in [`crate::verify_embedded_scts`]. One implementation,
//! so the bytes a log signs and the bytes a client checks cannot drift.

use keyless_crypto::SignatureAlgorithm;
use tls_codec::{SerializeBytes, Size, TlsByteVecU16};
use x509_cert::der::asn1::OctetString;
use x509_cert::ext::pkix::sct::{
    DigitallySigned, HashAlgorithm, LogId, SerializedSct, SignatureAlgorithm as TlsSignature,
    SignatureAndHashAlgorithm, SignedCertificateTimestamp, SignedCertificateTimestampList, Version,
};

use crate::error::SctError;

fn tls_err(what: &str, e: impl std::fmt::Debug) -> SctError {
    SctError::Malformed(format!("{what}: {e:?}"))
}

/// Check that a field fits its u16 length before `tls_codec` encodes it:
/// `tls_codec` answers an error in release builds but panics on a debug
/// assertion first in debug builds, and an encoder must do neither
/// silently.
fn fits_u16(len: usize, what: &str) -> Result<(), SctError> {
    if len > usize::from(u16::MAX) {
        return Err(SctError::Malformed(format!(
            "{what}: {len} bytes, longer than a u16 length allows"
        )));
    }
    Ok(())
}

/// Check every u16-length field of `sct`, and the serialized SCT itself.
fn check_sct_lengths(sct: &SignedCertificateTimestamp) -> Result<usize, SctError> {
    fits_u16(sct.extensions.len(), "SCT extensions")?;
    fits_u16(sct.signature.signature.len(), "SCT signature")?;
    let len = sct.tls_serialized_len();
    fits_u16(len, "serialized SCT")?;
    Ok(len)
}

/// The `digitally-signed` input of RFC 6962 §3.2 for a v1 precert entry:
/// version v1, signature_type certificate_timestamp, timestamp (ms),
/// entry_type precert_entry, issuer key hash, u24-length TBS, u16-length
/// SCT extensions. The CT log's Merkle leaf (§3.4, v1 timestamped_entry)
/// is the same bytes.
pub fn precert_signed_data(
    timestamp: u64,
    issuer_key_hash: &[u8; 32],
    tbs: &[u8],
    extensions: &[u8],
) -> Result<Vec<u8>, SctError> {
    let tbs_len = u32::try_from(tbs.len())
        .ok()
        .filter(|l| *l < (1 << 24))
        .ok_or_else(|| SctError::Malformed("TBS too long for a u24 length".into()))?;
    let ext_len = u16::try_from(extensions.len())
        .map_err(|_| SctError::Malformed("SCT extensions too long".into()))?;
    let mut out = Vec::with_capacity(1 + 1 + 8 + 2 + 32 + 3 + tbs.len() + 2 + extensions.len());
    out.push(0); // version = v1
    out.push(0); // signature_type = certificate_timestamp
    out.extend_from_slice(&timestamp.to_be_bytes());
    out.extend_from_slice(&1u16.to_be_bytes()); // entry_type = precert_entry
    out.extend_from_slice(issuer_key_hash);
    out.extend_from_slice(&tbs_len.to_be_bytes()[1..]);
    out.extend_from_slice(tbs);
    out.extend_from_slice(&ext_len.to_be_bytes());
    out.extend_from_slice(extensions);
    Ok(out)
}

/// A v1 SCT whose signature is ECDSA over SHA-256 (hash 4, signature 3),
/// the kind an RFC 6962 log with a P-256 key issues.
pub fn ecdsa_sha256_sct(
    log_id: [u8; 32],
    timestamp: u64,
    extensions: &[u8],
    signature: &[u8],
) -> SignedCertificateTimestamp {
    SignedCertificateTimestamp {
        version: Version::V1,
        log_id: LogId { key_id: log_id },
        timestamp,
        extensions: TlsByteVecU16::from_slice(extensions),
        signature: DigitallySigned {
            algorithm: SignatureAndHashAlgorithm {
                hash: HashAlgorithm::Sha256,
                signature: TlsSignature::Ecdsa,
            },
            signature: TlsByteVecU16::from_slice(signature),
        },
    }
}

/// The TLS encoding of a `digitally-signed` struct (RFC 5246 §4.7): hash
/// and signature algorithm bytes, u16-length signature. RFC 6962 §4.1
/// answers it, base64, as `add-pre-chain`'s `signature`.
pub fn encode_digitally_signed(ds: &DigitallySigned) -> Result<Vec<u8>, SctError> {
    fits_u16(ds.signature.len(), "signature")?;
    ds.tls_serialize()
        .map_err(|e| tls_err("digitally-signed", e))
}

/// The TLS `SignedCertificateTimestampList` (RFC 6962 §3.3) of `scts`: the
/// bytes inside the certificate's SCT list extension OCTET STRING.
pub fn encode_sct_list(scts: Vec<SignedCertificateTimestamp>) -> Result<Vec<u8>, SctError> {
    let mut list_len = 0;
    for sct in &scts {
        list_len += 2 + check_sct_lengths(sct)?;
    }
    fits_u16(list_len, "SCT list")?;
    let serialized = scts
        .into_iter()
        .map(|s| SerializedSct::new(s).map_err(|e| tls_err("SCT", e)))
        .collect::<Result<Vec<_>, _>>()?;
    let list =
        SignedCertificateTimestampList::new(&serialized).map_err(|e| tls_err("SCT list", e))?;
    Ok(OctetString::from(list).into_bytes())
}

/// Our signature algorithm for an SCT's hash/signature pair (RFC 5246
/// §7.4.1.4.1), if we accept it: ECDSA or RSA PKCS#1 v1.5 over SHA-2.
pub fn sct_signature_algorithm(alg: &SignatureAndHashAlgorithm) -> Option<SignatureAlgorithm> {
    use HashAlgorithm::{Sha256, Sha384, Sha512};
    use TlsSignature::{Ecdsa, Rsa};
    Some(match (&alg.hash, &alg.signature) {
        (Sha256, Ecdsa) => SignatureAlgorithm::EcdsaSha256,
        (Sha384, Ecdsa) => SignatureAlgorithm::EcdsaSha384,
        (Sha512, Ecdsa) => SignatureAlgorithm::EcdsaSha512,
        (Sha256, Rsa) => SignatureAlgorithm::RsaPkcs1Sha256,
        (Sha384, Rsa) => SignatureAlgorithm::RsaPkcs1Sha384,
        (Sha512, Rsa) => SignatureAlgorithm::RsaPkcs1Sha512,
        _ => return None,
    })
}

/// The wire bytes (hash, signature) of an algorithm pair, for messages.
pub(crate) fn algorithm_bytes(alg: &SignatureAndHashAlgorithm) -> (u8, u8) {
    let hash = match alg.hash {
        HashAlgorithm::None => 0,
        HashAlgorithm::Md5 => 1,
        HashAlgorithm::Sha1 => 2,
        HashAlgorithm::Sha224 => 3,
        HashAlgorithm::Sha256 => 4,
        HashAlgorithm::Sha384 => 5,
        HashAlgorithm::Sha512 => 6,
        HashAlgorithm::Intrinsic => 8,
    };
    let signature = match alg.signature {
        TlsSignature::Anonymous => 0,
        TlsSignature::Rsa => 1,
        TlsSignature::Dsa => 2,
        TlsSignature::Ecdsa => 3,
        TlsSignature::Ed25519 => 7,
        TlsSignature::Ed448 => 8,
    };
    (hash, signature)
}
