//! The `Storage` contract, run against every backend: commit, read back,
//! partial tiles, recovery past the checkpoint, and reopening.

mod common;

use std::sync::Arc;

use common::*;
use keyless_log::storage::files::FileStorage;
use keyless_log::storage::postgres::PgStorage;
use keyless_log::storage::{Commit, EntryMeta, Storage};
use keyless_tlog::{TileId, TileKind};

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
        integrated_time: t,
        artifact_sha256: (t % 2 == 0).then_some([t as u8; 32]),
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
