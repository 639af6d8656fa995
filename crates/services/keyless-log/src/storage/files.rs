//! The embedded default: files in the C2SP tlog-tiles layout.
//!
//! ```text
//! <data_dir>/checkpoint                 the latest signed checkpoint
//! <data_dir>/tile/<L>/<N>[.p/<W>]       Merkle tree tiles
//! <data_dir>/tile/entries/<N>[.p/<W>]   entry bundles
//! <data_dir>/meta                       48-byte records: integrated time, artifact hash
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
//! A commit costs two rounds of fsync latency. Round 1 writes every
//! changed tile and entry bundle, the metadata records and the new
//! checkpoint (under a temporary name), then fsyncs all of them and every
//! directory that got a new name, concurrently (the file system folds
//! concurrent fsyncs into few journal commits). Round 2 renames the
//! checkpoint into place and fsyncs the root: the commit point.
//!
//! Tiles are written in place, not via rename: each tile in a commit is
//! wider than the committed one, so its path (`…/N.p/W`, or the full
//! tile) is one no published checkpoint refers to yet. A crash can leave a
//! torn file only past the durable checkpoint; it is never read (reads go
//! to committed widths) and the next commit rewrites it. `meta` holds
//! fixed-size records at `index · 48`, each with a checksum; records past
//! the checkpoint's size are truncated on recovery. The checkpoint itself
//! is replaced atomically: written under `checkpoint.tmp`, fsynced, then
//! exchanged with `checkpoint` and the directory fsynced (see
//! `swap_into_place`); `checkpoint.tmp` then holds the previous checkpoint
//! until the next commit overwrites it.

use std::collections::BTreeSet;
use std::fs::{self, File, OpenOptions};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use keyless_tlog::TileId;

use super::lock::lock_file;
use super::sync_pool::SyncPool;
use super::{Commit, EntryMeta, Storage};
use crate::error::StorageError;

const META_RECORD: u64 = 48;

/// Name of the lock file inside the data directory.
pub const LOCK_FILE: &str = "LOCK";

/// File storage rooted at a data directory.
#[derive(Debug)]
pub struct FileStorage {
    root: PathBuf,
    meta: Mutex<File>,
    /// Runs each commit's fsyncs concurrently.
    sync: SyncPool,
    /// Holds the exclusive lock on `LOCK` until the storage is dropped.
    _lock: File,
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
    /// Open (creating if needed) the store in `root`. Fails with
    /// [`StorageError::Locked`] while another storage has it open.
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
        sync_dir(root)?;
        Ok(Self {
            root: root.to_path_buf(),
            meta: Mutex::new(meta),
            sync: SyncPool::start()?,
            _lock: lock,
        })
    }

    fn tile_path(&self, id: &TileId) -> PathBuf {
        self.root.join(id.path())
    }

    /// Write `data` at `path` (under a temporary name if `tmp`), not yet
    /// synced. Records every directory that gets a new
    /// entry (the file's, and the parents of directories created), since
    /// those need an fsync before the commit point.
    fn stage(
        &self,
        path: &Path,
        data: &[u8],
        tmp: bool,
        dirs: &mut BTreeSet<PathBuf>,
    ) -> Result<Staged, StorageError> {
        let dir = path.parent().unwrap_or(&self.root).to_path_buf();
        if !dir.exists() {
            fs::create_dir_all(&dir).map_err(|e| StorageError::io("create", &dir, e))?;
            let mut d = dir.as_path();
            while let Some(parent) = d.parent() {
                dirs.insert(parent.to_path_buf());
                if parent == self.root {
                    break;
                }
                d = parent;
            }
        }
        dirs.insert(dir);
        let tmp = if tmp {
            let mut tmp_name = path
                .file_name()
                .map(|n| n.to_os_string())
                .unwrap_or_default();
            tmp_name.push(".tmp");
            path.with_file_name(tmp_name)
        } else {
            path.to_path_buf()
        };
        // Overwrite in place, then trim: truncating first would free the
        // file's block and allocate a new one on every commit for the
        // staged checkpoint, which is rewritten each time.
        let file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(false)
            .open(&tmp)
            .map_err(|e| StorageError::io("create", &tmp, e))?;
        file.write_all_at(data, 0)
            .and_then(|()| file.set_len(data.len() as u64))
            .map_err(|e| StorageError::io("write", &tmp, e))?;
        Ok(Staged {
            tmp,
            path: path.to_path_buf(),
            file,
        })
    }

    fn meta_lock(&self) -> std::sync::MutexGuard<'_, File> {
        // A panic while holding the lock cannot leave the file in a state
        // recovery does not handle, so a poisoned lock is still usable.
        self.meta.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A file written under a temporary name, to be synced and renamed.
