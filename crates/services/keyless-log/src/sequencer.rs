//! The sequencer: one thread that turns queued entries into durable,
//! signed tree growth.
//!
//! Each batch (group commit: whatever arrived while the previous batch was
//! being made durable, up to `batch_size` entries or `batch_interval`) is
//! assigned indices, added to the tree, and covered by a newly signed
//! checkpoint. A second thread, the committer, writes each
//! batch to storage with fsync and only then publishes the checkpoint and
//! answers the batch's submitters. The two form a pipeline: while one
//! batch is being made durable the next one fills (and under load grows
//! larger), so throughput is not capped at one batch per fsync round plus
//! the batch's collection time. Batches are committed strictly in order.
//!
//! One thread makes the order of entries, and so the tree, a single
//! sequence with no locking subtleties; the in-memory tree may run up to
//! one batch ahead of the published checkpoint, and readers only look at
//! the published size. If storage fails, appends stop: after a failed
//! fsync nobody knows what is on disk, and guessing could publish two
//! different trees of the same size. With files that is for good, and a
//! restart recovers from whatever checkpoint is durable; storage that
//! reconnects (PostgreSQL failing over to a standby) lets the sequencer
//! re-read the committed state and go on ([`resync`]).

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TryRecvError};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use keyless_tlog::tiles::{encode_entry_bundle, TILE_HEIGHT, TILE_WIDTH};
use keyless_tlog::{Checkpoint, Hash, TileId, TileKind};
use tokio::sync::oneshot;

use crate::config::LogConfig;
use crate::dedup::{Search, Seen, Window};
use crate::error::LogError;
use crate::locks::{read, write};
use crate::merkle::MerkleTree;
use crate::shared::Shared;
use crate::storage::{Commit, EntryMeta};
use crate::types::{Published, Sequenced, Submission};

mod resync;

/// Why the sequencer could not resume (see [`resync`]). Defined here,
/// with the other types the sequencer and its resync module share, so
/// that the module depends on this file and not the other way round.
enum Resync {
    /// Storage is not reachable (yet): refuse this batch, try again with
    /// the next.
    NotYet(LogError),
    /// The stored state cannot be used: stop for good.
    Never(LogError),
}

pub(crate) struct Pending {
    pub submission: Submission,
    pub leaf: Hash,
    /// Entries below this size were searched for `leaf` at submission.
    pub checked: u64,
    pub reply: oneshot::Sender<Result<Sequenced, LogError>>,
}

pub(crate) fn spawn(
    shared: Arc<Shared>,
    dedup: Arc<dyn Search>,
    rx: Receiver<Pending>,
    config: Arc<LogConfig>,
    tail: Vec<Vec<u8>>,
    queued: Arc<AtomicUsize>,
) -> Result<(), LogError> {
    let (commit_tx, commit_rx) = sync_channel::<Work>(1);
    let failed = Arc::new(AtomicBool::new(false));
    let (s2, f2) = (shared.clone(), failed.clone());
    std::thread::Builder::new()
        .name("keyless-log-committer".into())
        .spawn(move || commit_loop(&s2, &commit_rx, &f2))
        .map_err(|source| LogError::Thread {
            what: "committer",
            source,
        })?;
    std::thread::Builder::new()
        .name("keyless-log-sequencer".into())
        .spawn(move || {
            let mut seq = Sequencer {
                shared: &shared,
                dedup: dedup.as_ref(),
                tail,
                window: Window::default(),
                commit_tx,
                failed: &failed,
                last_close: None,
            };
            seq.run(&rx, &config, &queued)
        })
        .map(|_| ())
        .map_err(|source| LogError::Thread {
            what: "sequencer",
            source,
        })
}

/// What the committer does, in order.
enum Work {
    /// Make a batch durable, publish it, answer its submitters.
    Batch(InFlight),
    /// Answer duplicates of entries in batches sent earlier.
    Answer(Vec<Reply>),
    /// After a storage failure: everything sent before this has been
    /// failed; acknowledge, and commit again what comes after.
    Resync(std::sync::mpsc::SyncSender<()>),
}

