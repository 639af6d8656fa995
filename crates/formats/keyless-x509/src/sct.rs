//! Embedded Signed Certificate Timestamps (RFC 6962 §3.2, §3.3).
//!
//! Fulcio submits a precertificate to a CT log and embeds the log's promise
//! (the SCT) in the final certificate. The log signed the *precertificate*
//! TBS, which equals the final TBS with the SCT list extension removed, bound
//! to the issuer's key hash. Checking the SCT proves the certificate was
//! logged, so a mis-issued certificate would be publicly visible.

use std::collections::BTreeSet;

use der::asn1::OctetStringRef;
use der::{Decode, Encode};
use keyless_crypto::{PublicKey, SignatureAlgorithm};

use crate::cert::Certificate;
use crate::error::{SctError, SctFailure, X509Error};
use crate::oid;

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

/// One SCT as it appears in the TLS-encoded list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sct<'a> {
    pub version: u8,
    pub log_id: [u8; 32],
    /// Milliseconds since the Unix epoch.
    pub timestamp: u64,
    pub extensions: &'a [u8],
    pub hash_algorithm: u8,
    pub signature_algorithm: u8,
    pub signature: &'a [u8],
}

/// A bounds-checked cursor over TLS presentation-language bytes.
struct Tls<'a> {
    buf: &'a [u8],
}

impl<'a> Tls<'a> {
    fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8], SctError> {
        if self.buf.len() < n {
            return Err(SctError::Malformed(format!(
                "{what}: needs {n} bytes, {} left",
                self.buf.len()
            )));
        }
        let (head, tail) = self.buf.split_at(n);
        self.buf = tail;
        Ok(head)
    }

    fn uint(&mut self, n: usize, what: &str) -> Result<u64, SctError> {
        Ok(self
            .take(n, what)?
            .iter()
            .fold(0u64, |acc, b| (acc << 8) | u64::from(*b)))
    }

    /// A vector with an `n`-byte length prefix.
    fn vec(&mut self, n: usize, what: &str) -> Result<&'a [u8], SctError> {
        let len = self.uint(n, what)?;
        let len = usize::try_from(len)
            .map_err(|_| SctError::Malformed(format!("{what}: length overflow")))?;
        self.take(len, what)
    }

    fn finish(&self, what: &str) -> Result<(), SctError> {
        if self.buf.is_empty() {
            Ok(())
        } else {
            Err(SctError::Malformed(format!(
                "{what}: {} trailing bytes",
                self.buf.len()
            )))
        }
    }
}

/// Parse a TLS `SignedCertificateTimestampList` (RFC 6962 §3.3): a u16-length
/// list of u16-length serialized SCTs. Every length is bounds-checked and no
/// trailing bytes are allowed at any level.
pub fn parse_sct_list(bytes: &[u8]) -> Result<Vec<Sct<'_>>, SctError> {
    let mut outer = Tls { buf: bytes };
    let list = outer.vec(2, "SCT list")?;
    outer.finish("SCT list")?;
    if list.is_empty() {
        return Err(SctError::Malformed("empty SCT list".into()));
    }
    let mut items = Tls { buf: list };
    let mut scts = Vec::new();
    while !items.buf.is_empty() {
        let raw = items.vec(2, "SerializedSCT")?;
        let mut r = Tls { buf: raw };
        let version = r.take(1, "SCT version")?[0];
        let mut log_id = [0u8; 32];
        log_id.copy_from_slice(r.take(32, "SCT log id")?);
        let timestamp = r.uint(8, "SCT timestamp")?;
        let extensions = r.vec(2, "SCT extensions")?;
        let hash_algorithm = r.take(1, "SCT hash algorithm")?[0];
        let signature_algorithm = r.take(1, "SCT signature algorithm")?[0];
        let signature = r.vec(2, "SCT signature")?;
        r.finish("SCT")?;
        scts.push(Sct {
            version,
            log_id,
            timestamp,
            extensions,
            hash_algorithm,
            signature_algorithm,
            signature,
        });
    }
    Ok(scts)
}

/// The embedded SCTs of `cert`, parsed.
pub fn embedded_scts(cert: &Certificate) -> Result<Vec<Sct<'_>>, SctError> {
    let ext = cert.extension(&oid::CT_SCT_LIST).ok_or(SctError::Missing)?;
    // The extension value is a DER OCTET STRING wrapping the TLS bytes.
    let inner = OctetStringRef::from_der(ext.extn_value.as_bytes())
        .map_err(|e| SctError::Malformed(format!("SCT extension is not an OCTET STRING: {e}")))?;
    parse_sct_list(inner.as_bytes())
}

