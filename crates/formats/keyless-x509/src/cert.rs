//! A parsed certificate that keeps its original DER.
//!
//! The original bytes matter: the issuer's signature is over the TBS bytes
//! exactly as they were received, and re-encoding a decoded structure is only
//! safe when the input was canonical DER. So we keep the whole DER and the
//! byte range of the TBS inside it.

use std::collections::BTreeSet;

use const_oid::ObjectIdentifier;
use der::{Decode, Encode, Reader, SliceReader};
use keyless_crypto::{PublicKey, SignatureAlgorithm};
use x509_cert::ext::pkix::{BasicConstraints, ExtendedKeyUsage, KeyUsage};
use x509_cert::ext::Extension;

use crate::error::{PemError, X509Error};

/// A parsed certificate with its original DER kept.
#[derive(Clone, Debug)]
pub struct Certificate {
    der: Vec<u8>,
    /// Byte range of the TBSCertificate TLV inside `der`.
    tbs: std::ops::Range<usize>,
    inner: x509_cert::Certificate,
    not_before: i64,
    not_after: i64,
    /// The subject public key, parsed on first use and kept: an issuer in
    /// the trusted root (Fulcio intermediate, TSA) verifies a signature in
    /// every bundle, and parsing it (re-encoding the SPKI, decoding and
    /// checking the EC point) each time cost as much as the rest of the
    /// chain's bookkeeping. Only the parse is kept, never a verification.
    key: std::sync::OnceLock<PublicKey>,
}

impl PartialEq for Certificate {
    /// Two certificates are the same certificate iff their DER is identical.
    fn eq(&self, other: &Self) -> bool {
        self.der == other.der
    }
}
impl Eq for Certificate {}

fn time_to_unix(t: x509_cert::time::Time) -> i64 {
    // Durations beyond i64 seconds are far past any real certificate; saturate.
    i64::try_from(t.to_unix_duration().as_secs()).unwrap_or(i64::MAX)
}

impl Certificate {
    /// Parse a DER certificate. Trailing bytes are rejected, and so is a
    /// certificate that repeats an extension (RFC 5280 §4.2).
    pub fn from_der(der: &[u8]) -> Result<Self, X509Error> {
        let inner = x509_cert::Certificate::from_der(der).map_err(X509Error::Der)?;
        Self::from_parts(inner, der.to_vec())
    }

    /// A certificate another DER parser already decoded (a CMS
    /// `SignedData`'s embedded certificates): encoded once, not encoded and
    /// then decoded again. `x509-cert` decodes DER strictly, so its encoding
    /// is the bytes it was decoded from; the checks are `from_der`'s.
    pub fn from_decoded(inner: x509_cert::Certificate) -> Result<Self, X509Error> {
        let der = inner.to_der().map_err(X509Error::Der)?;
        Self::from_parts(inner, der)
    }

    fn from_parts(inner: x509_cert::Certificate, der: Vec<u8>) -> Result<Self, X509Error> {
        let tbs = tbs_range(&der).map_err(X509Error::Der)?;
        if let Some(exts) = &inner.tbs_certificate.extensions {
            if let Some(oid) = first_repeated_extension(exts) {
                return Err(X509Error::DuplicateExtension {
                    oid: oid.to_string(),
                });
            }
        }
        let validity = inner.tbs_certificate.validity;
        Ok(Self {
            der,
            tbs,
            not_before: time_to_unix(validity.not_before),
            not_after: time_to_unix(validity.not_after),
            inner,
            key: std::sync::OnceLock::new(),
        })
    }

    /// Parse exactly one PEM `CERTIFICATE` block.
    pub fn from_pem(pem: &str) -> Result<Self, X509Error> {
        // Tolerant of line widths, as Go's PEM decoder (and so Rekor) is.
        let (label, der) =
            keyless_crypto::pem::decode(pem).map_err(|e| X509Error::Pem(PemError::Decode(e)))?;
        if label != "CERTIFICATE" {
            return Err(X509Error::Pem(PemError::Label(label)));
        }
        Self::from_der(&der)
    }

    /// The DER exactly as received.
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// The TBSCertificate bytes exactly as received (what the issuer signed).
    pub fn tbs_der(&self) -> &[u8] {
        &self.der[self.tbs.clone()]
    }

    /// The decoded structure.
    pub fn inner(&self) -> &x509_cert::Certificate {
        &self.inner
    }

    /// The subject public key.
    pub fn public_key(&self) -> Result<PublicKey, X509Error> {
        self.public_key_ref().cloned()
    }

    /// The subject public key, parsed once per certificate value (see the
    /// `key` field); a key that does not parse is an error each time.
    pub fn public_key_ref(&self) -> Result<&PublicKey, X509Error> {
        if let Some(key) = self.key.get() {
            return Ok(key);
        }
        let key = self.parse_public_key()?;
        Ok(self.key.get_or_init(|| key))
    }

