//! Sorted runs of (u64 key prefix, u64 entry index) pairs on disk: the
//! storage shared by the file backend's derived lookups (the entry index,
//! [`super::run_index`], and the v1 search index, [`super::search_runs`]),
//! so that each covers the whole log without holding it in memory.
//!
//! ```text
//! <dir>/<manifest>          covered size, next run id, and the live runs of each kind
//! <dir>/<kind>-<id>.run     (key prefix u64, index u64) pairs, sorted, big-endian
//! ```
//!
//! Keys are the first 8 bytes of a SHA-256 (the caller confirms
//! candidates against the full value). New pairs go to a small in-memory
//! buffer; every [`FLUSH_ENTRIES`] pairs it is written out as a sorted
//! run, and runs of similar size are merged (a binary counter), so there
//! are O(log n) runs and each pair is rewritten O(log n) times, always
//! sequentially. A B-tree with random keys (redb, tried first) instead
//! rewrites about one page per insert once the tree outgrows its cache,
//! which cut in-library appends from ~145k/s to ~15k/s at one million
//! entries.
//!
//! Memory: the buffer (at most [`FLUSH_ENTRIES`] pairs per kind) and the
//! first key of every 512-byte block of every run (0.25 bytes per pair);
//! a lookup reads about one block per run (one `pread`).
//!
//! A [`RunSet`] is one kind of key; a [`Manifest`] names the runs of one
//! or more kinds and the size they cover. Runs are fsynced before the
//! manifest that names them is renamed into place, and superseded runs
//! are deleted only after that; buffers are not persisted, so the
//! manifest's size is what the runs cover.

pub(crate) mod manifest;

use std::fs::{File, OpenOptions};
use std::io::{BufReader, BufWriter, Read, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use crate::error::StorageError;
use crate::index::PrefixIndex;

/// Pairs buffered in memory (per kind) before they are written out as a run.
pub const FLUSH_ENTRIES: usize = 1 << 16;

/// Pairs per block of the in-memory sparse index (512 bytes of run):
/// a lookup reads one block per run, and the sparse index costs 0.25
/// bytes per pair (2.5 MB at ten million).
const BLOCK: u64 = 32;
const PAIR: u64 = 16;

fn key(h: &[u8; 32]) -> u64 {
    let mut p = [0u8; 8];
    p.copy_from_slice(&h[..8]);
    u64::from_be_bytes(p)
}

/// One sorted run file.
#[derive(Debug)]
pub(crate) struct Run {
    pub(crate) id: u64,
    file: File,
    /// Pairs in the run.
    pub(crate) len: u64,
    /// First key of every block.
    firsts: Vec<u64>,
}

impl Run {
    /// Add the values of block `b` under key `p` to `out`; `false` once
    /// a larger key shows no later block can hold `p`.
    fn scan_block(
        &self,
        b: u64,
        p: u64,
        out: &mut Vec<u64>,
        path: impl FnOnce() -> PathBuf,
    ) -> Result<bool, StorageError> {
        let n = BLOCK.min(self.len - b * BLOCK);
        let mut buf = [0u8; (BLOCK * PAIR) as usize];
        let buf = &mut buf[..(n * PAIR) as usize];
        self.file
            .read_exact_at(buf, b * BLOCK * PAIR)
            .map_err(|e| StorageError::io("read", &path(), e))?;
        for c in buf.chunks_exact(PAIR as usize) {
            let (k, v) = decode_pair(c);
            if k == p {
                out.push(v);
            } else if k > p {
                return Ok(false);
            }
        }
        Ok(true)
    }
}

fn decode_pair(c: &[u8]) -> (u64, u64) {
    let mut k = [0u8; 8];
    let mut v = [0u8; 8];
    k.copy_from_slice(&c[..8]);
    v.copy_from_slice(&c[8..16]);
    (u64::from_be_bytes(k), u64::from_be_bytes(v))
}

/// The runs and buffer of one kind of key.
#[derive(Debug, Default)]
pub(crate) struct RunSet {
    pub(crate) runs: Vec<Run>,
    /// Pairs not yet in a run.
    pub(crate) buffer: Vec<(u64, u64)>,
    /// The buffer again, by key, so lookups need not scan it.
    lookup: PrefixIndex,
}

pub(crate) fn run_path(dir: &Path, kind: &str, id: u64) -> PathBuf {
    dir.join(format!("{kind}-{id}.run"))
}

/// Open an existing run and build its sparse index.
fn load_run(dir: &Path, kind: &str, id: u64, len: u64) -> Result<Run, StorageError> {
    let path = run_path(dir, kind, id);
    let file = File::open(&path).map_err(|e| StorageError::io("open", &path, e))?;
    let actual = file
        .metadata()
        .map_err(|e| StorageError::io("stat", &path, e))?
        .len();
    if Some(actual) != len.checked_mul(PAIR) {
        return Err(StorageError::Malformed {
            what: path.display().to_string(),
            problem: format!("{actual} bytes, but the manifest says {len} entries"),
        });
    }
    let mut firsts = Vec::with_capacity(len.div_ceil(BLOCK) as usize);
    let mut reader = BufReader::with_capacity(1 << 16, &file);
    let mut pair = [0u8; PAIR as usize];
    for i in 0..len {
        reader
            .read_exact(&mut pair)
            .map_err(|e| StorageError::io("read", &path, e))?;
        if i % BLOCK == 0 {
            firsts.push(decode_pair(&pair).0);
        }
    }
    Ok(Run {
        id,
        file,
        len,
        firsts,
    })
}

/// Write sorted `pairs` as run `id` (fsynced: a manifest will name it).
fn write_run(
    dir: &Path,
    kind: &str,
    id: u64,
    pairs: impl Iterator<Item = Result<(u64, u64), StorageError>>,
) -> Result<Run, StorageError> {
    let path = run_path(dir, kind, id);
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open(&path)
        .map_err(|e| StorageError::io("create", &path, e))?;
    let mut firsts = Vec::new();
    let mut len = 0u64;
    {
        let mut w = BufWriter::with_capacity(1 << 16, &file);
        for p in pairs {
            let (k, v) = p?;
            if len.is_multiple_of(BLOCK) {
                firsts.push(k);
            }
            w.write_all(&k.to_be_bytes())
                .and_then(|()| w.write_all(&v.to_be_bytes()))
                .map_err(|e| StorageError::io("write", &path, e))?;
            len += 1;
        }
        w.flush().map_err(|e| StorageError::io("write", &path, e))?;
    }
    file.sync_all()
        .map_err(|e| StorageError::io("fsync", &path, e))?;
    Ok(Run {
        id,
        file,
        len,
        firsts,
    })
}

/// The pairs of a run, in order. Reads by offset (`pread`), since the
/// file's cursor is wherever writing it left it.
fn stream(run: &Run, path: PathBuf) -> impl Iterator<Item = Result<(u64, u64), StorageError>> + '_ {
    const CHUNK: u64 = 4096;
    let mut buf: Vec<(u64, u64)> = Vec::new();
    let mut next = 0u64;
    let mut pos = 0usize;
    std::iter::from_fn(move || {
        if pos == buf.len() {
            if next >= run.len {
                return None;
            }
            let n = CHUNK.min(run.len - next);
            let mut bytes = vec![0u8; (n * PAIR) as usize];
            if let Err(e) = run.file.read_exact_at(&mut bytes, next * PAIR) {
                next = run.len;
                buf.clear();
                pos = 0;
                return Some(Err(StorageError::io("read", &path, e)));
            }
            buf = bytes.chunks_exact(PAIR as usize).map(decode_pair).collect();
            pos = 0;
            next += n;
        }
        pos += 1;
        Some(Ok(buf[pos - 1]))
    })
}

