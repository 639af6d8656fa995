//! Step 4 of the client specification: the signature covers the artifact.
//! Message signatures are checked over the artifact's digest, which we
//! compute ourselves under the hash the bundle declares; DSSE signatures
//! over PAE(type, payload), and the artifact must then be a subject of the
//! in-toto statement, under whichever SHA-2 hashes the subjects use.

use keyless_crypto::{HashAlgorithm, PublicKey, SignatureAlgorithm};
use keyless_types::bundle::TlogEntry;
use keyless_types::intoto::{Statement, Subject, MAX_SUBJECTS, PAYLOAD_TYPE};
use keyless_types::rekor::EntryBody;
use keyless_types::{Envelope, MessageSignature};

use crate::artifact::Artifact;
use crate::binding::dsse_pae;
use crate::error::{ArtifactError, SignatureError, VerificationError};

/// The hash a message signature was made over: the one the bundle declares
/// in its message digest. The key does not imply it (older sigstore-python
/// signed SHA-256 prehashes with P-384 keys); the log entry must declare
/// the same hash, which the entry binding checks. A bundle without a
/// message digest (the field is optional) takes the hash its first
/// hashedrekord entry records, and the binding then holds every entry to
/// it; with neither, the key's default hash (SHA-256 for RSA and Ed25519).
pub(crate) fn message_hash(
    ms: &MessageSignature,
    key: &PublicKey,
    entries: &[TlogEntry],
) -> Result<HashAlgorithm, VerificationError> {
    if let Some((name, _)) = &ms.digest {
        return HashAlgorithm::from_proto_name(name).ok_or_else(|| {
            ArtifactError::Unsupported(format!(
                "message digest algorithm {name:?} (SHA2_256, SHA2_384 or SHA2_512 expected)"
            ))
            .into()
        });
    }
    let logged =
        entries
            .iter()
            .find_map(|e| match EntryBody::parse(&e.canonicalized_body).ok()? {
                EntryBody::HashedRekordV001(hr) => {
                    Some(HashAlgorithm::from_name(&hr.data.hash.algorithm))
                }
                EntryBody::HashedRekordV002(hr) => {
                    Some(HashAlgorithm::from_proto_name(&hr.data.algorithm))
                }
                _ => None,
            });
    match logged {
        Some(Some(alg)) => Ok(alg),
        // The entry names a hash we do not know; the binding refuses it.
        Some(None) | None => Ok(key
            .default_signature_algorithm()
            .hash()
            .unwrap_or(HashAlgorithm::Sha256)),
    }
}

/// Check the bundle's digest hint against the artifact's `digest` under
/// `hash`, then the signature with every scheme the key allows with that
/// hash (RSA: PKCS#1 v1.5, then PSS; see
/// [`SignatureAlgorithm::for_key_and_hash`]).
pub(crate) fn verify_message(
    ms: &MessageSignature,
    key: &PublicKey,
    artifact: &Artifact,
    hash: HashAlgorithm,
    digest: &[u8],
) -> Result<(), VerificationError> {
    if let Some((_, hinted)) = &ms.digest {
        // The hint is unauthenticated, but a hint that disagrees with the
        // artifact means the bundle is for something else.
        if hinted != digest {
            return Err(ArtifactError::DigestMismatch {
                expected: hex::encode(hinted),
                found: hex::encode(digest),
            }
            .into());
        }
    }
    let schemes = SignatureAlgorithm::for_key_and_hash(key.algorithm(), hash);
    if matches!(schemes, [SignatureAlgorithm::Ed25519]) {
        // Pure Ed25519 signs the message itself.
        return key
            .verify(
                SignatureAlgorithm::Ed25519,
                &artifact.bytes()?,
                &ms.signature,
            )
            .map_err(|_| SignatureError::MessageSignature.into());
    }
    if schemes
        .iter()
        .any(|&alg| key.verify_prehashed(alg, digest, &ms.signature).is_ok())
    {
        Ok(())
    } else {
        Err(SignatureError::MessageSignature.into())
    }
}

