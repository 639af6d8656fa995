//! The file backend's entry index: sorted runs on disk, so that
//! de-duplication and Rekor v1 lookups cover the whole log without holding
//! it in memory.
//!
//! ```text
//! <data_dir>/index/MANIFEST             indexed size and the live runs
//! <data_dir>/index/<kind>-<id>.run      (key prefix u64, index u64) pairs, sorted, big-endian
//! ```
//!
//! Keys are the first 8 bytes of the leaf hash or artifact digest (the
//! caller confirms candidates against the full value). New entries go to
//! a small in-memory buffer; every [`FLUSH_ENTRIES`] entries it is written
//! out as a sorted run, and runs of similar size are merged (a binary
//! counter), so there are O(log n) runs and each entry is rewritten
//! O(log n) times, always sequentially. A B-tree with random keys (redb,
//! tried first) instead rewrites about one page per insert once the tree
//! outgrows its cache, which cut in-library appends from ~145k/s to ~15k/s
//! at one million entries.
//!
//! Memory: the buffer (at most [`FLUSH_ENTRIES`] entries per kind) and
//! the first key of every 512-byte block of every run (0.25 bytes per
//! entry); a lookup reads about one block per run (one `pread`).
//!
//! Nothing here is the log's record: it is derived from the tiles and the
//! metadata. Runs are fsynced before the manifest that names them is
//! renamed into place, and superseded runs are deleted only after that;
//! the buffer is not persisted. After a crash, [`crate::Log::open`]
//! re-indexes from the manifest's size to the checkpoint; a manifest that
//! does not match its runs is discarded and the index rebuilt.

use std::fs::{self, File, OpenOptions};
use std::io::{BufReader, BufWriter, Read, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};

use keyless_tlog::Hash;

use crate::error::StorageError;
use crate::index::{EntryIndex, PrefixIndex};

/// Entries buffered in memory before they are written out as a run.
pub const FLUSH_ENTRIES: usize = 1 << 16;

/// Entries per block of the in-memory sparse index (512 bytes of run):
/// a lookup reads one block per run, and the sparse index costs 0.25
/// bytes per entry (2.5 MB at ten million entries).
const BLOCK: u64 = 32;
const PAIR: u64 = 16;

/// Directory of the index inside the data directory.
pub const INDEX_DIR: &str = "index";

fn key(h: &[u8; 32]) -> u64 {
    let mut p = [0u8; 8];
    p.copy_from_slice(&h[..8]);
    u64::from_be_bytes(p)
}

