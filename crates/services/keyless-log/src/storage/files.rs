//! The embedded default: files in the C2SP tlog-tiles layout.
//!
//! ```text
//! <data_dir>/checkpoint                 the latest signed checkpoint
//! <data_dir>/tile/<L>/<N>[.p/<W>]       Merkle tree tiles
//! <data_dir>/tile/entries/<N>[.p/<W>]   entry bundles
//! <data_dir>/meta                       48-byte records: integrated time, artifact hash
//! ```
//!
//! Every file is replaced atomically (write a temporary file, fsync,
//! rename, fsync the directory), so a reader or a restart sees either the
//! old or the new contents, never a torn file. `meta` is the one file
//! written in place: fixed-size records at `index · 48`, each with a
//! checksum, fsynced before the checkpoint is replaced; records past the
//! checkpoint's size are truncated on recovery.

use std::collections::BTreeSet;
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use keyless_tlog::TileId;

use super::{Commit, EntryMeta, Storage};
use crate::error::StorageError;

const META_RECORD: u64 = 48;

/// File storage rooted at a data directory.
#[derive(Debug)]
pub struct FileStorage {
    root: PathBuf,
    meta: Mutex<File>,
}

impl FileStorage {
    /// Open (creating if needed) the store in `root`.
    pub fn open(root: &Path) -> Result<Self, StorageError> {
        fs::create_dir_all(root).map_err(|e| StorageError::io("create", root, e))?;
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
        })
    }

    fn tile_path(&self, id: &TileId) -> PathBuf {
        self.root.join(id.path())
    }

    /// Write `data` at `path` atomically, but leave the directory fsync to
    /// the caller (one per directory per commit). Records every directory
    /// that was created, since its parent then needs an fsync too.
    fn write_file(
        &self,
        path: &Path,
        data: &[u8],
        dirs: &mut BTreeSet<PathBuf>,
    ) -> Result<(), StorageError> {
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
        let mut tmp_name = path
            .file_name()
            .map(|n| n.to_os_string())
            .unwrap_or_default();
        tmp_name.push(".tmp");
        let tmp = path.with_file_name(tmp_name);
        let mut f = File::create(&tmp).map_err(|e| StorageError::io("create", &tmp, e))?;
        f.write_all(data)
            .map_err(|e| StorageError::io("write", &tmp, e))?;
        f.sync_all()
            .map_err(|e| StorageError::io("fsync", &tmp, e))?;
        drop(f);
        fs::rename(&tmp, path).map_err(|e| StorageError::io("rename", path, e))?;
        Ok(())
    }

    fn meta_lock(&self) -> std::sync::MutexGuard<'_, File> {
        // A panic while holding the lock cannot leave the file in a state
        // recovery does not handle, so a poisoned lock is still usable.
        self.meta.lock().unwrap_or_else(|p| p.into_inner())
    }
}

fn sync_dir(dir: &Path) -> Result<(), StorageError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| StorageError::io("fsync directory", dir, e))
}

fn encode_meta(m: &EntryMeta) -> [u8; META_RECORD as usize] {
    let mut r = [0u8; META_RECORD as usize];
    r[..8].copy_from_slice(&m.integrated_time.to_be_bytes());
    if let Some(d) = m.artifact_sha256 {
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
    let artifact_sha256 = match r[8] {
        0 => None,
        1 => {
            let mut d = [0u8; 32];
            d.copy_from_slice(&r[12..44]);
            Some(d)
        }
        _ => return Err(bad("unknown flag")),
    };
    Ok(EntryMeta {
        integrated_time: i64::from_be_bytes(t),
        artifact_sha256,
    })
}

impl Storage for FileStorage {
    fn commit(&self, commit: &Commit) -> Result<(), StorageError> {
        let meta_path = self.root.join("meta");
        {
            let meta = self.meta_lock();
            let mut buf = Vec::with_capacity(commit.meta.len() * META_RECORD as usize);
            for m in &commit.meta {
                buf.extend_from_slice(&encode_meta(m));
            }
            meta.write_all_at(&buf, commit.first_index * META_RECORD)
                .map_err(|e| StorageError::io("write", &meta_path, e))?;
            meta.sync_data()
                .map_err(|e| StorageError::io("fsync", &meta_path, e))?;
        }
        let mut dirs = BTreeSet::new();
        for (id, data) in &commit.tiles {
            self.write_file(&self.tile_path(id), data, &mut dirs)?;
        }
        for d in &dirs {
            sync_dir(d)?;
        }
        // The commit point: only now does the new size exist.
        let mut root_dir = BTreeSet::new();
        self.write_file(
            &self.root.join("checkpoint"),
            commit.checkpoint.as_bytes(),
            &mut root_dir,
        )?;
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
            integrated_time: 42,
            artifact_sha256: Some([9; 32]),
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