struct Staged {
    /// Where the data was written.
    tmp: PathBuf,
    /// Where it belongs.
    path: PathBuf,
    file: File,
}

/// Atomically make `staged` the file at `path`. Where the file system
/// can (ext4, XFS, btrfs, tmpfs), the two names are exchanged
/// (`renameat2(RENAME_EXCHANGE)`) rather than `path` being replaced: the
/// previous checkpoint lands under the staging name and is overwritten by
/// the next commit, so no inode is freed and allocated per commit. With a
/// replacing rename, every commit deletes an inode, and ext4's inode
/// allocator then spends its time skipping recently deleted inodes on
/// every file the following commits create (a third of the committer's
/// CPU under load, measured with perf).
fn swap_into_place(staged: &Path, path: &Path) -> Result<(), StorageError> {
    use rustix::fs::{renameat_with, RenameFlags, CWD};
    match renameat_with(CWD, staged, CWD, path, RenameFlags::EXCHANGE) {
        Ok(()) => Ok(()),
        // No file at `path` yet (the first commit), or no exchange here.
        Err(e)
            if e == rustix::io::Errno::NOENT
                || e == rustix::io::Errno::INVAL
                || e == rustix::io::Errno::NOSYS =>
        {
            fs::rename(staged, path).map_err(|e| StorageError::io("rename", path, e))
        }
        Err(e) => Err(StorageError::io("rename", path, e.into())),
    }
}

fn sync_dir(dir: &Path) -> Result<(), StorageError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| StorageError::io("fsync directory", dir, e))
}

fn encode_meta(m: &EntryMeta) -> [u8; META_RECORD as usize] {
    let mut r = [0u8; META_RECORD as usize];
    r[..8].copy_from_slice(&m.sequenced_at.to_be_bytes());
    if let Some(d) = m.lookup_key {
        r[8] = 1;
        r[12..44].copy_from_slice(&d);
    }
    let check = keyless_crypto::sha256(&r[..44]);
    r[44..].copy_from_slice(&check[..4]);
    r
}

fn decode_meta(index: u64, r: &[u8]) -> Result<EntryMeta, StorageError> {
    let bad = |problem: &str| StorageError::Malformed {
        what: format!("meta record {index}"),
        problem: problem.into(),
    };
    if r.len() != META_RECORD as usize {
        return Err(bad("short record"));
    }
    if keyless_crypto::sha256(&r[..44])[..4] != r[44..] {
        return Err(bad("checksum mismatch"));
    }
    let mut t = [0u8; 8];
    t.copy_from_slice(&r[..8]);
    let lookup_key = match r[8] {
        0 => None,
        1 => {
            let mut d = [0u8; 32];
            d.copy_from_slice(&r[12..44]);
            Some(d)
        }
        _ => return Err(bad("unknown flag")),
    };
    Ok(EntryMeta {
        sequenced_at: i64::from_be_bytes(t),
        lookup_key,
    })
}

