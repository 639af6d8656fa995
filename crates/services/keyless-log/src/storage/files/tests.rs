use super::*;
use keyless_tlog::tiles::encode_entry_bundle;
use keyless_tlog::TileKind;

#[test]
fn a_second_opener_is_refused_until_the_first_closes() {
    let dir = tempfile::tempdir().unwrap();
    let first = FileStorage::open(dir.path()).unwrap();
    let err = FileStorage::open(dir.path()).unwrap_err();
    assert!(matches!(err, StorageError::Locked { .. }), "{err}");
    let msg = err.to_string();
    assert!(msg.contains("in use by another keyless log"), "{msg}");
    assert!(
        msg.contains(&dir.path().join(LOCK_FILE).display().to_string()),
        "{msg}"
    );
    drop(first);
    FileStorage::open(dir.path()).expect("free again once closed");
}

fn hashes(index: u64, width: u16) -> TileId {
    TileId {
        kind: TileKind::Hashes { level: 0 },
        index,
        width,
    }
}

fn bundle(index: u64, width: u16) -> TileId {
    TileId {
        kind: TileKind::Entries,
        index,
        width,
    }
}

fn meta(t: i64) -> EntryMeta {
    EntryMeta {
        sequenced_at: t,
        lookup_key: Some([t as u8; 32]),
    }
}

fn entries(n: usize) -> Vec<Vec<u8>> {
    (0..n).map(|i| vec![i as u8; 20 + i % 7]).collect()
}

/// The commit growing a one-tile-level log from `old` to `new` entries
/// (level-0 hashes are the entry's index repeated, enough for storage).
fn grow(old: usize, new: usize) -> Commit {
    let all = entries(new);
    let mut tiles = Vec::new();
    for t in old / 256..new.div_ceil(256) {
        let (lo, hi) = (t * 256, ((t + 1) * 256).min(new));
        let h: Vec<u8> = (lo..hi).flat_map(|i| [i as u8; 32]).collect();
        let b = encode_entry_bundle(all[lo..hi].iter().map(Vec::as_slice)).unwrap();
        let w = (hi - lo) as u16;
        tiles.push((hashes(t as u64, w), h));
        tiles.push((bundle(t as u64, w), b));
    }
    Commit {
        first_index: old as u64,
        meta: (old..new).map(|i| meta(i as i64)).collect(),
        tiles,
        checkpoint: format!("cp {new}\n"),
    }
}

#[test]
fn commit_then_read_and_recover() {
    let dir = tempfile::tempdir().unwrap();
    let s = FileStorage::open(dir.path()).unwrap();
    assert_eq!(s.read_checkpoint().unwrap(), None);
    let id = hashes(1234, 2);
    let m = meta(42);
    s.commit(&Commit {
        first_index: 0,
        meta: vec![m, m],
        tiles: vec![(id, vec![1; 64])],
        checkpoint: "cp\n".into(),
    })
    .unwrap();
    assert_eq!(s.read_checkpoint().unwrap().as_deref(), Some("cp\n"));
    assert_eq!(s.read_tile(&id).unwrap(), Some(vec![1; 64]));
    // Partial tiles are served from memory, not written as files.
    assert!(!dir.path().join("tile/0/x001/234.p/2").exists());
    assert_eq!(
        fs::read_to_string(dir.path().join("checkpoint")).unwrap(),
        "cp\n"
    );
    assert_eq!(s.read_meta(1, 1).unwrap(), vec![m]);
    // Records past the committed size are dropped; missing ones are an error.
    s.recover(1).unwrap();
    assert!(s.read_meta(1, 1).is_err());
    assert!(s.recover(2).is_err());
    // A flipped bit is caught by the checksum.
    let f = OpenOptions::new()
        .write(true)
        .open(dir.path().join("meta"))
        .unwrap();
    f.write_all_at(&[0xff], 3).unwrap();
    assert!(matches!(
        s.read_meta(0, 1),
        Err(StorageError::Malformed { .. })
    ));
}

/// Everything a reader sees of the store after `size` entries.
fn state(s: &FileStorage, size: usize) -> (Option<String>, Vec<Option<Vec<u8>>>, Vec<EntryMeta>) {
    let mut tiles = Vec::new();
    for t in 0..size.div_ceil(256) {
        let w = (size - t * 256).min(256) as u16;
        tiles.push(s.read_tile(&hashes(t as u64, w)).unwrap());
        tiles.push(s.read_tile(&bundle(t as u64, w)).unwrap());
    }
    (
        s.read_checkpoint().unwrap(),
        tiles,
        s.read_meta(0, size as u64).unwrap(),
    )
}

#[test]
fn full_tiles_are_files_and_narrower_widths_are_prefixes() {
    let dir = tempfile::tempdir().unwrap();
    let s = FileStorage::open(dir.path()).unwrap();
    for (old, new) in [(0, 100), (100, 300), (300, 301)] {
        s.commit(&grow(old, new)).unwrap();
    }
    assert!(dir.path().join("tile/0/000").exists());
    assert!(dir.path().join("tile/entries/000").exists());
    let (cp, tiles, meta) = state(&s, 301);
    assert_eq!(cp.as_deref(), Some("cp 301\n"));
    assert!(tiles.iter().all(Option::is_some));
    assert_eq!(meta.len(), 301);
    // Widths committed earlier: prefixes of the partial in memory, and
    // of a tile that has filled since.
    let all = entries(301);
    assert_eq!(
        s.read_tile(&bundle(0, 100)).unwrap(),
        Some(encode_entry_bundle(all[..100].iter().map(Vec::as_slice)).unwrap())
    );
    assert_eq!(
        s.read_tile(&hashes(1, 44)).unwrap().map(|t| t.len()),
        Some(44 * 32)
    );
    assert_eq!(s.read_tile(&hashes(1, 46)).unwrap(), None);
    // Rewriting history is refused and changes nothing.
    let mut forged = grow(300, 302);
    forged.tiles[0].1[0] ^= 1;
    assert!(s.commit(&forged).is_err());
    assert_eq!(state(&s, 301), (cp, tiles, meta));
}

