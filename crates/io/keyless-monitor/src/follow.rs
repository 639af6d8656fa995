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

use keyless_tlog::{verify_consistency, Checkpoint, Hash, NoteVerifier};
use thiserror::Error;

use crate::ct::{CtError, CtHit};
use crate::fetch::{FetchError, Fetcher, MAX_CHECKPOINT};
use crate::frontier::Frontier;
use crate::matcher::Matcher;
use crate::read::ReadError;
use crate::scan::{Hit, ScanError};
use crate::source::{read_batch, BatchError, Source};
use crate::state::{State, StateError};
use crate::tiles::{verify_checkpoint, TileReader, TilesError};

/// What kind of log a [`Monitor`] follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogKind {
    /// A Rekor log: tlog-tiles (`checkpoint`, `tile/entries/…`) when it
    /// serves them, else the Rekor v1 API ([`crate::v1`]).
    #[default]
    Rekor,
    /// A CT log: static-ct-api data tiles, or entry bundles of RFC 6962
    /// `MerkleTreeLeaf`s where there are no data tiles ([`crate::ct`]).
    Ct,
}

/// A match, as handed to the pass's `emit`.
#[derive(Debug, Clone, Copy)]
pub enum Found<'a> {
    /// A Rekor entry signed by a watched identity or key.
    Entry(&'a Hit),
    /// A certificate in a CT log issued for a watched identity.
    Certificate(&'a CtHit),
}

impl Found<'_> {
    fn index(&self) -> u64 {
        match self {
            Found::Entry(h) => h.index,
            Found::Certificate(h) => h.index,
        }
    }
}

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
    Ct(#[from] CtError),
    /// The log has no tiles and its v1 API answered something unusable.
    #[error("reading the log's v1 API")]
    V1(#[source] ReadError),
    #[error("{0} serves neither a checkpoint (tiles) nor /api/v1/log")]
    NoLog(String),
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
    #[error("the first index to read, {from}, is beyond the log's {size} entries")]
    FromIndex { from: u64, size: u64 },
}

impl From<BatchError> for FollowError {
    fn from(e: BatchError) -> Self {
        match e {
            BatchError::Fetch(e) => FollowError::Fetch(e),
            BatchError::Scan(e) => FollowError::Scan(e),
            BatchError::Ct(e) => FollowError::Ct(e),
            BatchError::V1(e) => FollowError::V1(e),
        }
    }
}

/// How a pass ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Progress {
    pub checkpoint_size: u64,
    pub next_index: u64,
    pub entries_read: u64,
    pub matches: u64,
    /// Entries read whose body (or certificate) did not decode, so could
    /// not be matched: reported so that they are not silently passed over.
    pub undecodable: u64,
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
    /// A Rekor log (the default) or a CT log.
    pub kind: LogKind,
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

    /// The log's checkpoint note, and where this pass reads from.
    async fn current(&self) -> Result<(String, Source), FollowError> {
        if let Some(text) = self.fetch.get_opt("checkpoint", MAX_CHECKPOINT).await? {
            let text = String::from_utf8(text).map_err(|_| FollowError::NotUtf8)?;
            let source = match self.kind {
                LogKind::Rekor => Source::Tiles,
                LogKind::Ct => Source::Ct(None),
            };
            return Ok((text, source));
        }
        if self.kind == LogKind::Rekor {
            if let Some(text) = crate::v1::checkpoint_text(&self.fetch)
                .await
                .map_err(FollowError::V1)?
            {
                return Ok((text, Source::V1(crate::v1_batch::BatchRead::Unknown)));
            }
        }
        Err(FollowError::NoLog(self.fetch.base().to_string()))
    }

    /// One pass; `emit` is called for every match, in log order, before the
    /// state that covers it is saved. An `emit` error ends the pass without
    /// saving past that match.
    pub async fn run_once(
        &self,
        emit: &mut dyn FnMut(Found<'_>, &Checkpoint) -> std::io::Result<()>,
    ) -> Result<Progress, FollowError> {
        let (text, mut source) = self.current().await?;
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
                self.check_extends(&mut tiles, source, &old, &new).await?;
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
                let f = if matches!(source, Source::V1(_)) {
                    crate::v1::seed(&self.fetch, from)
                        .await
                        .map_err(FollowError::V1)?
                        .ok_or(FollowError::Frontier)?
                } else {
                    let mut roots = Vec::new();
                    for (lo, hi) in Frontier::ranges(from) {
                        roots.push(
                            tiles
                                .range_hash(lo, hi, new.size)
                                .await
                                .map_err(FollowError::Tiles)?,
                        );
                    }
                    Frontier::from_roots(from, &roots).ok_or(FollowError::Frontier)?
                };
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
            undecodable: 0,
            stopped: false,
        };
        if state.next_index > new.size {
            // Only possible if the stored checkpoint was bigger: caught above.
            return Err(FollowError::Frontier);
        }
        while frontier.size() < new.size {
            let start = frontier.size();
            let batch =
                read_batch(&self.fetch, &self.matcher, &mut source, start, new.size).await?;
            progress.undecodable += batch.undecodable;
            let mut hits = batch.hits.iter().map(Found::Entry).peekable();
            let mut ct_hits = batch.ct_hits.iter().map(Found::Certificate).peekable();
            for (i, leaf) in batch.leaves.iter().enumerate() {
                let index = start + i as u64;
                frontier.push(*leaf);
                progress.entries_read += 1;
                let hit = hits
                    .next_if(|h| h.index() == index)
                    .or_else(|| ct_hits.next_if(|h| h.index() == index));
                if let Some(hit) = hit {
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
        source: Source,
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
        let proof = if matches!(source, Source::V1(_)) {
            match crate::v1::consistency_proof(&self.fetch, old.size, new.size).await {
                Ok(p) => Ok(p),
                Err(ReadError::Malformed(reason)) => {
                    return Err(self.alarm(
                        format!("its consistency proof is malformed ({reason})"),
                        old,
                        new,
                    ))
                }
                Err(e) => return Err(FollowError::V1(e)),
            }
        } else {
            tiles.consistency_proof(old.size, new.size).await
        };
        let proof = match proof {
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