impl Storage for FileStorage {
    fn commit(&self, commit: &Commit) -> Result<(), StorageError> {
        let meta_path = self.root.join("meta");
        let meta = self.meta_lock();
        let mut buf = Vec::with_capacity(commit.meta.len() * META_RECORD as usize);
        for m in &commit.meta {
            buf.extend_from_slice(&encode_meta(m));
        }
        meta.write_all_at(&buf, commit.first_index * META_RECORD)
            .map_err(|e| StorageError::io("write", &meta_path, e))?;
        // Round 1: metadata, every changed tile, the directories that
        // got new names, and the next checkpoint (under a temporary name),
        // all synced concurrently. Tiles are written in place: each one in
        // a commit is wider than the committed tile, so its path is one no
        // published checkpoint refers to yet (a crash leaves at most a torn
        // file past the checkpoint, rewritten by the next commit).
        let mut dirs = BTreeSet::new();
        let mut staged = Vec::with_capacity(commit.tiles.len() + 1);
        for (id, data) in &commit.tiles {
            staged.push(self.stage(&self.tile_path(id), data, false, &mut dirs)?);
        }
        let checkpoint = self.stage(
            &self.root.join("checkpoint"),
            commit.checkpoint.as_bytes(),
            true,
            &mut BTreeSet::new(),
        )?;
        let dir_files = dirs
            .iter()
            .map(|d| {
                File::open(d)
                    .map(|f| (d.clone(), f))
                    .map_err(|e| StorageError::io("open directory", d, e))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let mut files: Vec<(&Path, &File)> = staged
            .iter()
            .chain([&checkpoint])
            .map(|s| (s.tmp.as_path(), &s.file))
            .collect();
        files.push((&meta_path, &meta));
        files.extend(dir_files.iter().map(|(p, f)| (p.as_path(), f)));
        self.sync.sync_all(&files)?;
        // Round 2, the commit point: only now does the new size exist.
        swap_into_place(&checkpoint.tmp, &checkpoint.path)?;
        sync_dir(&self.root)
    }

    fn read_checkpoint(&self) -> Result<Option<String>, StorageError> {
        let path = self.root.join("checkpoint");
        match fs::read(&path) {
            Ok(b) => String::from_utf8(b)
                .map(Some)
                .map_err(|_| StorageError::Malformed {
                    what: "checkpoint".into(),
                    problem: "not UTF-8".into(),
                }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(StorageError::io("read", &path, e)),
        }
    }

    fn read_tile(&self, id: &TileId) -> Result<Option<Vec<u8>>, StorageError> {
        let path = self.tile_path(id);
        match fs::read(&path) {
            Ok(b) => Ok(Some(b)),
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
mod tests {
    use super::*;
    use keyless_tlog::TileKind;

    #[test]
    fn a_second_opener_is_refused_until_the_first_closes() {
        let dir = tempfile::tempdir().unwrap();
        let first = FileStorage::open(dir.path()).unwrap();
        let err = FileStorage::open(dir.path()).unwrap_err();
        assert!(matches!(err, StorageError::Locked { .. }), "{err}");
        let msg = err.to_string();
        assert!(msg.contains("in use by another keyless log"), "{msg}");
        assert!(
            msg.contains(&dir.path().join(LOCK_FILE).display().to_string()),
            "{msg}"
        );
        drop(first);
        FileStorage::open(dir.path()).expect("free again once closed");
    }

    #[test]
    fn commit_then_read_and_recover() {
        let dir = tempfile::tempdir().unwrap();
        let s = FileStorage::open(dir.path()).unwrap();
        assert_eq!(s.read_checkpoint().unwrap(), None);
        let id = TileId {
            kind: TileKind::Hashes { level: 0 },
            index: 1234,
            width: 2,
        };
        let m = EntryMeta {
            sequenced_at: 42,
            lookup_key: Some([9; 32]),
        };
        s.commit(&Commit {
            first_index: 0,
            meta: vec![m, m],
            tiles: vec![(id, vec![1; 64])],
            checkpoint: "cp\n".into(),
        })
        .unwrap();
        assert_eq!(s.read_checkpoint().unwrap().as_deref(), Some("cp\n"));
        assert_eq!(s.read_tile(&id).unwrap(), Some(vec![1; 64]));
        assert!(dir.path().join("tile/0/x001/234.p/2").exists());
        assert_eq!(s.read_meta(1, 1).unwrap(), vec![m]);
        // Records past the committed size are dropped; missing ones are an error.
        s.recover(1).unwrap();
        assert!(s.read_meta(1, 1).is_err());
        assert!(s.recover(2).is_err());
        // A flipped bit is caught by the checksum.
        let f = OpenOptions::new()
            .write(true)
            .open(dir.path().join("meta"))
            .unwrap();
        f.write_all_at(&[0xff], 3).unwrap();
        assert!(matches!(
            s.read_meta(0, 1),
            Err(StorageError::Malformed { .. })
        ));
    }
}
