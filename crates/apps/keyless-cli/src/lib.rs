//! The `keyless` command line, as a library so that its binaries
//! (`keyless`, `keyless-conformance`) share flags, messages and exit codes.

pub mod commands;
pub mod consent;
pub mod cosign_env;
pub mod detached;
pub mod exit;
pub mod hashing;
pub mod image_flags;
pub mod instance;
pub mod registry;
pub mod signing;
pub mod stack;
pub mod token;
mod tuf_repo;
pub mod verify_args;
pub mod verify_flags;

/// Print a verification failure the way cosign users expect, plus a hint,
/// and return its exit code.
pub fn report_verification_error(e: &keyless_verify::VerificationError) -> i32 {
    eprintln!("Error: {e}");
    eprintln!("hint: {}", hint(e));
    exit::for_kind(e.kind())
}

/// One line on how a user might fix or investigate a verification failure,
/// in terms of this command line's flags (the library names no flags).
pub fn hint(e: &keyless_verify::VerificationError) -> &'static str {
    use keyless_verify::error::PolicyError;
    use keyless_verify::{ErrorKind, VerificationError};
    if let VerificationError::Policy(PolicyError::KeySignedBundle { .. }) = e {
        return "this bundle was signed with a long-lived key, not keylessly: verify it with --key FILE";
    }
    match e.kind() {
        ErrorKind::Bundle => "the bundle file is damaged or not a Sigstore bundle; re-download or re-create it",
        ErrorKind::TrustedRoot => "check the --trusted-root file, or drop the flag to use the embedded public-good root",
        ErrorKind::Certificate | ErrorKind::Sct => {
            "the signing certificate is not from a CA in the trusted root; check you use the trusted root of the instance that signed it"
        }
        ErrorKind::Policy => {
            "check --certificate-identity and --certificate-oidc-issuer against the signer's identity shown above"
        }
        ErrorKind::Artifact | ErrorKind::Signature => {
            "the artifact or signature was changed after signing, or this bundle belongs to another artifact"
        }
        _ => "the bundle's transparency-log or timestamp evidence does not check out; it may have been tampered with",
    }
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