/// One sorted run file.
#[derive(Debug)]
struct Run {
    id: u64,
    file: File,
    len: u64,
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
struct RunSet {
    runs: Vec<Run>,
    buffer: Vec<(u64, u64)>,
    lookup: PrefixIndex,
}

/// Both kinds, the indexed size, and where they live.
#[derive(Debug)]
struct Inner {
    dir: PathBuf,
    size: u64,
    next_id: u64,
    leaves: RunSet,
    artifacts: RunSet,
}

/// The entry index in `<data_dir>/index/`.
#[derive(Debug)]
pub struct RunIndex {
    inner: RwLock<Inner>,
}

fn run_path(dir: &Path, kind: &str, id: u64) -> PathBuf {
    dir.join(format!("{kind}-{id}.run"))
}

fn malformed(problem: String) -> StorageError {
    StorageError::Malformed {
        what: "entry index".into(),
        problem,
    }
}

/// Open an existing run and build its sparse index.
fn load_run(dir: &Path, kind: &str, id: u64, len: u64) -> Result<Run, StorageError> {
    let path = run_path(dir, kind, id);
    let file = File::open(&path).map_err(|e| StorageError::io("open", &path, e))?;
    let actual = file
        .metadata()
        .map_err(|e| StorageError::io("stat", &path, e))?
        .len();
    if actual != len * PAIR {
        return Err(malformed(format!(
            "{} has {actual} bytes, the manifest says {len} entries",
            path.display()
        )));
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
    fn push(&mut self, k: &[u8; 32], index: u64) {
        self.lookup.insert(k, index);
        self.buffer.push((key(k), index));
    }

    fn candidates(&self, dir: &Path, kind: &str, k: &[u8; 32]) -> Result<Vec<u64>, StorageError> {
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
    /// at least as large as the one before it. Returns the runs replaced.
    fn flush(
        &mut self,
        dir: &Path,
        kind: &str,
        next_id: &mut u64,
    ) -> Result<Vec<u64>, StorageError> {
        let mut replaced = Vec::new();
        if self.buffer.is_empty() {
            return Ok(replaced);
        }
        let mut buffer = std::mem::take(&mut self.buffer);
        buffer.sort_unstable();
        let id = *next_id;
        *next_id += 1;
        let mut run = write_run(dir, kind, id, buffer.into_iter().map(Ok))?;
        self.lookup = PrefixIndex::default();
        while let Some(prev) = self.runs.last() {
            if prev.len > run.len {
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
                    stream(&run, run_path(dir, kind, run.id)),
                ),
            )?;
            replaced.push(prev.id);
            replaced.push(run.id);
            self.runs.pop();
            run = merged;
        }
        self.runs.push(run);
        Ok(replaced)
    }
}

impl Inner {
    fn manifest(&self) -> String {
        let mut s = format!(
            "keyless-log index v1\nsize {}\nnext {}\n",
            self.size, self.next_id
        );
        for (kind, set) in [("leaves", &self.leaves), ("artifacts", &self.artifacts)] {
            for r in &set.runs {
                s.push_str(&format!("{kind} {} {}\n", r.id, r.len));
            }
        }
        s
    }

    fn write_manifest(&self) -> Result<(), StorageError> {
        let tmp = self.dir.join("MANIFEST.tmp");
        let path = self.dir.join("MANIFEST");
        fs::write(&tmp, self.manifest())
            .and_then(|()| File::open(&tmp)?.sync_all())
            .map_err(|e| StorageError::io("write", &tmp, e))?;
        fs::rename(&tmp, &path).map_err(|e| StorageError::io("rename", &path, e))?;
        File::open(&self.dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| StorageError::io("fsync directory", &self.dir, e))
    }

    /// Flush both buffers and record the indexed size.
    fn flush(&mut self) -> Result<(), StorageError> {
        let dir = self.dir.clone();
        let mut next = self.next_id;
        let mut gone: Vec<(&str, u64)> = Vec::new();
        gone.extend(
            self.leaves
                .flush(&dir, "leaves", &mut next)?
                .into_iter()
                .map(|i| ("leaves", i)),
        );
        gone.extend(
            self.artifacts
                .flush(&dir, "artifacts", &mut next)?
                .into_iter()
                .map(|i| ("artifacts", i)),
        );
        self.next_id = next;
        self.write_manifest()?;
        // Only now is no manifest naming them left.
        for (kind, id) in gone {
            let path = run_path(&dir, kind, id);
            if let Err(e) = fs::remove_file(&path) {
                tracing::warn!(path = %path.display(), error = %e, "could not remove a merged index run");
            }
        }
        Ok(())
    }

    fn load(dir: &Path) -> Result<Self, StorageError> {
        let mut inner = Inner {
            dir: dir.to_path_buf(),
            size: 0,
            next_id: 0,
            leaves: RunSet::default(),
            artifacts: RunSet::default(),
        };
        let path = dir.join("MANIFEST");
        let text = match fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(inner),
            Err(e) => return Err(StorageError::io("read", &path, e)),
        };
        let mut lines = text.lines();
        if lines.next() != Some("keyless-log index v1") {
            return Err(malformed("unknown manifest version".into()));
        }
        for line in lines {
            let words: Vec<&str> = line.split(' ').collect();
            let num = |i: usize| {
                words
                    .get(i)
                    .and_then(|w| w.parse::<u64>().ok())
                    .ok_or_else(|| malformed(format!("manifest line {line:?}")))
            };
            match words.first().copied() {
                Some("size") => inner.size = num(1)?,
                Some("next") => inner.next_id = num(1)?,
                Some(kind @ ("leaves" | "artifacts")) => {
                    let run = load_run(dir, kind, num(1)?, num(2)?)?;
                    if kind == "leaves" {
                        inner.leaves.runs.push(run);
                    } else {
                        inner.artifacts.runs.push(run);
                    }
                }
                _ => return Err(malformed(format!("manifest line {line:?}"))),
            }
        }
        Ok(inner)
    }
}

impl RunIndex {
    /// Open (creating if needed) the index under `data_dir`. The caller
    /// holds the data directory's lock. An index whose manifest and runs
    /// disagree (a crash between writing them that the file system did
    /// not order) is discarded: it is rebuilt from the log.
    pub fn open(data_dir: &Path) -> Result<Self, StorageError> {
        let dir = data_dir.join(INDEX_DIR);
        fs::create_dir_all(&dir).map_err(|e| StorageError::io("create", &dir, e))?;
        let inner = match Inner::load(&dir) {
            Ok(i) => i,
            Err(e) => {
                tracing::warn!(error = %e, "discarding the entry index; it will be rebuilt");
                let fresh = Inner {
                    dir: dir.clone(),
                    size: 0,
                    next_id: 0,
                    leaves: RunSet::default(),
                    artifacts: RunSet::default(),
                };
                fresh.write_manifest()?;
                fresh
            }
        };
        Ok(Self {
            inner: RwLock::new(inner),
        })
    }