    fn parse_public_key(&self) -> Result<PublicKey, X509Error> {
        let spki = self
            .inner
            .tbs_certificate
            .subject_public_key_info
            .to_der()
            .map_err(X509Error::Der)?;
        PublicKey::from_spki_der(&spki).map_err(X509Error::PublicKey)
    }

    /// The DER SubjectPublicKeyInfo (what CT's `issuer_key_hash` and log IDs hash).
    pub fn spki_der(&self) -> Result<Vec<u8>, X509Error> {
        self.inner
            .tbs_certificate
            .subject_public_key_info
            .to_der()
            .map_err(X509Error::Der)
    }

    /// Start of validity, Unix seconds (inclusive).
    pub fn not_before(&self) -> i64 {
        self.not_before
    }

    /// End of validity, Unix seconds (inclusive: RFC 5280 §4.1.2.5 says the
    /// certificate is valid *through* notAfter).
    pub fn not_after(&self) -> i64 {
        self.not_after
    }

    /// Whether `at` lies in the closed interval [notBefore, notAfter].
    pub fn is_valid_at(&self, at: i64) -> bool {
        self.not_before <= at && at <= self.not_after
    }

    /// A short human-readable name for error messages: the subject DN, or the
    /// serial number when the subject is empty (as in Fulcio leaves).
    pub fn describe(&self) -> String {
        let tbs = &self.inner.tbs_certificate;
        if tbs.subject.0.is_empty() {
            format!("serial {}", tbs.serial_number)
        } else {
            tbs.subject.to_string()
        }
    }

    /// The subject DN as text.
    pub fn subject(&self) -> String {
        self.inner.tbs_certificate.subject.to_string()
    }

    /// The issuer DN as text.
    pub fn issuer(&self) -> String {
        self.inner.tbs_certificate.issuer.to_string()
    }

    /// All extensions, in certificate order.
    pub fn extensions(&self) -> &[Extension] {
        self.inner
            .tbs_certificate
            .extensions
            .as_deref()
            .unwrap_or(&[])
    }

    /// The extension with this OID, if present.
    pub fn extension(&self, oid: &ObjectIdentifier) -> Option<&Extension> {
        self.extensions().iter().find(|e| &e.extn_id == oid)
    }

    /// Decode the extension with this OID as `T`, returning its criticality too.
    pub fn decode_extension<'a, T: Decode<'a>>(
        &'a self,
        oid: &ObjectIdentifier,
    ) -> Result<Option<(bool, T)>, X509Error> {
        let Some(ext) = self.extension(oid) else {
            return Ok(None);
        };
        let value =
            T::from_der(ext.extn_value.as_bytes()).map_err(|e| X509Error::MalformedExtension {
                oid: oid.to_string(),
                reason: e.to_string(),
            })?;
        Ok(Some((ext.critical, value)))
    }

    /// basicConstraints, if present.
    pub fn basic_constraints(&self) -> Result<Option<BasicConstraints>, X509Error> {
        Ok(self
            .decode_extension::<BasicConstraints>(&const_oid::db::rfc5280::ID_CE_BASIC_CONSTRAINTS)?
            .map(|(_, v)| v))
    }

    /// keyUsage, if present.
    pub fn key_usage(&self) -> Result<Option<KeyUsage>, X509Error> {
        Ok(self
            .decode_extension::<KeyUsage>(&const_oid::db::rfc5280::ID_CE_KEY_USAGE)?
            .map(|(_, v)| v))
    }

    /// extendedKeyUsage with its criticality, if present.
    pub fn extended_key_usage(&self) -> Result<Option<(bool, ExtendedKeyUsage)>, X509Error> {
        self.decode_extension::<ExtendedKeyUsage>(&const_oid::db::rfc5280::ID_CE_EXT_KEY_USAGE)
    }

    /// basicConstraints cA=TRUE. A malformed basicConstraints counts as not a CA.
    pub fn is_ca(&self) -> bool {
        matches!(self.basic_constraints(), Ok(Some(bc)) if bc.ca)
    }

    /// Subject and issuer names are equal (RFC 5280 "self-issued").
    pub fn is_self_issued(&self) -> bool {
        self.inner.tbs_certificate.subject == self.inner.tbs_certificate.issuer
    }

    /// The signature scheme named by the certificate. The outer algorithm and
    /// the one in the TBS must agree, otherwise an attacker could pick which
    /// one a verifier believes.
    pub fn signature_algorithm(&self) -> Result<SignatureAlgorithm, X509Error> {
        let outer = &self.inner.signature_algorithm;
        let inner = &self.inner.tbs_certificate.signature;
        if outer != inner {
            return Err(X509Error::SignatureAlgorithmMismatch {
                outer: outer.oid.to_string(),
                inner: inner.oid.to_string(),
            });
        }
        // RSASSA-PSS parameters are not decoded: no Sigstore CA uses PSS for
        // certificates, so PSS falls through to "unsupported".
        SignatureAlgorithm::from_oid(&outer.oid, None).ok_or_else(|| {
            X509Error::UnsupportedSignatureAlgorithm {
                oid: outer.oid.to_string(),
            }
        })
    }

