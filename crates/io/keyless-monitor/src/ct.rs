//! Reading a CT log's entries: C2SP static-ct-api data tiles
//! (`tile/data/<N>`, `TileLeaf`s back to back) or, for logs that predate
//! them, tlog-tiles entry bundles of RFC 6962 `MerkleTreeLeaf`s
//! (`tile/entries/<N>`). Each entry's certificate (or the precertificate's
//! TBS) is decoded for its Fulcio identity, so that a monitor reports
//! every certificate issued for a watched identity, even one that never
//! reached a Rekor log.
//!
//! ```text
//! TileLeaf        = TimestampedEntry, [u24 pre_certificate], u16 chain<32*n>
//! MerkleTreeLeaf  = 00 (v1), 00 (timestamped_entry), TimestampedEntry
//! TimestampedEntry = u64 timestamp, u16 entry_type,
//!                    x509: u24 cert | precert: issuer_key_hash[32], u24 tbs,
//!                    u16 extensions
//! ```

use keyless_tlog::{leaf_hash, Hash};
use keyless_x509::Certificate;
use thiserror::Error;
use x509_cert::der::{Decode, Encode};

use crate::entry::{EntryError, EntryInfo};
use crate::matcher::Matcher;

/// RFC 6962 `LogEntryType` x509_entry.
const X509_ENTRY: u16 = 0;
/// RFC 6962 `LogEntryType` precert_entry.
const PRECERT_ENTRY: u16 = 1;

/// How the CT log lays its entries out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CtLayout {
    /// static-ct-api: `tile/data/<N>` of `TileLeaf`s.
    DataTiles,
    /// tlog-tiles entry bundles of `MerkleTreeLeaf`s: `tile/entries/<N>`.
    LeafBundles,
}

impl CtLayout {
    /// The tile path prefix ("tile/data" or "tile/entries").
    pub fn prefix(self) -> &'static str {
        match self {
            CtLayout::DataTiles => "tile/data",
            CtLayout::LeafBundles => "tile/entries",
        }
    }
}

#[derive(Debug, Error)]
#[non_exhaustive]
pub enum CtError {
    #[error("CT tile {index} is malformed: {reason}")]
    Tile { index: u64, reason: &'static str },
    #[error("CT tile {index} holds {got} entries where the tree needs {want}")]
    Count { index: u64, got: usize, want: usize },
}

/// What a monitor reports of a CT entry besides the identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CtCert {
    /// Milliseconds since the Unix epoch (the SCT's timestamp).
    pub timestamp: u64,
    /// "precert" or "x509".
    pub entry_type: &'static str,
    /// The certificate's serial number, hex.
    pub serial: String,
    /// SHA-256 of the precertificate (static-ct-api) or certificate DER,
    /// else of the TBS without poison (older layout), hex.
    pub fingerprint: String,
}

/// One entry of a CT tile.
pub struct CtEntry<'a> {
    /// The `MerkleTreeLeaf` hash.
    pub leaf: Hash,
    pub timestamp: u64,
    pub entry_type: u16,
    /// Certificate DER (x509) or TBS without poison (precert).
    pub cert_or_tbs: &'a [u8],
    /// The precertificate's DER, when the layout carries it.
    pub pre_certificate: Option<&'a [u8]>,
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.0.len() < n {
            return None;
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Some(head)
    }
    fn uint(&mut self, n: usize) -> Option<u64> {
        Some(
            self.take(n)?
                .iter()
                .fold(0u64, |acc, b| (acc << 8) | u64::from(*b)),
        )
    }
    fn vec(&mut self, len_bytes: usize) -> Option<&'a [u8]> {
        let n = usize::try_from(self.uint(len_bytes)?).ok()?;
        self.take(n)
    }
}

/// A `TimestampedEntry` from the start of `r`: (timestamp, type, cert or TBS).
fn timestamped_entry<'a>(r: &mut Reader<'a>) -> Option<(u64, u16, &'a [u8])> {
    let timestamp = r.uint(8)?;
    let entry_type = u16::try_from(r.uint(2)?).ok()?;
    let body = match entry_type {
        X509_ENTRY => r.vec(3)?,
        PRECERT_ENTRY => {
            r.take(32)?;
            r.vec(3)?
        }
        _ => return None,
    };
    r.vec(2)?;
    Some((timestamp, entry_type, body))
}

