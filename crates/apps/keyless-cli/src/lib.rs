//! The `keyless` command line, as a library so that its binaries
//! (`keyless`, `keyless-conformance`) share flags, messages and exit codes.

pub mod ca_bundle;
pub mod commands;
pub mod consent;
pub mod cosign_env;
pub mod detached;
pub mod exit;
pub mod hashing;
pub mod image_flags;
pub mod instance;
mod log_metrics;
pub mod registry;
mod report;
pub mod shutdown;
pub mod signing;
pub mod stack;
pub mod token;
mod tuf_repo;
pub mod verify_args;
pub mod verify_flags;

pub use report::{error_chain, hint, report_verification_error};

/// Print an error that ended a command: `Error:` with its causes, then a
/// `hint:` when the error has one. Returns the exit code.
pub fn report_error(e: &anyhow::Error) -> i32 {
    eprintln!("Error: {}", error_chain(e.as_ref()));
    match e
        .chain()
        .find_map(|c| c.downcast_ref::<instance::ResolveError>())
    {
        Some(r) => {
            eprintln!("hint: {}", r.hint());
            exit::for_kind(keyless_verify::ErrorKind::TrustedRoot)
        }
        None => {
            if let Some(hint) = e
                .chain()
                .find_map(|c| c.downcast_ref::<keyless_sign::SignError>())
                .and_then(sign_hint)
                .or_else(|| registry::auth_hint(e))
                .or_else(|| ca_bundle::tls_hint(e))
            {
                eprintln!("hint: {hint}");
            }
            exit::FAILURE
        }
    }
}

/// A hint for a signing failure whose fix is a flag of this command line.
fn sign_hint(e: &keyless_sign::SignError) -> Option<&'static str> {
    match e {
        keyless_sign::SignError::LogVersion { expected: 1, .. } => Some(
            "--rekor-url names a Rekor v1 log, as in cosign; for a Rekor v2 log add --rekor-version 2 \
             (with --timestamp-server-url), or use a signing config",
        ),
        keyless_sign::SignError::LogVersion { .. } => Some(
            "this log looks like a Rekor v1 log: drop --rekor-version 2 (--rekor-url means v1, as in cosign), \
             or fix majorApiVersion in the signing config",
        ),
        _ => None,
    }
}