    fn read(&self) -> RwLockReadGuard<'_, Inner> {
        // Writers leave `Inner` consistent at every `?`.
        self.inner.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write(&self) -> RwLockWriteGuard<'_, Inner> {
        self.inner.write().unwrap_or_else(|p| p.into_inner())
    }
}

impl EntryIndex for RunIndex {
    fn indexed_size(&self) -> Result<u64, StorageError> {
        Ok(self.read().size)
    }

    fn add(
        &self,
        first: u64,
        leaves: &[Hash],
        artifacts: &[Option<[u8; 32]>],
    ) -> Result<(), StorageError> {
        let mut inner = self.write();
        if first != inner.size {
            return Err(malformed(format!(
                "entries from {first} added to an index of {}",
                inner.size
            )));
        }
        for (k, l) in leaves.iter().enumerate() {
            inner.leaves.push(l, first + k as u64);
        }
        for (k, d) in artifacts.iter().enumerate() {
            if let Some(d) = d {
                inner.artifacts.push(d, first + k as u64);
            }
        }
        inner.size = first + leaves.len() as u64;
        if inner.leaves.buffer.len() >= FLUSH_ENTRIES {
            inner.flush()?;
        }
        Ok(())
    }

    fn leaf_candidates(&self, leaf: &Hash) -> Result<Vec<u64>, StorageError> {
        let inner = self.read();
        inner.leaves.candidates(&inner.dir, "leaves", leaf)
    }

    fn artifact_candidates(&self, digest: &[u8; 32]) -> Result<Vec<u64>, StorageError> {
        let inner = self.read();
        inner.artifacts.candidates(&inner.dir, "artifacts", digest)
    }

    fn clear(&self) -> Result<(), StorageError> {
        let mut inner = self.write();
        let old: Vec<(&str, u64)> = inner
            .leaves
            .runs
            .iter()
            .map(|r| ("leaves", r.id))
            .chain(inner.artifacts.runs.iter().map(|r| ("artifacts", r.id)))
            .collect();
        let dir = inner.dir.clone();
        inner.leaves = RunSet::default();
        inner.artifacts = RunSet::default();
        inner.size = 0;
        inner.write_manifest()?;
        for (kind, id) in old {
            let _ = fs::remove_file(run_path(&dir, kind, id));
        }
        Ok(())
    }
}

/// The buffered entries are not persisted (see the module docs), but
/// the indexed size in the manifest then lags what was added: on a clean
/// close, flush, so the next open has little to re-index.
impl Drop for RunIndex {
    fn drop(&mut self) {
        let inner = self.inner.get_mut().unwrap_or_else(|p| p.into_inner());
        if let Err(e) = inner.flush() {
            tracing::warn!(error = %e, "could not write the entry index on close");
        }
    }
}

#[cfg(test)]
mod tests;
