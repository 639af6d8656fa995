//! The embedded default: files in the C2SP tlog-tiles layout, made
//! durable through a write-ahead log.
//!
//! ```text
//! <data_dir>/checkpoint                 the latest signed checkpoint
//! <data_dir>/tile/<L>/<N>               full Merkle tree tiles
//! <data_dir>/tile/entries/<N>           full entry bundles
//! <data_dir>/meta                       48-byte records: integrated time, artifact hash
//! <data_dir>/wal/<seq>.log              commits not yet in the files above for sure (see super::wal)
//! <data_dir>/LOCK                       held (flock) while a log has the directory open
//! <data_dir>/index/                    entry index (leaf and artifact hashes), see super::run_index,
//!                                       and v1 search index, see super::search_runs
//! ```
//!
//! One writer only: two logs appending to the same files would interleave
//! tiles and checkpoints and corrupt the history both had signed. Opening
//! takes an exclusive lock on `LOCK`, kept for the life of the storage; a
//! second opener, in this process or another, fails at once with
//! [`StorageError::Locked`]. The kernel drops the lock when the process
//! dies, so a crash never leaves the directory locked.
//!
//! A commit is durable once its record is in the write-ahead log (one
//! append, one `fdatasync`; see [`super::wal`]). Then the tiles that the
//! batch filled are written as files, the metadata records at their
//! offset and the checkpoint (swapped into place), all without fsync:
//! they are fsynced in bulk when the write-ahead segment is retired, and a
//! crash before that is repaired by replaying the segment on open.
//!
//! Partial tiles are not files: they grow with every commit, and creating
//! a new `…/N.p/W` file per commit (an inode, a directory entry and their
//! fsyncs, for every level) cost more than everything else in a commit
//! (measured: `cargo bench -p keyless-ca --bench issue`, see the CA's
//! PERFORMANCE.md). They live in memory, as of the last commit, and in
//! the write-ahead log; any width up to the committed one is served as
//! its prefix. A directory written by an earlier version, with `.p/W`
//! files, is read as it is: a partial tile that is not in memory is read
//! from its file.

use std::collections::BTreeSet;
use std::fs::{self, File, OpenOptions};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, RwLock};

use keyless_tlog::tiles::TILE_WIDTH;
use keyless_tlog::TileId;

use super::lock::lock_file;
use super::partials::{self, Partials};
use super::sync_pool::SyncPool;
use super::wal::{self, Record, RecordKind, Segment, SEGMENT_MAX, WAL_DIR};
use super::{Commit, EntryMeta, Storage};
use crate::error::StorageError;
use disk::{
    decode_meta, encode_meta, read_checkpoint_file, sync_dir, write_checkpoint_file, write_file,
    META_RECORD,
};
use replay::Replay;

mod disk;
mod replay;

/// Name of the lock file inside the data directory.
pub const LOCK_FILE: &str = "LOCK";

/// File storage rooted at a data directory.
#[derive(Debug)]
pub struct FileStorage {
    root: PathBuf,
    meta: Mutex<File>,
    /// Partial tiles as of the last commit (never files; see the module
    /// documentation).
    partials: RwLock<Partials>,
    /// The last committed checkpoint.
    checkpoint: RwLock<Option<String>>,
    /// The open write-ahead segment and what was written since it began.
    wal: Mutex<WalState>,
    /// Runs the fsyncs of a segment's retirement concurrently.
    sync: SyncPool,
    /// A segment this long is retired ([`SEGMENT_MAX`]; smaller in tests).
    segment_max: u64,
    /// Holds the exclusive lock on `LOCK` until the storage is dropped.
    _lock: File,
}

/// The open segment, and the files written (not fsynced) since it began:
/// they must be durable before the segment may be deleted.
#[derive(Debug)]
struct WalState {
    /// `None` only while the storage is being opened.
    segment: Option<Segment>,
    written: BTreeSet<PathBuf>,
}

/// Take the data directory's lock, or say who has it.
fn lock(root: &Path) -> Result<File, StorageError> {
    // A lock that was just released can still look held for a moment: a
    // process forked (to exec a child) while the previous holder had the
    // file open keeps a copy of that descriptor until its exec closes it.
    // So a busy lock is retried briefly before it counts as "in use".
    lock_file(root, &root.join(LOCK_FILE), LOCK_WAIT)
}

/// How long a held lock is retried before opening fails as `Locked`.
const LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(1);

