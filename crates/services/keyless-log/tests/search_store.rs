//! The `SearchStore` contract, run against every backend's own store (the
//! file backend's sorted runs, PostgreSQL's table): more than one flush
//! batch found (from storage and from the buffer), candidates ascending,
//! out-of-order adds refused, one store at a time, the covered size
//! surviving a reopen, and clear.

mod support;

use keyless_log::storage::files::FileStorage;
use keyless_log::storage::pg_search::FLUSH_ENTRIES;
use keyless_log::storage::postgres::PgStorage;
use keyless_log::storage::search_index::SearchStore;
use keyless_log::storage::Storage;
use keyless_log::StorageError;
use support::*;

both_backends!(search_store_contract);

fn storage(store: &Store) -> Box<dyn Storage> {
    match &store.pg {
        Some(pg) => Box::new(PgStorage::connect(&pg.url()).unwrap()),
        None => Box::new(FileStorage::open(store.dir.path()).unwrap()),
    }
}

fn open(s: &dyn Storage) -> Box<dyn SearchStore> {
    s.open_search_index()
        .unwrap()
        .expect("the backend has its own search store")
}

fn own(i: u64) -> [u8; 32] {
    keyless_crypto::sha256(&i.to_be_bytes())
}

const SHARED: [u8; 32] = [7; 32];

/// Entries `from..to`: each has its own key, every other one also the
/// shared key, every fifth none at all.
fn fill(s: &mut dyn SearchStore, from: u64, to: u64) {
    for i in from..to {
        let keys = match (i % 5, i % 2) {
            (0, _) => vec![],
            (_, 0) => vec![own(i), SHARED],
            _ => vec![own(i)],
        };
        s.add(i, &keys).unwrap();
    }
}

fn check(s: &dyn SearchStore, n: u64) {
    for i in (1..n).step_by(997).chain([1, n - 1]).filter(|i| i % 5 != 0) {
        assert!(s.candidates(&own(i)).unwrap().contains(&i), "key {i}");
    }
    let want: Vec<u64> = (0..n).filter(|i| i % 5 != 0 && i % 2 == 0).collect();
    assert_eq!(s.candidates(&SHARED).unwrap(), want, "all, ascending");
    assert!(s.candidates(&own(n + 3)).unwrap().is_empty());
}

async fn search_store_contract(backend: Backend) {
    tokio::task::spawn_blocking(move || contract(backend))
        .await
        .unwrap();
}

fn contract(backend: Backend) {
    let store = Store::new(backend);
    let s = storage(&store);
    // Several PostgreSQL batches and a file run (1.2 pairs per entry);
    // not a multiple of either, so the tail is still buffered.
    let n = 17 * FLUSH_ENTRIES + 1234;
    {
        let mut idx = open(s.as_ref());
        assert_eq!(idx.indexed_size(), 0);
        fill(idx.as_mut(), 0, 100);
        check(idx.as_ref(), 100);
        fill(idx.as_mut(), 100, n);
        assert_eq!(idx.indexed_size(), n);
        check(idx.as_ref(), n);
        assert!(idx.add(n + 1, &[]).is_err(), "out of order");
        assert!(idx.add(3, &[]).is_err(), "out of order");
        assert_eq!(idx.indexed_size(), n, "a refused add changes nothing");
        match s.open_search_index() {
            Err(StorageError::Locked { .. }) => {}
            other => panic!("a second store on the same index: {other:?}"),
        }
    }
    // Dropping the first store wrote its buffer and let go of the index.
    let mut idx = open(s.as_ref());
    assert_eq!(idx.indexed_size(), n, "survives a reopen");
    check(idx.as_ref(), n);
    fill(idx.as_mut(), n, n + 10);
    check(idx.as_ref(), n + 10);
    idx.clear().unwrap();
    assert_eq!(idx.indexed_size(), 0);
    assert!(idx.candidates(&own(3)).unwrap().is_empty());
    assert!(idx.candidates(&SHARED).unwrap().is_empty());
    fill(idx.as_mut(), 0, 10);
    check(idx.as_ref(), 10);
    drop(idx);
    let idx = open(s.as_ref());
    assert_eq!(idx.indexed_size(), 10, "a cleared store stays cleared");
    check(idx.as_ref(), 10);
}
