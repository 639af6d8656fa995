//! The `keyless` command line, as a library so that its binaries
//! (`keyless`, `keyless-conformance`) share flags, messages and exit codes.

pub mod commands;
pub mod consent;
pub mod hashing;
pub mod exit;
pub mod instance;
pub mod registry;
pub mod signing;
pub mod stack;
mod tuf_repo;
pub mod verify_args;

/// Print a verification failure the way cosign users expect, plus a hint,
/// and return its exit code.
pub fn report_verification_error(e: &keyless_verify::VerificationError) -> i32 {
    eprintln!("Error: {e}");
    eprintln!("hint: {}", e.hint());
    exit::for_kind(e.kind())
}
