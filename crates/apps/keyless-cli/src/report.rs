//! How a verification failure and an error's causes are printed: shared
//! by the commands and by [`crate::instance`], whose errors print
//! themselves this way (re-exported from the crate root).

use crate::exit;

/// Print a verification failure the way cosign users expect, plus a hint,
/// and return its exit code.
pub fn report_verification_error(e: &keyless_verify::VerificationError) -> i32 {
    // The whole chain: the top message names the step, its causes say what
    // exactly failed (each printed once: no message repeats its source).
    eprintln!("Error: {}", error_chain(e));
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