/// Merge two sorted streams.
fn merge<'a>(
    mut a: impl Iterator<Item = Result<(u64, u64), StorageError>> + 'a,
    mut b: impl Iterator<Item = Result<(u64, u64), StorageError>> + 'a,
) -> impl Iterator<Item = Result<(u64, u64), StorageError>> + 'a {
    let mut x = a.next();
    let mut y = b.next();
    std::iter::from_fn(move || match (&x, &y) {
        (None, None) => None,
        (Some(Err(_)), _) | (Some(Ok(_)), None) => std::mem::replace(&mut x, a.next()),
        (None, Some(_)) | (Some(Ok(_)), Some(Err(_))) => std::mem::replace(&mut y, b.next()),
        (Some(Ok(p)), Some(Ok(q))) => {
            if p <= q {
                std::mem::replace(&mut x, a.next())
            } else {
                std::mem::replace(&mut y, b.next())
            }
        }
    })
}

impl RunSet {
    pub(crate) fn push(&mut self, k: &[u8; 32], index: u64) {
        self.lookup.insert(k, index);
        self.buffer.push((key(k), index));
    }

    /// Indices filed under `k`'s prefix, ascending.
    pub(crate) fn candidates(
        &self,
        dir: &Path,
        kind: &str,
        k: &[u8; 32],
    ) -> Result<Vec<u64>, StorageError> {
        let p = key(k);
        let mut out = Vec::new();
        for run in &self.runs {
            let mut b = run.firsts.partition_point(|&f| f < p).saturating_sub(1);
            while run.firsts.get(b).is_some_and(|&f| f <= p)
                && run.scan_block(b as u64, p, &mut out, || run_path(dir, kind, run.id))?
            {
                b += 1;
            }
        }
        out.extend(self.lookup.candidates(k));
        out.sort_unstable();
        Ok(out)
    }

    /// Write the buffer out as a run, then merge while the newest run is
    /// at least as large as the one before it; the ids of the runs merged
    /// away go to `replaced`. After an error the set is still whole (the
    /// buffer is kept until its run exists, runs are swapped for their
    /// merge only once it is written), so the next flush can retry.
    fn flush(
        &mut self,
        dir: &Path,
        kind: &str,
        next_id: &mut u64,
        replaced: &mut Vec<u64>,
    ) -> Result<(), StorageError> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        self.buffer.sort_unstable();
        let id = *next_id;
        *next_id += 1;
        let run = write_run(dir, kind, id, self.buffer.iter().copied().map(Ok))?;
        self.runs.push(run);
        self.buffer = Vec::new();
        self.lookup = PrefixIndex::default();
        while let [.., prev, last] = self.runs.as_slice() {
            if prev.len > last.len {
                break;
            }
            let id = *next_id;
            *next_id += 1;
            let merged = write_run(
                dir,
                kind,
                id,
                merge(
                    stream(prev, run_path(dir, kind, prev.id)),
                    stream(last, run_path(dir, kind, last.id)),
                ),
            )?;
            replaced.push(prev.id);
            replaced.push(last.id);
            self.runs.truncate(self.runs.len() - 2);
            self.runs.push(merged);
        }
        Ok(())
    }
}
