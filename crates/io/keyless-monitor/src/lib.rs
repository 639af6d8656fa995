//! Following a transparency log as a monitor does: verify each new
//! checkpoint against the log's key, prove it extends the one seen before
//! (RFC 6962 consistency), read every new entry from the C2SP tlog-tiles
//! entry bundles (or the Rekor v1 API of a log without tiles, or a CT
//! log's static-ct-api data tiles), and report the entries signed by
//! watched identities or keys, or the certificates issued for them.
//!
//! Modules:
//! - [`fetch`]: HTTP reads with size caps (everything a log says is untrusted).
//! - [`entry`]: what a logged entry body says (kind, signer, digest).
//! - [`matcher`]: which entries a monitor reports.
//! - [`state`]: the crash-safe state file (checkpoint + next entry).
//! - [`follow`]: one monitoring pass over a log.
//! - [`scan`]: decoding entry bundles into matches (the hot loop).
//! - [`tiles`]: subtree hashes and proofs from hash tiles; checkpoint checks.
//! - [`read`]: single entries and checkpoints, proofs verified.
//! - [`ct`]: a CT log's entries (static-ct-api data tiles, or RFC 6962
//!   `MerkleTreeLeaf` bundles) and the certificates' identities.
//! - [`v1`]: following a log without tiles through the Rekor v1 API.
//! - [`v1_batch`]: its entries ten per request (`entries/retrieve`).
//! - `source`: which of those a pass reads a run of entries from.

pub mod ct;
pub mod entry;
pub mod fetch;
pub mod follow;
pub mod frontier;
pub mod matcher;
pub mod read;
pub mod scan;
mod source;
pub mod state;
pub mod tiles;
pub mod v1;
pub mod v1_batch;

pub use entry::{EntryError, EntryInfo};
pub use fetch::{FetchError, Fetcher};
pub use follow::{Alarm, FollowError, Found, LogKind, Monitor, Progress};
pub use matcher::Matcher;
pub use state::{State, StateError};
