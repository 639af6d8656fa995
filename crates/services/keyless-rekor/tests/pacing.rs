//! `batch_linger` spaces commits out under load but never holds back an
//! entry that arrives after a quiet spell. The bounds are the linger
//! itself (seconds), not a speed: a commit takes milliseconds.

use std::time::{Duration, Instant};

use keyless_log::{LogConfig, Submission};

fn entry(i: u8) -> Submission {
    Submission {
        body: vec![i; 100],
        lookup_key: None,
    }
}

const LINGER: Duration = Duration::from_secs(3);
/// Far below `LINGER`, far above a commit.
const PROMPT: Duration = Duration::from_millis(2500);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commits_are_spaced_by_the_linger_but_a_lone_entry_is_not_held() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = LogConfig::new(dir.path(), "pacing.test".to_string());
    config.batch_interval = Duration::from_secs(30);
    config.batch_linger = LINGER;
    let log = tokio::task::spawn_blocking(move || keyless_log::open_from_config(config))
        .await
        .unwrap()
        .unwrap();

    // The first entry: no commit before it, so nothing to space it from.
    let t = Instant::now();
    let a = tokio::time::timeout(PROMPT, log.submit(entry(0)))
        .await
        .expect("a lone entry waited for the linger")
        .unwrap();
    assert_eq!(a.index, 0);

    // The next one follows at once: its batch closes only LINGER after
    // the previous batch closed (which was after `t`).
    let b = log.submit(entry(1)).await.unwrap();
    assert_eq!(b.index, 1);
    assert!(
        t.elapsed() >= LINGER,
        "second commit came {:?} after the first submit, before the {LINGER:?} linger",
        t.elapsed()
    );

    // After a quiet spell longer than the linger, an entry commits at once.
    tokio::time::sleep(LINGER + Duration::from_millis(200)).await;
    let c = tokio::time::timeout(PROMPT, log.submit(entry(2)))
        .await
        .expect("an entry after a quiet spell waited for the linger")
        .unwrap();
    assert_eq!(c.index, 2);
    assert_eq!(c.checkpoint.size, 3);
}
