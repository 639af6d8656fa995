//! The file store's plain file operations: tiles and the checkpoint
//! file written in place or swapped, directory fsyncs, and the fixed-size
//! metadata records.

use std::fs::{self, File, OpenOptions};
use std::os::unix::fs::FileExt;
use std::path::Path;

use crate::error::StorageError;
use crate::storage::EntryMeta;

/// Bytes of one metadata record in `meta`.
pub(super) const META_RECORD: u64 = 48;

/// Write `data` as the file at `path` (creating its directories), not
/// synced: a full tile, immutable once its commit is durable.
pub(super) fn write_file(path: &Path, data: &[u8]) -> Result<(), StorageError> {
    if let Some(dir) = path.parent() {
        if !dir.exists() {
            fs::create_dir_all(dir).map_err(|e| StorageError::io("create", dir, e))?;
        }
    }
    let file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
        .map_err(|e| StorageError::io("create", path, e))?;
    file.write_all_at(data, 0)
        .and_then(|()| file.set_len(data.len() as u64))
        .map_err(|e| StorageError::io("write", path, e))
}

/// Replace `<root>/checkpoint` atomically (for readers of the directory:
/// static servers, tools), not synced: the write-ahead log holds the
/// durable copy.
pub(super) fn write_checkpoint_file(root: &Path, text: &str) -> Result<(), StorageError> {
    let tmp = root.join("checkpoint.tmp");
    write_file(&tmp, text.as_bytes())?;
    swap_into_place(&tmp, &root.join("checkpoint"))
}

/// `<root>/checkpoint`, if there is one.
pub(super) fn read_checkpoint_file(root: &Path) -> Result<Option<String>, StorageError> {
    let path = root.join("checkpoint");
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

/// Atomically make `staged` the file at `path`. Where the file system
/// can (ext4, XFS, btrfs, tmpfs), the two names are exchanged
/// (`renameat2(RENAME_EXCHANGE)`) rather than `path` being replaced: the
/// previous checkpoint lands under the staging name and is overwritten by
/// the next commit, so no inode is freed and allocated per commit. With a
/// replacing rename, every commit deletes an inode, and ext4's inode
/// allocator then spends its time skipping recently deleted inodes on
/// every file the following commits create (a third of the committer's
/// CPU under load, measured with perf).
pub(super) fn swap_into_place(staged: &Path, path: &Path) -> Result<(), StorageError> {
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

pub(super) fn sync_dir(dir: &Path) -> Result<(), StorageError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| StorageError::io("fsync directory", dir, e))
}

pub(super) fn encode_meta(m: &EntryMeta) -> [u8; META_RECORD as usize] {
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

pub(super) fn decode_meta(index: u64, r: &[u8]) -> Result<EntryMeta, StorageError> {
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
