use super::*;

fn leaf(i: u64) -> Hash {
    keyless_tlog::leaf_hash(&i.to_be_bytes())
}

/// Entries `0..n` with leaf `leaf(i)`; every third is about artifact
/// `[7; 32]` (so its indices span many blocks and runs), the rest about
/// none.
fn fill(idx: &RunIndex, from: u64, n: u64) {
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

fn check(idx: &RunIndex, n: u64) {
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
    assert_eq!(arts, want);
    assert!(idx.lookup_candidates(&[8; 32]).unwrap().is_empty());
}

#[test]
fn flushes_merges_and_survives_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let n = 3 * FLUSH_ENTRIES as u64 + 100;
    {
        let idx = RunIndex::open(dir.path()).unwrap();
        fill(&idx, 0, n);
        {
            let inner = idx.read();
            // Binary counter: 2·F merged, then F, and 100 buffered.
            let lens: Vec<u64> = inner.leaves.runs.iter().map(|r| r.len).collect();
            assert_eq!(lens, vec![2 * FLUSH_ENTRIES as u64, FLUSH_ENTRIES as u64]);
            assert_eq!(inner.leaves.buffer.len(), 100);
        }
        check(&idx, n);
        assert!(idx.add(5, &[[1; 32]], &[None]).is_err(), "out of order");
    }
    // Closing flushed the buffer.
    let idx = RunIndex::open(dir.path()).unwrap();
    assert_eq!(idx.indexed_size().unwrap(), n);
    check(&idx, n);
    fill(&idx, n, 10);
    check(&idx, n + 10);
    idx.clear().unwrap();
    assert_eq!(idx.indexed_size().unwrap(), 0);
    assert!(idx.leaf_candidates(&leaf(3)).unwrap().is_empty());
    let runs = fs::read_dir(dir.path().join(INDEX_DIR)).unwrap().count();
    assert_eq!(runs, 1, "only the manifest is left");
}

#[test]
fn a_manifest_that_disagrees_with_its_runs_is_discarded() {
    let dir = tempfile::tempdir().unwrap();
    {
        let idx = RunIndex::open(dir.path()).unwrap();
        fill(&idx, 0, FLUSH_ENTRIES as u64);
    }
    let run = fs::read_dir(dir.path().join(INDEX_DIR))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "run"))
        .unwrap();
    let f = OpenOptions::new().write(true).open(&run).unwrap();
    f.set_len(100).unwrap();
    let idx = RunIndex::open(dir.path()).unwrap();
    assert_eq!(idx.indexed_size().unwrap(), 0, "rebuilt from the log");
    fill(&idx, 0, 10);
    check(&idx, 10);
}
