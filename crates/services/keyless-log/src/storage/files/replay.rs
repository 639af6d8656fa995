//! Rebuilding a directory's state from its write-ahead log on open.

use std::collections::BTreeSet;
use std::fs::{self, File};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use super::disk::{write_checkpoint_file, write_file, META_RECORD};
use crate::error::StorageError;
use crate::storage::partials::Partials;
use crate::storage::wal::{self, Record, RecordKind};

/// Rebuilding the state of a directory from its write-ahead log on open.
pub(super) struct Replay<'a> {
    pub root: &'a Path,
    pub meta: &'a File,
    pub partials: Partials,
    pub checkpoint: Option<String>,
    pub written: BTreeSet<PathBuf>,
}

impl Replay<'_> {
    /// Replay the newest segment that starts with a valid snapshot (an
    /// even newer one whose snapshot is torn was being started when the
    /// process stopped, and its predecessor is still whole). `false` if
    /// there is none.
    pub fn newest_segment(&mut self, segments: &[(u64, PathBuf)]) -> Result<bool, StorageError> {
        for (_, path) in segments {
            let data = fs::read(path).map_err(|e| StorageError::io("read", path, e))?;
            let (records, _) = wal::decode_all(&data);
            if records.first().map(|r| r.kind) != Some(RecordKind::Snapshot) {
                continue;
            }
            for r in records {
                self.record(r)?;
            }
            return Ok(true);
        }
        Ok(false)
    }

    fn record(&mut self, r: Record<Vec<u8>>) -> Result<(), StorageError> {
        for d in r.tiles {
            let id = d.id();
            if let Some(full) = self.partials.apply(d)? {
                let path = self.root.join(id.path());
                write_file(&path, &full)?;
                self.written.insert(path);
            }
        }
        if !r.meta.is_empty() {
            let meta_path = self.root.join("meta");
            self.meta
                .write_all_at(&r.meta, r.first_index * META_RECORD)
                .map_err(|e| StorageError::io("write", &meta_path, e))?;
        }
        if !r.checkpoint.is_empty() {
            let text = String::from_utf8(r.checkpoint).map_err(|_| StorageError::Malformed {
                what: "write-ahead checkpoint".into(),
                problem: "not UTF-8".into(),
            })?;
            write_checkpoint_file(self.root, &text)?;
            self.checkpoint = Some(text);
        }
        Ok(())
    }
}
