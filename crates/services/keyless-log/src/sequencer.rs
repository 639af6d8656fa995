//! The sequencer: one thread that turns queued entries into durable,
//! signed tree growth.
//!
//! Each batch (up to `batch_size` entries, or whatever arrived within
//! `batch_interval` of the first, closing early after `batch_idle` without
//! a new entry) is assigned indices, added to the tree,
//! written to storage with fsync, and covered by a newly signed
//! checkpoint; only then are its submitters answered. One thread makes the
//! order of entries, and so the tree, a single sequence with no locking
//! subtleties. If storage fails the sequencer stops for good: after a
//! failed fsync nobody knows what is on disk, and guessing could publish
//! two different trees of the same size. A restart recovers from whatever
//! checkpoint is durable.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use keyless_tlog::tiles::{encode_entry_bundle, TILE_HEIGHT, TILE_WIDTH};
use keyless_tlog::{Checkpoint, Hash, TileId, TileKind};
use tokio::sync::oneshot;

use crate::config::LogConfig;
use crate::error::LogError;
use crate::merkle::MerkleTree;
use crate::state::{write, Published, Sequenced, Shared, Submission};
use crate::storage::{Commit, EntryMeta};

pub(crate) struct Pending {
    pub submission: Submission,
    pub leaf: Hash,
    pub reply: oneshot::Sender<Result<Sequenced, LogError>>,
}

pub(crate) fn spawn(
    shared: Arc<Shared>,
    rx: Receiver<Pending>,
    config: Arc<LogConfig>,
    tail: Vec<Vec<u8>>,
    queued: Arc<AtomicUsize>,
) -> Result<(), LogError> {
    std::thread::Builder::new()
        .name("keyless-log-sequencer".into())
        .spawn(move || run(&shared, &rx, &config, tail, &queued))
        .map(|_| ())
        .map_err(|e| LogError::Server(format!("cannot start the sequencer thread: {e}")))
}

