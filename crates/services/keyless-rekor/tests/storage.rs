//! The `Storage` contract, run against every backend: commit, read back,
//! partial tiles, recovery past the checkpoint, and reopening.

mod support;

use std::sync::Arc;

use keyless_log::storage::files::FileStorage;
use keyless_log::storage::postgres::PgStorage;
use keyless_log::storage::{Commit, EntryMeta, Storage};
use keyless_tlog::{TileId, TileKind};
use support::*;

both_backends!(commit_read_recover_reopen);

fn open(store: &Store) -> Arc<dyn Storage> {
    match &store.pg {
        Some(pg) => Arc::new(PgStorage::connect(&pg.url()).unwrap()),
        None => Arc::new(FileStorage::open(store.dir.path()).unwrap()),
    }
}

async fn commit_read_recover_reopen(backend: Backend) {
    tokio::task::spawn_blocking(move || contract(backend))
        .await
        .unwrap();
}

fn contract(backend: Backend) {
    let store = Store::new(backend);
    let s = open(&store);
    assert_eq!(s.read_checkpoint().unwrap(), None);
    let hashes = |width: u16| TileId {
        kind: TileKind::Hashes { level: 0 },
        index: 1234,
        width,
    };
    let bundle = |width: u16| TileId {
        kind: TileKind::Entries,
        index: 0,
        width,
    };
    let entries: Vec<Vec<u8>> = (0..5u8).map(|i| vec![i; 10 + usize::from(i)]).collect();
    let encode = |n: usize| {
        keyless_tlog::tiles::encode_entry_bundle(entries[..n].iter().map(Vec::as_slice)).unwrap()
    };
    let m = |t: i64| EntryMeta {
        sequenced_at: t,
        lookup_key: (t % 2 == 0).then_some([t as u8; 32]),
    };
    s.commit(&Commit {
        first_index: 0,
        meta: vec![m(0), m(1)],
        tiles: vec![(hashes(2), vec![1; 64]), (bundle(2), encode(2))],
        checkpoint: "cp 2\n".into(),
    })
    .unwrap();
    assert_eq!(s.read_checkpoint().unwrap().as_deref(), Some("cp 2\n"));
    assert_eq!(s.read_tile(&hashes(2)).unwrap(), Some(vec![1; 64]));
    assert_eq!(s.read_tile(&hashes(3)).unwrap(), None);
    assert_eq!(s.read_meta(0, 2).unwrap(), vec![m(0), m(1)]);

    // Growing the tiles: narrower widths stay readable as prefixes.
    let mut wider = vec![1; 64];
    wider.extend([2; 96]);
    s.commit(&Commit {
        first_index: 2,
        meta: vec![m(2), m(3), m(4)],
        tiles: vec![(hashes(5), wider.clone()), (bundle(5), encode(5))],
        checkpoint: "cp 5\n".into(),
    })
    .unwrap();
    assert_eq!(s.read_checkpoint().unwrap().as_deref(), Some("cp 5\n"));
    assert_eq!(s.read_tile(&hashes(5)).unwrap(), Some(wider));
    assert_eq!(s.read_tile(&hashes(2)).unwrap(), Some(vec![1; 64]));
    assert_eq!(s.read_tile(&bundle(5)).unwrap(), Some(encode(5)));
    assert_eq!(s.read_tile(&bundle(2)).unwrap(), Some(encode(2)));
    assert_eq!(s.read_meta(1, 3).unwrap(), vec![m(1), m(2), m(3)]);
    assert!(s.read_meta(4, 2).is_err(), "metadata past the end");

    // Recovery forgets metadata past the committed size; missing
    // metadata for committed entries is an error.
    s.recover(5).unwrap();
    s.recover(4).unwrap();
    assert!(s.read_meta(4, 1).is_err());
    assert!(s.recover(5).is_err());

    // Reopening sees the same state (and, for PostgreSQL, the migrations
    // are not applied twice).
    drop(s);
    let s = open(&store);
    assert_eq!(s.read_checkpoint().unwrap().as_deref(), Some("cp 5\n"));
    assert_eq!(s.read_meta(0, 4).unwrap(), vec![m(0), m(1), m(2), m(3)]);
    assert_eq!(s.read_tile(&bundle(5)).unwrap(), Some(encode(5)));
}

/// Two logs on one data directory would corrupt it: the second `Log`
/// (here in the same process; another process gets the same lock) is
/// refused with an error naming the directory and the lock file, and the
/// directory is usable again once the first is gone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_log_on_the_same_directory_is_refused() {
    let store = Store::new(Backend::Files);
    let first = {
        let config = store.config("lock.test");
        tokio::task::spawn_blocking(move || keyless_log::open_from_config(config))
            .await
            .unwrap()
            .unwrap()
    };
    let config = store.config("lock.test");
    let err = tokio::task::spawn_blocking(move || keyless_log::open_from_config(config))
        .await
        .unwrap()
        .expect_err("the directory is in use");
    assert!(
        matches!(
            err,
            keyless_log::LogError::Storage(keyless_log::StorageError::Locked { .. })
        ),
        "{err}"
    );
    let msg = err.to_string();
    let dir = store.dir.path().display().to_string();
    assert!(
        msg.contains(&format!(
            "data directory {dir} is in use by another keyless log"
        )),
        "{msg}"
    );
    assert!(msg.contains(&format!("{dir}/LOCK")), "{msg}");
    assert_eq!(first.published().size, 0, "the first log is untouched");

    drop(first);
    wait_unlocked(&store).await;
    let config = store.config("lock.test");
    tokio::task::spawn_blocking(move || keyless_log::open_from_config(config))
        .await
        .unwrap()
        .expect("reopens once the first log is gone");
}

