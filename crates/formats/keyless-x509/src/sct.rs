//! Embedded Signed Certificate Timestamps (RFC 6962 §3.2, §3.3): reading
//! them from a certificate and verifying them.
//!
//! Fulcio submits a precertificate to a CT log and embeds the log's promise
//! (the SCT) in the final certificate. The log signed the *precertificate*
//! TBS, which equals the final TBS with the SCT list extension removed, bound
//! to the issuer's key hash. Checking the SCT proves the certificate was
//! logged, so a mis-issued certificate would be publicly visible.
//!
//! The TLS structures are `x509-cert`'s (`ext::pkix::sct`); the signed
//! data is [`crate::rfc6962`]'s, shared with the CA's log.

use std::collections::BTreeSet;

use der::Decode;
use keyless_crypto::PublicKey;
use tls_codec::{DeserializeBytes, SerializeBytes};
use x509_cert::ext::pkix::sct::{
    Error as SctCodecError, SerializedSct, SignedCertificateTimestamp,
    SignedCertificateTimestampList,
};

use crate::cert::Certificate;
use crate::error::{SctError, SctFailure};
use crate::oid;
pub use crate::precert::precert_tbs;
use crate::rfc6962::{algorithm_bytes, precert_signed_data, sct_signature_algorithm};

/// A CT log key from trusted_root.json (`ctlogs[]`).
#[derive(Clone, Debug)]
pub struct CtLogKey {
    /// SHA-256 of the log's SPKI DER (RFC 6962 §3.2 LogID).
    pub log_id: [u8; 32],
    pub key: PublicKey,
    /// Start of the key's validity, Unix seconds (inclusive).
    pub valid_from: i64,
    /// End of the key's validity, Unix seconds (inclusive); `None` = still valid.
    pub valid_until: Option<i64>,
}

impl CtLogKey {
    /// A log key whose ID is derived from the key itself.
    pub fn new(key: PublicKey, valid_from: i64, valid_until: Option<i64>) -> Self {
        let log_id = keyless_crypto::sha256(key.spki_der());
        Self {
            log_id,
            key,
            valid_from,
            valid_until,
        }
    }

    /// Whether `t` (Unix seconds) is inside the closed validity interval.
    pub fn valid_at(&self, t: i64) -> bool {
        self.valid_from <= t && self.valid_until.is_none_or(|end| t <= end)
    }
}

/// One SCT of an embedded list.
#[derive(Debug, PartialEq)]
pub enum Sct {
    /// A v1 SCT, decoded by `x509-cert`.
    V1(SignedCertificateTimestamp),
    /// An SCT laid out as v1 (that much is checked) whose version or
    /// algorithm byte `x509-cert`'s enums do not name. It cannot verify, but
    /// it fails alone with its reason, not the whole list: RFC 6962 §5.2
    /// clients skip SCTs they cannot use.
    Unusable {
        version: u8,
        log_id: [u8; 32],
        /// Milliseconds since the Unix epoch.
        timestamp: u64,
        hash: u8,
        signature: u8,
    },
}

impl Sct {
    /// The decoded SCT, if it is a usable v1 one.
    pub fn v1(&self) -> Option<&SignedCertificateTimestamp> {
        match self {
            Sct::V1(s) => Some(s),
            Sct::Unusable { .. } => None,
        }
    }

    /// SHA-256 of the log's SPKI.
    pub fn log_id(&self) -> [u8; 32] {
        match self {
            Sct::V1(s) => s.log_id.key_id,
            Sct::Unusable { log_id, .. } => *log_id,
        }
    }

    /// Milliseconds since the Unix epoch.
    pub fn timestamp(&self) -> u64 {
        match self {
            Sct::V1(s) => s.timestamp,
            Sct::Unusable { timestamp, .. } => *timestamp,
        }
    }

    fn version(&self) -> u8 {
        match self {
            Sct::V1(_) => 0,
            Sct::Unusable { version, .. } => *version,
        }
    }
}

/// Offset of the u16 extensions length in a serialized v1 SCT: after the
/// version (1), log ID (32) and timestamp (8).
const EXTENSIONS_AT: usize = 41;