impl FileStorage {
    /// Open (creating if needed) the store in `root`, replaying the
    /// write-ahead log. Fails with [`StorageError::Locked`] while another
    /// storage has it open.
    pub fn open(root: &Path) -> Result<Self, StorageError> {
        fs::create_dir_all(root).map_err(|e| StorageError::io("create", root, e))?;
        let lock = lock(root)?;
        let meta_path = root.join("meta");
        let meta = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&meta_path)
            .map_err(|e| StorageError::io("open", &meta_path, e))?;
        let segments = wal::segments(root)?;
        let next_seq = segments.first().map_or(1, |s| s.0 + 1);
        let mut replay = Replay {
            root,
            meta: &meta,
            partials: Partials::default(),
            checkpoint: None,
            written: BTreeSet::new(),
        };
        if !replay.newest_segment(&segments)? {
            // No write-ahead log yet: a new directory, or one written by
            // an earlier version, whose files are durable as they are.
            replay.checkpoint = read_checkpoint_file(root)?;
        }
        let Replay {
            partials,
            checkpoint,
            written,
            ..
        } = replay;
        let storage = Self {
            root: root.to_path_buf(),
            meta: Mutex::new(meta),
            partials: RwLock::new(partials),
            checkpoint: RwLock::new(checkpoint),
            // The retirement below opens the first segment.
            wal: Mutex::new(WalState {
                segment: None,
                written,
            }),
            sync: SyncPool::start()?,
            segment_max: SEGMENT_MAX,
            _lock: lock,
        };
        {
            let mut wal = storage.wal_lock();
            storage.retire(&mut wal, next_seq)?;
        }
        Ok(storage)
    }

    fn tile_path(&self, id: &TileId) -> PathBuf {
        self.root.join(id.path())
    }

    fn meta_lock(&self) -> std::sync::MutexGuard<'_, File> {
        // A panic while holding the lock cannot leave the file in a state
        // recovery does not handle, so a poisoned lock is still usable.
        self.meta.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn wal_lock(&self) -> std::sync::MutexGuard<'_, WalState> {
        self.wal.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Make every file written since the open segment began durable, then
    /// start segment `seq` with a snapshot of the partial tiles and the
    /// checkpoint, and delete the older segments.
    fn retire(&self, wal: &mut WalState, seq: u64) -> Result<(), StorageError> {
        let meta_path = self.root.join("meta");
        let mut paths: Vec<PathBuf> = std::mem::take(&mut wal.written).into_iter().collect();
        // Every directory between a written file and the root may have
        // got a new entry (a tile directory created for it).
        let mut dirs = BTreeSet::new();
        for p in &paths {
            for dir in p.ancestors().skip(1) {
                if !dir.starts_with(&self.root) || !dirs.insert(dir.to_path_buf()) {
                    break;
                }
            }
        }
        dirs.insert(self.root.clone());
        paths.extend(dirs);
        let opened = paths
            .iter()
            .map(|p| File::open(p).map_err(|e| StorageError::io("open", p, e)))
            .collect::<Result<Vec<_>, _>>()?;
        let meta = self.meta_lock();
        let mut files: Vec<(&Path, &File)> =
            paths.iter().map(PathBuf::as_path).zip(&opened).collect();
        files.push((&meta_path, &meta));
        self.sync.sync_all(&files)?;
        drop(meta);

        let partials = read(&self.partials);
        let checkpoint = read(&self.checkpoint);
        let record = wal::encode(&Record {
            kind: RecordKind::Snapshot,
            first_index: 0,
            checkpoint: checkpoint.as_deref().unwrap_or("").as_bytes(),
            meta: &[],
            tiles: partials.snapshot(),
        })?;
        drop((partials, checkpoint));
        let dir = self.root.join(WAL_DIR);
        fs::create_dir_all(&dir).map_err(|e| StorageError::io("create", &dir, e))?;
        let path = wal::segment_path(&self.root, seq);
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(&path)
            .map_err(|e| StorageError::io("create", &path, e))?;
        file.write_all_at(&record, 0)
            .and_then(|()| file.sync_all())
            .map_err(|e| StorageError::io("write", &path, e))?;
        sync_dir(&dir)?;
        sync_dir(&self.root)?;
        for (old, old_path) in wal::segments(&self.root)? {
            if old != seq {
                match fs::remove_file(&old_path) {
                    Ok(()) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => return Err(StorageError::io("remove", &old_path, e)),
                }
            }
        }
        wal.segment = Some(Segment {
            seq,
            file,
            path,
            len: record.len() as u64,
        });
        Ok(())
    }
}

fn read<T>(lock: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(|p| p.into_inner())
}

fn write<T>(lock: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    lock.write().unwrap_or_else(|p| p.into_inner())
}

