//! Exclusive lock files: one writer per data directory (the file
//! driver's `LOCK`, the search index's own). A leaf module, so that the
//! search index need not import the file driver that opens it.

use std::fs::{File, OpenOptions};
use std::path::Path;

use crate::error::StorageError;

/// Take an exclusive lock on the file `path` (created if missing) in
/// `dir`, or say who has it: [`StorageError::Locked`] if it is still held
/// after `wait`. The lock lasts as long as the returned file is open.
pub(super) fn lock_file(
    dir: &Path,
    path: &Path,
    wait: std::time::Duration,
) -> Result<File, StorageError> {
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
        .map_err(|e| StorageError::io("open", path, e))?;
    let deadline = std::time::Instant::now() + wait;
    loop {
        match file.try_lock() {
            Ok(()) => return Ok(file),
            Err(std::fs::TryLockError::WouldBlock) if std::time::Instant::now() < deadline => {
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(StorageError::Locked {
                    dir: dir.display().to_string(),
                    lock: path.display().to_string(),
                })
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(StorageError::io("lock", path, e)),
        }
    }
}
