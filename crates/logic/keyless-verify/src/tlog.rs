//! Step 1 of the client specification: transparency log entries. For each
//! entry: the body is of the kind the bundle claims and is about this
//! bundle; the log is trusted; the signed entry timestamp (Rekor v1)
//! verifies; the inclusion proof leads to the root of a checkpoint the log
//! signed. Returns the times the log vouches for.

use keyless_tlog::{leaf_hash, verify_inclusion, Checkpoint, NoteVerifier, SignedNote};
use keyless_types::bundle::{InclusionProof, TlogEntry};
use keyless_types::rekor::EntryBody;
use keyless_types::ValidityPeriod;

use crate::binding::{self, Signed};
use crate::error::{CheckpointFailure, LogError, TimestampError, VerificationError};
use crate::timestamp::VerifiedTimestamp;
use crate::trust::{TrustMaterial, TrustedLog};

/// Seconds of clock skew allowed when deciding an integrated time is in the future.
const FUTURE_SKEW: i64 = 60;

/// What one verified entry contributes.
#[derive(Debug, Clone)]
pub struct VerifiedEntry {
    pub log_id: Vec<u8>,
    pub log_index: u64,
    pub log_url: String,
    /// The integrated time, only if its signed entry timestamp verified:
    /// an inclusion proof alone says nothing about when (TOB-SIGSTORE-3).
    pub integrated_time: Option<i64>,
    /// The log key's trusted-root validity, when the entry stands on its
    /// checkpoint alone (no verified signed entry timestamp, so no
    /// integrated time to check the key at): the key must then have been
    /// valid at every verified RFC 3161 time. See [`check_checkpoint_keys`].
    pub(crate) checkpoint_key_validity: Option<ValidityPeriod>,
}

pub(crate) fn verify_entry(
    i: usize,
    entry: &TlogEntry,
    trust: &TrustMaterial,
    signed: &Signed<'_>,
    now: i64,
) -> Result<VerifiedEntry, LogError> {
    let body = EntryBody::parse(&entry.canonicalized_body)
        .map_err(|source| LogError::Body { entry: i, source })?;
    let (kind, version) = body.kind_version();
    if (kind, version) != (entry.kind.as_str(), entry.version.as_str()) {
        return Err(LogError::KindMismatch {
            entry: i,
            expected: format!("{} {}", entry.kind, entry.version),
            found: format!("{kind} {version}"),
        });
    }
    binding::check(i, &body, signed)?;

    let log = trust
        .log(&entry.log_id)
        .ok_or_else(|| LogError::UnknownLog {
            entry: i,
            log_id: hex::encode(&entry.log_id),
        })?;
    // Rekor v2 serves hashedrekord and dsse at 0.0.2; intoto 0.0.2 is a Rekor v1 type.
    let rekor_v2 = matches!(
        (kind, version),
        ("hashedrekord", "0.0.2") | ("dsse", "0.0.2")
    );

    let mut integrated_time = None;
    if let (Some(set), Some(t)) = (&entry.signed_entry_timestamp, entry.integrated_time) {
        verify_set(i, entry, log, set, t)?;
        if t > now + FUTURE_SKEW {
            return Err(LogError::IntegratedTimeInFuture {
                entry: i,
                time: t,
                now,
            });
        }
        integrated_time = Some(t);
    } else if entry.signed_entry_timestamp.is_some() {
        return Err(LogError::SignedEntryTimestampWithoutTime { entry: i });
    }

    match &entry.inclusion_proof {
        Some(proof) => verify_proof(i, entry, proof, log, rekor_v2)?,
        None if rekor_v2 => return Err(LogError::MissingInclusionProof { entry: i }),
        // A v0.1 bundle may carry only the promise; the bundle parser has
        // already required a proof for v0.2 and later.
        None => {}
    }
    if entry.inclusion_proof.is_none() && integrated_time.is_none() {
        return Err(LogError::MissingInclusionProof { entry: i });
    }

    Ok(VerifiedEntry {
        log_id: entry.log_id.clone(),
        log_index: entry.log_index,
        log_url: log.base_url.clone(),
        integrated_time,
        checkpoint_key_validity: match (&entry.inclusion_proof, integrated_time) {
            (Some(_), None) => Some(log.valid_for),
            _ => None,
        },
    })
}

/// A checkpoint is only as good as the key that signed it, and a key in
/// the trusted root is trusted only inside its `validFor`. For an entry
/// with a verified signed entry timestamp the key was checked at the
/// integrated time; an entry that stands on its checkpoint alone (every
/// Rekor v2 entry) carries no time of its own, so its key must have been
/// valid at every time a timestamp authority vouched for. With no such
/// time there is nothing to check the key at, and that is a failure, not
/// a pass.
pub(crate) fn check_checkpoint_keys(
    entries: &[VerifiedEntry],
    timestamps: &[VerifiedTimestamp],
) -> Result<(), VerificationError> {
    for (i, entry) in entries.iter().enumerate() {
        let Some(valid_for) = entry.checkpoint_key_validity else {
            continue;
        };
        if timestamps.is_empty() {
            return Err(TimestampError::NoVerifiedTime.into());
        }
        if let Some(outside) = timestamps.iter().find(|t| !valid_for.contains(t.time)) {
            return Err(LogError::LogKeyNotValidAtTimestamp {
                entry: i,
                log: entry.log_url.clone(),
                time: outside.time,
                window: valid_for,
            }
            .into());
        }
    }
    Ok(())
}