/// The entries of a static-ct-api data tile, which must hold `want`.
pub fn parse_data_tile(bytes: &[u8], index: u64, want: usize) -> Result<Vec<CtEntry<'_>>, CtError> {
    let bad = |reason| CtError::Tile { index, reason };
    let mut out = Vec::with_capacity(want);
    let mut r = Reader(bytes);
    while !r.0.is_empty() {
        if out.len() == want {
            return Err(CtError::Count {
                index,
                got: want + 1,
                want,
            });
        }
        let start = r.0;
        let (timestamp, entry_type, cert_or_tbs) =
            timestamped_entry(&mut r).ok_or_else(|| bad("truncated TimestampedEntry"))?;
        let te = &start[..start.len() - r.0.len()];
        let pre_certificate = if entry_type == PRECERT_ENTRY {
            Some(r.vec(3).ok_or_else(|| bad("truncated precertificate"))?)
        } else {
            None
        };
        let chain = r.vec(2).ok_or_else(|| bad("truncated chain"))?;
        if chain.len() % 32 != 0 {
            return Err(bad("chain is not a list of SHA-256 fingerprints"));
        }
        let mut leaf = Vec::with_capacity(2 + te.len());
        leaf.extend_from_slice(&[0, 0]);
        leaf.extend_from_slice(te);
        out.push(CtEntry {
            leaf: leaf_hash(&leaf),
            timestamp,
            entry_type,
            cert_or_tbs,
            pre_certificate,
        });
    }
    if out.len() != want {
        return Err(CtError::Count {
            index,
            got: out.len(),
            want,
        });
    }
    Ok(out)
}

/// The entries of a tlog-tiles bundle of `MerkleTreeLeaf`s.
pub fn parse_leaf_bundle(
    bytes: &[u8],
    index: u64,
    want: usize,
) -> Result<Vec<CtEntry<'_>>, CtError> {
    let bad = |reason| CtError::Tile { index, reason };
    let bodies =
        keyless_tlog::tiles::decode_entry_bundle(bytes).map_err(|_| bad("not an entry bundle"))?;
    if bodies.len() != want {
        return Err(CtError::Count {
            index,
            got: bodies.len(),
            want,
        });
    }
    bodies
        .into_iter()
        .map(|body| {
            let mut r = Reader(body);
            if r.take(2) != Some(&[0, 0][..]) {
                return Err(bad("not a v1 timestamped_entry MerkleTreeLeaf"));
            }
            let (timestamp, entry_type, cert_or_tbs) =
                timestamped_entry(&mut r).ok_or_else(|| bad("truncated MerkleTreeLeaf"))?;
            if !r.0.is_empty() {
                return Err(bad("bytes after the MerkleTreeLeaf"));
            }
            Ok(CtEntry {
                leaf: leaf_hash(body),
                timestamp,
                entry_type,
                cert_or_tbs,
                pre_certificate: None,
            })
        })
        .collect()
}

/// A certificate to read the identity from: the logged certificate, or
/// for a precertificate entry its TBS wrapped as a certificate with an
/// empty signature (the TBS carries every name and extension; the
/// signature is not checked here, only read for what it claims).
fn certificate(e: &CtEntry<'_>) -> Result<Certificate, EntryError> {
    if e.entry_type == X509_ENTRY {
        return Certificate::from_der(e.cert_or_tbs).map_err(EntryError::Certificate);
    }
    let der_err =
        |e: x509_cert::der::Error| EntryError::Certificate(keyless_x509::X509Error::Der(e));
    let tbs = x509_cert::TbsCertificate::from_der(e.cert_or_tbs).map_err(der_err)?;
    let wrapped = x509_cert::Certificate {
        signature_algorithm: tbs.signature.clone(),
        tbs_certificate: tbs,
        signature: x509_cert::der::asn1::BitString::from_bytes(&[]).map_err(der_err)?,
    };
    let der = wrapped.to_der().map_err(der_err)?;
    Certificate::from_der(&der).map_err(EntryError::Certificate)
}

/// The entry as the matcher sees it, with what the report says of it.
pub fn decode(e: &CtEntry<'_>, want_key: bool) -> Result<(EntryInfo, CtCert), EntryError> {
    let c = certificate(e)?;
    let entry_type = if e.entry_type == PRECERT_ENTRY {
        "precert"
    } else {
        "x509"
    };
    let info = EntryInfo::from_certificate(&c, entry_type, "rfc6962", want_key)?;
    let fingerprint = keyless_crypto::sha256(e.pre_certificate.unwrap_or(e.cert_or_tbs));
    let serial = hex::encode(c.inner().tbs_certificate.serial_number.as_bytes());
    Ok((
        info,
        CtCert {
            timestamp: e.timestamp,
            entry_type,
            serial,
            fingerprint: hex::encode(fingerprint),
        },
    ))
}

/// A matching CT entry.
#[derive(Debug, Clone)]
pub struct CtHit {
    pub index: u64,
    pub leaf: Hash,
    pub identity: String,
    pub info: EntryInfo,
    pub cert: CtCert,
    /// The tile the entry is in, relative to the log's base URL.
    pub tile: String,
}

