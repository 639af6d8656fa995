//! A log larger than a few tiles, across reopens, on every backend: the
//! tree keeps only its upper levels and partial tiles in memory and reads
//! complete tiles back from storage, and the entry index lives in storage
//! where the backend has one. Proofs for every size, duplicates and
//! artifact search must be exactly what the whole log gives.

mod support;

use keyless_log::{Log, Submission};
use keyless_tlog::{consistency_proof, inclusion_proof, leaf_hash, root_from_leaves, Hash};
use support::*;

both_backends!(proofs_duplicates_and_search_survive_reopen);

fn body(i: u64) -> Vec<u8> {
    format!("{{\"entry\":{i}}}").into_bytes()
}

fn digest(i: u64) -> [u8; 32] {
    keyless_crypto::sha256(&(i % 7).to_be_bytes())
}

async fn append(log: &Log, from: u64, to: u64) {
    let mut tasks = Vec::new();
    for i in from..to {
        let log = log.clone();
        tasks.push(tokio::spawn(async move {
            log.submit(Submission {
                body: body(i),
                lookup_key: Some(digest(i)),
            })
            .await
            .unwrap()
        }));
    }
    for t in tasks {
        assert!(!t.await.unwrap().duplicate);
    }
}

async fn open(store: &Store) -> Log {
    let config = store.config("large.test");
    tokio::task::spawn_blocking(move || keyless_log::open_from_config(config))
        .await
        .unwrap()
        .unwrap()
}

/// Check `log` against the reference built from its own entries.
fn check(log: &Log, sizes: &[u64]) {
    let size = log.published().size;
    let entries: Vec<Vec<u8>> = (0..size).map(|i| log.entry(i).unwrap()).collect();
    let leaves: Vec<Hash> = entries.iter().map(|e| leaf_hash(e)).collect();
    assert_eq!(log.published().root, root_from_leaves(&leaves));
    for &n in sizes.iter().filter(|&&n| n <= size) {
        let prefix = &leaves[..n as usize];
        assert_eq!(log.root(n).unwrap(), root_from_leaves(prefix), "root {n}");
        for i in [0, 1, 255, 256, 300, n / 2, n - 1]
            .into_iter()
            .filter(|&i| i < n)
        {
            assert_eq!(
                log.inclusion_proof(i, n).unwrap(),
                inclusion_proof(prefix, i).unwrap(),
                "inclusion {i} in {n}"
            );
        }
        for m in [1, 255, 256, 257, 513, n / 3, n]
            .into_iter()
            .filter(|&m| m >= 1 && m <= n)
        {
            assert_eq!(
                log.consistency_proof(m, n).unwrap(),
                consistency_proof(prefix, m).unwrap(),
                "consistency {m} -> {n}"
            );
        }
    }
    for (i, l) in leaves.iter().enumerate().step_by(97) {
        assert_eq!(log.find_leaf(l).unwrap(), Some(i as u64));
    }
    let found = log.find_by_key(&digest(3)).unwrap();
    // Entries were submitted concurrently: find which index got which body.
    let want: Vec<u64> = (0..size)
        .filter(|&j| (0..size).any(|i| i % 7 == 3 && entries[j as usize] == body(i)))
        .collect();
    assert_eq!(found, want);
}

async fn proofs_duplicates_and_search_survive_reopen(backend: Backend) {
    let store = tokio::task::spawn_blocking(move || Store::new(backend))
        .await
        .unwrap();
    let sizes = [1, 200, 256, 300, 511, 512, 700, 1000, 1300, 1500];
    let log = open(&store).await;
    append(&log, 0, 700).await;
    append(&log, 700, 1000).await;
    check(&log, &sizes);
    drop(log);
    wait_unlocked(&store).await;
    let log = open(&store).await;
    check(&log, &sizes);
    // Duplicates of entries in complete, dropped tiles are found.
    for i in [3, 500, 999] {
        let s = log
            .submit(Submission {
                body: body(i),
                lookup_key: Some(digest(i)),
            })
            .await
            .unwrap();
        assert!(s.duplicate);
        assert_eq!(log.entry(s.index).unwrap(), body(i));
    }
    append(&log, 1000, 1500).await;
    check(&log, &sizes);
}