/// Rekor v1's signed entry timestamp: the log's signature over the
/// canonical JSON `{"body","integratedTime","logID","logIndex"}` (keys
/// sorted, no spaces), by a key valid at the integrated time.
fn verify_set(
    i: usize,
    entry: &TlogEntry,
    log: &TrustedLog,
    set: &[u8],
    t: i64,
) -> Result<(), LogError> {
    if !log.valid_for.contains(t) {
        return Err(LogError::LogKeyNotValidAtTime {
            entry: i,
            log: log.base_url.clone(),
            time: t,
        });
    }
    // The bundle's own text when it is the canonical encoding of the body
    // (the same bytes encoding would write), otherwise encoded here.
    let encoded;
    let body_b64 = match &entry.canonicalized_body_b64 {
        Some(text) => text.as_str(),
        None => {
            encoded = keyless_types::b64::encode(&entry.canonicalized_body);
            encoded.as_str()
        }
    };
    // Written into one buffer of the right size: `format!` would grow it
    // from the literal pieces' length, copying the ~2 KiB body each time.
    let mut payload = String::with_capacity(body_b64.len() + 2 * entry.log_id.len() + 96);
    payload.push_str("{\"body\":\"");
    payload.push_str(body_b64);
    payload.push_str("\",\"integratedTime\":");
    payload.push_str(&t.to_string());
    payload.push_str(",\"logID\":\"");
    payload.push_str(&hex::encode(&entry.log_id));
    payload.push_str("\",\"logIndex\":");
    payload.push_str(&entry.log_index.to_string());
    payload.push('}');
    log.key
        .verify(
            log.key.default_signature_algorithm(),
            payload.as_bytes(),
            set,
        )
        .map_err(|source| LogError::SignedEntryTimestamp {
            entry: i,
            log: log.base_url.clone(),
            source,
        })
}

fn verify_proof(
    i: usize,
    entry: &TlogEntry,
    proof: &InclusionProof,
    log: &TrustedLog,
    rekor_v2: bool,
) -> Result<(), LogError> {
    let leaf = leaf_hash(&entry.canonicalized_body);
    verify_inclusion(
        proof.log_index,
        proof.tree_size,
        &leaf,
        &proof.hashes,
        &proof.root_hash,
    )
    .map_err(|source| LogError::InclusionProof { entry: i, source })?;

    // Without a signed checkpoint the root hash above is only the bundle's
    // word (rekor-spec §9.3).
    let text = proof
        .checkpoint
        .as_deref()
        .ok_or(LogError::MissingCheckpoint { entry: i })?;
    let cp_err = |source: CheckpointFailure| LogError::Checkpoint { entry: i, source };
    let note = SignedNote::parse(text).map_err(|e| cp_err(CheckpointFailure::Note(e)))?;
    // Parse the body before checking signatures, so that a checkpoint with
    // a missing line is reported as such and not as a bad signature.
    let checkpoint =
        Checkpoint::parse(note.body()).map_err(|e| cp_err(CheckpointFailure::Body(e)))?;
    let verifier = if rekor_v2 {
        // Rekor v2 signs as its origin, the host of its base URL.
        NoteVerifier::new(&log.origin, log.key.clone())
    } else {
        // Rekor v1 names itself by hostname and a tree ID that changes with
        // each shard; sigstore-go matches v1 checkpoints by key hint alone.
        NoteVerifier::any_name(log.key.clone())
    }
    .map_err(|e| cp_err(CheckpointFailure::Key(e)))?;
    note.verify(&verifier)
        .map_err(|e| cp_err(CheckpointFailure::Signature(e)))?;
    if rekor_v2 && checkpoint.origin != log.origin {
        return Err(cp_err(CheckpointFailure::Origin {
            expected: log.origin.clone(),
            found: checkpoint.origin,
        }));
    }
    if checkpoint.root_hash != proof.root_hash {
        return Err(cp_err(CheckpointFailure::RootHash {
            expected: hex::encode(proof.root_hash),
            found: hex::encode(checkpoint.root_hash),
        }));
    }
    if checkpoint.size != proof.tree_size {
        return Err(cp_err(CheckpointFailure::TreeSize {
            expected: proof.tree_size,
            found: checkpoint.size,
        }));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    fn entry(checkpoint_key_validity: Option<ValidityPeriod>) -> VerifiedEntry {
        VerifiedEntry {
            log_id: vec![1],
            log_index: 0,
            log_url: "https://log.example".into(),
            integrated_time: None,
            checkpoint_key_validity,
        }
    }

    fn stamp(time: i64) -> VerifiedTimestamp {
        VerifiedTimestamp {
            time,
            authority: "https://tsa.example".into(),
            authority_index: 0,
        }
    }

    #[test]
    fn a_checkpoint_key_with_no_verified_time_fails() {
        let window = ValidityPeriod {
            start: 100,
            end: None,
        };
        let err = check_checkpoint_keys(&[entry(Some(window))], &[]).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::VerifiedTime, "{err}");
        // An entry whose signed entry timestamp verified was checked then.
        assert!(check_checkpoint_keys(&[entry(None)], &[]).is_ok());
    }

    #[test]
    fn every_verified_time_must_lie_in_the_key_window() {
        let window = ValidityPeriod {
            start: 100,
            end: Some(200),
        };
        let entries = [entry(None), entry(Some(window))];
        assert!(check_checkpoint_keys(&entries, &[stamp(100), stamp(200)]).is_ok());
        for outside in [99, 201] {
            let err = check_checkpoint_keys(&entries, &[stamp(150), stamp(outside)]).unwrap_err();
            assert!(
                matches!(
                    &err,
                    VerificationError::Log(LogError::LogKeyNotValidAtTimestamp { entry: 1, .. })
                ),
                "{err:?}"
            );
        }
    }
}
