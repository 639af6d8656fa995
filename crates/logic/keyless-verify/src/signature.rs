//! Step 4 of the client specification: the signature covers the artifact.
//! Message signatures are checked over the artifact's digest, which we
//! compute ourselves; DSSE signatures over PAE(type, payload), and the
//! artifact must then be a subject of the in-toto statement.

use keyless_crypto::{HashAlgorithm, PublicKey};
use keyless_types::intoto::{Statement, PAYLOAD_TYPE};
use keyless_types::{Envelope, MessageSignature};

use crate::artifact::Artifact;
use crate::binding::dsse_pae;
use crate::error::{ArtifactError, SignatureError, VerificationError};

/// The hash a message signature by `key` is made over.
pub(crate) fn message_hash(key: &PublicKey) -> HashAlgorithm {
    key.default_signature_algorithm()
        .hash()
        .unwrap_or(HashAlgorithm::Sha256)
}

/// Check the bundle's digest hint against the artifact, then the signature.
pub(crate) fn verify_message(
    ms: &MessageSignature,
    key: &PublicKey,
    artifact: &Artifact,
    digest: &[u8],
) -> Result<(), VerificationError> {
    let alg = key.default_signature_algorithm();
    if let Some((name, hinted)) = &ms.digest {
        // The hint is unauthenticated, but a hint that disagrees with the
        // artifact means the bundle is for something else.
        let hint_alg = HashAlgorithm::from_proto_name(name).ok_or_else(|| {
            ArtifactError::Unsupported(format!("message digest algorithm {name}"))
        })?;
        let ours = if hint_alg == message_hash(key) {
            digest.to_vec()
        } else {
            artifact.digest(hint_alg)?
        };
        if &ours != hinted {
            return Err(ArtifactError::DigestMismatch {
                expected: hex::encode(hinted),
                found: hex::encode(ours),
            }
            .into());
        }
    }
    let result = match alg.hash() {
        Some(_) => key.verify_prehashed(alg, digest, &ms.signature),
        None => key.verify(alg, &artifact.bytes()?, &ms.signature),
    };
    result.map_err(|_| SignatureError::MessageSignature.into())
}

/// Verify a DSSE envelope and that the artifact is one of its subjects.
pub(crate) fn verify_dsse(
    env: &Envelope,
    key: &PublicKey,
    artifact: &Artifact,
) -> Result<Statement, VerificationError> {
    if env.payload_type != PAYLOAD_TYPE {
        return Err(SignatureError::PayloadType(env.payload_type.clone()).into());
    }
    let sig = env.signatures.first().ok_or(SignatureError::Dsse)?;
    key.verify(key.default_signature_algorithm(), &dsse_pae(env), &sig.sig)
        .map_err(|_| SignatureError::Dsse)?;
    let statement: Statement = serde_json::from_slice(&env.payload)
        .map_err(|e| SignatureError::Statement(e.to_string()))?;
    if !statement.type_.starts_with("https://in-toto.io/Statement/") {
        return Err(SignatureError::Statement(format!(
            "unknown statement type {:?}",
            statement.type_
        ))
        .into());
    }
    let digest = hex::encode(artifact.digest(HashAlgorithm::Sha256)?);
    if !statement.has_subject_digest("sha256", &digest) {
        let subjects = statement
            .subject
            .iter()
            .take(8)
            .map(|s| {
                format!(
                    "{} sha256:{}",
                    s.name,
                    s.digest.get("sha256").map_or("-", String::as_str)
                )
            })
            .collect::<Vec<_>>()
            .join(", ");
        return Err(ArtifactError::NotInSubjects {
            digest: format!("sha256:{digest}"),
            subjects,
        }
        .into());
    }
    Ok(statement)
}
