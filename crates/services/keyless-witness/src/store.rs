//! The latest cosigned checkpoint of each log, one file per origin in
//! `<data dir>/checkpoints/`, named by the SHA-256 of the origin (origins
//! are free text, file names are not).
//!
//! A save writes a temporary file, fsyncs it, renames it over the old one
//! and fsyncs the directory: after a crash the file holds either the old
//! or the new checkpoint, never a mix, and once `save` returns the new one
//! survives power loss (the spec requires persisting before answering). A
//! lock file keeps a second witness process off the same directory, since
//! two processes would each check against their own view of the state.

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use keyless_tlog::{note::MAX_NOTE_SIZE, Checkpoint, Hash, SignedNote};

use crate::error::WitnessError;

/// A stored checkpoint: its size and root, and the note as received.
#[derive(Debug, Clone)]
pub struct Stored {
    pub size: u64,
    pub root: Hash,
    pub note: String,
}

/// The witness state directory, locked while open.
#[derive(Debug)]
pub struct Store {
    dir: PathBuf,
    _lock: File,
}

fn io(what: &str, path: &Path, e: std::io::Error) -> WitnessError {
    WitnessError::Storage(format!("{what} {}: {e}", path.display()))
}

fn sync_dir(dir: &Path) -> Result<(), WitnessError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| io("syncing", dir, e))
}

impl Store {
    /// Open (creating) the state in `data_dir`, failing if another process
    /// holds it.
    pub fn open(data_dir: &Path) -> Result<Self, WitnessError> {
        let dir = data_dir.join("checkpoints");
        fs::create_dir_all(&dir).map_err(|e| io("creating", &dir, e))?;
        let lock_path = data_dir.join("witness.lock");
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|e| io("opening", &lock_path, e))?;
        lock.try_lock().map_err(|e| {
            WitnessError::Storage(format!(
                "{} is locked by another witness process: {e}",
                lock_path.display()
            ))
        })?;
        Ok(Self { dir, _lock: lock })
    }

    fn path(&self, origin: &str) -> PathBuf {
        self.dir
            .join(hex::encode(keyless_crypto::sha256(origin.as_bytes())))
    }

    /// The stored checkpoint of `origin`, if any. A file that does not
    /// parse, or names another origin, is an error: the witness stops
    /// cosigning that log rather than start over from zero.
    pub fn load(&self, origin: &str) -> Result<Option<Stored>, WitnessError> {
        let path = self.path(origin);
        let file = match File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io("opening", &path, e)),
        };
        let mut text = String::new();
        file.take(MAX_NOTE_SIZE as u64 + 1)
            .read_to_string(&mut text)
            .map_err(|e| io("reading", &path, e))?;
        let bad = |why: String| WitnessError::Storage(format!("{}: {why}", path.display()));
        if text.len() > MAX_NOTE_SIZE {
            return Err(bad("larger than a note may be".into()));
        }
        let note = SignedNote::parse(&text).map_err(|e| bad(e.to_string()))?;
        let checkpoint = Checkpoint::parse(note.body()).map_err(|e| bad(e.to_string()))?;
        if checkpoint.origin != origin {
            return Err(bad(format!("holds origin {:?}", checkpoint.origin)));
        }
        Ok(Some(Stored {
            size: checkpoint.size,
            root: checkpoint.root_hash,
            note: text,
        }))
    }

    /// Replace the stored checkpoint of `origin` with `note`, durably.
    pub fn save(&self, origin: &str, note: &str) -> Result<(), WitnessError> {
        let path = self.path(origin);
        let tmp = path.with_extension("tmp");
        let mut f = OpenOptions::new()
            .create(true)
            .truncate(true)
            .write(true)
            .open(&tmp)
            .map_err(|e| io("creating", &tmp, e))?;
        f.write_all(note.as_bytes())
            .and_then(|()| f.sync_all())
            .map_err(|e| io("writing", &tmp, e))?;
        drop(f);
        fs::rename(&tmp, &path).map_err(|e| io("renaming", &tmp, e))?;
        sync_dir(&self.dir)
    }
}