/// Decode the `index`th serialized SCT of a list.
fn read_sct(index: usize, item: &SerializedSct) -> Result<Sct, SctError> {
    let err = match item.parse_timestamp() {
        Ok(sct) => return Ok(Sct::V1(sct)),
        Err(e) => e,
    };
    let malformed = || SctError::Malformed(format!("SCT #{index}: {err:?}"));
    if !matches!(err, SctCodecError::Tls(tls_codec::Error::UnknownValue(_))) {
        return Err(malformed());
    }
    // An enum byte x509-cert does not name: the version, hash or signature
    // algorithm. Read the SCT again with those bytes set to v1 / SHA-256 /
    // ECDSA, so that its layout is checked exactly as a v1 SCT's, and keep
    // the bytes as found for the reason it fails.
    let raw = item.tls_serialize().map_err(|_| malformed())?;
    let mut data = raw.get(2..).ok_or_else(malformed)?.to_vec();
    let ext_len = data
        .get(EXTENSIONS_AT..EXTENSIONS_AT + 2)
        .map(|b| usize::from(u16::from_be_bytes([b[0], b[1]])))
        .ok_or_else(malformed)?;
    let alg_at = EXTENSIONS_AT + 2 + ext_len;
    let (Some(&version), Some(&hash), Some(&signature)) =
        (data.first(), data.get(alg_at), data.get(alg_at + 1))
    else {
        return Err(malformed());
    };
    data[0] = 0;
    data[alg_at] = 4;
    data[alg_at + 1] = 3;
    match SignedCertificateTimestamp::tls_deserialize_bytes(&data) {
        Ok((v1, [])) => Ok(Sct::Unusable {
            version,
            log_id: v1.log_id.key_id,
            timestamp: v1.timestamp,
            hash,
            signature,
        }),
        _ => Err(malformed()),
    }
}

/// The SCTs of a `SignedCertificateTimestampList` (RFC 6962 §3.3): a
/// u16-length list of u16-length serialized SCTs, each length
/// bounds-checked by `tls_codec`, no trailing bytes at any level, at least
/// one SCT.
fn read_list(list: &SignedCertificateTimestampList) -> Result<Vec<Sct>, SctError> {
    let items = list
        .parse_timestamps()
        .map_err(|e| SctError::Malformed(format!("SCT list: {e:?}")))?;
    if items.is_empty() {
        return Err(SctError::Malformed("empty SCT list".into()));
    }
    items
        .iter()
        .enumerate()
        .map(|(i, item)| read_sct(i, item))
        .collect()
}

/// Parse the TLS bytes of a `SignedCertificateTimestampList` (the content
/// of the SCT list extension's OCTET STRING).
pub fn parse_sct_list(bytes: &[u8]) -> Result<Vec<Sct>, SctError> {
    let octets = der::asn1::OctetString::new(bytes).map_err(|source| SctError::MalformedDer {
        what: "the SCT list is not an OCTET STRING",
        source,
    })?;
    read_list(&SignedCertificateTimestampList::from(octets))
}

/// The embedded SCTs of `cert`, parsed.
pub fn embedded_scts(cert: &Certificate) -> Result<Vec<Sct>, SctError> {
    let ext = cert.extension(&oid::CT_SCT_LIST).ok_or(SctError::Missing)?;
    // The extension value is a DER OCTET STRING wrapping the TLS bytes.
    let list =
        SignedCertificateTimestampList::from_der(ext.extn_value.as_bytes()).map_err(|source| {
            SctError::MalformedDer {
                what: "the SCT extension is not an OCTET STRING",
                source,
            }
        })?;
    read_list(&list)
}

/// Lower-case hex, for error messages (one `String`, not one per byte).
fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        // Writing to a String cannot fail.
        let _ = write!(out, "{b:02x}");
    }
    out
}

fn verify_one(
    index: usize,
    sct: &Sct,
    issuer_key_hash: &[u8; 32],
    tbs: &[u8],
    logs: &[CtLogKey],
) -> Result<(), SctFailure> {
    if sct.version() != 0 {
        return Err(SctFailure::Version {
            index,
            found: sct.version(),
        });
    }
    // Only error messages name the log: built on a failure path, not per SCT.
    let log_id = || hex(&sct.log_id());
    let matching: Vec<&CtLogKey> = logs.iter().filter(|l| l.log_id == sct.log_id()).collect();
    if matching.is_empty() {
        return Err(SctFailure::UnknownLog {
            index,
            log_id: log_id(),
        });
    }
    // SCT time is in milliseconds; log validity in seconds. Flooring keeps a
    // timestamp inside an end bound given with sub-second precision.
    let seconds = i64::try_from(sct.timestamp() / 1000).unwrap_or(i64::MAX);
    let valid: Vec<&CtLogKey> = matching
        .into_iter()
        .filter(|l| l.valid_at(seconds))
        .collect();
    if valid.is_empty() {
        return Err(SctFailure::OutsideLogValidity {
            index,
            log_id: log_id(),
            timestamp: seconds,
        });
    }
    let (sct, alg) = match sct {
        Sct::V1(s) => match sct_signature_algorithm(&s.signature.algorithm) {
            Some(alg) => (s, alg),
            None => {
                let (hash, signature) = algorithm_bytes(&s.signature.algorithm);
                return Err(SctFailure::UnsupportedAlgorithm {
                    index,
                    hash,
                    signature,
                });
            }
        },
        Sct::Unusable {
            hash, signature, ..
        } => {
            return Err(SctFailure::UnsupportedAlgorithm {
                index,
                hash: *hash,
                signature: *signature,
            })
        }
    };
    let data = precert_signed_data(
        sct.timestamp,
        issuer_key_hash,
        tbs,
        sct.extensions.as_slice(),
    )
    .map_err(|_| SctFailure::BadSignature {
        index,
        log_id: log_id(),
        source: keyless_crypto::CryptoError::BadSignature,
    })?;
    let mut last = keyless_crypto::CryptoError::BadSignature;
    for log in valid {
        match log
            .key
            .verify(alg, &data, sct.signature.signature.as_slice())
        {
            Ok(()) => return Ok(()),
            Err(e) => last = e,
        }
    }
    Err(SctFailure::BadSignature {
        index,
        log_id: log_id(),
        source: last,
    })
}

