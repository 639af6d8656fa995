//! Decoding CT log entries for display: the RFC 6962 `MerkleTreeLeaf`s
//! a keyless CA's CT log keeps in its tlog-tiles entry bundles (read by
//! the page from `/ct/tile/entries/…`), turned into the same certificate
//! view as a Rekor entry's.
//!
//! A precertificate entry holds only the TBSCertificate (no signature),
//! so it is wrapped, for the X.509 reader, in a certificate with the TBS's
//! own signature algorithm and an empty signature: the view shows what
//! the CA certified, and nothing here claims it was signed. Display only,
//! like [`crate::decode`].

use der::asn1::BitString;
use der::{Decode, Encode};
use keyless_x509::Certificate;
use serde::Serialize;
use thiserror::Error;

use crate::decode::{cert_view, CertView};

/// Most leaves one request decodes (the page shows ten).
pub const MAX_LEAVES: usize = 32;
/// Largest leaf the decoder reads: a precertificate is a few KiB.
pub const MAX_LEAF: usize = 64 * 1024;

/// Why a leaf could not be decoded.
#[derive(Debug, Error)]
pub enum LeafError {
    #[error("leaf is {0} bytes, over the {MAX_LEAF}-byte limit")]
    TooLarge(usize),
    #[error("leaf is not base64: {0}")]
    Base64(#[from] base64::DecodeError),
    #[error("leaf is truncated")]
    Truncated,
    #[error("leaf has {0} bytes after its extensions")]
    Trailing(usize),
    #[error("not a v1 timestamped-entry leaf (version {0}, leaf type {1})")]
    LeafType(u8, u8),
    #[error("unknown entry type {0}")]
    EntryType(u16),
    #[error("the precertificate's TBSCertificate does not decode: {0}")]
    Tbs(der::Error),
    #[error("the certificate does not decode: {0}")]
    Certificate(#[from] keyless_x509::X509Error),
}

/// What the page shows about one CT entry.
#[derive(Debug, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct LeafView {
    /// The SCT timestamp, Unix milliseconds.
    pub timestamp: u64,
    /// `precert` or `x509`.
    pub entry_type: &'static str,
    /// Hex SHA-256 of the issuer's key (precertificate entries).
    pub issuer_key_hash: Option<String>,
    pub certificate: CertView,
}

/// A cursor over a TLS-encoded structure.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], LeafError> {
        if self.0.len() < n {
            return Err(LeafError::Truncated);
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }

    fn uint(&mut self, n: usize) -> Result<u64, LeafError> {
        Ok(self
            .take(n)?
            .iter()
            .fold(0u64, |acc, b| (acc << 8) | u64::from(*b)))
    }

    /// A `<0..2^(8n)-1>` vector.
    fn vector(&mut self, n: usize) -> Result<&'a [u8], LeafError> {
        let len = usize::try_from(self.uint(n)?).map_err(|_| LeafError::Truncated)?;
        self.take(len)
    }
}

/// A certificate carrying `tbs` (DER) with an empty signature, so the
/// X.509 reader can show it.
fn unsigned_certificate(tbs: &[u8]) -> Result<Certificate, LeafError> {
    let tbs = x509_cert::TbsCertificate::from_der(tbs).map_err(LeafError::Tbs)?;
    let cert = x509_cert::Certificate {
        signature_algorithm: tbs.signature.clone(),
        tbs_certificate: tbs,
        signature: BitString::from_bytes(&[]).map_err(LeafError::Tbs)?,
    };
    let der = cert.to_der().map_err(LeafError::Tbs)?;
    Ok(Certificate::from_der(&der)?)
}

/// Decode one `MerkleTreeLeaf`.
pub fn decode_leaf(leaf: &[u8]) -> Result<LeafView, LeafError> {
    if leaf.len() > MAX_LEAF {
        return Err(LeafError::TooLarge(leaf.len()));
    }
    let mut r = Reader(leaf);
    let (version, leaf_type) = (r.uint(1)?, r.uint(1)?);
    if version != 0 || leaf_type != 0 {
        return Err(LeafError::LeafType(version as u8, leaf_type as u8));
    }
    let timestamp = r.uint(8)?;
    let entry_type = r.uint(2)? as u16;
    let (kind, issuer_key_hash, cert) = match entry_type {
        0 => ("x509", None, Certificate::from_der(r.vector(3)?)?),
        1 => {
            let hash = hex::encode(r.take(32)?);
            ("precert", Some(hash), unsigned_certificate(r.vector(3)?)?)
        }
        other => return Err(LeafError::EntryType(other)),
    };
    r.vector(2)?;
    if !r.0.is_empty() {
        return Err(LeafError::Trailing(r.0.len()));
    }
    let mut certificate = cert_view(&cert);
    // A precertificate's SCT list is never in its TBS.
    certificate.has_sct = certificate.has_sct && kind == "x509";
    Ok(LeafView {
        timestamp,
        entry_type: kind,
        issuer_key_hash,
        certificate,
    })
}

/// One leaf from the page: base64, decoded, or why not.
pub fn decode_leaf_b64(text: &str) -> Result<LeafView, LeafError> {
    let text = text.trim();
    // base64 is 4/3 of the bytes.
    if text.len() > MAX_LEAF / 3 * 4 + 4 {
        return Err(LeafError::TooLarge(text.len() / 4 * 3));
    }
    decode_leaf(&keyless_types::b64::decode(text)?)
}
