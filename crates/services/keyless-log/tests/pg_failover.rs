//! PostgreSQL failover with nothing lost (issue 18, point 6): the log on a
//! primary with a synchronous standby (both started here on loopback from
//! Debian's PostgreSQL), reached through a multi-host connection string
//! with `target_session_attrs=read-write`. Under concurrent submissions
//! the primary is SIGKILLed and the standby promoted; the log must
//! reconnect by itself and append again, and afterwards, read from the
//! promoted server alone, every acknowledged entry is there with a valid
//! inclusion proof and the final checkpoint is consistent with every
//! checkpoint handed out before.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use keyless_log::{Log, LogConfig, Submission};
use keyless_testkit::pg_failover::PgPair;
use keyless_tlog::{leaf_hash, verify_consistency, verify_inclusion, Checkpoint, Hash, SignedNote};

const CLIENTS: usize = 8;

/// What the submitters were told: acknowledged index → body, and every
/// checkpoint (size → root) an acknowledgement carried.
#[derive(Default)]
struct Acks {
    entries: BTreeMap<u64, Vec<u8>>,
    checkpoints: BTreeMap<u64, Hash>,
}

fn checkpoint_of(log: &Log, note: &str) -> Checkpoint {
    let note = SignedNote::parse(note).unwrap();
    note.verify(log.verifier()).unwrap();
    Checkpoint::parse(note.body()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_primary_promote_standby_nothing_acknowledged_is_lost() {
    let pair = PgPair::start();
    let dir = tempfile::tempdir().unwrap();
    let config = || {
        let mut c = LogConfig::new(dir.path(), "failover.test");
        c.batch_interval = Duration::from_millis(20);
        c
    };
    let url = pair.failover_url();
    let log = {
        let (config, url) = (config(), url.clone());
        tokio::task::spawn_blocking(move || Log::open_postgres(config, &url))
            .await
            .unwrap()
            .unwrap()
    };

    let acks = Arc::new(Mutex::new(Acks::default()));
    let errors = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let mut clients = Vec::new();
    for c in 0..CLIENTS {
        let (log, acks, errors, stop) = (log.clone(), acks.clone(), errors.clone(), stop.clone());
        clients.push(tokio::spawn(async move {
            let mut n = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let body = format!("client {c} entry {n}").into_bytes();
                n += 1;
                match log
                    .submit(Submission {
                        body: body.clone(),
                        lookup_key: None,
                    })
                    .await
                {
                    Ok(s) => {
                        assert!(!s.duplicate, "a fresh entry was answered as a duplicate");
                        let mut a = acks.lock().unwrap();
                        assert!(
                            a.entries.insert(s.index, body).is_none(),
                            "index {} given twice",
                            s.index
                        );
                        a.checkpoints.insert(s.checkpoint.size, s.checkpoint.root);
                    }
                    Err(_) => {
                        errors.fetch_add(1, Ordering::Relaxed);
                        tokio::time::sleep(Duration::from_millis(20)).await;
                    }
                }
            }
        }));
    }
    let acked = || acks.lock().unwrap().entries.len();
    let wait_for = |n: usize, what: &str| {
        let deadline = Instant::now() + Duration::from_secs(90);
        while acked() < n {
            assert!(
                Instant::now() < deadline,
                "{what}: only {} acknowledged",
                acked()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    };
    tokio::task::block_in_place(|| wait_for(300, "before the failover"));

    tokio::task::block_in_place(|| pair.kill_primary());
    let at_kill = acked();
    let errors_at_kill = errors.load(Ordering::Relaxed);
    tokio::time::sleep(Duration::from_millis(500)).await;
    // Nothing can be committed without a primary.
    let during_outage = acked();
    assert!(
        during_outage <= at_kill + CLIENTS,
        "{} entries acknowledged with the primary dead",
        during_outage - at_kill
    );
    tokio::task::block_in_place(|| pair.promote());
    let promoted_at = acked();
    tokio::task::block_in_place(|| wait_for(promoted_at + 300, "after the promotion"));
    stop.store(true, Ordering::Relaxed);
    for c in clients {
        c.await.unwrap();
    }
    assert!(
        errors.load(Ordering::Relaxed) > errors_at_kill,
        "submissions during the outage must fail, not be acknowledged"
    );
    let acks = std::mem::take(&mut *acks.lock().unwrap());
    drop(log);

    // Read back from the promoted server alone, through a fresh open
    // (which checks the tiles against the stored checkpoint).
    let reopened = {
        let (config, url) = (config(), pair.standby.url());
        tokio::task::spawn_blocking(move || Log::open_postgres(config, &url))
            .await
            .unwrap()
            .unwrap()
    };
    tokio::task::block_in_place(|| {
        let published = reopened.published();
        let cp = checkpoint_of(&reopened, &published.note);
        assert_eq!((cp.size, cp.root_hash), (published.size, published.root));
        for (&index, body) in &acks.entries {
            assert!(
                index < cp.size,
                "acknowledged entry {index} is past the checkpoint"
            );
            assert_eq!(&reopened.entry(index).unwrap(), body, "entry {index}");
            let proof = reopened.inclusion_proof(index, cp.size).unwrap();
            verify_inclusion(index, cp.size, &leaf_hash(body), &proof, &cp.root_hash)
                .unwrap_or_else(|e| panic!("entry {index}: {e}"));
        }
        for (&size, root) in &acks.checkpoints {
            let proof = reopened.consistency_proof(size, cp.size).unwrap();
            verify_consistency(size, cp.size, root, &cp.root_hash, &proof)
                .unwrap_or_else(|e| panic!("checkpoint {size} -> {}: {e}", cp.size));
        }
        eprintln!(
            "acknowledged {} entries ({at_kill} before the kill, {} after the promotion), \
             {} submissions refused, final size {}, {} checkpoints checked",
            acks.entries.len(),
            acks.entries.len() - promoted_at,
            errors.load(Ordering::Relaxed),
            cp.size,
            acks.checkpoints.len()
        );
    });
}
