//! The manifest of one index made of runs: which runs of which kinds are
//! live and how many entries of the log they cover.
//!
//! ```text
//! keyless-log index v1
//! size <entries covered>
//! next <next run id>
//! <kind> <run id> <pairs>       one line per run, oldest (largest) first
//! ```
//!
//! Several indexes can share a directory: each has its own manifest file
//! and its own kinds, and touches only run files of those kinds.

use std::collections::BTreeSet;
use std::fs::{self, File};
use std::path::{Path, PathBuf};

use super::{load_run, run_path, RunSet};
use crate::error::StorageError;

const HEADER: &str = "keyless-log index v1";

/// The kinds of an index and their run sets, in manifest order.
pub(crate) type Sets<'a> = [(&'static str, &'a mut RunSet)];

/// Where an index lives and what its runs cover; the [`RunSet`]s stay
/// with their owner (so each index keeps its kinds as plain fields) and
/// are passed in.
#[derive(Debug)]
pub(crate) struct Manifest {
    pub(crate) dir: PathBuf,
    /// File name of the manifest inside `dir`.
    name: &'static str,
    /// What the index is, for messages.
    what: &'static str,
    /// Entries `0..size` are in the runs (and buffers).
    pub(crate) size: u64,
    next_id: u64,
}

impl Manifest {
    /// Open the index `name` in `dir` (creating the directory), loading
    /// the runs it names into `sets`, which must be empty. A manifest
    /// that does not match its runs (a crash the file system did not
    /// order, a damaged or foreign file) is discarded: the index starts
    /// empty and its owner rebuilds it from the log. Run files of these
    /// kinds that the manifest does not name (left by a crash or by a
    /// discarded manifest) are deleted.
    pub(crate) fn open(
        dir: &Path,
        name: &'static str,
        what: &'static str,
        sets: &mut Sets,
    ) -> Result<Self, StorageError> {
        fs::create_dir_all(dir).map_err(|e| StorageError::io("create", dir, e))?;
        let mut m = Self {
            dir: dir.to_path_buf(),
            name,
            what,
            size: 0,
            next_id: 0,
        };
        if let Err(e) = m.load(sets) {
            tracing::warn!(index = what, error = %e, "discarding the index; it will be rebuilt");
            for (_, set) in sets.iter_mut() {
                **set = RunSet::default();
            }
            m.size = 0;
            m.next_id = 0;
            m.write(sets)?;
        }
        m.remove_strays(sets);
        Ok(m)
    }

    fn malformed(&self, problem: String) -> StorageError {
        StorageError::Malformed {
            what: format!("{} manifest", self.what),
            problem,
        }
    }

    fn load(&mut self, sets: &mut Sets) -> Result<(), StorageError> {
        let path = self.dir.join(self.name);
        let text = match fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(StorageError::io("read", &path, e)),
        };
        let mut lines = text.lines();
        if lines.next() != Some(HEADER) {
            return Err(self.malformed("unknown manifest version".into()));
        }
        for line in lines {
            let words: Vec<&str> = line.split(' ').collect();
            let num = |i: usize| {
                words
                    .get(i)
                    .and_then(|w| w.parse::<u64>().ok())
                    .ok_or_else(|| self.malformed(format!("line {line:?}")))
            };
            match words.first().copied() {
                Some("size") => self.size = num(1)?,
                Some("next") => self.next_id = num(1)?,
                Some(word) => {
                    let Some((kind, set)) = sets.iter_mut().find(|(k, _)| *k == word) else {
                        return Err(self.malformed(format!("line {line:?}")));
                    };
                    let id = num(1)?;
                    if id >= self.next_id {
                        return Err(self.malformed(format!("run {id} is not below next")));
                    }
                    set.runs.push(load_run(&self.dir, kind, id, num(2)?)?);
                }
                None => return Err(self.malformed("empty line".into())),
            }
        }
        Ok(())
    }

    fn text(&self, sets: &Sets) -> String {
        let mut s = format!("{HEADER}\nsize {}\nnext {}\n", self.size, self.next_id);
        for (kind, set) in sets {
            for r in &set.runs {
                s.push_str(&format!("{kind} {} {}\n", r.id, r.len));
            }
        }
        s
    }

    /// Replace the manifest atomically (write, fsync, rename, fsync the
    /// directory).
    fn write(&self, sets: &Sets) -> Result<(), StorageError> {
        let path = self.dir.join(self.name);
        let tmp = self.dir.join(format!("{}.tmp", self.name));
        fs::write(&tmp, self.text(sets))
            .and_then(|()| File::open(&tmp)?.sync_all())
            .map_err(|e| StorageError::io("write", &tmp, e))?;
        fs::rename(&tmp, &path).map_err(|e| StorageError::io("rename", &path, e))?;
        File::open(&self.dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| StorageError::io("fsync directory", &self.dir, e))
    }

    /// Write every buffer out as a run, merge, and record `size` as
    /// covered. Superseded runs are deleted once no manifest names them.
    pub(crate) fn flush(&mut self, sets: &mut Sets) -> Result<(), StorageError> {
        let mut gone: Vec<(&str, u64)> = Vec::new();
        let mut result = Ok(());
        for (kind, set) in sets.iter_mut() {
            let mut replaced = Vec::new();
            result = set.flush(&self.dir, kind, &mut self.next_id, &mut replaced);
            gone.extend(replaced.into_iter().map(|id| (*kind, id)));
            if result.is_err() {
                break;
            }
        }
        // On an error the sets are still whole but a buffer is not in a
        // run: the manifest must not claim `size` then.
        result?;
        self.write(sets)?;
        for (kind, id) in gone {
            let path = run_path(&self.dir, kind, id);
            if let Err(e) = fs::remove_file(&path) {
                tracing::warn!(path = %path.display(), error = %e, "could not remove a merged index run");
            }
        }
        Ok(())
    }

    /// Forget everything: an empty manifest, then the runs deleted.
    pub(crate) fn clear(&mut self, sets: &mut Sets) -> Result<(), StorageError> {
        let old: Vec<(&str, u64)> = sets
            .iter()
            .flat_map(|(kind, set)| set.runs.iter().map(move |r| (*kind, r.id)))
            .collect();
        for (_, set) in sets.iter_mut() {
            **set = RunSet::default();
        }
        self.size = 0;
        self.write(sets)?;
        for (kind, id) in old {
            let _ = fs::remove_file(run_path(&self.dir, kind, id));
        }
        Ok(())
    }

    /// Delete run files of these kinds that the manifest does not name;
    /// best effort, as they only cost disk space.
    fn remove_strays(&self, sets: &Sets) {
        let live: BTreeSet<PathBuf> = sets
            .iter()
            .flat_map(|(kind, set)| set.runs.iter().map(|r| run_path(&self.dir, kind, r.id)))
            .collect();
        let Ok(entries) = fs::read_dir(&self.dir) else {
            return;
        };
        for path in entries.filter_map(|e| e.ok()).map(|e| e.path()) {
            let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
                continue;
            };
            let ours = name
                .strip_suffix(".run")
                .and_then(|n| n.rsplit_once('-'))
                .is_some_and(|(kind, id)| {
                    sets.iter().any(|(k, _)| *k == kind) && id.parse::<u64>().is_ok()
                });
            if ours && !live.contains(&path) {
                if let Err(e) = fs::remove_file(&path) {
                    tracing::warn!(path = %path.display(), error = %e, "could not remove a stray index run");
                }
            }
        }
    }
}
