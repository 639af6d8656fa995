//! Enforcing a [`WitnessPolicy`] on a bundle's log entries.
//!
//! A bundle's checkpoint carries only the log's signature: witnesses
//! cosign the log's checkpoints as the log publishes them, after the
//! bundle was made. So the checkpoint the policy is checked on is the
//! log's latest one, as the log (or a mirror) serves it with its
//! cosignature lines, and it is tied to the bundle's checkpoint by a
//! consistency proof: the tree the bundle's entry is proven in is a
//! prefix of the tree the witnesses saw, so a log that showed the bundle's
//! signer a tree nobody else sees is caught (the split view witnesses
//! exist to stop).
//!
//! This module does no I/O: the caller fetches the latest checkpoint and
//! the consistency proof (from the bundle checkpoint's size to the latest
//! one's; see [`latest_size`]) and hands them in. Every step fails closed:
//! an entry with no checkpoint (a v0.1 bundle's promise alone), a latest
//! checkpoint of another log or older than the bundle's, a proof that does
//! not hold, or a quorum not met is an error naming the policy.

use keyless_tlog::{verify_consistency, Checkpoint, Hash, NoteVerifier, SignedNote};
use keyless_types::bundle::TlogEntry;
use thiserror::Error;

use crate::trust::{TrustMaterial, TrustedLog};
use crate::witness_policy::WitnessPolicy;

/// Why a log entry does not satisfy the witness policy.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum WitnessError {
    #[error("witness policy {policy}: log entry {entry} has no signed checkpoint to check cosignatures on")]
    NoCheckpoint { policy: String, entry: usize },
    #[error(
        "witness policy {policy}: log entry {entry} is from a log the trusted root does not list"
    )]
    UnknownLog { policy: String, entry: usize },
    #[error("witness policy {policy}: the {which} checkpoint of {log} is unusable")]
    Checkpoint {
        policy: String,
        which: &'static str,
        log: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    #[error("witness policy {policy}: the latest checkpoint of {log} names origin {found:?}, the bundle's {expected:?}")]
    Origin {
        policy: String,
        log: String,
        expected: String,
        found: String,
    },
    #[error("witness policy {policy}: the latest checkpoint of {log} (size {latest}) is older than the bundle's (size {bundle})")]
    Older {
        policy: String,
        log: String,
        latest: u64,
        bundle: u64,
    },
    #[error("witness policy {policy}: the latest checkpoint of {log} is not signed by a log the policy lists")]
    LogNotInPolicy { policy: String, log: String },
    #[error(
        "witness policy {policy}: the checkpoint of {log} (size {size}) lacks the witness quorum: \
         cosigned by [{cosigned}], the quorum needs {quorum}"
    )]
    Quorum {
        policy: String,
        log: String,
        size: u64,
        cosigned: String,
        quorum: String,
    },
    #[error("witness policy {policy}: the bundle's checkpoint of {log} (size {bundle}) is not consistent with the witnessed one (size {latest})")]
    Consistency {
        policy: String,
        log: String,
        bundle: u64,
        latest: u64,
        #[source]
        source: Box<keyless_tlog::ProofError>,
    },
}

/// A log entry whose checkpoint the policy's quorum vouches for.
#[derive(Debug, Clone)]
pub struct WitnessedEntry {
    pub log_url: String,
    /// The size of the bundle's checkpoint.
    pub bundle_size: u64,
    /// The size of the cosigned checkpoint it was proven consistent with.
    pub witnessed_size: u64,
    /// The policy names of the witnesses that cosigned it.
    pub cosigners: Vec<String>,
}

/// The trusted log of `entry` and its checkpoint text, or why there is none.
pub fn entry_log<'a>(
    policy: &WitnessPolicy,
    trust: &'a TrustMaterial,
    i: usize,
    entry: &'a TlogEntry,
) -> Result<(&'a TrustedLog, &'a str), WitnessError> {
    let checkpoint = entry
        .inclusion_proof
        .as_ref()
        .and_then(|p| p.checkpoint.as_deref())
        .ok_or_else(|| WitnessError::NoCheckpoint {
            policy: policy.source().to_string(),
            entry: i,
        })?;
    let log = trust
        .tlogs
        .iter()
        .find(|l| l.log_id == entry.log_id)
        .ok_or_else(|| WitnessError::UnknownLog {
            policy: policy.source().to_string(),
            entry: i,
        })?;
    Ok((log, checkpoint))
}