#[test]
fn a_crash_before_the_files_reach_the_disk_is_replayed() {
    let dir = tempfile::tempdir().unwrap();
    let s = FileStorage::open(dir.path()).unwrap();
    for (old, new) in [(0, 10), (10, 250), (250, 600), (600, 601)] {
        s.commit(&grow(old, new)).unwrap();
    }
    let before = state(&s, 601);
    drop(s);
    // What a power cut can take: every file not fsynced since the
    // segment began (they are written after the commit's record).
    for p in [
        "tile/0/000",
        "tile/0/001",
        "tile/entries/000",
        "checkpoint",
        "meta",
    ] {
        fs::remove_file(dir.path().join(p)).unwrap();
    }
    let s = FileStorage::open(dir.path()).unwrap();
    assert_eq!(state(&s, 601), before);
    assert!(dir.path().join("tile/entries/001").exists());
    // One segment again, and it replays on its own.
    assert_eq!(wal::segments(dir.path()).unwrap().len(), 1);
    drop(s);
    let s = FileStorage::open(dir.path()).unwrap();
    assert_eq!(state(&s, 601), before);
}

#[test]
fn a_torn_last_record_is_an_unacknowledged_commit() {
    let dir = tempfile::tempdir().unwrap();
    let s = FileStorage::open(dir.path()).unwrap();
    s.commit(&grow(0, 5)).unwrap();
    s.commit(&grow(5, 9)).unwrap();
    let segment = wal::segments(dir.path()).unwrap()[0].1.clone();
    drop(s);
    // Cut the last record short, as a crash during its append would.
    let len = fs::metadata(&segment).unwrap().len();
    OpenOptions::new()
        .write(true)
        .open(&segment)
        .unwrap()
        .set_len(len - 3)
        .unwrap();
    fs::remove_file(dir.path().join("checkpoint")).unwrap();
    let s = FileStorage::open(dir.path()).unwrap();
    assert_eq!(s.read_checkpoint().unwrap().as_deref(), Some("cp 5\n"));
    assert!(s.read_tile(&bundle(0, 5)).unwrap().is_some());
    assert_eq!(s.read_tile(&bundle(0, 9)).unwrap(), None);
    // The log goes on from there.
    s.commit(&grow(5, 7)).unwrap();
    drop(s);
    let s = FileStorage::open(dir.path()).unwrap();
    assert_eq!(s.read_checkpoint().unwrap().as_deref(), Some("cp 7\n"));
}

#[test]
fn a_half_started_segment_falls_back_to_the_previous_one() {
    let dir = tempfile::tempdir().unwrap();
    let s = FileStorage::open(dir.path()).unwrap();
    s.commit(&grow(0, 3)).unwrap();
    let newest = wal::segments(dir.path()).unwrap()[0].0;
    drop(s);
    // A retirement that stopped while writing the next snapshot.
    fs::write(wal::segment_path(dir.path(), newest + 1), [0, 0, 1]).unwrap();
    let s = FileStorage::open(dir.path()).unwrap();
    assert_eq!(s.read_checkpoint().unwrap().as_deref(), Some("cp 3\n"));
    assert_eq!(wal::segments(dir.path()).unwrap()[0].0, newest + 2);
}

#[test]
fn a_directory_from_before_the_write_ahead_log_is_read_as_it_is() {
    let dir = tempfile::tempdir().unwrap();
    // The earlier layout: partial tiles as `.p/W` files, the checkpoint
    // file as the commit point, no `wal/`.
    let c = grow(0, 3);
    for (id, data) in &c.tiles {
        write_file(&dir.path().join(id.path()), data).unwrap();
    }
    let recs: Vec<u8> = c.meta.iter().flat_map(encode_meta).collect();
    fs::write(dir.path().join("meta"), recs).unwrap();
    fs::write(dir.path().join("checkpoint"), &c.checkpoint).unwrap();
    let s = FileStorage::open(dir.path()).unwrap();
    let before = state(&s, 3);
    assert_eq!(before.0.as_deref(), Some("cp 3\n"));
    assert!(before.1.iter().all(Option::is_some));
    // It grows from there, and survives losing the unsynced files.
    s.commit(&grow(3, 4)).unwrap();
    let after = state(&s, 4);
    drop(s);
    fs::remove_file(dir.path().join("checkpoint")).unwrap();
    let s = FileStorage::open(dir.path()).unwrap();
    assert_eq!(state(&s, 4), after);
}

#[test]
fn segments_are_retired_as_they_grow() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = FileStorage::open(dir.path()).unwrap();
    s.segment_max = 4096;
    let first = wal::segments(dir.path()).unwrap()[0].0;
    let mut size = 0;
    for step in [1, 7, 60, 200, 3, 300, 9] {
        s.commit(&grow(size, size + step)).unwrap();
        size += step;
    }
    let before = state(&s, size);
    let segments = wal::segments(dir.path()).unwrap();
    assert_eq!(segments.len(), 1, "older segments are deleted");
    assert!(segments[0].0 > first + 1, "retired more than once");
    drop(s);
    fs::remove_file(dir.path().join("checkpoint")).unwrap();
    let s = FileStorage::open(dir.path()).unwrap();
    assert_eq!(state(&s, size), before);
}
