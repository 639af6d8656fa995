//! RFC 6962 Merkle hashing and proofs, C2SP signed notes and checkpoints.
