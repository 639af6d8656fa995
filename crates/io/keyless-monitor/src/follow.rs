//! One monitoring pass: verify the log's new checkpoint, prove it extends
//! the stored one, read every entry since the last pass from the entry
//! bundles, report matches, and advance the state file.
//!
//! Crash safety: the state is saved after each bundle (the stored
//! checkpoint stays the last *consistent* one; only `next_index` and the
//! frontier move) and the new checkpoint is stored only once every entry
//! up to it was read and the leaves fold to its root. A restart resumes at
//! `next_index`: no entry is skipped, and none is reported twice unless the
//! process dies between printing a match and saving (at most one bundle).

use std::path::PathBuf;

use keyless_tlog::tiles::TILE_WIDTH;
use keyless_tlog::{verify_consistency, Checkpoint, Hash, NoteVerifier, TileId, TileKind};
use thiserror::Error;

use crate::fetch::{FetchError, Fetcher, MAX_BUNDLE, MAX_CHECKPOINT};
use crate::frontier::Frontier;
use crate::matcher::Matcher;
use crate::scan::{scan_bundle, Hit, ScanError};
use crate::state::{State, StateError};
use crate::tiles::{verify_checkpoint, TileReader, TilesError};

/// The log showed two views of history that cannot both be true.
#[derive(Debug, Error)]
#[error("ALARM: the log at {log} rewrote its history: {reason} (stored checkpoint: size {old_size}, root {old_root}; new checkpoint: size {new_size}, root {new_root})")]
pub struct Alarm {
    pub log: String,
    pub reason: String,
    pub old_size: u64,
    pub old_root: String,
    pub new_size: u64,
    pub new_root: String,
}