/// Verify a DSSE envelope and that the artifact is one of its subjects.
/// A DSSE envelope declares no hash, so the key's own is used (RSA:
/// PKCS#1 v1.5 or PSS with SHA-256).
pub(crate) fn verify_dsse(
    env: &Envelope,
    key: &PublicKey,
    artifact: &Artifact,
) -> Result<Statement, VerificationError> {
    if env.payload_type != PAYLOAD_TYPE {
        return Err(SignatureError::PayloadType(env.payload_type.clone()).into());
    }
    let sig = env.signatures.first().ok_or(SignatureError::Dsse)?;
    let hash = key
        .default_signature_algorithm()
        .hash()
        .unwrap_or(HashAlgorithm::Sha256);
    let pae = dsse_pae(env);
    SignatureAlgorithm::for_key_and_hash(key.algorithm(), hash)
        .iter()
        .find(|&&alg| key.verify(alg, &pae, &sig.sig).is_ok())
        .ok_or(SignatureError::Dsse)?;
    let statement: Statement =
        serde_json::from_slice(&env.payload).map_err(SignatureError::Statement)?;
    if !statement.type_.starts_with("https://in-toto.io/Statement/") {
        return Err(SignatureError::StatementType(statement.type_).into());
    }
    check_subjects(&statement, artifact)?;
    Ok(statement)
}

/// The artifact must be a subject of the statement. The file is hashed
/// once under every SHA-2 hash the subjects use (npm names its subjects by
/// SHA-512 only); a subject matches when it has a digest under at least one
/// of those hashes and every such digest it has is the artifact's. A
/// subject whose SHA-256 matches but whose SHA-512 does not is about
/// another file, and is not taken.
fn check_subjects(statement: &Statement, artifact: &Artifact) -> Result<(), VerificationError> {
    let subjects = &statement.subject[..statement.subject.len().min(MAX_SUBJECTS)];
    let mut used: Vec<HashAlgorithm> = Vec::new();
    for name in subjects.iter().flat_map(|s| s.digest.keys()) {
        if let Some(alg) = HashAlgorithm::from_name(name) {
            if !used.contains(&alg) {
                used.push(alg);
            }
        }
    }
    let mut algorithms = used.clone();
    if let Artifact::Digest { algorithm, .. } = artifact {
        // A digest argument has one hash: compare only under that one.
        algorithms.retain(|a| a == algorithm);
        if algorithms.is_empty() {
            let names: Vec<&str> = used.iter().map(|a| a.name()).collect();
            return Err(ArtifactError::Unsupported(format!(
                "the artifact was given as a {} digest, but the in-toto statement's subjects are named by [{}] only; pass the file, or its digest under one of those",
                algorithm.name(),
                names.join(", ")
            ))
            .into());
        }
    }
    if algorithms.is_empty() {
        return Err(ArtifactError::Unsupported(
            "no subject of the in-toto statement has a sha256, sha384 or sha512 digest".into(),
        )
        .into());
    }
    let ours: Vec<(HashAlgorithm, String)> = algorithms
        .iter()
        .copied()
        .zip(artifact.digests(&algorithms)?.iter().map(hex::encode))
        .collect();
    let is_artifact = |s: &Subject| {
        let mut compared = false;
        for (alg, digest) in &ours {
            if let Some(theirs) = s.digest.get(alg.name()) {
                if !theirs.eq_ignore_ascii_case(digest) {
                    return false;
                }
                compared = true;
            }
        }
        compared
    };
    if subjects.iter().any(is_artifact) {
        return Ok(());
    }
    let listed = subjects
        .iter()
        .take(8)
        .map(|s| {
            let digests = s
                .digest
                .iter()
                .filter(|(name, _)| HashAlgorithm::from_name(name).is_some())
                .map(|(name, d)| format!("{name}:{d}"))
                .collect::<Vec<_>>()
                .join(" ");
            format!(
                "{} {}",
                s.name,
                if digests.is_empty() {
                    "-"
                } else {
                    digests.as_str()
                }
            )
        })
        .collect::<Vec<_>>()
        .join(", ");
    Err(ArtifactError::NotInSubjects {
        digest: ours
            .iter()
            .map(|(alg, d)| format!("{}:{d}", alg.name()))
            .collect::<Vec<_>>()
            .join(" "),
        subjects: listed,
    }
    .into())
}