/// Rebuild the precertificate TBS that the log signed: the leaf's TBS with
/// the SCT list (and any poison) removed, everything else in order. It is
/// re-encoded with `der`, which reproduces the original bytes for DER input.
pub fn precert_tbs(leaf: &Certificate) -> Result<Vec<u8>, X509Error> {
    let mut tbs = leaf.inner().tbs_certificate.clone();
    if let Some(exts) = tbs.extensions.as_mut() {
        exts.retain(|e| e.extn_id != oid::CT_SCT_LIST && e.extn_id != oid::CT_PRECERT_POISON);
        if exts.is_empty() {
            tbs.extensions = None;
        }
    }
    tbs.to_der().map_err(|e| X509Error::Der(e.to_string()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn sct_algorithm(hash: u8, sig: u8) -> Option<SignatureAlgorithm> {
    // RFC 5246 §7.4.1.4.1: hash 4 = sha256, 5 = sha384, 6 = sha512;
    // signature 1 = rsa (PKCS#1 v1.5), 3 = ecdsa.
    Some(match (hash, sig) {
        (4, 3) => SignatureAlgorithm::EcdsaSha256,
        (5, 3) => SignatureAlgorithm::EcdsaSha384,
        (6, 3) => SignatureAlgorithm::EcdsaSha512,
        (4, 1) => SignatureAlgorithm::RsaPkcs1Sha256,
        (5, 1) => SignatureAlgorithm::RsaPkcs1Sha384,
        (6, 1) => SignatureAlgorithm::RsaPkcs1Sha512,
        _ => return None,
    })
}

/// The `digitally-signed` input of RFC 6962 §3.2 for a precert entry.
fn signed_data(sct: &Sct<'_>, issuer_key_hash: &[u8; 32], tbs: &[u8]) -> Result<Vec<u8>, SctError> {
    let tbs_len = u32::try_from(tbs.len())
        .ok()
        .filter(|l| *l < (1 << 24))
        .ok_or_else(|| SctError::Malformed("TBS too long for a u24 length".into()))?;
    let ext_len = u16::try_from(sct.extensions.len())
        .map_err(|_| SctError::Malformed("SCT extensions too long".into()))?;
    let mut out = Vec::with_capacity(1 + 1 + 8 + 2 + 32 + 3 + tbs.len() + 2 + sct.extensions.len());
    out.push(sct.version);
    out.push(0); // signature_type = certificate_timestamp
    out.extend_from_slice(&sct.timestamp.to_be_bytes());
    out.extend_from_slice(&1u16.to_be_bytes()); // entry_type = precert_entry
    out.extend_from_slice(issuer_key_hash);
    out.extend_from_slice(&tbs_len.to_be_bytes()[1..]);
    out.extend_from_slice(tbs);
    out.extend_from_slice(&ext_len.to_be_bytes());
    out.extend_from_slice(sct.extensions);
    Ok(out)
}

fn verify_one(
    index: usize,
    sct: &Sct<'_>,
    issuer_key_hash: &[u8; 32],
    tbs: &[u8],
    logs: &[CtLogKey],
) -> Result<(), SctFailure> {
    if sct.version != 0 {
        return Err(SctFailure::Version {
            index,
            found: sct.version,
        });
    }
    let log_id = hex(&sct.log_id);
    let matching: Vec<&CtLogKey> = logs.iter().filter(|l| l.log_id == sct.log_id).collect();
    if matching.is_empty() {
        return Err(SctFailure::UnknownLog { index, log_id });
    }
    // SCT time is in milliseconds; log validity in seconds. Flooring keeps a
    // timestamp inside an end bound given with sub-second precision.
    let seconds = i64::try_from(sct.timestamp / 1000).unwrap_or(i64::MAX);
    let valid: Vec<&CtLogKey> = matching
        .into_iter()
        .filter(|l| l.valid_at(seconds))
        .collect();
    if valid.is_empty() {
        return Err(SctFailure::OutsideLogValidity {
            index,
            log_id,
            timestamp: seconds,
        });
    }
    let alg = sct_algorithm(sct.hash_algorithm, sct.signature_algorithm).ok_or(
        SctFailure::UnsupportedAlgorithm {
            index,
            hash: sct.hash_algorithm,
            signature: sct.signature_algorithm,
        },
    )?;
    let data = signed_data(sct, issuer_key_hash, tbs).map_err(|_| SctFailure::BadSignature {
        index,
        log_id: log_id.clone(),
        source: keyless_crypto::CryptoError::BadSignature,
    })?;
    let mut last = keyless_crypto::CryptoError::BadSignature;
    for log in valid {
        match log.key.verify(alg, &data, sct.signature) {
            Ok(()) => return Ok(()),
            Err(e) => last = e,
        }
    }
    Err(SctFailure::BadSignature {
        index,
        log_id,
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
    let issuer_key_hash = keyless_crypto::sha256(&issuer.spki_der()?);
    let mut verified = BTreeSet::new();
    let mut reasons = Vec::new();
    for (index, sct) in scts.iter().enumerate() {
        match verify_one(index, sct, &issuer_key_hash, &tbs, logs) {
            Ok(()) => {
                verified.insert(sct.log_id);
            }
            Err(reason) => reasons.push(reason),
        }
    }
    if verified.is_empty() {
        return Err(SctError::NoneVerified { reasons });
    }
    Ok(verified.len())
}
