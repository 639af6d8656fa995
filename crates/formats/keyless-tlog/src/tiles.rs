//! C2SP tlog-tiles (<https://c2sp.org/tlog-tiles>): where tiles and entry
//! bundles live, and how entry bundles are framed.
//!
//! A tile holds up to [`TILE_WIDTH`] consecutive hashes of one Merkle tree
//! level: level-`L` tiles hold the roots of complete subtrees of height
//! `8·L`. A tile with fewer hashes is *partial* and its path says its width
//! (`.p/<W>`), so that a full tile's path names immutable content. Paths
//! are parsed strictly (only the canonical spelling of each index), since
//! two spellings of one tile would let caches disagree.

use thiserror::Error;

/// Hashes (or entries) in a full tile.
pub const TILE_WIDTH: u64 = 256;
/// Tree levels covered by one tile level (`log2(TILE_WIDTH)`).
pub const TILE_HEIGHT: u32 = 8;

/// The width of tile `index` of `kind` in a tree of `size` leaves (how
/// many of its hashes or entries are committed), if the tile exists at all.
pub fn committed_width(kind: TileKind, index: u64, size: u64) -> Option<u16> {
    let nodes = match kind {
        TileKind::Entries => size,
        TileKind::Hashes { level } => size
            .checked_shr(TILE_HEIGHT * u32::from(level))
            .unwrap_or(0),
    };
    let start = index.checked_mul(TILE_WIDTH)?;
    (nodes > start).then(|| (nodes - start).min(TILE_WIDTH) as u16)
}
/// Highest tile level a path may name.
pub const MAX_TILE_LEVEL: u8 = 63;
/// Longest entry an entry bundle can frame (a big-endian u16 length).
pub const MAX_BUNDLE_ENTRY: usize = u16::MAX as usize;

/// Why a tile path or entry bundle is not valid.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TileError {
    /// The path is not `tile/<L>/<N>[.p/<W>]` or `tile/entries/<N>[.p/<W>]`.
    #[error("invalid tile path {path:?}: {reason}")]
    InvalidPath { path: String, reason: &'static str },
    /// An entry is too long for the 16-bit length prefix.
    #[error("entry of {len} bytes does not fit an entry bundle (max {max})")]
    EntryTooLong { len: usize, max: usize },
    /// An entry bundle ends in the middle of an entry.
    #[error("entry bundle is truncated at byte {offset}")]
    TruncatedBundle { offset: usize },
}

/// What a tile path names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TileKind {
    /// A Merkle tree tile of this level.
    Hashes { level: u8 },
    /// An entry bundle (level -1 in the spec's terms).
    Entries,
}

/// A tile or entry bundle: its kind, index and width (1..=256).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TileId {
    pub kind: TileKind,
    pub index: u64,
    pub width: u16,
}

impl TileId {
    /// Whether the tile is full, hence immutable.
    pub fn is_full(&self) -> bool {
        u64::from(self.width) == TILE_WIDTH
    }

    /// The path relative to the log's root, e.g. `tile/0/x001/234.p/5`.
    pub fn path(&self) -> String {
        let mut out = String::from("tile/");
        match self.kind {
            TileKind::Hashes { level } => out.push_str(&level.to_string()),
            TileKind::Entries => out.push_str("entries"),
        }
        out.push('/');
        out.push_str(&encode_index(self.index));
        if !self.is_full() {
            out.push_str(&format!(".p/{}", self.width));
        }
        out
    }

    /// Parse a path relative to the log's root (`tile/...`).
    pub fn parse(path: &str) -> Result<Self, TileError> {
        let bad = |reason| TileError::InvalidPath {
            path: path.chars().take(200).collect(),
            reason,
        };
        let rest = path
            .strip_prefix("tile/")
            .ok_or_else(|| bad("does not start with tile/"))?;
        let (level, rest) = rest.split_once('/').ok_or_else(|| bad("no index"))?;
        let kind = if level == "entries" {
            TileKind::Entries
        } else {
            let l: u8 = parse_decimal(level)
                .and_then(|v| u8::try_from(v).ok())
                .filter(|l| *l <= MAX_TILE_LEVEL)
                .ok_or_else(|| bad("level is not a number from 0 to 63"))?;
            TileKind::Hashes { level: l }
        };
        let (index_part, width) = match rest.split_once(".p/") {
            Some((idx, w)) => {
                let w = parse_decimal(w)
                    .filter(|w| (1..TILE_WIDTH).contains(w))
                    .ok_or_else(|| bad("partial width is not a number from 1 to 255"))?;
                (idx, w as u16)
            }
            None => (rest, TILE_WIDTH as u16),
        };
        let index = decode_index(index_part)
            .ok_or_else(|| bad("index is not canonical x-prefixed 3-digit groups"))?;
        Ok(Self { kind, index, width })
    }
}

/// A canonical decimal without sign or leading zeros.
fn parse_decimal(s: &str) -> Option<u64> {
    if s.is_empty()
        || s.len() > 20
        || !s.bytes().all(|b| b.is_ascii_digit())
        || (s.len() > 1 && s.starts_with('0'))
    {
        return None;
    }
    s.parse().ok()
}

