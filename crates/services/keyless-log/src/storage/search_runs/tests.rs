use std::fs;

use super::*;

fn own(i: u64) -> [u8; 32] {
    keyless_crypto::sha256(&i.to_be_bytes())
}

const SHARED: [u8; 32] = [7; 32];

/// Entries `from..to`: each has its own key, every other one also the
/// shared key (so its indices span many blocks and runs), every fifth
/// none at all.
fn fill(s: &mut SearchRuns, from: u64, to: u64) {
    for i in from..to {
        let keys = match (i % 5, i % 2) {
            (0, _) => vec![],
            (_, 0) => vec![own(i), SHARED],
            _ => vec![own(i)],
        };
        s.add(i, &keys).unwrap();
    }
}

fn check(s: &SearchRuns, n: u64) {
    for i in (1..n).step_by(997).chain([1, n - 1]).filter(|i| i % 5 != 0) {
        assert!(s.candidates(&own(i)).unwrap().contains(&i), "key {i}");
    }
    let want: Vec<u64> = (0..n).filter(|i| i % 5 != 0 && i % 2 == 0).collect();
    assert_eq!(s.candidates(&SHARED).unwrap(), want);
    assert!(s.candidates(&own(n + 3)).unwrap().is_empty());
}

fn run_files(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir.join(INDEX_DIR))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".run"))
        .collect();
    v.sort();
    v
}

#[test]
fn flushes_merges_and_continues_after_reopen() {
    let dir = tempfile::tempdir().unwrap();
    // 1.2 pairs per entry: three flushes, the first two merged.
    let n = 170_000;
    {
        let mut s = SearchRuns::open(dir.path()).unwrap();
        assert_eq!(s.indexed_size(), 0);
        fill(&mut s, 0, n);
        let lens: Vec<u64> = s.keys.runs.iter().map(|r| r.len).collect();
        let f = FLUSH_ENTRIES as u64;
        assert_eq!(lens, vec![2 * f, f]);
        assert_eq!(s.indexed_size(), n);
        check(&s, n);
        assert!(s.add(n + 1, &[]).is_err(), "out of order");
        assert!(s.add(3, &[]).is_err(), "out of order");
    }
    // Closing flushed the buffer: the store continues from `n`.
    let mut s = SearchRuns::open(dir.path()).unwrap();
    assert_eq!(s.indexed_size(), n);
    check(&s, n);
    assert_eq!(run_files(dir.path()).len(), 3, "merged runs are gone");
    fill(&mut s, n, n + 10);
    check(&s, n + 10);
    s.clear().unwrap();
    assert_eq!(s.indexed_size(), 0);
    assert!(s.candidates(&SHARED).unwrap().is_empty());
    assert!(run_files(dir.path()).is_empty());
}

#[test]
fn lives_beside_the_entry_index_without_touching_it() {
    let dir = tempfile::tempdir().unwrap();
    let entries = crate::storage::run_index::RunIndex::open(dir.path()).unwrap();
    let leaf = [1u8; 32];
    crate::index::EntryIndex::add(&entries, 0, &[leaf], &[None]).unwrap();
    drop(entries);
    let mut s = SearchRuns::open(dir.path()).unwrap();
    s.add(0, &[SHARED]).unwrap();
    drop(s);
    let runs = run_files(dir.path());
    assert_eq!(runs, vec!["leaves-0.run", "search-0.run"]);
    // Each one's stray-run cleanup leaves the other's runs alone.
    let entries = crate::storage::run_index::RunIndex::open(dir.path()).unwrap();
    let s = SearchRuns::open(dir.path()).unwrap();
    assert_eq!(s.candidates(&SHARED).unwrap(), vec![0]);
    assert_eq!(
        crate::index::EntryIndex::leaf_candidates(&entries, &leaf).unwrap(),
        vec![0]
    );
    assert_eq!(run_files(dir.path()), runs);
}

#[test]
fn a_second_store_on_the_same_directory_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let first = SearchRuns::open(dir.path()).unwrap();
    assert!(matches!(
        SearchRuns::open(dir.path()),
        Err(StorageError::Locked { .. })
    ));
    drop(first);
    SearchRuns::open(dir.path()).unwrap();
}

/// A store written and closed with `n` entries.
fn written(n: u64) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let mut s = SearchRuns::open(dir.path()).unwrap();
    fill(&mut s, 0, n);
    drop(s);
    dir
}

#[test]
fn a_damaged_manifest_or_run_is_discarded() {
    let n = FLUSH_ENTRIES as u64;
    let manifest = |d: &Path| d.join(INDEX_DIR).join(MANIFEST);

    // A run shorter than its manifest says.
    let dir = written(n);
    let run = dir.path().join(INDEX_DIR).join(&run_files(dir.path())[0]);
    fs::OpenOptions::new()
        .write(true)
        .open(&run)
        .unwrap()
        .set_len(100)
        .unwrap();
    let mut s = SearchRuns::open(dir.path()).unwrap();
    assert_eq!(s.indexed_size(), 0, "rebuilt from the log");
    assert!(run_files(dir.path()).is_empty(), "its runs are deleted");
    fill(&mut s, 0, 10);
    check(&s, 10);
    drop(s);

    // A run the manifest names is missing; garbage; another version.
    for damage in [
        |m: &Path| {
            let text = fs::read_to_string(m).unwrap();
            fs::write(m, format!("{text}search 0 5\n")).unwrap();
        },
        |m: &Path| fs::write(m, "keyless-log index v1\nsize x\n").unwrap(),
        |m: &Path| fs::write(m, "keyless-log index v9\nsize 5\n").unwrap(),
    ] {
        let dir = written(n);
        damage(&manifest(dir.path()));
        let s = SearchRuns::open(dir.path()).unwrap();
        assert_eq!(s.indexed_size(), 0);
        assert!(s.candidates(&SHARED).unwrap().is_empty());
    }

    // A manifest that claims more than the log is the user's to judge
    // (it knows the log's size): the store reports it as it is.
    let dir = written(n);
    let text = fs::read_to_string(manifest(dir.path())).unwrap();
    fs::write(
        manifest(dir.path()),
        text.replace(&format!("size {n}\n"), "size 999999999\n"),
    )
    .unwrap();
    let mut s = SearchRuns::open(dir.path()).unwrap();
    assert_eq!(s.indexed_size(), 999_999_999);
    s.clear().unwrap();
    assert_eq!(s.indexed_size(), 0);
}
