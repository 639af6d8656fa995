//! The duplicate check, in one place: an entry the log already holds is
//! not appended again; its submitter gets the existing index (Rekor's
//! 409, or the same entry back). The core calls a [`DuplicateCheck`] at
//! the two points a duplicate can be caught: before an entry is queued,
//! on the submitter's thread ([`DuplicateCheck::before_queue`]), and when
//! the sequencer closes a batch, for entries that were not searched up to
//! the recent batches it keeps in memory ([`DuplicateCheck::committed`]).
//! Whether to search on the submitter's thread at all is the check's
//! decision (an index in a database is searched a batch at a time).
//!
//! [`LeafDuplicates`], the log's check, calls two entries the same when
//! their leaf hashes are, which for Rekor's canonical bodies means
//! byte-equal bodies.

use std::collections::HashMap;
use std::sync::Arc;

use keyless_tlog::Hash;

use crate::error::LogError;
use crate::shared::Shared;

/// How the core finds an existing copy of an entry; see the module docs.
pub(crate) trait DuplicateCheck: Send + Sync {
    /// Search the committed entries for `leaf` before it is queued. Returns
    /// the index of a copy, if found, and the size searched: entries at or
    /// past it were not, and `0` means "not searched at all" (the sequencer
    /// then searches with [`Self::committed`]).
    fn before_queue(&self, leaf: &Hash) -> Result<(Option<u64>, u64), LogError>;
    /// The committed index of each of these leaves that the log holds,
    /// with one lookup for all of them.
    fn committed(&self, leaves: &[Hash]) -> Result<HashMap<Hash, u64>, LogError>;
}

/// Leaf-hash identity over the entry index, each candidate confirmed
/// against the tree's leaf.
pub(crate) struct LeafDuplicates {
    pub shared: Arc<Shared>,
}

impl DuplicateCheck for LeafDuplicates {
    fn before_queue(&self, leaf: &Hash) -> Result<(Option<u64>, u64), LogError> {
        // A remote index is searched by the sequencer, a batch at a time:
        // a round trip per request would park an async worker for each.
        if self.shared.index.is_remote() {
            return Ok((None, 0));
        }
        self.shared.find_leaf_checked(leaf)
    }

    fn committed(&self, leaves: &[Hash]) -> Result<HashMap<Hash, u64>, LogError> {
        self.shared.find_leaves(leaves)
    }
}
