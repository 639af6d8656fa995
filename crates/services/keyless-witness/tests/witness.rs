//! The witness against a real keyless log core (keyless-log's `Log` on a
//! temporary directory), over real HTTP: consistent checkpoints are
//! cosigned with cosignatures that verify with the witness vkey; a log
//! showing two trees of one size, a bad proof, a rollback, an unknown log
//! and a foreign key are refused with the spec's status codes; and the
//! state survives a restart.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use keyless_log::{Log, LogConfig, Published, Submission};
use keyless_tlog::SignedNote;
use keyless_witness::request::encode;
use keyless_witness::vkey::note_vkey;
use keyless_witness::{verify_cosignature, LogEntry, Witness, WitnessConfig, WitnessError};

const ORIGIN: &str = "example.test/log";
const NAME: &str = "witness.test/w1";

fn open_log(dir: &Path) -> Log {
    let mut config = LogConfig::new(dir, ORIGIN);
    config.batch_linger = Duration::ZERO;
    Log::open_files(config).unwrap()
}

/// Append `n` entries tagged `tag` and return the published checkpoint.
async fn grow(log: &Log, tag: &str, n: usize) -> Arc<Published> {
    for i in 0..n {
        let body = format!("{tag}-{}-{i}", log.published().size).into_bytes();
        log.submit(Submission {
            body,
            lookup_key: None,
        })
        .await
        .unwrap();
    }
    log.published()
}

fn config(log: &Log) -> WitnessConfig {
    WitnessConfig {
        name: NAME.into(),
        logs: vec![LogEntry {
            origin: ORIGIN.into(),
            vkey: note_vkey(log.verifier()).unwrap(),
            public_key_pem: None,
        }],
    }
}

struct Server {
    url: String,
    vkey: String,
    client: reqwest::Client,
}

impl Server {
    async fn start(data_dir: &Path, config: &WitnessConfig) -> Self {
        let witness = Arc::new(Witness::open(data_dir, config).unwrap());
        let vkey = witness.vkey();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/add-checkpoint", listener.local_addr().unwrap());
        tokio::spawn(keyless_witness::serve(listener, witness));
        Self {
            url,
            vkey,
            client: reqwest::Client::new(),
        }
    }

    async fn post(&self, body: String) -> (u16, String, String) {
        let resp = self.client.post(&self.url).body(body).send().await.unwrap();
        let status = resp.status().as_u16();
        let ctype = resp
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default();
        (status, ctype, resp.text().await.unwrap())
    }

    /// Ask for a cosignature of `cp` from `old` (with the log's proof) and
    /// check the answer is a valid cosignature over exactly that body.
    async fn cosign(&self, log: &Log, old: u64, cp: &Published) {
        let proof = proof(log, old, cp.size);
        let (status, _, text) = self.post(encode(old, &proof, &cp.note)).await;
        assert_eq!(status, 200, "{text}");
        check_cosignature(&self.vkey, &cp.note, &text);
    }
}

/// The log's consistency proof; the log refuses the trivial ranges
/// (from 0, or to the same size), whose proof is empty.
fn proof(log: &Log, old: u64, size: u64) -> Vec<keyless_tlog::Hash> {
    if old == 0 || old == size {
        Vec::new()
    } else {
        log.consistency_proof(old, size).unwrap()
    }
}

