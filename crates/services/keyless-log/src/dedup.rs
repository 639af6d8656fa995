//! The duplicate check, in one place: an entry the log already holds is
//! not appended again; its submitter gets the existing index (Rekor's
//! 409, or the same entry back). The core calls a [`DuplicateCheck`] at
//! the two points a duplicate can be caught: before an entry is queued,
//! on the submitter's thread ([`DuplicateCheck::before_queue`]), and when
//! the sequencer closes a batch ([`Window::classify`]), which finds
//! copies within the batch, in the batches not yet (or just) published,
//! and, for entries not searched up to those, among the committed ones
//! ([`DuplicateCheck::committed`]). Whether to search on the submitter's
//! thread at all is the check's decision (an index in a database is
//! searched a batch at a time).
//!
//! The check is the caller's (`Log::open` takes it): [`LeafDuplicates`],
//! the default, calls two entries the same when their leaf hashes are,
//! which for Rekor's canonical bodies means byte-equal bodies. A
//! personality whose leaves differ for the same submission (a CT log's
//! leaves carry their timestamp) supplies its own, searching the
//! [`CommittedEntries`] it is handed.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use keyless_tlog::Hash;

use crate::error::LogError;
use crate::shared::Shared;

/// How the core finds an existing copy of an entry; see the module docs.
pub trait DuplicateCheck: Send + Sync {
    /// Search the committed `entries` for `leaf` before it is queued.
    /// Returns the index of a copy, if found, and the size searched:
    /// entries at or past it were not, and `0` means "not searched at all"
    /// (the sequencer then searches with [`Self::committed`]).
    fn before_queue(
        &self,
        entries: &CommittedEntries,
        leaf: &Hash,
    ) -> Result<(Option<u64>, u64), LogError>;
    /// The committed index of each of these leaves that the log holds,
    /// with one lookup for all of them.
    fn committed(
        &self,
        entries: &CommittedEntries,
        leaves: &[Hash],
    ) -> Result<HashMap<Hash, u64>, LogError>;
}

/// The committed entries of one log, as a [`DuplicateCheck`] searches them.
#[derive(Clone)]
pub struct CommittedEntries {
    shared: Arc<Shared>,
}

impl CommittedEntries {
    pub(crate) fn new(shared: Arc<Shared>) -> Self {
        Self { shared }
    }

    /// The committed index of an entry with this leaf hash, and the
    /// published size the search covered.
    pub fn find_leaf(&self, leaf: &Hash) -> Result<(Option<u64>, u64), LogError> {
        self.shared.find_leaf_checked(leaf)
    }

    /// The committed index of each of these leaves the log holds, with one
    /// index lookup for all of them.
    pub fn find_leaves(&self, leaves: &[Hash]) -> Result<HashMap<Hash, u64>, LogError> {
        self.shared.find_leaves(leaves)
    }

    /// Whether the entry index is a network hop away (searched best a
    /// batch at a time, by the sequencer).
    pub fn index_is_remote(&self) -> bool {
        self.shared.index.is_remote()
    }
}

/// Leaf-hash identity over the entry index, each candidate confirmed
/// against the tree's leaf: the default check.
#[derive(Debug, Clone, Copy, Default)]
pub struct LeafDuplicates;

impl DuplicateCheck for LeafDuplicates {
    fn before_queue(
        &self,
        entries: &CommittedEntries,
        leaf: &Hash,
    ) -> Result<(Option<u64>, u64), LogError> {
        // A remote index is searched by the sequencer, a batch at a time:
        // a round trip per request would park an async worker for each.
        if entries.index_is_remote() {
            return Ok((None, 0));
        }
        entries.find_leaf(leaf)
    }

    fn committed(
        &self,
        entries: &CommittedEntries,
        leaves: &[Hash],
    ) -> Result<HashMap<Hash, u64>, LogError> {
        entries.find_leaves(leaves)
    }
}

/// A check bound to the log it searches: what the handle and the
/// sequencer call.
pub(crate) trait Search: Send + Sync {
    fn before_queue(&self, leaf: &Hash) -> Result<(Option<u64>, u64), LogError>;
    fn committed(&self, leaves: &[Hash]) -> Result<HashMap<Hash, u64>, LogError>;
}

