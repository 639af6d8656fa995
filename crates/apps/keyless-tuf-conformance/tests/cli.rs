//! The conformance CLI end to end over `file://` URLs.

use std::path::Path;
use std::process::Command;

use keyless_tuf::repo::RepositoryBuilder;

fn run(args: &[&str]) -> i32 {
    Command::new(env!("CARGO_BIN_EXE_keyless-tuf-conformance"))
        .args(args)
        .status()
        .unwrap()
        .code()
        .unwrap_or(-1)
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn init_refresh_download_and_refusals() {
    let tmp = tempfile::tempdir().unwrap();
    let mirror = tmp.path().join("repo");
    let md = tmp.path().join("metadata");
    let td = tmp.path().join("targets");
    std::fs::create_dir_all(&md).unwrap();
    std::fs::create_dir_all(&td).unwrap();
    let mut repo = RepositoryBuilder::new().build().unwrap();
    repo.add_target("path/to/file.txt", b"hello").unwrap();
    repo.sign().unwrap();
    repo.publish(&mirror).unwrap();
    let root = tmp.path().join("initial_root.json");
    std::fs::write(&root, repo.root_version_bytes(1).unwrap()).unwrap();
    let url = format!("file://{}", mirror.display());
    let turl = format!("{url}/targets");

    assert_eq!(run(&["--metadata-dir", s(&md), "init", s(&root)]), 0);
    assert_eq!(
        run(&["--metadata-url", &url, "--metadata-dir", s(&md), "refresh"]),
        0
    );
    for f in [
        "root.json",
        "timestamp.json",
        "snapshot.json",
        "targets.json",
    ] {
        assert!(md.join(f).is_file(), "{f}");
    }
    let dl = |name: &str| {
        run(&[
            "--metadata-url",
            &url,
            "--metadata-dir",
            s(&md),
            "--target-name",
            name,
            "--target-dir",
            s(&td),
            "--target-base-url",
            &turl,
            "download",
        ])
    };
    assert_eq!(dl("path/to/file.txt"), 0);
    let saved = td.join("path%2Fto%2Ffile.txt");
    assert_eq!(std::fs::read(&saved).unwrap(), b"hello");
    // Cached: no new download needed even if the mirror copy disappears.
    let h = keyless_crypto::sha256_hex(b"hello");
    std::fs::remove_file(mirror.join(format!("targets/path/to/{h}.file.txt"))).unwrap();
    assert_eq!(dl("path/to/file.txt"), 0);
    assert_eq!(dl("missing.txt"), 1);

    // Freeze: a validly signed but expired timestamp is refused (exit 1).
    let ts = std::fs::read(mirror.join("timestamp.json")).unwrap();
    let mut v: serde_json::Value = serde_json::from_slice(&ts).unwrap();
    v["signed"]["version"] = 100.into();
    v["signed"]["expires"] = "2001-01-01T00:00:00Z".into();
    let bytes = repo.sign_json("timestamp", &v["signed"]).unwrap();
    std::fs::write(mirror.join("timestamp.json"), bytes).unwrap();
    assert_eq!(
        run(&["--metadata-url", &url, "--metadata-dir", s(&md), "refresh"]),
        1
    );
    let trusted: serde_json::Value =
        serde_json::from_slice(&std::fs::read(md.join("timestamp.json")).unwrap()).unwrap();
    assert_ne!(
        trusted["signed"]["version"], 100,
        "expired timestamp must not be persisted"
    );
    assert_eq!(run(&["bogus"]), 1);
    assert_eq!(run(&["--metadata-dir", s(&md)]), 1);
}

/// tuf-conformance `test_duplicate_sig_keyids`: a snapshot whose
/// `signatures` repeat a key ID is refused (exit 1) even though the
/// threshold is met, it is not persisted, and the error names the check.
#[test]
fn duplicate_signature_keyids_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let mirror = tmp.path().join("repo");
    let md = tmp.path().join("metadata");
    std::fs::create_dir_all(&md).unwrap();
    let mut repo = RepositoryBuilder::new().build().unwrap();
    repo.sign().unwrap();
    repo.publish(&mirror).unwrap();
    let root = tmp.path().join("initial_root.json");
    std::fs::write(&root, repo.root_version_bytes(1).unwrap()).unwrap();
    let url = format!("file://{}", mirror.display());
    assert_eq!(run(&["--metadata-dir", s(&md), "init", s(&root)]), 0);

    let file = mirror.join(format!("{}.snapshot.json", repo.snapshot.common.version));
    let mut v: serde_json::Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    let first = v["signatures"][0].clone();
    v["signatures"].as_array_mut().unwrap().push(first);
    std::fs::write(&file, serde_json::to_vec(&v).unwrap()).unwrap();

    let out = Command::new(env!("CARGO_BIN_EXE_keyless-tuf-conformance"))
        .args(["--metadata-url", &url, "--metadata-dir", s(&md), "refresh"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("TUF: snapshot.json v1 rejected: duplicate signature key ID"),
        "{stderr}"
    );
    assert!(!md.join("snapshot.json").exists());
}
