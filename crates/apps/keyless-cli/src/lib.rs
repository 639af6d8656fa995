//! The `keyless` command line, as a library so that its binaries
//! (`keyless`, `keyless-conformance`) share flags, messages and exit codes.

pub mod commands;
pub mod consent;
pub mod exit;
pub mod hashing;
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

/// An error and its causes, each once, joined by ": ". A cause whose text
/// already ends the line so far (a `Display` that repeats its source) is not
/// repeated.
pub fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut next = e.source();
    while let Some(cause) = next {
        let text = cause.to_string();
        if !out.ends_with(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        next = cause.source();
    }
    out
}

/// Print an error that ended a command: `Error:` with its causes, then a
/// `hint:` when the error has one. Returns the exit code.
pub fn report_error(e: &anyhow::Error) -> i32 {
    let mut line = String::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if !line.ends_with(&text) {
            if !line.is_empty() {
                line.push_str(": ");
            }
            line.push_str(&text);
        }
    }
    eprintln!("Error: {line}");
    match e
        .chain()
        .find_map(|c| c.downcast_ref::<instance::ResolveError>())
    {
        Some(r) => {
            eprintln!("hint: {}", r.hint());
            exit::for_kind(keyless_verify::ErrorKind::TrustedRoot)
        }
        None => exit::FAILURE,
    }
}