/// A caller's [`DuplicateCheck`] with the log's [`CommittedEntries`].
pub(crate) struct Bound {
    pub check: Arc<dyn DuplicateCheck>,
    pub entries: CommittedEntries,
}

impl Search for Bound {
    fn before_queue(&self, leaf: &Hash) -> Result<(Option<u64>, u64), LogError> {
        self.check.before_queue(&self.entries, leaf)
    }

    fn committed(&self, leaves: &[Hash]) -> Result<HashMap<Hash, u64>, LogError> {
        self.check.committed(&self.entries, leaves)
    }
}

/// Entries of published batches kept in memory for de-duplication (a few
/// MB), see [`Window`].
const RECENT_ENTRIES: u64 = 1 << 16;

/// What the duplicate check found for one entry of a batch.
#[derive(Debug, Clone)]
pub(crate) enum Seen {
    /// Not in the log: append it at this index.
    New(u64),
    /// A copy is in this batch or in one handed to the committer (maybe
    /// not yet published): answer once this batch is durable.
    InFlight(u64),
    /// A copy is committed and published at this index: answer now.
    Committed(u64),
    /// The committed entries could not be searched (one failure, shared
    /// by every entry of the batch it leaves unsearched).
    LookupFailed(Arc<LogError>),
}

/// Equal kinds and indices; two lookup failures are equal when they are
/// the same failure (errors have no equality of their own).
impl PartialEq for Seen {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Self::New(a), Self::New(b))
            | (Self::InFlight(a), Self::InFlight(b))
            | (Self::Committed(a), Self::Committed(b)) => a == b,
            (Self::LookupFailed(a), Self::LookupFailed(b)) => Arc::ptr_eq(a, b),
            _ => false,
        }
    }
}

/// The sequencer's memory of recent batches: leaves of batches handed to
/// the committer but maybe not yet published, and of the last published
/// ones (up to [`RECENT_ENTRIES`]), with the tree sizes each batch starts
/// and ends at. An entry submitted while these were being published was
/// searched only below them, so the window answers for the rest without
/// a second search of the entry index.
#[derive(Default)]
pub(crate) struct Window {
    in_flight: VecDeque<(u64, u64, Vec<Hash>)>,
    /// Leaf → index of every entry of the batches in `in_flight` (one
    /// map, so a lookup costs one probe however small the batches are).
    recent: HashMap<Hash, u64>,
}

impl Window {
    /// Where the last batch handed to the committer ends.
    pub fn last_end(&self) -> Option<u64> {
        self.in_flight.back().map(|(_, end, _)| *end)
    }

    /// Decide for each entry of a batch, given as its leaf and the size
    /// its submitter searched up to, whether it is new (and its index,
    /// counting from `old_size`, the tree's size) or a copy of which entry.
    /// Submitted twice, maybe concurrently: the first copy wins.
    pub fn classify(
        &mut self,
        check: &dyn Search,
        published: u64,
        old_size: u64,
        batch: &[(Hash, u64)],
    ) -> Vec<Seen> {
        // Forget batches published long enough ago: their leaves are in
        // the committed index, and entries submitted since were searched
        // there.
        while self
            .in_flight
            .front()
            .is_some_and(|(_, end, _)| *end <= published && end + RECENT_ENTRIES <= published)
        {
            if let Some((_, _, leaves)) = self.in_flight.pop_front() {
                for l in &leaves {
                    self.recent.remove(l);
                }
            }
        }
        // The maps cover every entry from here up to `old_size`.
        let maps_from = self
            .in_flight
            .front()
            .map_or(old_size, |(start, _, _)| *start);
        // Entries whose submitter searched the index only below the
        // recent batches (or not at all, for a remote index): one search
        // for all of them. Rare for a local index (only under a long
        // queue); every entry for a remote one.
        let unsearched: Vec<Hash> = batch
            .iter()
            .filter(|(leaf, checked)| *checked < maps_from && !self.recent.contains_key(leaf))
            .map(|(leaf, _)| *leaf)
            .collect();
        let committed = if unsearched.is_empty() {
            Ok(HashMap::new())
        } else {
            check.committed(&unsearched).map_err(Arc::new)
        };
        let mut in_batch: HashMap<Hash, u64> = HashMap::new();
        let mut out = Vec::with_capacity(batch.len());
        for (leaf, checked) in batch {
            if let Some(i) = in_batch.get(leaf).or_else(|| self.recent.get(leaf)) {
                out.push(Seen::InFlight(*i));
                continue;
            }
            // Published between the submitter's search and the recent
            // batches, or not searched yet.
            if *checked < maps_from {
                match &committed {
                    Ok(found) => {
                        if let Some(&i) = found.get(leaf) {
                            out.push(Seen::Committed(i));
                            continue;
                        }
                    }
                    Err(e) => {
                        out.push(Seen::LookupFailed(e.clone()));
                        continue;
                    }
                }
            }
            let i = old_size + in_batch.len() as u64;
            in_batch.insert(*leaf, i);
            out.push(Seen::New(i));
        }
        out
    }