/// The same across processes: a second server on a directory another
/// server has open exits with the lock error instead of serving.
#[test]
fn a_second_server_process_is_refused() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};

    let store = Store::new(Backend::Files);
    let server = |out: Stdio| {
        Command::new(env!("CARGO_BIN_EXE_keyless-log-server"))
            .args(store.args())
            .args(["--origin", "lock.test"])
            .stdout(out)
            .stderr(Stdio::piped())
            .spawn()
            .expect("server starts")
    };
    let mut first = server(Stdio::piped());
    let mut line = String::new();
    BufReader::new(first.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert!(line.starts_with("listening on "), "{line:?}");

    let second = server(Stdio::null()).wait_with_output().unwrap();
    let _ = first.kill();
    let _ = first.wait();
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert!(!second.status.success(), "{stderr}");
    assert!(
        stderr.contains("is in use by another keyless log"),
        "{stderr}"
    );
}

/// A driver the caller wraps around a shipped one: commits are counted
/// and the rest delegated.
struct Counting {
    inner: Arc<dyn Storage>,
    commits: Arc<std::sync::atomic::AtomicUsize>,
}

impl Storage for Counting {
    fn commit(&self, commit: &Commit) -> Result<(), keyless_log::StorageError> {
        self.commits
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        self.inner.commit(commit)
    }
    fn read_checkpoint(&self) -> Result<Option<String>, keyless_log::StorageError> {
        self.inner.read_checkpoint()
    }
    fn read_tile(&self, id: &TileId) -> Result<Option<Vec<u8>>, keyless_log::StorageError> {
        self.inner.read_tile(id)
    }
    fn read_meta(
        &self,
        start: u64,
        count: u64,
    ) -> Result<Vec<EntryMeta>, keyless_log::StorageError> {
        self.inner.read_meta(start, count)
    }
    fn recover(&self, size: u64) -> Result<(), keyless_log::StorageError> {
        self.inner.recover(size)
    }
}

/// The core takes whatever driver the caller hands `Log::open` and makes
/// every batch durable through it: the empty checkpoint on first start,
/// then one commit for an entry, and none for its duplicate (found by the
/// duplicate check before it reaches the sequencer).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_core_commits_through_the_driver_it_is_handed() {
    let store = Store::new(Backend::Files);
    let commits = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let config = store.config("driver.test");
    let driver = Counting {
        inner: open(&store),
        commits: commits.clone(),
    };
    let key = keyless_crypto::SigningKey::generate(keyless_crypto::KeyAlgorithm::Ed25519).unwrap();
    let log = tokio::task::spawn_blocking(move || {
        keyless_log::Log::open(
            config,
            Arc::new(driver),
            key,
            Arc::new(keyless_log::LeafDuplicates),
        )
    })
    .await
    .unwrap()
    .expect("opens over a caller's driver");
    let count = || commits.load(std::sync::atomic::Ordering::SeqCst);
    assert_eq!(count(), 1, "first start commits the empty checkpoint");
    let submission = keyless_log::Submission {
        body: b"an opaque entry".to_vec(),
        lookup_key: None,
    };
    let first = log.submit(submission.clone()).await.unwrap();
    assert!(!first.duplicate);
    assert_eq!(count(), 2, "one commit for the batch");
    let again = log.submit(submission).await.unwrap();
    assert!(again.duplicate);
    assert_eq!(again.index, first.index);
    assert_eq!(count(), 2, "a duplicate commits nothing");
    assert_eq!(log.published().size, 1);
}

/// A personality's own idea of "the same entry" (a CT log's is the
/// certificate, not the leaf): here, every entry is a copy of entry 0 once
/// the log holds one, asked of the committed entries it is handed.
struct EverythingIsEntryZero;

impl keyless_log::DuplicateCheck for EverythingIsEntryZero {
    fn before_queue(
        &self,
        entries: &keyless_log::CommittedEntries,
        leaf: &keyless_tlog::Hash,
    ) -> Result<(Option<u64>, u64), keyless_log::LogError> {
        let (_, size) = entries.find_leaf(leaf)?;
        Ok(((size > 0).then_some(0), size))
    }

    fn committed(
        &self,
        entries: &keyless_log::CommittedEntries,
        leaves: &[keyless_tlog::Hash],
    ) -> Result<std::collections::HashMap<keyless_tlog::Hash, u64>, keyless_log::LogError> {
        entries.find_leaves(leaves)
    }
}

/// `Log::open` uses the caller's duplicate check: with the one above, a
/// second, different entry is answered as a copy of entry 0 and nothing is
/// appended (the default check, above, appends any new body).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_core_asks_the_duplicate_check_it_is_handed() {
    let store = Store::new(Backend::Files);
    let config = store.config("dedup.test");
    let driver = open(&store);
    let key = keyless_crypto::SigningKey::generate(keyless_crypto::KeyAlgorithm::Ed25519).unwrap();
    let log = tokio::task::spawn_blocking(move || {
        keyless_log::Log::open(config, driver, key, Arc::new(EverythingIsEntryZero))
    })
    .await
    .unwrap()
    .expect("opens with a caller's duplicate check");
    let entry = |body: &[u8]| keyless_log::Submission {
        body: body.to_vec(),
        lookup_key: None,
    };
    let first = log.submit(entry(b"first entry")).await.unwrap();
    assert!(!first.duplicate);
    assert_eq!(first.index, 0);
    let other = log.submit(entry(b"a different entry")).await.unwrap();
    assert!(other.duplicate, "the caller's check called it a copy");
    assert_eq!(other.index, 0);
    assert_eq!(log.published().size, 1);
}