/// The tree size of a checkpoint note (not verified: only to know which
/// consistency proof to fetch; [`check_entry`] verifies everything).
pub fn latest_size(note: &str) -> Option<u64> {
    let note = SignedNote::parse(note).ok()?;
    Checkpoint::parse(note.body()).ok().map(|c| c.size)
}

/// The bundle checkpoint's size (see [`latest_size`]).
pub fn bundle_size(entry: &TlogEntry) -> Option<u64> {
    latest_size(entry.inclusion_proof.as_ref()?.checkpoint.as_deref()?)
}

/// Check log entry `i` of a bundle (already verified by the
/// [`crate::Verifier`]) against the policy: `latest` is the log's latest
/// checkpoint note with its cosignatures, `proof` the consistency proof
/// from the bundle checkpoint's size to `latest`'s.
pub fn check_entry(
    policy: &WitnessPolicy,
    trust: &TrustMaterial,
    i: usize,
    entry: &TlogEntry,
    latest: &str,
    proof: &[Hash],
) -> Result<WitnessedEntry, WitnessError> {
    let (log, bundle_text) = entry_log(policy, trust, i, entry)?;
    let p = || policy.source().to_string();
    let url = || log.base_url.clone();
    let bad = |which: &'static str, e: Box<dyn std::error::Error + Send + Sync>| {
        WitnessError::Checkpoint {
            policy: p(),
            which,
            log: url(),
            source: e,
        }
    };
    let (_, bundle_cp, verifier) = read(bundle_text, log, None).map_err(|e| bad("bundle's", e))?;
    let (note, latest_cp, _) = read(latest, log, Some(&verifier)).map_err(|e| bad("latest", e))?;
    if latest_cp.origin != bundle_cp.origin {
        return Err(WitnessError::Origin {
            policy: p(),
            log: url(),
            expected: bundle_cp.origin,
            found: latest_cp.origin,
        });
    }
    if latest_cp.size < bundle_cp.size {
        return Err(WitnessError::Older {
            policy: p(),
            log: url(),
            latest: latest_cp.size,
            bundle: bundle_cp.size,
        });
    }
    if !policy.logs().is_empty()
        && !policy
            .logs()
            .iter()
            .any(|v| v.name() == latest_cp.origin && note.verify(v).is_ok())
    {
        return Err(WitnessError::LogNotInPolicy {
            policy: p(),
            log: url(),
        });
    }
    let cosigned = policy.cosigners(&note);
    let names: Vec<String> = cosigned
        .iter()
        .map(|&w| policy.witnesses()[w].name.clone())
        .collect();
    if !policy.satisfied(&cosigned) {
        return Err(WitnessError::Quorum {
            policy: p(),
            log: url(),
            size: latest_cp.size,
            cosigned: names.join(", "),
            quorum: policy.quorum_text(),
        });
    }
    verify_consistency(
        bundle_cp.size,
        latest_cp.size,
        &bundle_cp.root_hash,
        &latest_cp.root_hash,
        proof,
    )
    .map_err(|source| WitnessError::Consistency {
        policy: p(),
        log: url(),
        bundle: bundle_cp.size,
        latest: latest_cp.size,
        source: Box::new(source),
    })?;
    Ok(WitnessedEntry {
        log_url: url(),
        bundle_size: bundle_cp.size,
        witnessed_size: latest_cp.size,
        cosigners: names,
    })
}

type Read = (SignedNote, Checkpoint, NoteVerifier);

/// Parse a checkpoint note and check the log's signature on it: with
/// `verifier` (the one the bundle's checkpoint verified with), else as the
/// verifier does (C2SP name = origin for a Rekor v2 log, key hint alone
/// for Rekor v1's `<host> - <tree ID>` origins).
fn read(
    text: &str,
    log: &TrustedLog,
    verifier: Option<&NoteVerifier>,
) -> Result<Read, Box<dyn std::error::Error + Send + Sync>> {
    let note = SignedNote::parse(text)?;
    let cp = Checkpoint::parse(note.body())?;
    let verifier = match verifier {
        Some(v) => v.clone(),
        None if cp.origin == log.origin => NoteVerifier::new(&log.origin, log.key.clone())?,
        None => NoteVerifier::any_name(log.key.clone())?,
    };
    note.verify(&verifier)?;
    Ok((note, cp, verifier))
}

#[cfg(test)]
#[path = "witnessed_tests.rs"]
mod tests;