/// The response lines appended to the log's note must parse as one note
/// carrying a cosignature/v1 from the witness that verifies over the body.
fn check_cosignature(vkey: &str, note: &str, response: &str) {
    assert!(response.starts_with("\u{2014} "), "{response:?}");
    assert!(response.ends_with('\n'));
    let combined = SignedNote::parse(&format!("{note}{response}")).unwrap();
    let line = combined
        .signatures()
        .iter()
        .find(|s| s.name == NAME)
        .expect("a witness line");
    let ts = verify_cosignature(vkey, combined.body(), line).unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert!(ts <= now && now - ts < 60, "timestamp {ts} vs now {now}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consistent_checkpoints_are_cosigned_and_rollbacks_refused() {
    let log_dir = tempfile::tempdir().unwrap();
    let log = open_log(log_dir.path());
    let wdir = tempfile::tempdir().unwrap();
    let server = Server::start(wdir.path(), &config(&log)).await;

    // The empty tree's checkpoint is cosigned too (old size 0 either way).
    let c0 = log.published();
    assert_eq!(c0.size, 0);
    server.cosign(&log, 0, &c0).await;
    let c3 = grow(&log, "a", 3).await;
    server.cosign(&log, 0, &c3).await;
    // The same checkpoint again (old = its size, empty proof) is cosigned.
    server.cosign(&log, 3, &c3).await;
    let c8 = grow(&log, "a", 5).await;
    assert_eq!(c8.size, 8);
    server.cosign(&log, 3, &c8).await;

    // A stale old size: 409 with the stored size as text/x.tlog.size.
    let p3_8 = log.consistency_proof(3, 8).unwrap();
    let (status, ctype, text) = server.post(encode(3, &p3_8, &c8.note)).await;
    assert_eq!(
        (status, ctype.as_str(), text.as_str()),
        (409, "text/x.tlog.size", "8\n")
    );
    // Rolled back to size 3: the old size it must claim (3) is not ours.
    let (status, ctype, text) = server.post(encode(3, &[], &c3.note)).await;
    assert_eq!(
        (status, ctype.as_str(), text.as_str()),
        (409, "text/x.tlog.size", "8\n")
    );
    // Claiming the right old size with a smaller tree: 400.
    let (status, _, _) = server.post(encode(8, &[], &c3.note)).await;
    assert_eq!(status, 400);

    // Malformed bodies: 400; a bad proof for a real checkpoint: 422.
    let (status, _, _) = server.post("old 8\n".into()).await;
    assert_eq!(status, 400);
    let c9 = grow(&log, "a", 1).await;
    let mut bad_proof = log.consistency_proof(8, 9).unwrap();
    bad_proof[0][0] ^= 1;
    let (status, _, _) = server.post(encode(8, &bad_proof, &c9.note)).await;
    assert_eq!(status, 422);
    // The right proof still works afterwards.
    server.cosign(&log, 8, &c9).await;

    // Over the body cap: 413 before the witness reads it.
    let (status, _, _) = server.post("x".repeat(65 * 1024)).await;
    assert_eq!(status, 413);

    // Two checkpoints from the same old size at once: the check and the
    // store are one step, so exactly one wins and the other gets 409.
    let c12 = grow(&log, "a", 3).await;
    let c15 = grow(&log, "a", 3).await;
    let body12 = encode(9, &proof(&log, 9, 12), &c12.note);
    let body15 = encode(9, &proof(&log, 9, 15), &c15.note);
    let (r12, r15) = tokio::join!(server.post(body12), server.post(body15));
    let mut statuses = [r12.0, r15.0];
    statuses.sort();
    assert_eq!(statuses, [200, 409], "{r12:?} {r15:?}");
    let winner = if r12.0 == 200 { 12 } else { 15 };
    let (status, _, text) = server.post(encode(0, &[], &c9.note)).await;
    assert_eq!((status, text), (409, format!("{winner}\n")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_log_showing_two_trees_is_refused() {
    // Two logs with the same origin and key but different entries: one
    // equivocating log.
    let a_dir = tempfile::tempdir().unwrap();
    let b_dir = tempfile::tempdir().unwrap();
    let a = open_log(a_dir.path());
    std::fs::copy(
        a_dir.path().join(keyless_log::keys::KEY_FILE),
        b_dir.path().join(keyless_log::keys::KEY_FILE),
    )
    .unwrap();
    let b = open_log(b_dir.path());
    assert_eq!(a.log_id(), b.log_id());
    let wdir = tempfile::tempdir().unwrap();
    let server = Server::start(wdir.path(), &config(&a)).await;

    let a3 = grow(&a, "a", 3).await;
    let b3 = grow(&b, "b", 3).await;
    assert_ne!(a3.root, b3.root);
    server.cosign(&a, 0, &a3).await;
    // Same size, other root: 409, and no cosignature.
    let (status, ctype, text) = server.post(encode(3, &[], &b3.note)).await;
    assert_eq!(status, 409, "{text}");
    assert_ne!(ctype, "text/x.tlog.size");
    // B grown further, with B's own (valid for B) proof: does not extend A.
    let b5 = grow(&b, "b", 2).await;
    let proof = b.consistency_proof(3, 5).unwrap();
    let (status, _, _) = server.post(encode(3, &proof, &b5.note)).await;
    assert_eq!(status, 422);
    // The honest branch goes on.
    let a5 = grow(&a, "a", 2).await;
    server.cosign(&a, 3, &a5).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_log_and_foreign_key_are_refused() {
    let a_dir = tempfile::tempdir().unwrap();
    let other_dir = tempfile::tempdir().unwrap();
    let a = open_log(a_dir.path());
    // Same origin, its own key: not the configured log key.
    let impostor = open_log(other_dir.path());
    let wdir = tempfile::tempdir().unwrap();
    let server = Server::start(wdir.path(), &config(&a)).await;

    let i2 = grow(&impostor, "i", 2).await;
    let (status, _, _) = server.post(encode(0, &[], &i2.note)).await;
    assert_eq!(status, 403);

    let a2 = grow(&a, "a", 2).await;
    let renamed = a2.note.replacen(ORIGIN, "example.test/other", 1);
    let (status, _, _) = server.post(encode(0, &[], &renamed)).await;
    assert_eq!(status, 404);
    // Nothing was stored by the refused requests.
    server.cosign(&a, 0, &a2).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn state_and_key_survive_a_restart() {
    let log_dir = tempfile::tempdir().unwrap();
    let log = open_log(log_dir.path());
    let wdir = tempfile::tempdir().unwrap();
    let cfg = config(&log);
    let c4 = grow(&log, "a", 4).await;

    let first = Witness::open(wdir.path(), &cfg).unwrap();
    let vkey = first.vkey();
    let line = first
        .add_checkpoint(encode(0, &[], &c4.note).as_bytes())
        .unwrap();
    check_cosignature(&vkey, &c4.note, &line);
    // A second process on the same directory is refused while it runs.
    assert!(matches!(
        Witness::open(wdir.path(), &cfg),
        Err(WitnessError::Storage(_))
    ));
    drop(first);

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(wdir.path().join(keyless_witness::cosign::KEY_FILE))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    let second = Witness::open(wdir.path(), &cfg).unwrap();
    assert_eq!(second.vkey(), vkey, "same key after restart");
    match second.add_checkpoint(encode(0, &[], &c4.note).as_bytes()) {
        Err(WitnessError::SizeConflict { old: 0, stored: 4 }) => {}
        other => panic!("expected a 409 with the stored size, got {other:?}"),
    }
    let c6 = grow(&log, "a", 2).await;
    let proof = log.consistency_proof(4, 6).unwrap();
    let line = second
        .add_checkpoint(encode(4, &proof, &c6.note).as_bytes())
        .unwrap();
    check_cosignature(&vkey, &c6.note, &line);
    // No temporary file is left behind.
    let names: Vec<_> = std::fs::read_dir(wdir.path().join("checkpoints"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(names.len(), 1, "{names:?}");
    assert!(!names[0].ends_with(".tmp"));

    // A damaged state file stops cosigning for that log (fail closed)
    // instead of starting over from size 0, which would accept a fork.
    drop(second);
    let state = wdir.path().join("checkpoints").join(&names[0]);
    std::fs::write(&state, "not a checkpoint\n").unwrap();
    let third = Witness::open(wdir.path(), &cfg).unwrap();
    for old in [0, 6] {
        let body = encode(old, &[], &c6.note);
        match third.add_checkpoint(body.as_bytes()) {
            Err(e @ WitnessError::Storage(_)) => assert_eq!(e.status(), 500),
            other => panic!("expected a storage error, got {other:?}"),
        }
    }
}
