//! The file store's write-ahead log: where a commit becomes durable.
//!
//! ```text
//! <data_dir>/wal/<seq>.log    records: u32 length, 8-byte SHA-256 prefix, payload
//! ```
//!
//! A commit is one record appended to the open segment and one
//! `fdatasync`: one file, no new names, so one journal commit and one
//! device flush, whatever the batch touched. The record carries what the
//! commit adds and nothing it does not: the new bytes of each tile (a
//! partial tile only grows, so the bytes past its committed width), the
//! entries' metadata and the signed checkpoint. The public files (full
//! tiles, `meta`, `checkpoint`) are written after the record, without
//! fsync, and made durable in bulk when the segment is retired: the
//! segment's records are what recovery replays when the machine went down
//! before they reached the disk.
//!
//! A segment starts with a snapshot record (the partial tiles and the
//! checkpoint at that point), so it can be replayed on its own once every
//! file it describes before that point is durable. Retiring a segment
//! (once it is [`SEGMENT_MAX`] long, and on open): fsync the files
//! written since it started and their directories, write the next
//! segment with its snapshot, fsync it and `wal/`, delete the old one. A
//! crash in between leaves two segments; the newest with a valid snapshot
//! wins.
//!
//! Only the last record of the open segment can be torn (each append
//! waits for the previous one's fsync), so replay stops at the first
//! record whose length or checksum does not check out: that commit was
//! never acknowledged.

use std::fs::{self, File};
use std::path::{Path, PathBuf};

use keyless_tlog::tiles::TILE_WIDTH;
use keyless_tlog::{TileId, TileKind};

use crate::error::StorageError;

/// Name of the directory holding the segments.
pub(super) const WAL_DIR: &str = "wal";

/// A segment longer than this is retired at the next commit. The
/// recovery replay reads at most this much; a retirement makes the commit
/// that triggers it wait for one bulk fsync of the tiles written since
/// the last (most already written back by the kernel), so it should be
/// rare: about every 20 s at 3,000 CT entries a second.
pub(super) const SEGMENT_MAX: u64 = 64 << 20;

/// Largest record accepted when reading a segment: a batch of 4,096
/// entries of the largest size the log takes, with room to spare. A
/// length past it is a torn or foreign record.
const RECORD_MAX: usize = 1 << 30;

const HEADER: usize = 12;
const META_RECORD: usize = 48;

/// Whether a record opens a segment or continues it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum RecordKind {
    /// The partial tiles and checkpoint at the segment's start; its tile
    /// deltas all start at width 0.
    Snapshot,
    /// One commit.
    Commit,
}

/// New bytes of one tile: from `old_width` (`old_len` bytes, the width
/// already stored) to `new_width`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct TileDelta<B> {
    pub kind: TileKind,
    pub index: u64,
    pub old_width: u16,
    pub new_width: u16,
    pub old_len: u32,
    pub bytes: B,
}

impl<B> TileDelta<B> {
    /// The tile at the width this delta takes it to.
    pub fn id(&self) -> TileId {
        TileId {
            kind: self.kind,
            index: self.index,
            width: self.new_width,
        }
    }
}

/// One record; `B` is `&[u8]` when writing and `Vec<u8>` when read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Record<B> {
    pub kind: RecordKind,
    /// Index of the first entry the record's metadata belongs to.
    pub first_index: u64,
    /// The signed checkpoint (empty in the snapshot of a store that has
    /// none yet).
    pub checkpoint: B,
    /// 48-byte metadata records, back to back.
    pub meta: B,
    pub tiles: Vec<TileDelta<B>>,
}

fn kind_tag(kind: TileKind) -> u8 {
    match kind {
        TileKind::Hashes { level } => level,
        TileKind::Entries => u8::MAX,
    }
}

fn tag_kind(tag: u8) -> Option<TileKind> {
    match tag {
        u8::MAX => Some(TileKind::Entries),
        l if l <= keyless_tlog::tiles::MAX_TILE_LEVEL => Some(TileKind::Hashes { level: l }),
        _ => None,
    }
}