impl Storage for FileStorage {
    fn commit(&self, commit: &Commit) -> Result<(), StorageError> {
        let mut wal = self.wal_lock();
        let wal = &mut *wal;
        let seq = match &wal.segment {
            Some(s) if s.len < self.segment_max => None,
            Some(s) => Some(s.seq + 1),
            None => Some(1),
        };
        if let Some(seq) = seq {
            self.retire(wal, seq)?;
        }
        let mut meta = Vec::with_capacity(commit.meta.len() * META_RECORD as usize);
        for m in &commit.meta {
            meta.extend_from_slice(&encode_meta(m));
        }
        // What each tile gains. Only this method changes the partial
        // tiles, under the write-ahead lock held here, so the deltas are
        // still the right ones when they are applied below.
        let record = Record {
            kind: RecordKind::Commit,
            first_index: commit.first_index,
            checkpoint: commit.checkpoint.as_bytes(),
            meta: &meta,
            tiles: {
                let partials = read(&self.partials);
                commit
                    .tiles
                    .iter()
                    .map(|(id, data)| partials.delta(id, data))
                    .collect::<Result<Vec<_>, _>>()?
            },
        };
        let encoded = wal::encode(&record)?;
        let segment = wal
            .segment
            .as_mut()
            .ok_or_else(|| StorageError::Malformed {
                what: "write-ahead log".into(),
                problem: "no open segment".into(),
            })?;
        // The commit point: one append, one fdatasync.
        segment
            .file
            .write_all_at(&encoded, segment.len)
            .and_then(|()| segment.file.sync_data())
            .map_err(|e| StorageError::io("append", &segment.path, e))?;
        segment.len += encoded.len() as u64;

        // The public files, replayed from the segment if lost before it
        // is retired. A tile that fills leaves memory here, so its file
        // is written before the lock is released: a reader must find it
        // in one place or the other.
        {
            let mut partials = write(&self.partials);
            for ((id, _), delta) in commit.tiles.iter().zip(record.tiles) {
                if let Some(full) = partials.apply(delta)? {
                    let path = self.tile_path(id);
                    write_file(&path, &full)?;
                    wal.written.insert(path);
                }
            }
        }
        if !meta.is_empty() {
            let meta_path = self.root.join("meta");
            self.meta_lock()
                .write_all_at(&meta, commit.first_index * META_RECORD)
                .map_err(|e| StorageError::io("write", &meta_path, e))?;
        }
        write_checkpoint_file(&self.root, &commit.checkpoint)?;
        *write(&self.checkpoint) = Some(commit.checkpoint.clone());
        Ok(())
    }

    fn read_checkpoint(&self) -> Result<Option<String>, StorageError> {
        Ok(read(&self.checkpoint).clone())
    }

    fn read_tile(&self, id: &TileId) -> Result<Option<Vec<u8>>, StorageError> {
        if let Some(bytes) = read(&self.partials).read(id)? {
            return Ok(Some(bytes));
        }
        // A full tile, or a partial one left as a file by an earlier
        // version; else a narrower width of a tile that has filled since.
        let path = self.tile_path(id);
        match fs::read(&path) {
            Ok(b) => return Ok(Some(b)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(StorageError::io("read", &path, e)),
        }
        if id.is_full() {
            return Ok(None);
        }
        let full = TileId {
            width: TILE_WIDTH as u16,
            ..*id
        };
        let path = self.tile_path(&full);
        match fs::read(&path) {
            Ok(b) => partials::prefix(id, &b).map(Some),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(StorageError::io("read", &path, e)),
        }
    }

    fn read_meta(&self, start: u64, count: u64) -> Result<Vec<EntryMeta>, StorageError> {
        let meta_path = self.root.join("meta");
        let len = usize::try_from(count.saturating_mul(META_RECORD)).map_err(|_| {
            StorageError::Malformed {
                what: "meta".into(),
                problem: "range too large".into(),
            }
        })?;
        let mut buf = vec![0u8; len];
        self.meta_lock()
            .read_exact_at(&mut buf, start * META_RECORD)
            .map_err(|e| StorageError::io("read", &meta_path, e))?;
        buf.chunks(META_RECORD as usize)
            .enumerate()
            .map(|(i, r)| decode_meta(start + i as u64, r))
            .collect()
    }

    fn open_index(&self) -> Result<Option<Box<dyn crate::index::EntryIndex>>, StorageError> {
        Ok(Some(Box::new(super::run_index::RunIndex::open(
            &self.root,
        )?)))
    }

    fn open_search_index(
        &self,
    ) -> Result<Option<Box<dyn super::search_index::SearchStore>>, StorageError> {
        Ok(Some(Box::new(super::search_runs::SearchRuns::open(
            &self.root,
        )?)))
    }

    fn recover(&self, size: u64) -> Result<(), StorageError> {
        let meta_path = self.root.join("meta");
        let meta = self.meta_lock();
        let len = meta
            .metadata()
            .map_err(|e| StorageError::io("stat", &meta_path, e))?
            .len();
        let want = size * META_RECORD;
        if len < want {
            return Err(StorageError::Malformed {
                what: "meta".into(),
                problem: format!(
                    "{len} bytes, but the checkpoint covers {size} entries ({want} bytes)"
                ),
            });
        }
        if len > want {
            meta.set_len(want)
                .map_err(|e| StorageError::io("truncate", &meta_path, e))?;
            meta.sync_all()
                .map_err(|e| StorageError::io("fsync", &meta_path, e))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
