//! The `EntryIndex` contract, run against every backend's own index (the
//! file backend's sorted runs, PostgreSQL's table): candidates ascending,
//! artifacts with many entries, out-of-order adds refused, the indexed
//! size surviving a reopen, and clear.

mod support;

use keyless_log::index::EntryIndex;
use keyless_log::storage::files::FileStorage;
use keyless_log::storage::postgres::PgStorage;
use keyless_log::storage::Storage;
use keyless_tlog::Hash;
use support::*;

both_backends!(index_contract);

fn leaf(i: u64) -> Hash {
    keyless_tlog::leaf_hash(&i.to_be_bytes())
}

fn open(store: &Store) -> (Box<dyn Storage>, Box<dyn EntryIndex>) {
    let s: Box<dyn Storage> = match &store.pg {
        Some(pg) => Box::new(PgStorage::connect(&pg.url()).unwrap()),
        None => Box::new(FileStorage::open(store.dir.path()).unwrap()),
    };
    let idx = s
        .open_index()
        .unwrap()
        .expect("the backend has its own index");
    (s, idx)
}

/// Entries `from..from + n` with leaf `leaf(i)`; every third is about
/// artifact `[7; 32]`, the rest about none. Batches of 4096, as commits.
fn fill(idx: &dyn EntryIndex, from: u64, n: u64) {
    let mut i = from;
    while i < from + n {
        let end = (i + 4096).min(from + n);
        let leaves: Vec<Hash> = (i..end).map(leaf).collect();
        let arts: Vec<_> = (i..end)
            .map(|j| (j % 3 == 0).then_some([7u8; 32]))
            .collect();
        idx.add(i, &leaves, &arts).unwrap();
        i = end;
    }
}

fn check(idx: &dyn EntryIndex, n: u64) {
    for i in (0..n).step_by(997).chain([0, n - 1]) {
        assert!(
            idx.leaf_candidates(&leaf(i)).unwrap().contains(&i),
            "leaf {i}"
        );
    }
    assert!(!idx
        .leaf_candidates(&leaf(n + 5))
        .unwrap()
        .contains(&(n + 5)));
    let arts = idx.lookup_candidates(&[7; 32]).unwrap();
    let want: Vec<u64> = (0..n).filter(|j| j % 3 == 0).collect();
    assert_eq!(arts, want, "all of them, ascending");
    assert!(idx.lookup_candidates(&[8; 32]).unwrap().is_empty());
}

async fn index_contract(backend: Backend) {
    tokio::task::spawn_blocking(move || contract(backend))
        .await
        .unwrap();
}

fn contract(backend: Backend) {
    let store = Store::new(backend);
    // More than one run's worth for the file backend.
    let n = 70_000;
    {
        let (_s, idx) = open(&store);
        assert_eq!(idx.indexed_size().unwrap(), 0);
        fill(idx.as_ref(), 0, n);
        assert_eq!(idx.indexed_size().unwrap(), n);
        check(idx.as_ref(), n);
        assert!(idx.add(5, &[[1; 32]], &[None]).is_err(), "out of order");
        assert_eq!(
            idx.indexed_size().unwrap(),
            n,
            "a refused add changes nothing"
        );
    }
    let (_s, idx) = open(&store);
    assert_eq!(idx.indexed_size().unwrap(), n, "survives a reopen");
    check(idx.as_ref(), n);
    fill(idx.as_ref(), n, 10);
    check(idx.as_ref(), n + 10);
    idx.clear().unwrap();
    assert_eq!(idx.indexed_size().unwrap(), 0);
    assert!(idx.leaf_candidates(&leaf(3)).unwrap().is_empty());
    assert!(idx.lookup_candidates(&[7; 32]).unwrap().is_empty());
    fill(idx.as_ref(), 0, 10);
    check(idx.as_ref(), 10);
    // Colliding 8-byte prefixes keep every candidate, ascending.
    let a = [9u8; 32];
    let mut b = a;
    b[31] = 1;
    idx.add(10, &[a, b], &[Some(a), Some(b)]).unwrap();
    assert_eq!(idx.leaf_candidates(&a).unwrap(), vec![10, 11]);
    assert_eq!(idx.lookup_candidates(&b).unwrap(), vec![10, 11]);
}