/// Leaf hashes of entries `first + skip ..` and the matches among them.
#[derive(Debug, Default)]
pub struct CtScanned {
    pub leaves: Vec<Hash>,
    pub hits: Vec<CtHit>,
    /// Entries whose certificate did not decode (counted, never matched).
    pub undecodable: u64,
}

/// Scan the entries of tile `index` (entries `index * 256 ..`) from `skip` on.
pub fn scan(
    entries: &[CtEntry<'_>],
    index: u64,
    skip: usize,
    matcher: &Matcher,
    tile: &str,
) -> CtScanned {
    let first = index * keyless_tlog::tiles::TILE_WIDTH;
    let mut out = CtScanned::default();
    for (i, e) in entries.iter().enumerate().skip(skip) {
        out.leaves.push(e.leaf);
        match decode(e, matcher.watches_keys()) {
            Ok((info, cert)) => {
                if let Some(identity) = matcher.matches(&info) {
                    out.hits.push(CtHit {
                        index: first + i as u64,
                        leaf: e.leaf,
                        identity,
                        info,
                        cert,
                        tile: tile.to_string(),
                    });
                }
            }
            Err(_) => out.undecodable += 1,
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A precert `TimestampedEntry` with `tbs` and no extensions.
    fn te(ts: u64, tbs: &[u8]) -> Vec<u8> {
        let mut out = ts.to_be_bytes().to_vec();
        out.extend_from_slice(&PRECERT_ENTRY.to_be_bytes());
        out.extend_from_slice(&[9; 32]);
        out.extend_from_slice(&(tbs.len() as u32).to_be_bytes()[1..]);
        out.extend_from_slice(tbs);
        out.extend_from_slice(&[0, 0]);
        out
    }

    fn tile_leaf(te: &[u8], chain: &[u8]) -> Vec<u8> {
        let mut out = te.to_vec();
        out.extend_from_slice(&[0, 0, 3]);
        out.extend_from_slice(b"pre");
        out.extend_from_slice(&(chain.len() as u16).to_be_bytes());
        out.extend_from_slice(chain);
        out
    }

    #[test]
    fn both_layouts_give_the_rfc6962_leaf_hashes() {
        let entries = [te(1, b"first"), te(2, b"second")];
        let tile: Vec<u8> = entries
            .iter()
            .flat_map(|e| tile_leaf(e, &[1; 32]))
            .collect();
        let leaves: Vec<Vec<u8>> = entries
            .iter()
            .map(|e| [&[0u8, 0][..], e].concat())
            .collect();
        let bundle =
            keyless_tlog::tiles::encode_entry_bundle(leaves.iter().map(Vec::as_slice)).unwrap();
        let data = parse_data_tile(&tile, 0, 2).unwrap();
        let old = parse_leaf_bundle(&bundle, 0, 2).unwrap();
        for (i, leaf) in leaves.iter().enumerate() {
            assert_eq!(data[i].leaf, leaf_hash(leaf));
            assert_eq!(old[i].leaf, leaf_hash(leaf));
            assert_eq!(data[i].timestamp, i as u64 + 1);
            assert_eq!(data[i].pre_certificate, Some(&b"pre"[..]));
        }
        assert_eq!(data[1].cert_or_tbs, b"second");
        // An entry whose TBS does not decode is counted, never matched.
        let m = Matcher::new(Some("a@example.com".into()), None, None, Vec::new());
        let scanned = scan(&data, 0, 1, &m, "tile/data/000.p/2");
        assert_eq!((scanned.leaves.len(), scanned.undecodable), (1, 1));
    }

    #[test]
    fn malformed_tiles_are_errors() {
        let one = tile_leaf(&te(1, b"x"), &[]);
        assert!(matches!(
            parse_data_tile(&one, 3, 2),
            Err(CtError::Count {
                index: 3,
                got: 1,
                want: 2
            })
        ));
        assert!(matches!(
            parse_data_tile(&[one.clone(), one.clone()].concat(), 0, 1),
            Err(CtError::Count { .. })
        ));
        assert!(matches!(
            parse_data_tile(&one[..one.len() - 1], 0, 1),
            Err(CtError::Tile { .. })
        ));
        let odd_chain = tile_leaf(&te(1, b"x"), &[1; 31]);
        assert!(matches!(
            parse_data_tile(&odd_chain, 0, 1),
            Err(CtError::Tile { .. })
        ));
        let mut bad_type = te(1, b"x");
        bad_type[9] = 7;
        assert!(parse_data_tile(&tile_leaf(&bad_type, &[]), 0, 1).is_err());
    }
}
