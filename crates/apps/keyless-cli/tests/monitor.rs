//! `keyless monitor` against the dev stack's log (identity matching,
//! resuming without gaps or duplicates) and against a small tiled log
//! served here that rewrites its history (exit code 3).

mod support;

use std::collections::BTreeSet;
use std::path::Path;

use keyless_tlog::tiles::encode_entry_bundle;
use keyless_tlog::{leaf_hash, NoteSigner, TileId, TileKind};
use support::*;

fn monitor(
    stack: &DevStack,
    state: &Path,
    extra: &[&str],
) -> (i32, Vec<serde_json::Value>, String) {
    let o = run(keyless()
        .env("SIGSTORE_TRUST_CONFIG", stack.trust_config())
        .args(["monitor", "--log", &stack.url("logUrl"), "--state"])
        .arg(state)
        .args(extra));
    let lines = String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l:?}: {e}")))
        .collect();
    (o.status.code().unwrap_or(-1), lines, text(&o))
}

fn indices(lines: &[serde_json::Value]) -> Vec<u64> {
    lines
        .iter()
        .map(|l| l["logIndex"].as_u64().unwrap())
        .collect()
}

#[test]
fn reports_only_the_watched_identity_and_resumes_without_gaps() {
    let dir = temp_dir("monitor");
    let stack = DevStack::start(&dir, free_base_port());
    let issuer = stack.url("oidcIssuer");
    stack.sign_blob("alice@example.com", "a1");
    stack.sign_blob("bob@example.com", "b1");
    stack.sign_blob("alice@example.com", "a2");

    let state = dir.join("alice.state");
    let alice = ["--identity", "alice@example.com", "--issuer", &issuer];
    let (code, first, out) = monitor(
        &stack,
        &state,
        &[&alice[..], &["--once", "--from-index", "0"]].concat(),
    );
    assert_eq!(code, 0, "{out}");
    assert_eq!(first.len(), 2, "{out}");
    for l in &first {
        assert_eq!(l["identity"], "alice@example.com", "{l}");
        assert_eq!(l["issuer"], issuer.as_str());
        assert!(l["digest"].as_str().unwrap().starts_with("sha256:"), "{l}");
        assert!(l["entryUrl"].as_str().unwrap().contains("logIndex="), "{l}");
    }
    // Bob's entry is seen by a monitor watching bob (regexp), not alice's.
    let (code, bob, out) = monitor(
        &stack,
        &dir.join("bob.state"),
        &["--identity-regexp", "bob@.*", "--once", "--from-index", "0"],
    );
    assert_eq!(code, 0, "{out}");
    assert_eq!(bob.len(), 1, "{out}");
    assert!(!indices(&first).contains(&indices(&bob)[0]));

    // Nothing new: nothing printed, state unchanged in meaning.
    let (code, none, out) = monitor(&stack, &state, &[&alice[..], &["--once"]].concat());
    assert_eq!((code, none.len()), (0, 0), "{out}");

    // Three more by alice, one by bob; stop after one match, then resume.
    stack.sign_blob("alice@example.com", "a3");
    stack.sign_blob("bob@example.com", "b2");
    stack.sign_blob("alice@example.com", "a4");
    stack.sign_blob("alice@example.com", "a5");
    let (code, part, out) = monitor(
        &stack,
        &state,
        &[&alice[..], &["--once", "--stop-after", "1"]].concat(),
    );
    assert_eq!((code, part.len()), (0, 1), "{out}");
    let (code, rest, out) = monitor(&stack, &state, &[&alice[..], &["--once"]].concat());
    assert_eq!(code, 0, "{out}");
    assert_eq!(rest.len(), 2, "{out}");
    let mut all = indices(&first);
    all.extend(indices(&part));
    all.extend(indices(&rest));
    let unique: BTreeSet<u64> = all.iter().copied().collect();
    assert_eq!(unique.len(), 5, "no duplicate: {all:?}");
    // A fresh monitor over the whole log sees exactly the same five.
    let (_, fresh, out) = monitor(
        &stack,
        &dir.join("fresh.state"),
        &[&alice[..], &["--once", "--from-index", "0"]].concat(),
    );
    assert_eq!(
        indices(&fresh).into_iter().collect::<BTreeSet<_>>(),
        unique,
        "{out}"
    );
}

/// A tiled log served from memory, whose content the test swaps.
#[derive(Clone, Default)]
struct FakeLog(Files);

impl FakeLog {
    fn start(&self) -> String {
        serve_files(self.0.clone())
    }