impl Work {
    fn fail(self) {
        let replies = match self {
            Work::Batch(b) => b.replies,
            Work::Answer(r) => r,
            Work::Resync(_) => return,
        };
        for (reply, _, _) in replies {
            let _ = reply.send(Err(LogError::SequencerStopped));
        }
    }
}

/// A prepared batch on its way to storage.
struct InFlight {
    commit: Commit,
    root: Hash,
    old_size: u64,
    new_size: u64,
    leaves: Vec<Hash>,
    /// Artifact digest of each entry of `leaves`.
    artifacts: Vec<Option<[u8; 32]>>,
    replies: Vec<Reply>,
}

type Reply = (oneshot::Sender<Result<Sequenced, LogError>>, u64, bool);

/// Make batches durable in order, then publish and answer. After a
/// storage or index failure every batch is failed (never acknowledged)
/// until the sequencer has re-read the committed state and sends
/// [`Work::Resync`] (only for storage that reconnects; see
/// [`crate::storage::Storage::reconnects`]).
fn commit_loop(shared: &Shared, rx: &Receiver<Work>, failed: &AtomicBool) {
    let mut failing = false;
    while let Ok(work) = rx.recv() {
        let b = match work {
            Work::Resync(ack) => {
                failing = false;
                let _ = ack.send(());
                continue;
            }
            w if failing => {
                w.fail();
                continue;
            }
            Work::Batch(b) => b,
            Work::Answer(replies) => {
                let published = read(&shared.published).clone();
                for (reply, index, duplicate) in replies {
                    let _ = reply.send(Ok(Sequenced {
                        index,
                        checkpoint: published.clone(),
                        duplicate,
                    }));
                }
                continue;
            }
        };
        let started = std::time::Instant::now();
        if let Err(e) = shared.storage.commit(&b.commit) {
            failing = true;
            failed.store(true, Ordering::SeqCst);
            tracing::error!(error = %e, "storage failed; appends stop until the committed state is re-read");
            Work::Batch(b).fail();
            continue;
        }
        // The batch's complete tiles are durable now: the tree can drop
        // their lower nodes and read them back from storage when needed.
        // They go to the cache first, as their proofs are asked for next.
        let dropped = write(&shared.tree).drop_durable(b.new_size);
        for (tile, nodes) in dropped {
            shared.tiles.insert(tile, nodes);
        }
        // Index before publishing, so that a submitter who sees the new
        // checkpoint also finds its entry. The index is not synced here
        // (see crate::index): a crash re-indexes from the checkpoint.
        let indexed = shared.index.add(b.old_size, &b.leaves, &b.artifacts);
        let published = Arc::new(Published {
            size: b.new_size,
            root: b.root,
            note: b.commit.checkpoint,
        });
        *write(&shared.published) = published.clone();
        crate::telemetry::committed(b.leaves.len(), started.elapsed(), unix_now() as f64);
        for (reply, index, duplicate) in b.replies {
            let _ = reply.send(Ok(Sequenced {
                index,
                checkpoint: published.clone(),
                duplicate,
            }));
        }
        if let Err(e) = indexed {
            // The batch is durable and published, but later duplicates of
            // its entries would go unnoticed: stop appending, as for a
            // storage error; re-reading the state re-indexes.
            failing = true;
            failed.store(true, Ordering::SeqCst);
            tracing::error!(error = %e, "the entry index failed; appends stop until the committed state is re-read");
        }
    }
}

/// How often a sequencer waiting for the committer checks whether it is
/// done: a small fraction of one fsync round (milliseconds).
const COMMITTER_POLL: Duration = Duration::from_micros(200);

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

