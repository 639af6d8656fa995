//! The precertificate TBS a CT log signed (RFC 6962 §3.2), cut from the
//! leaf's own DER instead of re-encoding the decoded structure.
//!
//! The final certificate's TBS is the precertificate's plus the SCT list
//! extension (and minus the poison). Removing those extensions from the
//! bytes as received reproduces what the CA submitted; only the three
//! enclosing lengths (TBS, `[3]`, extensions SEQUENCE) change. Every TLV is
//! read with `der`, and which extensions go is decided from the parse
//! `x509-cert` already did, position by position; a count that does not
//! match fails the check.

use der::{Decode, Encode, Header, Reader, SliceReader, Tag, TagNumber};

use crate::cert::Certificate;
use crate::error::X509Error;
use crate::oid;

/// Rebuild the precertificate TBS that the log signed: the leaf's TBS with
/// the SCT list (and any poison) removed, everything else byte for byte.
pub fn precert_tbs(leaf: &Certificate) -> Result<Vec<u8>, X509Error> {
    let drop: Vec<bool> = match &leaf.inner().tbs_certificate.extensions {
        Some(exts) => exts
            .iter()
            .map(|e| e.extn_id == oid::CT_SCT_LIST || e.extn_id == oid::CT_PRECERT_POISON)
            .collect(),
        None => Vec::new(),
    };
    cut(leaf.tbs_der(), &drop).map_err(X509Error::Der)
}

/// The TLVs inside `contents`, in order.
fn tlvs(contents: &[u8]) -> der::Result<Vec<&[u8]>> {
    let mut r = SliceReader::new(contents)?;
    let mut out = Vec::new();
    while !r.is_finished() {
        out.push(r.tlv_bytes()?);
    }
    Ok(out)
}

/// The header and contents of the one TLV `tlv`.
fn open(tlv: &[u8]) -> der::Result<(Header, &[u8])> {
    let mut r = SliceReader::new(tlv)?;
    let header = Header::decode(&mut r)?;
    let contents = r.read_slice(header.length)?;
    r.finish(())?;
    Ok((header, contents))
}

/// `tag`, a definite length, then `parts`.
fn wrap(tag: Tag, parts: &[&[u8]], out: &mut Vec<u8>) -> der::Result<()> {
    let len: usize = parts.iter().map(|p| p.len()).sum();
    Header::new(tag, len)?.encode_to_vec(out)?;
    for p in parts {
        out.extend_from_slice(p);
    }
    Ok(())
}

fn cut(tbs: &[u8], drop: &[bool]) -> der::Result<Vec<u8>> {
    let ext_tag = Tag::ContextSpecific {
        constructed: true,
        number: TagNumber::N3,
    };
    let mut explicit = Vec::new();
    let (tbs_header, tbs_contents) = open(tbs)?;
    let mut fields = tlvs(tbs_contents)?;
    // Extensions, when present, are the TBS's last field.
    let last = match fields.last() {
        Some(f) => open(f)?,
        None => return Err(der::ErrorKind::Failed.into()),
    };
    if last.0.tag != ext_tag {
        return if drop.is_empty() {
            Ok(tbs.to_vec())
        } else {
            Err(der::ErrorKind::Failed.into())
        };
    }
    let (seq_h, seq_contents) = open(last.1)?;
    if seq_h.tag != Tag::Sequence {
        return Err(der::ErrorKind::Failed.into());
    }
    let exts = tlvs(seq_contents)?;
    // The parse and the bytes must agree on the extensions.
    if exts.len() != drop.len() {
        return Err(der::ErrorKind::Failed.into());
    }
    let kept: Vec<&[u8]> = exts
        .into_iter()
        .zip(drop)
        .filter(|(_, &d)| !d)
        .map(|(e, _)| e)
        .collect();
    fields.pop();
    if !kept.is_empty() {
        let mut seq = Vec::new();
        wrap(Tag::Sequence, &kept, &mut seq)?;
        wrap(ext_tag, &[&seq], &mut explicit)?;
        fields.push(&explicit);
    }
    let mut out = Vec::with_capacity(tbs.len());
    wrap(tbs_header.tag, &fields, &mut out)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_a_count_mismatch_and_keeps_a_tbs_without_extensions() {
        // SEQUENCE { INTEGER 1, [3] { SEQUENCE { SEQUENCE {}, SEQUENCE {} } } }
        let tbs = [
            0x30, 0x0b, 0x02, 0x01, 0x01, 0xa3, 0x06, 0x30, 0x04, 0x30, 0x00, 0x30, 0x00,
        ];
        assert!(cut(&tbs, &[true]).is_err());
        assert_eq!(
            cut(&tbs, &[false, true]).unwrap(),
            [0x30, 0x09, 0x02, 0x01, 0x01, 0xa3, 0x04, 0x30, 0x02, 0x30, 0x00]
        );
        assert_eq!(
            cut(&tbs, &[true, true]).unwrap(),
            [0x30, 0x03, 0x02, 0x01, 0x01]
        );
        let plain = [0x30, 0x03, 0x02, 0x01, 0x01];
        assert_eq!(cut(&plain, &[]).unwrap(), plain);
        assert!(cut(&plain, &[true]).is_err());
    }
}
