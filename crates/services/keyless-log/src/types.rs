//! The values the log's parts pass each other and its users: what to
//! append ([`Submission`]), where it went ([`Sequenced`]), what is
//! published ([`Published`]), and tile geometry ([`committed_width`]).
//! A leaf module: the core, the storage drivers, the personalities and
//! the remote checkers all import it, and it imports none of them.

use std::sync::Arc;

use keyless_tlog::Hash;

/// Longest entry the log stores: entry bundles frame entries with a
/// 16-bit length.
pub const MAX_ENTRY_SIZE: usize = keyless_tlog::tiles::MAX_BUNDLE_ENTRY;

/// A checkpoint the log has made durable and published.
#[derive(Debug, Clone)]
pub struct Published {
    pub size: u64,
    pub root: Hash,
    /// The signed note text, as served at `/checkpoint`.
    pub note: String,
}

/// An entry to append: its body, as the personality serialized it, and
/// an optional opaque key the personality computed to find it by later
/// ([`crate::Log::find_by_key`]; Rekor: the artifact's SHA-256). The core
/// stores both and interprets neither.
#[derive(Debug, Clone)]
pub struct Submission {
    pub body: Vec<u8>,
    pub lookup_key: Option<[u8; 32]>,
}

/// Where a submitted entry ended up.
#[derive(Debug, Clone)]
pub struct Sequenced {
    pub index: u64,
    /// A published checkpoint that covers the entry.
    pub checkpoint: Arc<Published>,
    /// The log already held this exact entry; `index` is the existing one.
    pub duplicate: bool,
}

/// Tile geometry, from the tile format itself.
pub use keyless_tlog::tiles::committed_width;
