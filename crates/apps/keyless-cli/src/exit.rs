//! Exit codes, stable and documented: scripts branch on them, and the
//! conformance tests use them to check that a bundle failed for the right
//! reason.

use keyless_verify::ErrorKind;

/// Success.
pub const OK: i32 = 0;
/// Anything that is not a verification verdict: unreadable files, bad flags.
pub const FAILURE: i32 = 1;

/// The exit code for a verification failure of this kind.
pub fn for_kind(kind: ErrorKind) -> i32 {
    match kind {
        ErrorKind::Bundle => 10,
        ErrorKind::TrustedRoot => 11,
        ErrorKind::Certificate => 12,
        ErrorKind::Sct => 13,
        ErrorKind::LogEntry => 14,
        ErrorKind::InclusionProof => 15,
        ErrorKind::Checkpoint => 16,
        ErrorKind::SignedEntryTimestamp => 17,
        ErrorKind::Timestamp => 18,
        ErrorKind::VerifiedTime => 19,
        ErrorKind::Signature => 20,
        ErrorKind::Artifact => 21,
        ErrorKind::Policy => 22,
        _ => FAILURE,
    }
}

/// The table shown in `--help`.
pub const TABLE: &str = "\
Exit codes:
   0  verified
   1  other error (unreadable file, bad arguments)
  10  malformed bundle            16  checkpoint
  11  unusable trusted root       17  signed entry timestamp
  12  certificate chain           18  RFC 3161 timestamp
  13  SCT                         19  no verified time
  14  log entry                   20  signature
  15  inclusion proof             21  artifact / digest
                                  22  identity or key policy
                                  23  no signatures found (images)";
