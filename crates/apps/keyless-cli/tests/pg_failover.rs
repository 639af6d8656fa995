//! PostgreSQL failover (issue 18, point 6) over HTTP: `keyless server log
//! --postgres "host=127.0.0.1,127.0.0.1 port=P1,P2 …
//! target_session_attrs=read-write"` on a primary with a synchronous
//! standby (Debian's PostgreSQL, started on loopback by keyless-testkit).
//! Under concurrent submissions the primary is SIGKILLed and the standby
//! promoted; the server must keep running and append again without a
//! restart, and then every acknowledged entry has an inclusion proof
//! against the final checkpoint, and every checkpoint read before the
//! failover is consistent with it.

mod support;

use std::collections::BTreeMap;
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use keyless_crypto::{KeyAlgorithm, SigningKey};
use keyless_testkit::pg_failover::PgPair;
use support::*;

const CLIENTS: usize = 6;

#[test]
fn server_log_rides_out_a_postgres_failover() {
    let pair = PgPair::start();
    let dir = temp_dir("pg-failover");
    let port = free_base_port();
    let stderr = dir.join("server.log");
    let mut child = spawn_until_ok(
        keyless()
            .args(["server", "log", "--listen", &format!("127.0.0.1:{port}")])
            .arg("--data-dir")
            .arg(dir.join("log"))
            .args(["--postgres", &pair.failover_url()])
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&stderr).expect("stderr file")),
        &format!("http://127.0.0.1:{port}/checkpoint"),
        "keyless server log --postgres",
    );

    // index -> canonicalized body of every 201.
    let acked = Arc::new(Mutex::new(BTreeMap::<u64, Vec<u8>>::new()));
    let refused = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let clients: Vec<_> = (0..CLIENTS)
        .map(|c| {
            let (acked, refused, stop) = (acked.clone(), refused.clone(), stop.clone());
            std::thread::spawn(move || {
                let key = SigningKey::generate(KeyAlgorithm::EcdsaP256).expect("key");
                let mut n = 0;
                while !stop.load(Ordering::Relaxed) {
                    n += 1;
                    let body = hashedrekord_v002_request(
                        &key,
                        &format!("failover {c} {n} {}", std::process::id()),
                    );
                    let url = format!("http://127.0.0.1:{port}/api/v2/log/entries");
                    match http_exchange("POST", &url, &body, Duration::from_secs(30)) {
                        Some((201, text)) => {
                            let (index, canonical) = acknowledged(text.as_bytes());
                            let old = acked.lock().expect("lock").insert(index, canonical);
                            assert!(old.is_none(), "index {index} acknowledged twice");
                        }
                        _ => {
                            refused.fetch_add(1, Ordering::Relaxed);
                            std::thread::sleep(Duration::from_millis(20));
                        }
                    }
                }
            })
        })
        .collect();
    let count = || acked.lock().expect("lock").len();
    let mut seen = Vec::new();
    let wait_for = |n: usize, what: &str, seen: &mut Vec<(u64, [u8; 32])>| {
        let deadline = Instant::now() + Duration::from_secs(90);
        while count() < n {
            assert!(
                Instant::now() < deadline,
                "{what}: {} acknowledged",
                count()
            );
            seen.extend(log_checkpoint(port));
            std::thread::sleep(Duration::from_millis(50));
        }
    };
    wait_for(200, "before the failover", &mut seen);
    pair.kill_primary();
    let at_kill = count();
    std::thread::sleep(Duration::from_millis(500));
    pair.promote();
    let promoted_at = count();
    wait_for(promoted_at + 200, "after the promotion", &mut seen);
    stop.store(true, Ordering::Relaxed);
    for c in clients {
        c.join().expect("client thread");
    }
    let server_log = std::fs::read_to_string(&stderr).unwrap_or_default();
    assert!(
        child.try_wait().expect("wait").is_none(),
        "the server exited\n{server_log}"
    );
    assert!(
        refused.load(Ordering::Relaxed) > 0,
        "no submission was refused while there was no primary"
    );

    let (size, root) = log_checkpoint(port).expect("final checkpoint");
    let acked = std::mem::take(&mut *acked.lock().expect("lock"));
    assert!(size as usize >= acked.len(), "{size} < {}", acked.len());
    let entries = acked.iter().map(|(i, c)| (*i, c.as_slice()));
    for proof in check_acknowledged(port, entries) {
        if proof.tree_size == size {
            assert_eq!(proof.root, root, "entry {}'s proof root", proof.index);
        }
    }
    seen.sort();
    seen.dedup();
    for (old_size, old_root) in seen.iter().filter(|(s, _)| *s > 0 && *s <= size) {
        let url = format!(
            "http://127.0.0.1:{port}/api/v1/log/proof?firstSize={old_size}&lastSize={size}"
        );
        let text = http_get(&url);
        let v: serde_json::Value =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
        assert_eq!(hash32(&v["rootHash"]), root, "{text}");
        keyless_tlog::verify_consistency(*old_size, size, old_root, &root, &hashes(&v["hashes"]))
            .unwrap_or_else(|e| panic!("checkpoint {old_size} -> {size}: {e}"));
    }
    eprintln!(
        "{} acknowledged ({at_kill} before the kill, {} after the promotion), {} refused, \
         final size {size}, {} earlier checkpoints consistent",
        acked.len(),
        acked.len() - promoted_at,
        refused.load(Ordering::Relaxed),
        seen.len()
    );
    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(&dir);
}