#[derive(Debug, Error)]
#[non_exhaustive]
pub enum FollowError {
    #[error(transparent)]
    Alarm(Box<Alarm>),
    #[error(transparent)]
    Fetch(#[from] FetchError),
    #[error("reading the log's checkpoint or tiles")]
    Tiles(#[source] TilesError),
    #[error("the log's checkpoint is not UTF-8")]
    NotUtf8,
    /// A match could not be reported: the state is not advanced past it.
    #[error("reporting a match")]
    Output(#[source] std::io::Error),
    #[error(transparent)]
    Scan(#[from] ScanError),
    #[error(transparent)]
    State(#[from] StateError),
    #[error("the state file {path} is for {stored}, not {log}")]
    OtherLog {
        path: PathBuf,
        stored: String,
        log: String,
    },
    #[error("the state file's frontier is corrupt")]
    Frontier,
    #[error("--from-index {from} is beyond the log's {size} entries")]
    FromIndex { from: u64, size: u64 },
}

/// How a pass ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Progress {
    pub checkpoint_size: u64,
    pub next_index: u64,
    pub entries_read: u64,
    pub matches: u64,
    /// The pass stopped early at `stop_after` matches.
    pub stopped: bool,
}

/// A monitor of one log.
pub struct Monitor {
    pub fetch: Fetcher,
    pub verifier: NoteVerifier,
    pub matcher: Matcher,
    pub state_path: PathBuf,
    /// With no state file: the first entry to read (default: the current size).
    pub from_index: Option<u64>,
    /// Test hook: end the pass (state saved) after this many matches.
    pub stop_after: Option<u64>,
}

fn hex_root(h: &Hash) -> String {
    hex::encode(h)
}

impl Monitor {
    fn alarm(&self, reason: String, old: &Checkpoint, new: &Checkpoint) -> FollowError {
        FollowError::Alarm(Box::new(Alarm {
            log: self.fetch.base().to_string(),
            reason,
            old_size: old.size,
            old_root: hex_root(&old.root_hash),
            new_size: new.size,
            new_root: hex_root(&new.root_hash),
        }))
    }

    /// One pass; `emit` is called for every match, in log order, before the
    /// state that covers it is saved. An `emit` error ends the pass without
    /// saving past that match.
    pub async fn run_once(
        &self,
        emit: &mut dyn FnMut(&Hit, &Checkpoint) -> std::io::Result<()>,
    ) -> Result<Progress, FollowError> {
        let text = self.fetch.get("checkpoint", MAX_CHECKPOINT).await?;
        let text = String::from_utf8(text).map_err(|_| FollowError::NotUtf8)?;
        let new =
            verify_checkpoint(&text, &self.verifier, "current").map_err(FollowError::Tiles)?;
        let mut tiles = TileReader::new(&self.fetch);
        let stored = State::load(&self.state_path)?;
        let (mut state, old, mut frontier) = match stored {
            Some(s) => {
                if s.log != self.fetch.base() {
                    return Err(FollowError::OtherLog {
                        path: self.state_path.clone(),
                        stored: s.log,
                        log: self.fetch.base().into(),
                    });
                }
                let old = verify_checkpoint(&s.checkpoint, &self.verifier, "stored")
                    .map_err(FollowError::Tiles)?;
                let roots = s
                    .frontier
                    .iter()
                    .map(|h| {
                        hex::decode(h)
                            .ok()
                            .and_then(|b| <Hash>::try_from(b).ok())
                            .ok_or(FollowError::Frontier)
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                let f = Frontier::from_roots(s.next_index, &roots).ok_or(FollowError::Frontier)?;
                self.check_extends(&mut tiles, &old, &new).await?;
                (s, Some(old), f)
            }
            None => {
                let from = self.from_index.unwrap_or(new.size);
                if from > new.size {
                    return Err(FollowError::FromIndex {
                        from,
                        size: new.size,
                    });
                }
                let mut roots = Vec::new();
                for (lo, hi) in Frontier::ranges(from) {
                    roots.push(
                        tiles
                            .range_hash(lo, hi, new.size)
                            .await
                            .map_err(FollowError::Tiles)?,
                    );
                }
                let f = Frontier::from_roots(from, &roots).ok_or(FollowError::Frontier)?;
                let s = State {
                    log: self.fetch.base().into(),
                    checkpoint: text.clone(),
                    next_index: from,
                    frontier: Vec::new(),
                };
                (s, None, f)
            }
        };
        let mut progress = Progress {
            checkpoint_size: old.as_ref().map_or(new.size, |o| o.size),
            next_index: state.next_index,
            entries_read: 0,
            matches: 0,
            stopped: false,
        };
        if state.next_index > new.size {
            // Only possible if the stored checkpoint was bigger: caught above.
            return Err(FollowError::Frontier);
        }
        while frontier.size() < new.size {
            let start = frontier.size();
            let bundle = start / TILE_WIDTH;
            let want = (new.size - bundle * TILE_WIDTH).min(TILE_WIDTH);
            let id = TileId {
                kind: TileKind::Entries,
                index: bundle,
                width: want as u16,
            };
            let bytes = self.fetch.get(&id.path(), MAX_BUNDLE).await?;
            let skip = (start - bundle * TILE_WIDTH) as usize;
            let scanned = scan_bundle(&bytes, bundle, want as usize, skip, &self.matcher)?;
            let mut hits = scanned.hits.iter().peekable();
            for (i, leaf) in scanned.leaves.iter().enumerate() {
                let index = start + i as u64;
                frontier.push(*leaf);
                progress.entries_read += 1;
                if let Some(hit) = hits.next_if(|h| h.index == index) {
                    emit(hit, &new).map_err(FollowError::Output)?;
                    progress.matches += 1;
                    if self.stop_after.is_some_and(|n| progress.matches >= n) {
                        progress.stopped = true;
                        break;
                    }
                }
            }
            state.next_index = frontier.size();
            state.frontier = frontier.roots().iter().map(hex_root).collect();
            progress.next_index = state.next_index;
            if progress.stopped {
                state.save(&self.state_path)?;
                return Ok(progress);
            }
            if frontier.size() < new.size {
                state.save(&self.state_path)?;
            }
        }
        let root = frontier.root().unwrap_or(keyless_tlog::EMPTY_ROOT);
        if root != new.root_hash {
            let reference = old.clone().unwrap_or_else(|| new.clone());
            return Err(self.alarm(
                format!(
                    "the entries served fold to root {}, not the checkpoint's",
                    hex_root(&root)
                ),
                &reference,
                &new,
            ));
        }
        state.checkpoint = text;
        state.next_index = frontier.size();
        state.frontier = frontier.roots().iter().map(hex_root).collect();
        state.save(&self.state_path)?;
        progress.checkpoint_size = new.size;
        progress.next_index = state.next_index;
        Ok(progress)
    }

    /// The new checkpoint must extend the stored one: same origin, not
    /// smaller, same root at equal size, and a consistency proof that holds.
    async fn check_extends(
        &self,
        tiles: &mut TileReader<'_>,
        old: &Checkpoint,
        new: &Checkpoint,
    ) -> Result<(), FollowError> {
        if new.origin != old.origin {
            return Err(self.alarm(
                format!(
                    "its origin changed from {:?} to {:?}",
                    old.origin, new.origin
                ),
                old,
                new,
            ));
        }
        if new.size < old.size {
            return Err(self.alarm("the new checkpoint is smaller".into(), old, new));
        }
        if new.size == old.size {
            if new.root_hash != old.root_hash {
                return Err(self.alarm(
                    "two checkpoints of the same size have different roots".into(),
                    old,
                    new,
                ));
            }
            return Ok(());
        }
        let proof = match tiles.consistency_proof(old.size, new.size).await {
            Ok(p) => p,
            Err(TilesError::Tile { path, reason }) => {
                return Err(self.alarm(
                    format!("its tiles cannot prove consistency ({path}: {reason})"),
                    old,
                    new,
                ))
            }
            Err(e) => return Err(FollowError::Tiles(e)),
        };
        verify_consistency(old.size, new.size, &old.root_hash, &new.root_hash, &proof)
            .map_err(|e| self.alarm(format!("the consistency proof fails: {e}"), old, new))
    }
}
