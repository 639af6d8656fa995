//! Decoding C2SP entry bundles into leaf hashes and matches: the loop a
//! monitor spends its time in (see `benches/scan.rs`).

use keyless_tlog::{leaf_hash, Hash};
use thiserror::Error;

use crate::entry::EntryInfo;
use crate::matcher::Matcher;

#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ScanError {
    #[error("entry bundle {index} is malformed")]
    Bundle {
        index: u64,
        #[source]
        source: keyless_tlog::TileError,
    },
    #[error("entry bundle {index} holds {got} entries where the tree needs {want}")]
    Count { index: u64, got: usize, want: usize },
}

/// A matching entry.
#[derive(Debug, Clone)]
pub struct Hit {
    pub index: u64,
    pub leaf: Hash,
    /// The identity (or `key:sha256:…`) that matched.
    pub identity: String,
    pub info: EntryInfo,
}

/// What one bundle held from `skip` on.
#[derive(Debug, Default)]
pub struct Scanned {
    /// Leaf hashes of entries `first + skip ..`, in order.
    pub leaves: Vec<Hash>,
    pub hits: Vec<Hit>,
    /// Entries whose body did not decode (counted, never matched).
    pub undecodable: u64,
}

/// Scan entry bundle `bundle_index` (entries `bundle_index * 256 ..`),
/// which must hold exactly `want` entries, from entry `skip` of it on.
pub fn scan_bundle(
    bytes: &[u8],
    bundle_index: u64,
    want: usize,
    skip: usize,
    matcher: &Matcher,
) -> Result<Scanned, ScanError> {
    let entries =
        keyless_tlog::tiles::decode_entry_bundle(bytes).map_err(|source| ScanError::Bundle {
            index: bundle_index,
            source,
        })?;
    if entries.len() != want {
        return Err(ScanError::Count {
            index: bundle_index,
            got: entries.len(),
            want,
        });
    }
    let first = bundle_index * keyless_tlog::tiles::TILE_WIDTH;
    let mut out = Scanned {
        leaves: Vec::with_capacity(want.saturating_sub(skip)),
        ..Scanned::default()
    };
    for (i, body) in entries.iter().enumerate().skip(skip) {
        out.push_entry(first + i as u64, body, matcher);
    }
    Ok(out)
}

impl Scanned {
    /// Take entry `index` with log body `body`: its leaf hash always, a hit
    /// when `matcher` watches its identity, a count when it does not
    /// decode. Tile bundles and Rekor v1 API reads both come through here.
    pub(crate) fn push_entry(&mut self, index: u64, body: &[u8], matcher: &Matcher) {
        let leaf = leaf_hash(body);
        self.leaves.push(leaf);
        match EntryInfo::parse_for_matching(body, matcher.watches_keys()) {
            Ok(brief) => {
                if let Some(identity) = matcher.matches(&brief) {
                    let info = EntryInfo::parse(body).unwrap_or(brief);
                    self.hits.push(Hit {
                        index,
                        leaf,
                        identity,
                        info,
                    });
                }
            }
            Err(_) => self.undecodable += 1,
        }
    }
}
