//! The state the log handle, the sequencer and the committer share: the
//! tree, the published checkpoint, the entry index, the tile cache, the
//! storage driver and the signer, with lookups over committed entries.
//! Apart from [`crate::log`] so that the sequencer can use it without
//! importing the handle that starts the sequencer.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use keyless_tlog::Hash;

use crate::error::LogError;
use crate::index::EntryIndex;
use crate::locks::read;
use crate::merkle::MerkleTree;
use crate::signer::LogSigner;
use crate::storage::Storage;
use crate::tile_cache::TileCache;
use crate::types::Published;

pub(crate) struct Shared {
    pub tree: RwLock<MerkleTree>,
    pub published: RwLock<Arc<Published>>,
    /// Leaf hash and artifact lookups over every committed entry.
    pub index: Box<dyn EntryIndex>,
    /// Complete level-0 tiles the tree no longer keeps in memory.
    pub tiles: TileCache,
    pub storage: Arc<dyn Storage>,
    pub signer: LogSigner,
    pub origin: String,
}

impl Shared {
    /// The committed index of an entry with this leaf hash.
    pub fn find_leaf(&self, leaf: &Hash) -> Result<Option<u64>, LogError> {
        self.find_leaf_checked(leaf).map(|(found, _)| found)
    }

    /// Like [`Self::find_leaf`], also returning the published size the
    /// search covered: an entry with this leaf, if any, lies past it.
    pub fn find_leaf_checked(&self, leaf: &Hash) -> Result<(Option<u64>, u64), LogError> {
        let size = read(&self.published).size;
        let candidates = self.index.leaf_candidates(leaf)?;
        if candidates.is_empty() {
            return Ok((None, size));
        }
        let tree = read(&self.tree);
        for i in candidates.into_iter().filter(|&i| i < size) {
            if tree.leaf(i, &self.tiles)? == *leaf {
                return Ok((Some(i), size));
            }
        }
        Ok((None, size))
    }

    /// The committed index of each of these leaves that the log holds,
    /// found with one index lookup for all of them (see
    /// [`EntryIndex::is_remote`]).
    pub fn find_leaves(&self, leaves: &[Hash]) -> Result<HashMap<Hash, u64>, LogError> {
        let size = read(&self.published).size;
        let candidates = self.index.leaf_candidates_many(leaves)?;
        let mut found = HashMap::new();
        if candidates.iter().all(Vec::is_empty) {
            return Ok(found);
        }
        let tree = read(&self.tree);
        for (leaf, candidates) in leaves.iter().zip(candidates) {
            for i in candidates.into_iter().filter(|&i| i < size) {
                if tree.leaf(i, &self.tiles)? == *leaf {
                    found.insert(*leaf, i);
                    break;
                }
            }
        }
        Ok(found)
    }
}