fn run(
    shared: &Shared,
    rx: &Receiver<Pending>,
    config: &LogConfig,
    mut tail: Vec<Vec<u8>>,
    queued: &AtomicUsize,
) {
    while let Ok(first) = rx.recv() {
        let deadline = Instant::now() + config.batch_interval;
        let mut batch = vec![first];
        while batch.len() < config.batch_size {
            let now = Instant::now();
            if now >= deadline {
                break;
            }
            match rx.recv_timeout((deadline - now).min(config.batch_idle)) {
                Ok(p) => batch.push(p),
                Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => break,
            }
        }
        queued.fetch_sub(batch.len(), Ordering::Relaxed);
        if let Err(e) = sequence(shared, &mut tail, batch) {
            tracing::error!(error = %e, "storage failed; the sequencer stops, restart the log to recover");
            return;
        }
    }
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// Sequence one batch. An `Err` means storage failed and the batch's
/// submitters were told so.
fn sequence(shared: &Shared, tail: &mut Vec<Vec<u8>>, batch: Vec<Pending>) -> Result<(), LogError> {
    let now = unix_now();
    let old_size = crate::state::read(&shared.tree).size();
    let mut in_batch: HashMap<Hash, u64> = HashMap::new();
    let mut replies = Vec::with_capacity(batch.len());
    let mut bodies = Vec::new();
    let mut leaves = Vec::new();
    let mut meta = Vec::new();
    let mut artifacts = Vec::new();
    for p in batch {
        // Submitted twice, maybe concurrently: the first copy wins.
        if let Some(i) = shared.find_leaf(&p.leaf) {
            let checkpoint = crate::state::read(&shared.published).clone();
            let _ = p.reply.send(Ok(Sequenced {
                index: i,
                checkpoint,
                duplicate: true,
            }));
            continue;
        }
        if let Some(&i) = in_batch.get(&p.leaf) {
            replies.push((p.reply, i, true));
            continue;
        }
        let i = old_size + leaves.len() as u64;
        in_batch.insert(p.leaf, i);
        leaves.push(p.leaf);
        meta.push(EntryMeta {
            integrated_time: now,
            artifact_sha256: p.submission.artifact_sha256,
        });
        if let Some(d) = p.submission.artifact_sha256 {
            artifacts.push((d, i));
        }
        bodies.push(p.submission.body);
        replies.push((p.reply, i, false));
    }
    if leaves.is_empty() {
        return Ok(());
    }
    let new_size = old_size + leaves.len() as u64;
    let tail_start = old_size / TILE_WIDTH * TILE_WIDTH;
    let tail_len = tail.len();
    tail.extend(bodies);

    let prepared = {
        let mut tree = write(&shared.tree);
        for l in &leaves {
            tree.push(*l);
        }
        prepare(shared, &tree, tail, tail_start, old_size, new_size, meta)
    };
    let result = prepared.and_then(|(commit, root)| {
        shared.storage.commit(&commit)?;
        Ok(Published {
            size: new_size,
            root,
            note: commit.checkpoint,
        })
    });
    let published = match result {
        Ok(p) => Arc::new(p),
        Err(e) => {
            write(&shared.tree).truncate(old_size);
            tail.truncate(tail_len);
            for (reply, _, _) in replies {
                let _ = reply.send(Err(LogError::SequencerStopped));
            }
            return Err(e);
        }
    };

    {
        let mut idx = write(&shared.leaves);
        for (k, l) in leaves.iter().enumerate() {
            idx.insert(l, old_size + k as u64);
        }
    }
    {
        let mut idx = write(&shared.artifacts);
        for (d, i) in &artifacts {
            idx.insert(d, *i);
        }
    }
    *write(&shared.published) = published.clone();
    // Keep only the bodies of the entry bundle still being filled.
    let new_tail_start = new_size / TILE_WIDTH * TILE_WIDTH;
    tail.drain(..(new_tail_start - tail_start) as usize);
    for (reply, index, duplicate) in replies {
        let _ = reply.send(Ok(Sequenced {
            index,
            checkpoint: published.clone(),
            duplicate,
        }));
    }
    Ok(())
}

/// The commit for growing the tree from `old_size` to `new_size`: the
/// entry bundles and tiles that changed, and the signed checkpoint.
fn prepare(
    shared: &Shared,
    tree: &MerkleTree,
    tail: &[Vec<u8>],
    tail_start: u64,
    old_size: u64,
    new_size: u64,
    meta: Vec<EntryMeta>,
) -> Result<(Commit, Hash), LogError> {
    let mut tiles = Vec::new();
    for t in old_size / TILE_WIDTH..=(new_size - 1) / TILE_WIDTH {
        let lo = t * TILE_WIDTH;
        let hi = (lo + TILE_WIDTH).min(new_size);
        let slice = &tail[(lo - tail_start) as usize..(hi - tail_start) as usize];
        let data = encode_entry_bundle(slice.iter().map(Vec::as_slice))
            .map_err(|e| LogError::Corrupt(e.to_string()))?;
        tiles.push((
            TileId {
                kind: TileKind::Entries,
                index: t,
                width: (hi - lo) as u16,
            },
            data,
        ));
    }
    for level in 0u8.. {
        let height = TILE_HEIGHT * u32::from(level);
        let (old_n, new_n) = (old_size >> height, new_size >> height);
        if new_n == old_n {
            break;
        }
        for t in old_n / TILE_WIDTH..=(new_n - 1) / TILE_WIDTH {
            let lo = t * TILE_WIDTH;
            let hi = (lo + TILE_WIDTH).min(new_n);
            let mut data = Vec::with_capacity(((hi - lo) * 32) as usize);
            for i in lo..hi {
                let h = tree.node(height, i).ok_or_else(|| {
                    LogError::Corrupt(format!("tree lacks node {i} at height {height}"))
                })?;
                data.extend_from_slice(h);
            }
            tiles.push((
                TileId {
                    kind: TileKind::Hashes { level },
                    index: t,
                    width: (hi - lo) as u16,
                },
                data,
            ));
        }
    }
    let root = tree.root(new_size)?;
    let body = Checkpoint {
        origin: shared.origin.clone(),
        size: new_size,
        root_hash: root,
        extensions: vec![],
    }
    .to_body();
    let note = shared
        .signer
        .sign(&body)
        .map_err(|e| LogError::Key(e.to_string()))?
        .to_text();
    Ok((
        Commit {
            first_index: old_size,
            meta,
            tiles,
            checkpoint: note,
        },
        root,
    ))
}