/// The framed record: header (length, checksum) and payload.
pub(super) fn encode(r: &Record<&[u8]>) -> Result<Vec<u8>, StorageError> {
    let too_big = || StorageError::Malformed {
        what: "write-ahead record".into(),
        problem: "a field is larger than 4 GiB".into(),
    };
    let len32 = |n: usize| u32::try_from(n).map_err(|_| too_big());
    let size = HEADER
        + 32
        + r.checkpoint.len()
        + r.meta.len()
        + r.tiles.iter().map(|t| 21 + t.bytes.len()).sum::<usize>();
    let mut out = Vec::with_capacity(size);
    out.extend_from_slice(&[0; HEADER]);
    out.push(match r.kind {
        RecordKind::Snapshot => 1,
        RecordKind::Commit => 2,
    });
    out.extend_from_slice(&r.first_index.to_be_bytes());
    out.extend_from_slice(&len32(r.checkpoint.len())?.to_be_bytes());
    out.extend_from_slice(r.checkpoint);
    out.extend_from_slice(&len32(r.meta.len())?.to_be_bytes());
    out.extend_from_slice(r.meta);
    out.extend_from_slice(&len32(r.tiles.len())?.to_be_bytes());
    for t in &r.tiles {
        out.push(kind_tag(t.kind));
        out.extend_from_slice(&t.index.to_be_bytes());
        out.extend_from_slice(&t.old_width.to_be_bytes());
        out.extend_from_slice(&t.new_width.to_be_bytes());
        out.extend_from_slice(&t.old_len.to_be_bytes());
        out.extend_from_slice(&len32(t.bytes.len())?.to_be_bytes());
        out.extend_from_slice(t.bytes);
    }
    let payload_len = len32(out.len() - HEADER)?;
    let check = keyless_crypto::sha256(&out[HEADER..]);
    out[..4].copy_from_slice(&payload_len.to_be_bytes());
    out[4..HEADER].copy_from_slice(&check[..8]);
    Ok(out)
}

/// Reads fields off a payload; `None` when it runs short.
struct Fields<'a>(&'a [u8]);

impl<'a> Fields<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.0.len() < n {
            return None;
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Some(head)
    }
    fn array<const N: usize>(&mut self) -> Option<[u8; N]> {
        self.take(N)?.try_into().ok()
    }
    fn u8(&mut self) -> Option<u8> {
        Some(self.array::<1>()?[0])
    }
    fn u16(&mut self) -> Option<u16> {
        Some(u16::from_be_bytes(self.array()?))
    }
    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_be_bytes(self.array()?))
    }
    fn u64(&mut self) -> Option<u64> {
        Some(u64::from_be_bytes(self.array()?))
    }
    fn bytes(&mut self) -> Option<Vec<u8>> {
        let n = usize::try_from(self.u32()?).ok()?;
        Some(self.take(n)?.to_vec())
    }
}

fn decode_payload(p: &[u8]) -> Option<Record<Vec<u8>>> {
    let mut f = Fields(p);
    let kind = match f.u8()? {
        1 => RecordKind::Snapshot,
        2 => RecordKind::Commit,
        _ => return None,
    };
    let first_index = f.u64()?;
    let checkpoint = f.bytes()?;
    let meta = f.bytes()?;
    if meta.len() % META_RECORD != 0 {
        return None;
    }
    let count = f.u32()?;
    let mut tiles = Vec::new();
    for _ in 0..count {
        let kind = tag_kind(f.u8()?)?;
        let index = f.u64()?;
        let (old_width, new_width) = (f.u16()?, f.u16()?);
        let old_len = f.u32()?;
        let bytes = f.bytes()?;
        if old_width > new_width || u64::from(new_width) > TILE_WIDTH {
            return None;
        }
        tiles.push(TileDelta {
            kind,
            index,
            old_width,
            new_width,
            old_len,
            bytes,
        });
    }
    f.0.is_empty().then_some(Record {
        kind,
        first_index,
        checkpoint,
        meta,
        tiles,
    })
}

