//! Resuming after a storage failure, for storage that reconnects
//! (PostgreSQL behind a multi-host connection string that finds the
//! promoted standby after a failover).
//!
//! When a commit fails, nobody knows whether it reached the database: the
//! connection may have dropped after `COMMIT` was sent. Its submitters
//! were told it failed, so either outcome is safe, but the in-memory tree
//! (which ran one batch ahead) can no longer be trusted. Before appending
//! again the sequencer therefore waits until the committer has failed
//! everything in flight, then re-reads the committed state from storage
//! exactly as on open ([`crate::recover::read_state`]), checks that it
//! extends the checkpoint already published (same root at the published
//! size), brings the entry index up to it and only then appends. Fail
//! closed: while storage is unreachable every batch is refused; a stored
//! state that does not extend the published checkpoint (a standby that
//! lacked acknowledged commits, or another log) stops the sequencer for
//! good, as publishing it would fork the log.

use crate::dedup::Window;
use crate::error::LogError;
use crate::locks::{read, write};
use crate::recover::{index_up_to, read_state};
use crate::types::Published;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use super::{Resync, Sequencer, Work};
use crate::config::LogConfig;

impl Sequencer<'_> {
    /// Re-read the committed state after a storage failure; see the
    /// module docs.
    pub(super) fn resync(&mut self, config: &LogConfig) -> Result<(), Resync> {
        let shared = self.shared;
        if !shared.storage.reconnects() {
            return Err(Resync::Never(LogError::SequencerStopped));
        }
        // Everything sent before this is failed by the time it is
        // acknowledged, so nothing is in flight below.
        let (ack, acked) = std::sync::mpsc::sync_channel(1);
        if self.commit_tx.send(Work::Resync(ack)).is_err() || acked.recv().is_err() {
            return Err(Resync::Never(LogError::SequencerStopped));
        }
        let text = match shared.storage.read_checkpoint() {
            Ok(Some(text)) => text,
            Ok(None) => {
                return Err(Resync::Never(LogError::Corrupt(
                    "storage holds no checkpoint after a reconnect: not this log's database".into(),
                )))
            }
            Err(e) => return Err(Resync::NotYet(e.into())),
        };
        let state = read_state(
            &text,
            shared.storage.as_ref(),
            &shared.signer,
            &shared.origin,
            config.leaf_hasher.as_ref(),
        )
        .map_err(|e| match e {
            LogError::Storage(_) => Resync::NotYet(e),
            e => Resync::Never(e),
        })?;
        let old = read(&shared.published).clone();
        let new_size = state.published.size;
        if new_size < old.size {
            return Err(Resync::Never(LogError::Corrupt(format!(
                "storage holds a checkpoint of {new_size} entries, {} were published: \
                 acknowledged entries are missing (was the standby synchronous?)",
                old.size
            ))));
        }
        let root_at_old = state
            .tree
            .root(old.size, &shared.tiles)
            .map_err(|e| Resync::NotYet(e.into()))?;
        if root_at_old != old.root {
            return Err(Resync::Never(LogError::Corrupt(format!(
                "the stored tree's root at the published size {} differs from the published one",
                old.size
            ))));
        }
        index_up_to(shared.index.as_ref(), shared.storage.as_ref(), new_size).map_err(
            |e| match e {
                LogError::Storage(_) => Resync::NotYet(e),
                e => Resync::Never(e),
            },
        )?;
        *write(&shared.tree) = state.tree;
        *write(&shared.published) = Arc::new(Published {
            size: new_size,
            root: state.published.root,
            note: state.published.note,
        });
        self.tail = state.tail;
        self.window = Window::default();
        self.failed.store(false, Ordering::SeqCst);
        tracing::info!(
            published = old.size,
            committed = new_size,
            "re-read the committed state from storage; appending again"
        );
        Ok(())
    }
}
