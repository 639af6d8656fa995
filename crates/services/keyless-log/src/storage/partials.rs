//! The partial tiles of the file store, kept in memory as of the last
//! commit (see [`super::files`]): what a commit adds to each, and any
//! narrower width served as a prefix.

use std::collections::HashMap;

use keyless_tlog::tiles::{decode_entry_bundle, encode_entry_bundle, TILE_WIDTH};
use keyless_tlog::{TileId, TileKind};

use super::wal::TileDelta;
use crate::error::StorageError;

/// One partial tile: its committed width and bytes.
#[derive(Debug, Clone)]
struct Partial {
    width: u16,
    bytes: Vec<u8>,
}

/// The partial tiles, by kind and index.
#[derive(Debug, Default)]
pub(super) struct Partials(HashMap<(TileKind, u64), Partial>);

fn rewrite(id: &TileId, problem: String) -> StorageError {
    StorageError::Malformed {
        what: format!("commit of tile {}", id.path()),
        problem,
    }
}

impl Partials {
    /// What a commit writing `data` as tile `id` adds: the bytes past the
    /// committed width. A commit that would change committed bytes, or
    /// shrink a tile, is refused: the log only appends.
    pub(super) fn delta<'a>(
        &self,
        id: &TileId,
        data: &'a [u8],
    ) -> Result<TileDelta<&'a [u8]>, StorageError> {
        let (old_width, old_len) = match self.0.get(&(id.kind, id.index)) {
            Some(p) if p.width >= id.width => {
                return Err(rewrite(
                    id,
                    format!("the tile is already stored at width {}", p.width),
                ))
            }
            Some(p) if !data.starts_with(&p.bytes) => {
                return Err(rewrite(
                    id,
                    format!("it changes the tile's first {} committed entries", p.width),
                ))
            }
            Some(p) => (p.width, p.bytes.len()),
            None => (0, 0),
        };
        Ok(TileDelta {
            kind: id.kind,
            index: id.index,
            old_width,
            new_width: id.width,
            old_len: u32::try_from(old_len).map_err(|_| rewrite(id, "over 4 GiB".into()))?,
            bytes: &data[old_len..],
        })
    }

    /// Apply a delta (from a commit or a replayed record). Returns the
    /// tile's bytes if it is now full: it leaves memory and must be
    /// written as a file.
    pub(super) fn apply<B: AsRef<[u8]>>(
        &mut self,
        d: TileDelta<B>,
    ) -> Result<Option<Vec<u8>>, StorageError> {
        let key = (d.kind, d.index);
        let id = d.id();
        let mut bytes = if d.old_width == 0 {
            if let Some(p) = self.0.get(&key) {
                return Err(rewrite(
                    &id,
                    format!("it rewrites the tile, stored at width {}", p.width),
                ));
            }
            Vec::new()
        } else {
            match self.0.remove(&key) {
                Some(p) if p.width == d.old_width && p.bytes.len() == d.old_len as usize => p.bytes,
                Some(p) => {
                    return Err(rewrite(
                        &id,
                        format!(
                            "it extends width {} ({} bytes), but width {} ({} bytes) is stored",
                            d.old_width,
                            d.old_len,
                            p.width,
                            p.bytes.len()
                        ),
                    ))
                }
                None => {
                    return Err(rewrite(
                        &id,
                        format!("it extends width {}, but none is stored", d.old_width),
                    ))
                }
            }
        };
        bytes.extend_from_slice(d.bytes.as_ref());
        if u64::from(d.new_width) == TILE_WIDTH {
            self.0.remove(&key);
            return Ok(Some(bytes));
        }
        self.0.insert(
            key,
            Partial {
                width: d.new_width,
                bytes,
            },
        );
        Ok(None)
    }

    /// The bytes of `id` if it is a partial tile held here at `id.width`
    /// or wider (then a prefix); `None` if this tile is not held.
    pub(super) fn read(&self, id: &TileId) -> Result<Option<Vec<u8>>, StorageError> {
        match self.0.get(&(id.kind, id.index)) {
            Some(p) if p.width >= id.width => prefix(id, &p.bytes).map(Some),
            _ => Ok(None),
        }
    }

    /// Every partial tile as a delta from width 0: a segment's snapshot.
    pub(super) fn snapshot(&self) -> Vec<TileDelta<&[u8]>> {
        self.0
            .iter()
            .map(|(&(kind, index), p)| TileDelta {
                kind,
                index,
                old_width: 0,
                new_width: p.width,
                old_len: 0,
                bytes: p.bytes.as_slice(),
            })
            .collect()
    }
}

/// The first `id.width` hashes or entries of a wider tile's `bytes`.
pub(super) fn prefix(id: &TileId, bytes: &[u8]) -> Result<Vec<u8>, StorageError> {
    let malformed = |source| StorageError::Tile {
        path: id.path(),
        source,
    };
    let width = usize::from(id.width);
    match id.kind {
        TileKind::Hashes { .. } => {
            bytes
                .get(..width * 32)
                .map(<[u8]>::to_vec)
                .ok_or_else(|| StorageError::Malformed {
                    what: format!("tile {}", id.path()),
                    problem: format!("{} bytes, fewer than {width} hashes", bytes.len()),
                })
        }
        TileKind::Entries => {
            let entries = decode_entry_bundle(bytes).map_err(malformed)?;
            if entries.len() < width {
                return Err(StorageError::Malformed {
                    what: format!("entry bundle {}", id.path()),
                    problem: format!("{} entries, fewer than {width}", entries.len()),
                });
            }
            encode_entry_bundle(entries.into_iter().take(width)).map_err(malformed)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(width: u16) -> TileId {
        TileId {
            kind: TileKind::Hashes { level: 0 },
            index: 4,
            width,
        }
    }

    #[test]
    fn deltas_extend_and_history_is_not_rewritten() {
        let mut p = Partials::default();
        let two = vec![1; 64];
        let d = p.delta(&id(2), &two).unwrap();
        assert_eq!((d.old_width, d.bytes.len()), (0, 64));
        assert_eq!(p.apply(d).unwrap(), None);

        let mut three = two.clone();
        three.extend([2; 32]);
        let d = p.delta(&id(3), &three).unwrap();
        assert_eq!((d.old_width, d.old_len, d.bytes), (2, 64, &[2u8; 32][..]));
        p.apply(d).unwrap();
        assert_eq!(p.read(&id(3)).unwrap(), Some(three.clone()));
        assert_eq!(p.read(&id(1)).unwrap(), Some(vec![1; 32]));
        assert_eq!(p.read(&id(4)).unwrap(), None);

        // Same width again, or committed bytes changed: refused.
        assert!(p.delta(&id(3), &three).is_err());
        let mut forged = vec![9; 32];
        forged.extend([1; 32]);
        forged.extend([2; 64]);
        let e = p.delta(&id(4), &forged).unwrap_err().to_string();
        assert!(e.contains("changes the tile's first 3"), "{e}");
        // A replayed delta that does not start where the tile ends.
        let four = [three.as_slice(), &[3; 32]].concat();
        let stale = TileDelta {
            old_width: 2,
            old_len: 64,
            ..p.delta(&id(4), &four).unwrap()
        };
        assert!(p.apply(stale).is_err());
    }

    #[test]
    fn a_full_tile_leaves_memory() {
        let mut p = Partials::default();
        let full = vec![7; 256 * 32];
        let d = p.delta(&id(256), &full).unwrap();
        assert_eq!(p.apply(d).unwrap(), Some(full));
        assert!(p.snapshot().is_empty());
    }
}