/// The valid records at the start of `data`, and the length they take:
/// reading stops at the first record that is short, too long or fails
/// its checksum (a torn append).
pub(super) fn decode_all(data: &[u8]) -> (Vec<Record<Vec<u8>>>, usize) {
    let mut records = Vec::new();
    let mut at = 0;
    while let Some(header) = data.get(at..at + HEADER) {
        let mut len = [0u8; 4];
        len.copy_from_slice(&header[..4]);
        let len = u32::from_be_bytes(len) as usize;
        if len == 0 || len > RECORD_MAX {
            break;
        }
        let Some(payload) = data.get(at + HEADER..at + HEADER + len) else {
            break;
        };
        if keyless_crypto::sha256(payload)[..8] != header[4..] {
            break;
        }
        let Some(record) = decode_payload(payload) else {
            break;
        };
        records.push(record);
        at += HEADER + len;
    }
    (records, at)
}

/// Path of segment `seq`.
pub(super) fn segment_path(root: &Path, seq: u64) -> PathBuf {
    root.join(WAL_DIR).join(format!("{seq:020}.log"))
}

/// The segments in `<root>/wal`, newest first. Other names are ignored.
pub(super) fn segments(root: &Path) -> Result<Vec<(u64, PathBuf)>, StorageError> {
    let dir = root.join(WAL_DIR);
    let read = match fs::read_dir(&dir) {
        Ok(r) => r,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(vec![]),
        Err(e) => return Err(StorageError::io("list", &dir, e)),
    };
    let mut out = Vec::new();
    for entry in read {
        let entry = entry.map_err(|e| StorageError::io("list", &dir, e))?;
        let name = entry.file_name();
        let Some(seq) = name
            .to_str()
            .and_then(|n| n.strip_suffix(".log"))
            .filter(|n| n.len() == 20)
            .and_then(|n| n.parse::<u64>().ok())
        else {
            continue;
        };
        out.push((seq, entry.path()));
    }
    out.sort_by_key(|s| std::cmp::Reverse(s.0));
    Ok(out)
}

/// The open segment: appended to by each commit.
#[derive(Debug)]
pub(super) struct Segment {
    pub seq: u64,
    pub file: File,
    pub path: PathBuf,
    /// Bytes of valid records: where the next one goes.
    pub len: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample<'a>(cp: &'a [u8], bytes: &'a [u8]) -> Record<&'a [u8]> {
        Record {
            kind: RecordKind::Commit,
            first_index: 7,
            checkpoint: cp,
            meta: &[5; 96],
            tiles: vec![TileDelta {
                kind: TileKind::Hashes { level: 2 },
                index: 3,
                old_width: 1,
                new_width: 4,
                old_len: 32,
                bytes,
            }],
        }
    }

    #[test]
    fn records_round_trip_and_a_torn_tail_is_dropped() {
        let a = encode(&sample(b"cp a\n", &[1; 96])).unwrap();
        let b = encode(&sample(b"cp b\n", &[2; 96])).unwrap();
        let mut data = [a.clone(), b.clone()].concat();
        let (records, len) = decode_all(&data);
        assert_eq!(records.len(), 2);
        assert_eq!(len, data.len());
        assert_eq!(records[1].checkpoint, b"cp b\n");
        assert_eq!(records[1].tiles[0].bytes, vec![2; 96]);
        assert_eq!(records[0].meta.len(), 96);

        // A torn second record: only the first counts.
        data.truncate(a.len() + b.len() - 1);
        let (records, len) = decode_all(&data);
        assert_eq!((records.len(), len), (1, a.len()));
        // A flipped bit in the second record's payload: the same.
        let mut flipped = [a.clone(), b.clone()].concat();
        let last = flipped.len() - 1;
        flipped[last] ^= 1;
        assert_eq!(decode_all(&flipped).1, a.len());
        // Zeros after the records (a preallocated or torn tail) end them.
        let mut zeros = a.clone();
        zeros.extend([0; 64]);
        assert_eq!(decode_all(&zeros).1, a.len());
    }

    #[test]
    fn segments_are_listed_newest_first() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir(dir.path().join(WAL_DIR)).unwrap();
        for seq in [3, 10, 1] {
            fs::write(segment_path(dir.path(), seq), b"").unwrap();
        }
        fs::write(dir.path().join(WAL_DIR).join("notes.txt"), b"").unwrap();
        let seqs: Vec<u64> = segments(dir.path())
            .unwrap()
            .into_iter()
            .map(|s| s.0)
            .collect();
        assert_eq!(seqs, vec![10, 3, 1]);
    }
}