    /// Remember a batch handed to the committer.
    pub fn record(&mut self, old_size: u64, new_size: u64, leaves: Vec<Hash>) {
        for (k, l) in leaves.iter().enumerate() {
            self.recent.insert(*l, old_size + k as u64);
        }
        self.in_flight.push_back((old_size, new_size, leaves));
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    /// Committed entries as a map; records every search.
    #[derive(Default)]
    struct Fake {
        committed: HashMap<Hash, u64>,
        fail: bool,
        searched: Mutex<Vec<Vec<Hash>>>,
    }

    impl Search for Fake {
        fn before_queue(&self, _: &Hash) -> Result<(Option<u64>, u64), LogError> {
            Ok((None, 0))
        }
        fn committed(&self, leaves: &[Hash]) -> Result<HashMap<Hash, u64>, LogError> {
            self.searched.lock().unwrap().push(leaves.to_vec());
            if self.fail {
                return Err(LogError::Corrupt("database is down".into()));
            }
            Ok(leaves
                .iter()
                .filter_map(|l| Some((*l, *self.committed.get(l)?)))
                .collect())
        }
    }

    fn leaf(n: u8) -> Hash {
        [n; 32]
    }

    #[test]
    fn copies_in_the_batch_in_flight_and_committed_are_found() {
        let check = Fake {
            committed: HashMap::from([(leaf(9), 3)]),
            ..Fake::default()
        };
        let mut w = Window::default();
        w.record(10, 12, vec![leaf(1), leaf(2)]);
        // Tree at 12, published at 10: batch 10..12 is in flight.
        let seen = w.classify(
            &check,
            10,
            12,
            &[
                (leaf(5), 10),
                (leaf(2), 10),
                (leaf(5), 10),
                (leaf(9), 0),
                (leaf(6), 0),
            ],
        );
        assert_eq!(
            seen,
            vec![
                Seen::New(12),
                Seen::InFlight(11),
                Seen::InFlight(12),
                Seen::Committed(3),
                Seen::New(13),
            ]
        );
        // Only the entries searched below the window were looked up, once.
        assert_eq!(
            *check.searched.lock().unwrap(),
            vec![vec![leaf(9), leaf(6)]]
        );
    }

    #[test]
    fn a_failed_search_fails_only_the_unsearched_entries() {
        let check = Fake {
            fail: true,
            ..Fake::default()
        };
        let mut w = Window::default();
        let seen = w.classify(&check, 4, 4, &[(leaf(1), 4), (leaf(2), 0)]);
        assert_eq!(seen[0], Seen::New(4));
        assert!(
            matches!(&seen[1], Seen::LookupFailed(e) if e.to_string().contains("database is down"))
        );
    }

    #[test]
    fn published_batches_are_forgotten_after_recent_entries() {
        let check = Fake::default();
        let mut w = Window::default();
        w.record(0, 2, vec![leaf(1), leaf(2)]);
        let seen = w.classify(&check, 2, 2, &[(leaf(1), 2)]);
        assert_eq!(
            seen,
            vec![Seen::InFlight(0)],
            "still remembered once published"
        );
        let later = 2 + RECENT_ENTRIES;
        let seen = w.classify(&check, later, later, &[(leaf(1), later)]);
        assert_eq!(
            seen,
            vec![Seen::New(later)],
            "searched by its submitter; forgotten here"
        );
        assert_eq!(w.last_end(), None);
    }
}