    /// Serve a tree of `entries`, signed by `signer`.
    fn serve(&self, signer: &NoteSigner, entries: &[Vec<u8>]) {
        let leaves: Vec<_> = entries.iter().map(|e| leaf_hash(e)).collect();
        let n = entries.len();
        let mut files = self.0.lock().unwrap();
        files.clear();
        files.insert(
            "checkpoint".into(),
            signed_checkpoint(signer, &leaves).into_bytes(),
        );
        // Hash tiles of every level, and the entry bundles, as tlog-tiles lays them out.
        files.extend(hash_tiles(leaves));
        for (t, chunk) in entries.chunks(256).enumerate() {
            let id = TileId {
                kind: TileKind::Entries,
                index: t as u64,
                width: chunk.len() as u16,
            };
            files.insert(
                id.path(),
                encode_entry_bundle(chunk.iter().map(Vec::as_slice)).unwrap(),
            );
        }
        assert!(n > 0);
    }
}

#[test]
fn a_log_that_rewrites_history_is_an_alarm() {
    let dir = temp_dir("monitor-fork");
    let (pub_pem, signer) = fake_log_signer(&dir, "fork.test.example");
    let log = FakeLog::default();
    let url = log.start();
    let entries = |tag: &str, n: usize| -> Vec<Vec<u8>> {
        (0..n).map(|i| format!("{tag}{i}").into_bytes()).collect()
    };
    let run_monitor = |state: &Path| {
        run(keyless()
            .args([
                "monitor",
                "--log",
                &url,
                "--identity",
                "x@example.com",
                "--once",
                "--from-index",
                "0",
                "--log-public-key",
            ])
            .arg(&pub_pem)
            .arg("--state")
            .arg(state))
    };
    for (case, next) in [
        ("same size, other root", entries("fork", 5)),
        ("smaller", entries("good", 3)),
        ("bigger, not an extension", entries("fork", 9)),
    ] {
        let state = dir.join(format!("{}.state", case.replace(' ', "-")));
        log.serve(&signer, &entries("good", 5));
        let o = run_monitor(&state);
        assert!(o.status.success(), "{case}: {}", text(&o));
        let saved = std::fs::read_to_string(&state).unwrap();
        // A consistent extension is fine.
        log.serve(&signer, &entries("good", 7));
        let o = run_monitor(&state);
        assert!(o.status.success(), "{case}: {}", text(&o));
        std::fs::write(&state, &saved).unwrap();
        log.serve(&signer, &next);
        let o = run_monitor(&state);
        let out = text(&o);
        assert_eq!(o.status.code(), Some(3), "{case}: {out}");
        assert!(
            out.contains("ALARM") && out.contains("size 5, root "),
            "{case}: {out}"
        );
        assert!(
            out.contains(&format!("size {}, root ", next.len())),
            "{case}: {out}"
        );
        // The stored checkpoint is kept: the alarm repeats, never skipped.
        assert_eq!(std::fs::read_to_string(&state).unwrap(), saved, "{case}");
        assert_eq!(run_monitor(&state).status.code(), Some(3), "{case}");
    }
}

#[test]
fn log_get_reads_a_tiles_only_log() {
    let dir = temp_dir("log-tiles");
    let (pub_pem, signer) = fake_log_signer(&dir, "tiles.test.example");
    let log = FakeLog::default();
    let url = log.start();
    let digest = |i: usize| hex::encode(keyless_crypto::sha256(&i.to_be_bytes()));
    let entries: Vec<Vec<u8>> = (0..7)
        .map(|i| {
            format!(
                r#"{{"apiVersion":"0.0.1","kind":"hashedrekord","spec":{{"data":{{"hash":{{"algorithm":"sha256","value":"{}"}}}}}}}}"#,
                digest(i)
            )
            .into_bytes()
        })
        .collect();
    log.serve(&signer, &entries);
    let get = |args: &[&str]| {
        run(keyless()
            .args(["log", "get", "--url", &url, "--log-public-key"])
            .arg(&pub_pem)
            .args(args))
    };
    let o = get(&["--index", "3"]);
    let out = text(&o);
    assert!(o.status.success(), "{out}");
    for want in [
        "Log index: 3".to_string(),
        format!("Digest: sha256:{}", digest(3)),
        "Integrated time: not served".to_string(),
        "proof verified against checkpoint 7".to_string(),
    ] {
        assert!(out.contains(&want), "missing {want:?} in {out}");
    }
    assert!(!get(&["--index", "7"]).status.success());
    // An entry bundle that differs from the tree the checkpoint signs.
    let mut tampered = entries.clone();
    tampered[3] = b"{}".to_vec();
    let bundle = encode_entry_bundle(tampered.iter().map(Vec::as_slice)).unwrap();
    log.0
        .lock()
        .unwrap()
        .insert("tile/entries/000.p/7".into(), bundle);
    let o = get(&["--index", "3"]);
    assert!(
        !o.status.success() && !text(&o).contains("proof verified"),
        "{}",
        text(&o)
    );
    let o = run(keyless()
        .args([
            "log",
            "checkpoint",
            "--url",
            &url,
            "--output",
            "json",
            "--log-public-key",
        ])
        .arg(&pub_pem));
    assert!(o.status.success(), "{}", text(&o));
    let cp: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        (cp["size"].as_u64(), cp["signatureVerified"].as_bool()),
        (Some(7), Some(true))
    );
}