/// `1234067` → `x001/x234/067`: 3-digit groups, all but the last prefixed
/// with `x`, so that no directory holds more than 1000 names.
pub fn encode_index(mut n: u64) -> String {
    let mut groups = vec![format!("{:03}", n % 1000)];
    n /= 1000;
    while n > 0 {
        groups.push(format!("x{:03}", n % 1000));
        n /= 1000;
    }
    groups.reverse();
    groups.join("/")
}

fn decode_index(s: &str) -> Option<u64> {
    let groups: Vec<&str> = s.split('/').collect();
    let mut n: u64 = 0;
    for (i, g) in groups.iter().enumerate() {
        let digits = if i + 1 < groups.len() {
            g.strip_prefix('x')?
        } else {
            g
        };
        if digits.len() != 3 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let v: u64 = digits.parse().ok()?;
        n = n.checked_mul(1000)?.checked_add(v)?;
    }
    // Only the shortest spelling is canonical.
    (encode_index(n) == s).then_some(n)
}

/// Frame entries as an entry bundle: each a big-endian u16 length, then
/// the bytes.
pub fn encode_entry_bundle<'a>(
    entries: impl IntoIterator<Item = &'a [u8]>,
) -> Result<Vec<u8>, TileError> {
    let mut out = Vec::new();
    for e in entries {
        let len = u16::try_from(e.len()).map_err(|_| TileError::EntryTooLong {
            len: e.len(),
            max: MAX_BUNDLE_ENTRY,
        })?;
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(e);
    }
    Ok(out)
}

/// Split an entry bundle into its entries.
pub fn decode_entry_bundle(bytes: &[u8]) -> Result<Vec<&[u8]>, TileError> {
    let mut out = Vec::new();
    let mut off = 0;
    while off < bytes.len() {
        let len_bytes = bytes
            .get(off..off + 2)
            .ok_or(TileError::TruncatedBundle { offset: off })?;
        let len = usize::from(u16::from_be_bytes([len_bytes[0], len_bytes[1]]));
        let entry = bytes
            .get(off + 2..off + 2 + len)
            .ok_or(TileError::TruncatedBundle { offset: off })?;
        out.push(entry);
        off += 2 + len;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::committed_width;

    #[test]
    fn committed_widths() {
        let hashes = |level| super::TileKind::Hashes { level };
        assert_eq!(committed_width(hashes(0), 0, 5), Some(5));
        assert_eq!(committed_width(hashes(0), 1, 300), Some(44));
        assert_eq!(committed_width(hashes(0), 2, 300), None);
        assert_eq!(committed_width(hashes(1), 0, 300), Some(1));
        assert_eq!(committed_width(hashes(1), 0, 255), None);
        assert_eq!(committed_width(super::TileKind::Entries, 1, 300), Some(44));
        assert_eq!(committed_width(hashes(8), 0, u64::MAX), None);
    }

    use super::*;

    #[test]
    fn index_encoding() {
        assert_eq!(encode_index(0), "000");
        assert_eq!(encode_index(5), "005");
        assert_eq!(encode_index(1000), "x001/000");
        assert_eq!(encode_index(1234067), "x001/x234/067");
        for n in [0, 1, 999, 1000, 1234067, u64::MAX] {
            assert_eq!(decode_index(&encode_index(n)), Some(n));
        }
        for bad in [
            "", "5", "0005", "x000/005", "001/234", "x001", "x1/000", "abc",
        ] {
            assert_eq!(decode_index(bad), None, "{bad}");
        }
    }

    #[test]
    fn paths_roundtrip_and_reject_noncanonical() {
        let ids = [
            TileId {
                kind: TileKind::Hashes { level: 0 },
                index: 1234067,
                width: 256,
            },
            TileId {
                kind: TileKind::Hashes { level: 2 },
                index: 0,
                width: 3,
            },
            TileId {
                kind: TileKind::Entries,
                index: 1000,
                width: 255,
            },
        ];
        let paths = [
            "tile/0/x001/x234/067",
            "tile/2/000.p/3",
            "tile/entries/x001/000.p/255",
        ];
        for (id, p) in ids.iter().zip(paths) {
            assert_eq!(id.path(), p);
            assert_eq!(TileId::parse(p).unwrap(), *id);
        }
        for bad in [
            "tile/0/000.p/0",
            "tile/0/000.p/256",
            "tile/0/000.p/01",
            "tile/64/000",
            "tile/00/000",
            "tile/-1/000",
            "tile/0/000/",
            "tiles/0/000",
            "tile/0/x000/001",
            "tile/entries/000.p/",
            "tile/0/99999999999999999999999",
        ] {
            assert!(TileId::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn entry_bundles() {
        let entries: [&[u8]; 3] = [b"a", b"", b"hello"];
        let b = encode_entry_bundle(entries).unwrap();
        assert_eq!(&b[..3], &[0, 1, b'a']);
        assert_eq!(decode_entry_bundle(&b).unwrap(), entries.to_vec());
        assert_eq!(
            decode_entry_bundle(&b[..b.len() - 1]),
            Err(TileError::TruncatedBundle { offset: 5 })
        );
        let big = vec![0u8; 70000];
        assert!(encode_entry_bundle([big.as_slice()]).is_err());
    }
}