    /// Verify that `issuer`'s key signed this certificate (signature algorithm from the cert).
    /// This checks only the signature; names, validity and constraints are
    /// [`crate::verify_chain`]'s job.
    pub fn verify_signed_by(&self, issuer: &Certificate) -> Result<(), X509Error> {
        let alg = self.signature_algorithm()?;
        let key = issuer.public_key_ref()?;
        let sig = self
            .inner
            .signature
            .as_bytes()
            .ok_or_else(|| X509Error::Signature {
                subject: self.describe(),
                issuer: issuer.describe(),
                source: keyless_crypto::CryptoError::BadSignature,
            })?;
        key.verify(alg, self.tbs_der(), sig)
            .map_err(|source| X509Error::Signature {
                subject: self.describe(),
                issuer: issuer.describe(),
                source,
            })
    }
}

/// Above this many extensions, duplicates are found with a set rather than
/// by comparing each extension with the ones before it.
const PAIRWISE_EXTENSIONS: usize = 32;

/// The first extension, in certificate order, whose OID an earlier one
/// already had. Real certificates carry about ten extensions, where
/// comparing with the earlier ones costs less than building a set (every
/// bundle's leaf goes through here); hostile input with thousands still
/// takes n log n.
fn first_repeated_extension(exts: &[Extension]) -> Option<&ObjectIdentifier> {
    if exts.len() <= PAIRWISE_EXTENSIONS {
        return exts
            .iter()
            .enumerate()
            .find(|(i, ext)| exts[..*i].iter().any(|e| e.extn_id == ext.extn_id))
            .map(|(_, ext)| &ext.extn_id);
    }
    let mut seen = BTreeSet::new();
    exts.iter()
        .find(|ext| !seen.insert(ext.extn_id))
        .map(|ext| &ext.extn_id)
}

/// Find the byte range of the TBSCertificate TLV: the first element of the
/// outer Certificate SEQUENCE, read with der's reader.
fn tbs_range(der: &[u8]) -> der::Result<std::ops::Range<usize>> {
    let mut reader = SliceReader::new(der)?;
    let tbs: &[u8] = reader.sequence(|seq| {
        let tbs = seq.tlv_bytes()?;
        // Consume the rest so that `sequence` does not complain about trailing data.
        let _alg = seq.tlv_bytes()?;
        let _sig = seq.tlv_bytes()?;
        Ok(tbs)
    })?;
    reader.finish(())?;
    // `tbs` borrows from `der`, so its offset is the pointer difference.
    let start = (tbs.as_ptr() as usize).saturating_sub(der.as_ptr() as usize);
    Ok(start..start + tbs.len())
}

#[cfg(test)]
mod tests {
    use const_oid::db::rfc5280 as ids;
    use der::asn1::OctetString;
    use x509_cert::ext::Extension;

    fn ext(oid: const_oid::ObjectIdentifier) -> Extension {
        Extension {
            extn_id: oid,
            critical: false,
            extn_value: OctetString::new(vec![5, 0]).unwrap(),
        }
    }

    /// Both ways of finding a repeated extension name the same one: the
    /// first whose OID came before, in certificate order.
    #[test]
    fn first_repeated_extension_both_ways() {
        let distinct = [
            ids::ID_CE_KEY_USAGE,
            ids::ID_CE_EXT_KEY_USAGE,
            ids::ID_CE_BASIC_CONSTRAINTS,
            ids::ID_CE_SUBJECT_ALT_NAME,
        ];
        let few: Vec<Extension> = distinct.iter().map(|o| ext(*o)).collect();
        assert_eq!(super::first_repeated_extension(&few), None);
        let mut repeated = few.clone();
        repeated.push(ext(ids::ID_CE_BASIC_CONSTRAINTS));
        repeated.push(ext(ids::ID_CE_KEY_USAGE));
        assert_eq!(
            super::first_repeated_extension(&repeated),
            Some(&ids::ID_CE_BASIC_CONSTRAINTS)
        );
        // Past the pairwise bound: distinct private OIDs, then the same repeats.
        let mut many: Vec<Extension> = (0..super::PAIRWISE_EXTENSIONS as u32 + 8)
            .map(|i| {
                ext(const_oid::ObjectIdentifier::new_unwrap(&format!(
                    "1.2.3.{i}"
                )))
            })
            .collect();
        assert_eq!(super::first_repeated_extension(&many), None);
        many.extend(repeated);
        assert_eq!(
            super::first_repeated_extension(&many),
            Some(&ids::ID_CE_BASIC_CONSTRAINTS)
        );
    }
}
