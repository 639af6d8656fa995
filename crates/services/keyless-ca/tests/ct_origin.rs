//! The CT log's checkpoint origin is chosen once: a new log takes the
//! origin asked for (or the CA's URL without its scheme, as C2SP
//! static-ct-api says, or its ID), an existing log keeps the origin its
//! checkpoints were signed with whatever default is offered, and asking
//! an existing log for another origin is an error at open that leaves the
//! stored checkpoint as it was.

mod support;

use std::path::Path;
use std::time::{Duration, Instant};

use keyless_ca::ct_durable::{default_origin, CtLogOptions};
use keyless_ca::DurableCtLog;
use keyless_crypto::{KeyAlgorithm, SigningKey};
use keyless_log::LogError;
use support::temp_dir;

/// Open the log in `dir`, waiting while a previous handle's threads still
/// hold the data directory's lock.
fn open(dir: &Path, key: &SigningKey, options: &CtLogOptions) -> Result<DurableCtLog, LogError> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let key = SigningKey::from_pkcs8_der(key.to_pkcs8_der()).expect("key");
        match DurableCtLog::open(dir, options, key, Vec::new()) {
            Err(e)
                if Instant::now() < deadline
                    && (e.to_string().contains("lock") || format!("{e:?}").contains("Locked")) =>
            {
                std::thread::sleep(Duration::from_millis(20));
            }
            other => return other,
        }
    }
}

/// The origin line of the log's published checkpoint.
fn published_origin(log: &DurableCtLog) -> String {
    let note = log.log().published().note.clone();
    note.lines().next().expect("origin line").to_string()
}

#[test]
fn a_ct_log_keeps_the_origin_it_was_created_with() {
    let dir = temp_dir("ct-origin");
    let key = SigningKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
    let created = "ca.example.com/fulcio";

    // A new log takes the default offered (the CA's URL without scheme).
    let options = CtLogOptions {
        origin_if_new: Some(created.into()),
        ..Default::default()
    };
    let log = open(&dir, &key, &options).expect("new log");
    assert_eq!(log.log().origin(), created);
    assert_eq!(published_origin(&log), created);
    drop(log);

    // Reopened where the CA has another URL: the log keeps its origin.
    let options = CtLogOptions {
        origin_if_new: Some("127.0.0.1:5555".into()),
        ..Default::default()
    };
    let log = open(&dir, &key, &options).expect("reopened with another default");
    assert_eq!(log.log().origin(), created);
    drop(log);

    // The same origin asked for explicitly: fine.
    let options = CtLogOptions {
        origin: Some(created.into()),
        ..Default::default()
    };
    let log = open(&dir, &key, &options).expect("reopened with its own origin");
    assert_eq!(log.log().origin(), created);
    drop(log);

    // Another origin asked for explicitly: a clear error, nothing rewritten.
    let options = CtLogOptions {
        origin: Some("ct.example.org".into()),
        ..Default::default()
    };
    let err = open(&dir, &key, &options).expect_err("another origin is refused");
    let msg = err.to_string();
    assert!(
        matches!(err, LogError::Config(_))
            && msg.contains(&format!("{created:?}"))
            && msg.contains("\"ct.example.org\"")
            && msg.contains("keeps its origin"),
        "{msg}"
    );
    let log = open(&dir, &key, &CtLogOptions::default()).expect("still opens");
    assert_eq!(log.log().origin(), created);
    assert_eq!(published_origin(&log), created);
    drop(log);

    // With nothing offered, a new log is named by its ID.
    let fresh = dir.join("fresh");
    let log = open(&fresh, &key, &CtLogOptions::default()).expect("new log");
    assert_eq!(log.log().origin(), default_origin(&log.log_id()));
    drop(log);
    let _ = std::fs::remove_dir_all(&dir);
}
