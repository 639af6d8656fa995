//! RFC 6962 Merkle hashing and proofs, C2SP signed notes and checkpoints.
//!
//! This crate is pure data: it parses and checks what a transparency log
//! hands out (inclusion proofs, consistency proofs, signed checkpoints) and
//! never does I/O. Deciding *which* log and key to trust, and whether a
//! checkpoint's origin is the expected one, is the caller's job; this crate
//! only answers "does this proof/signature hold".
//!
//! Modules:
//! - [`hash`]: the RFC 6962 leaf/node hashes.
//! - [`proof`]: inclusion and consistency proof checks (RFC 9162 §2.1.3/§2.1.4),
//!   plus reference tree builders for tests and the log's own integrity checks.
//! - [`note`]: C2SP signed notes and the keys that verify them.
//! - [`checkpoint`]: the C2SP tlog-checkpoint body carried inside a note.
//! - [`cosignature`]: checking witness cosignatures (C2SP cosignature/v1).
//! - [`signer`]: the signing side of notes, for logs publishing checkpoints.
//! - [`tiles`]: C2SP tlog-tiles paths and entry-bundle framing.
//! - [`tile_proof`]: the subtree ranges of a consistency proof computed
//!   from tiles (shared by the monitor and the log's tile client).
//! - [`witness_request`]: the C2SP tlog-witness `add-checkpoint` request
//!   body (encoded by the log's witnessing client, parsed by the witness).

pub mod checkpoint;
pub mod cosignature;
pub mod hash;
mod hex;
pub mod note;
pub mod proof;
pub mod signer;
pub mod tile_proof;
pub mod tiles;
pub mod witness_request;

pub use checkpoint::{Checkpoint, CheckpointError};
pub use cosignature::{CosignatureError, CosignatureVerifier};
pub use hash::{leaf_hash, node_hash, Hash, EMPTY_ROOT};
pub use note::{NoteError, NoteSignature, NoteVerifier, SignedNote};
pub use proof::{
    consistency_proof, inclusion_proof, root_from_inclusion_proof, root_from_leaves,
    verify_consistency, verify_inclusion, ProofError,
};
pub use signer::NoteSigner;
pub use tiles::{TileError, TileId, TileKind};