#[test]
fn follows_a_log_across_tiles_and_levels() {
    let dir = temp_dir("monitor-levels");
    let (pub_pem, signer) = fake_log_signer(&dir, "levels.test.example");
    let log = FakeLog::default();
    let url = log.start();
    let entries = |tag: &str, n: usize| -> Vec<Vec<u8>> {
        (0..n).map(|i| format!("{tag}{i}").into_bytes()).collect()
    };
    let run_monitor = |state: &Path, from: &str| {
        let o = run(keyless()
            .args([
                "monitor",
                "--log",
                &url,
                "--identity",
                "x@example.com",
                "--once",
                "--from-index",
                from,
                "--log-public-key",
            ])
            .arg(&pub_pem)
            .arg("--state")
            .arg(state));
        (o.status.code(), text(&o))
    };
    let state = dir.join("m.state");
    log.serve(&signer, &entries("e", 300));
    let (code, out) = run_monitor(&state, "0");
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("read 300 entries"), "{out}");
    // Grows across a level-1 tile boundary: consistency 300 -> 700.
    log.serve(&signer, &entries("e", 700));
    let (code, out) = run_monitor(&state, "0");
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.contains("read 400 entries") && out.contains("next index 700"),
        "{out}"
    );
    // A fresh monitor starting mid-log builds its frontier from the tiles.
    let (code, out) = run_monitor(&dir.join("mid.state"), "520");
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("read 180 entries"), "{out}");
    // Entry bundles that are not the tree the checkpoint signs.
    let mut swapped = entries("e", 512);
    swapped[300] = b"swapped".to_vec();
    let bundle = encode_entry_bundle(swapped[256..].iter().map(Vec::as_slice)).unwrap();
    log.0
        .lock()
        .unwrap()
        .insert("tile/entries/001".into(), bundle);
    let (code, out) = run_monitor(&dir.join("swapped.state"), "0");
    assert_eq!(code, Some(3), "{out}");
    assert!(out.contains("fold to root"), "{out}");
    // A bigger tree that changed entry 650: not an extension.
    let mut forked = entries("e", 800);
    forked[650] = b"rewritten".to_vec();
    log.serve(&signer, &forked);
    let (code, out) = run_monitor(&state, "0");
    assert_eq!(code, Some(3), "{out}");
    assert!(
        out.contains("size 700, root") && out.contains("size 800, root"),
        "{out}"
    );
}

#[test]
fn key_watch_resumes_entry_by_entry_across_bundles() {
    let dir = temp_dir("monitor-keys");
    let (pub_pem, signer) = fake_log_signer(&dir, "keys.test.example");
    let keys = EntryKeys::new(&dir);
    let watched_pem = keys.watched_pem.clone();
    // Every 97th entry is by the watched key: 6 of 600, across three bundles.
    let entries: Vec<Vec<u8>> = (0..600usize)
        .map(|i| keys.hashedrekord(i % 97 == 5, &i.to_be_bytes()))
        .collect();
    let want: Vec<u64> = (0..600u64).filter(|i| i % 97 == 5).collect();
    let log = FakeLog::default();
    let url = log.start();
    log.serve(&signer, &entries);
    let state = dir.join("m.state");
    let mut seen = Vec::new();
    for pass in 0..20 {
        let o = run(keyless()
            .args([
                "monitor",
                "--log",
                &url,
                "--once",
                "--from-index",
                "0",
                "--stop-after",
                "1",
                "--key",
            ])
            .arg(&watched_pem)
            .arg("--log-public-key")
            .arg(&pub_pem)
            .arg("--state")
            .arg(&state));
        assert!(o.status.success(), "pass {pass}: {}", text(&o));
        let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&o.stdout)
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        if lines.is_empty() {
            break;
        }
        assert_eq!(lines.len(), 1, "{}", text(&o));
        assert!(lines[0]["identity"]
            .as_str()
            .unwrap()
            .starts_with("key:sha256:"));
        seen.push(lines[0]["logIndex"].as_u64().unwrap());
    }
    assert_eq!(seen, want, "each watched entry once, in order, none missed");
}
