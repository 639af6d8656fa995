//! Threads that fsync the files of a commit concurrently.
//!
//! The file system folds concurrent fsyncs into few journal commits, so a
//! commit costs a couple of rounds of fsync latency however many files it
//! touched, but only if the fsyncs really run at once: one thread each.
//! Spawning those threads for every commit (a hundred or more commits a
//! second under load, each syncing half a dozen files and directories)
//! cost more CPU than the fsyncs' own bookkeeping, so the threads are
//! started once, with the storage, and wait for work.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::{Arc, Mutex};

use crate::error::StorageError;

/// Threads kept for fsyncs besides the caller's own: enough for the files
/// and directories of one commit (a few tiles, an entry bundle, the
/// metadata, the staged checkpoint, their directories). A commit with more
/// queues the rest behind them.
const THREADS: usize = 8;

/// One fsync to run: a duplicate descriptor of the caller's file (the
/// caller keeps its own), and where to say how it went.
struct Job {
    file: File,
    path: PathBuf,
    done: Sender<Result<(), StorageError>>,
}

/// The pool; dropping it lets its threads finish.
#[derive(Debug)]
pub(crate) struct SyncPool {
    jobs: Mutex<Sender<Job>>,
}

impl SyncPool {
    pub(crate) fn start() -> Result<Self, StorageError> {
        let (tx, rx) = channel::<Job>();
        let rx = Arc::new(Mutex::new(rx));
        for n in 0..THREADS {
            let rx = rx.clone();
            // Named like the committer, whose work this is (thread names
            // are cut to 15 bytes: "keyless-log-com").
            std::thread::Builder::new()
                .name(format!("keyless-log-commit-sync-{n}"))
                .spawn(move || work(&rx))
                .map_err(|e| StorageError::io("start an fsync thread", Path::new(""), e))?;
        }
        Ok(Self {
            jobs: Mutex::new(tx),
        })
    }

    /// `sync_all` every file, concurrently; the first error, if any, once
    /// all are done.
    pub(crate) fn sync_all(&self, files: &[(&Path, &File)]) -> Result<(), StorageError> {
        let Some(((first_path, first), rest)) = files.split_first() else {
            return Ok(());
        };
        let (done, results) = channel();
        let mut sent = 0;
        let mut result = Ok(());
        {
            let jobs = self.jobs.lock().unwrap_or_else(|p| p.into_inner());
            for (path, file) in rest {
                let job = file.try_clone().map(|file| Job {
                    file,
                    path: path.to_path_buf(),
                    done: done.clone(),
                });
                match job.map(|job| jobs.send(job)) {
                    Ok(Ok(())) => sent += 1,
                    // No thread left to take it (cannot happen while the
                    // pool lives): sync it here.
                    Ok(Err(unsent)) => keep_first(&mut result, sync(&unsent.0.file, path)),
                    Err(e) => keep_first(&mut result, Err(StorageError::io("dup", path, e))),
                }
            }
        }
        drop(done);
        keep_first(&mut result, sync(first, first_path));
        for _ in 0..sent {
            let r = results.recv().unwrap_or_else(|_| {
                Err(StorageError::Malformed {
                    what: "fsync thread".into(),
                    problem: "stopped before answering".into(),
                })
            });
            keep_first(&mut result, r);
        }
        result
    }
}

fn keep_first(result: &mut Result<(), StorageError>, r: Result<(), StorageError>) {
    if result.is_ok() {
        *result = r;
    }
}

fn sync(file: &File, path: &Path) -> Result<(), StorageError> {
    file.sync_all()
        .map_err(|e| StorageError::io("fsync", path, e))
}

fn work(jobs: &Mutex<Receiver<Job>>) {
    loop {
        let job = {
            let rx = jobs.lock().unwrap_or_else(|p| p.into_inner());
            match rx.recv() {
                Ok(job) => job,
                Err(_) => return,
            }
        };
        let _ = job.done.send(sync(&job.file, &job.path));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn syncs_every_file_and_reports_errors() {
        let dir = tempfile::tempdir().unwrap();
        let pool = SyncPool::start().unwrap();
        let paths: Vec<PathBuf> = (0..20).map(|i| dir.path().join(i.to_string())).collect();
        let files: Vec<File> = paths.iter().map(|p| File::create(p).unwrap()).collect();
        let list: Vec<(&Path, &File)> = paths.iter().map(PathBuf::as_path).zip(&files).collect();
        pool.sync_all(&list).unwrap();
        pool.sync_all(&[]).unwrap();
        // A pipe cannot be synced: its error comes back, after the rest.
        let (r, _w) = std::io::pipe().unwrap();
        let pipe = File::from(std::os::fd::OwnedFd::from(r));
        let bad = [(Path::new("pipe"), &pipe), (paths[0].as_path(), &files[0])];
        let e = pool.sync_all(&bad).unwrap_err();
        assert!(e.to_string().contains("fsync pipe"), "{e}");
    }
}