/// Verify the SCTs embedded in `leaf` (RFC 6962 §3.2 precert flow) against
/// the trusted CT `logs`. `issuer` must be the leaf's parent *from the
/// verified chain*, never a certificate the bundle merely claims is the
/// issuer (sigstore-rust #154): the issuer key hash binds the SCT to the CA.
///
/// Each SCT must be v1, name a trusted log whose validity contains the SCT
/// time, and carry a valid signature over the precert entry (SCT extensions
/// included). Returns the number of distinct log IDs with a verified SCT, so
/// that several SCTs from one log count once.
pub fn verify_embedded_scts(
    leaf: &Certificate,
    issuer: &Certificate,
    logs: &[CtLogKey],
) -> Result<usize, SctError> {
    let scts = embedded_scts(leaf)?;
    let tbs = precert_tbs(leaf)?;
    // The issuer's parsed key (kept with the certificate, and already used
    // to check the leaf's signature) holds the DER SubjectPublicKeyInfo;
    // re-encoding it from the decoded certificate gives the same bytes, and
    // is only needed when the key does not parse.
    let issuer_key_hash = match issuer.public_key_ref() {
        Ok(key) => keyless_crypto::sha256(key.spki_der()),
        Err(_) => keyless_crypto::sha256(&issuer.spki_der()?),
    };
    let mut verified = BTreeSet::new();
    let mut reasons = Vec::new();
    for (index, sct) in scts.iter().enumerate() {
        match verify_one(index, sct, &issuer_key_hash, &tbs, logs) {
            Ok(()) => {
                verified.insert(sct.log_id());
            }
            Err(reason) => reasons.push(reason),
        }
    }
    if verified.is_empty() {
        return Err(SctError::NoneVerified { reasons });
    }
    Ok(verified.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use keyless_crypto::{KeyAlgorithm, SigningKey};

    fn unusable(version: u8, hash: u8, signature: u8, log_id: [u8; 32]) -> Sct {
        Sct::Unusable {
            version,
            log_id,
            timestamp: 1_700_000_000_000,
            hash,
            signature,
        }
    }

    /// An unusable SCT fails with the reason the hand parser gave, in the
    /// same order of checks: version first, then the log, then the
    /// algorithm.
    #[test]
    fn unusable_scts_fail_for_their_reason() {
        let key = SigningKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
        let log = CtLogKey::new(key.public_key().clone(), 0, None);
        let logs = [log.clone()];
        let check = |sct: &Sct| verify_one(3, sct, &[0u8; 32], b"tbs", &logs);
        assert_eq!(
            check(&unusable(1, 4, 3, log.log_id)),
            Err(SctFailure::Version { index: 3, found: 1 })
        );
        assert!(matches!(
            check(&unusable(0, 9, 3, [1u8; 32])),
            Err(SctFailure::UnknownLog { index: 3, .. })
        ));
        assert_eq!(
            check(&unusable(0, 9, 3, log.log_id)),
            Err(SctFailure::UnsupportedAlgorithm {
                index: 3,
                hash: 9,
                signature: 3
            })
        );
        // Known to x509-cert but not accepted: SHA-1 with ECDSA.
        let mut sha1 = crate::ecdsa_sha256_sct(log.log_id, 1_700_000_000_000, &[], &[1]);
        sha1.signature.algorithm.hash = x509_cert::ext::pkix::sct::HashAlgorithm::Sha1;
        assert_eq!(
            check(&Sct::V1(sha1)),
            Err(SctFailure::UnsupportedAlgorithm {
                index: 3,
                hash: 2,
                signature: 3
            })
        );
    }

    /// What the CT log signs with [`precert_signed_data`] verifies here.
    #[test]
    fn a_signed_precert_entry_verifies() {
        let key = SigningKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
        let log = CtLogKey::new(key.public_key().clone(), 0, None);
        let data = precert_signed_data(1_700_000_000_000, &[5u8; 32], b"tbs", &[]).unwrap();
        let sig = key.sign(&data).unwrap();
        let sct = crate::ecdsa_sha256_sct(log.log_id, 1_700_000_000_000, &[], &sig);
        let logs = [log];
        assert_eq!(
            verify_one(0, &Sct::V1(sct), &[5u8; 32], b"tbs", &logs),
            Ok(())
        );
        let sct = crate::ecdsa_sha256_sct(logs[0].log_id, 1_700_000_000_000, &[], &sig);
        assert!(matches!(
            verify_one(0, &Sct::V1(sct), &[6u8; 32], b"tbs", &logs),
            Err(SctFailure::BadSignature { .. })
        ));
    }
}