struct Sequencer<'a> {
    shared: &'a Shared,
    /// Searches committed entries for the batch's unsearched leaves.
    dedup: &'a dyn Search,
    /// Bodies of the entry bundle still being filled.
    tail: Vec<Vec<u8>>,
    /// Leaves of the batches handed to the committer and of the last
    /// published ones, for the duplicate check (see [`Window`]).
    window: Window,
    commit_tx: SyncSender<Work>,
    failed: &'a AtomicBool,
    /// When the last batch closed, for `batch_linger`.
    last_close: Option<Instant>,
}

impl Sequencer<'_> {
    /// Whether a batch handed to the committer is not yet published.
    fn committer_busy(&self) -> bool {
        !self.failed.load(Ordering::Relaxed)
            && self
                .window
                .last_end()
                .is_some_and(|end| end > read(&self.shared.published).size)
    }

    fn run(&mut self, rx: &Receiver<Pending>, config: &LogConfig, queued: &AtomicUsize) {
        while let Ok(first) = rx.recv() {
            let batch = self.collect(first, rx, config);
            self.last_close = Some(Instant::now());
            queued.fetch_sub(batch.len(), Ordering::Relaxed);
            if self.failed.load(Ordering::SeqCst) {
                match self.resync(config) {
                    Ok(()) => {}
                    Err(Resync::NotYet(e)) => {
                        tracing::warn!(error = %e, "storage not back yet; the batch is refused");
                        for p in batch {
                            let _ = p.reply.send(Err(LogError::SequencerStopped));
                        }
                        continue;
                    }
                    Err(Resync::Never(e)) => {
                        tracing::error!(error = %e, "the sequencer stops, restart the log to recover");
                        for p in batch {
                            let _ = p.reply.send(Err(LogError::SequencerStopped));
                        }
                        return;
                    }
                }
            }
            if let Err(e) = self.sequence(batch, config) {
                tracing::error!(error = %e, "the sequencer stops, restart the log to recover");
                return;
            }
        }
    }

    /// Close a batch by group commit. Whatever is already queued joins
    /// the first entry; then, while the committer is still making the
    /// previous batch durable, the batch keeps growing, since it could not
    /// be committed any sooner (bounded by `batch_interval` and
    /// `batch_size`). Once the committer is free the batch closes, but no
    /// sooner than `batch_linger` after the previous batch closed: a
    /// commit's CPU cost (a round of fsyncs, each a few device writes and
    /// a cache flush) hardly depends on its size, so under load spacing
    /// commits out lets each cover more entries, while an entry that
    /// arrives after a quiet spell is committed at once.
    fn collect(&self, first: Pending, rx: &Receiver<Pending>, config: &LogConfig) -> Vec<Pending> {
        let start = Instant::now();
        let deadline = start + config.batch_interval;
        let linger_until = self
            .last_close
            .map_or(start, |t| t + config.batch_linger)
            .clamp(start, deadline);
        let mut batch = vec![first];
        while batch.len() < config.batch_size {
            if let Ok(p) = rx.try_recv() {
                batch.push(p);
                continue;
            }
            let now = Instant::now();
            // The committer does not signal when it is done; poll its state
            // at a granularity well below one fsync.
            let wait = if self.committer_busy() && now < deadline {
                (deadline - now).min(COMMITTER_POLL)
            } else if now < linger_until {
                linger_until - now
            } else {
                break;
            };
            // Sleep rather than wait on the channel: a receiver blocked on
            // it is woken by every send (a futex call for the submitter and
            // a context switch here, per entry), while a sleeping one is
            // not; what arrives meanwhile is drained above, at most one
            // poll interval later, and the batch could not close sooner.
            std::thread::sleep(wait);
            match rx.try_recv() {
                Ok(p) => batch.push(p),
                Err(TryRecvError::Empty) => {}
                Err(TryRecvError::Disconnected) => break,
            }
        }
        batch
    }

    /// Sequence one batch and hand it to the committer. An `Err` means the
    /// batch could not be prepared or the committer stopped, and the batch's
    /// submitters were told so.
    fn sequence(&mut self, batch: Vec<Pending>, config: &LogConfig) -> Result<(), LogError> {
        let shared = self.shared;
        let now = unix_now();
        let published = read(&shared.published).size;
        let old_size = read(&shared.tree).size();
        let seen = {
            let searched: Vec<(Hash, u64)> = batch.iter().map(|p| (p.leaf, p.checked)).collect();
            self.window
                .classify(self.dedup, published, old_size, &searched)
        };
        let mut replies = Vec::with_capacity(batch.len());
        let mut bodies = Vec::new();
        let mut leaves = Vec::new();
        let mut meta = Vec::new();
        let mut artifacts = Vec::new();
        for (p, seen) in batch.into_iter().zip(seen) {
            match seen {
                // In this batch or a recent one (maybe not yet published):
                // answered once this batch (committed after it) is durable.
                Seen::InFlight(i) => replies.push((p.reply, i, true)),
                Seen::Committed(i) => {
                    let checkpoint = read(&shared.published).clone();
                    let _ = p.reply.send(Ok(Sequenced {
                        index: i,
                        checkpoint,
                        duplicate: true,
                    }));
                }
                Seen::LookupFailed(e) => {
                    let _ = p.reply.send(Err(LogError::IndexLookup(e)));
                }
                Seen::New(i) => {
                    // An entry that carries its own index gets it now.
                    let (body, leaf) = match &config.index_stamper {
                        Some(stamper) => stamper.stamp(i, p.submission.body),
                        None => (p.submission.body, p.leaf),
                    };
                    leaves.push(leaf);
                    meta.push(EntryMeta {
                        sequenced_at: now,
                        lookup_key: p.submission.lookup_key,
                    });
                    artifacts.push(p.submission.lookup_key);
                    bodies.push(body);
                    replies.push((p.reply, i, false));
                }
            }
        }
        if leaves.is_empty() && replies.is_empty() {
            return Ok(());
        }
        if leaves.is_empty() {
            // Only duplicates of entries still in flight: the committer
            // answers them after the batches ahead of them are published.
            return self
                .commit_tx
                .send(Work::Answer(replies))
                .map_err(|_| LogError::SequencerStopped);
        }
        let new_size = old_size + leaves.len() as u64;
        let tail_start = old_size / TILE_WIDTH * TILE_WIDTH;
        let tail = &mut self.tail;
        let tail_len = tail.len();
        tail.extend(bodies);

        let prepared = {
            let mut tree = write(&shared.tree);
            for l in &leaves {
                tree.push(*l);
            }
            prepare(shared, &tree, tail, tail_start, old_size, new_size, meta)
        };
        let (commit, root) = match prepared {
            Ok(p) => p,
            Err(e) => {
                write(&shared.tree).truncate(old_size);
                tail.truncate(tail_len);
                for (reply, _, _) in replies {
                    let _ = reply.send(Err(LogError::SequencerStopped));
                }
                return Err(e);
            }
        };
        // Keep only the bodies of the entry bundle still being filled.
        let new_tail_start = new_size / TILE_WIDTH * TILE_WIDTH;
        tail.drain(..(new_tail_start - tail_start) as usize);
        self.window.record(old_size, new_size, leaves.clone());
        self.commit_tx
            .send(Work::Batch(InFlight {
                commit,
                root,
                old_size,
                new_size,
                leaves,
                artifacts,
                replies,
            }))
            .map_err(|e| {
                e.0.fail();
                LogError::SequencerStopped
            })
    }
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
        let data = encode_entry_bundle(slice.iter().map(Vec::as_slice)).map_err(|source| {
            LogError::CorruptTile {
                what: format!("entry bundle {t}"),
                source,
            }
        })?;
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
                let h = tree.mem_node(height, i).ok_or_else(|| {
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
    let root = tree.root(new_size, &shared.tiles)?;
    let body = Checkpoint {
        origin: shared.origin.clone(),
        size: new_size,
        root_hash: root,
        extensions: vec![],
    }
    .to_body();
    let note = shared.signer.sign_note(&body)?;
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
