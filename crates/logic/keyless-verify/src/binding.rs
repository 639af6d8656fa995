//! Bind a log entry to the bundle: the entry must record exactly this
//! bundle's signature, signer and artifact digest. Done for every entry,
//! always (TOB-SIGSTORE-2): an entry that verifies in the log but is about
//! something else proves nothing about this artifact.

use keyless_crypto::{sha256, HashAlgorithm};
use keyless_types::rekor::{EntryBody, HexHash, ProtoHash, V2Verifier};
use keyless_types::{pae, Content, Envelope};

use crate::error::LogError;
use crate::signer::Signer;

/// What the bundle says was signed, with digests computed by us.
pub(crate) struct Signed<'a> {
    pub content: &'a Content,
    /// The artifact digest for message signatures, under `digest_algorithm`.
    pub artifact_digest: Option<(HashAlgorithm, Vec<u8>)>,
    pub signer: &'a Signer,
}

pub(crate) fn check(entry: usize, body: &EntryBody, signed: &Signed<'_>) -> Result<(), LogError> {
    let mismatch = |field: &'static str, expected: String, found: String| LogError::Mismatch {
        entry,
        field,
        expected,
        found,
    };
    match (body, signed.content) {
        (EntryBody::HashedRekordV001(hr), Content::MessageSignature(ms)) => {
            eq_bytes(entry, "signature", &ms.signature, &hr.signature.content)?;
            check_pem(
                entry,
                "public key",
                signed.signer,
                &hr.signature.public_key.content,
            )?;
            let (alg, digest) = artifact_digest(entry, signed)?;
            // The hash the bundle declares (and the signature was checked
            // with) must be the one the log recorded.
            if hr.data.hash.algorithm != alg.name() {
                return Err(digest_algorithm_mismatch(entry, alg.name(), &hr.data.hash.algorithm));
            }
            eq_hex_hash(entry, "artifact digest", alg, digest, &hr.data.hash)
        }
        (EntryBody::HashedRekordV002(hr), content) => {
            let (alg, digest) = match content {
                Content::MessageSignature(_) => {
                    let (alg, d) = artifact_digest(entry, signed)?;
                    if hr.data.algorithm != alg.proto_name() {
                        return Err(digest_algorithm_mismatch(entry, alg.proto_name(), &hr.data.algorithm));
                    }
                    (alg, d.clone())
                }
                // Rekor v2 logs a DSSE envelope as the digest of its PAE,
                // under the hash the entry names; we compute it ourselves.
                Content::Dsse(env) => {
                    let alg = HashAlgorithm::from_proto_name(&hr.data.algorithm).ok_or_else(|| {
                        mismatch(
                            "digest algorithm",
                            "SHA2_256, SHA2_384 or SHA2_512".into(),
                            hr.data.algorithm.clone(),
                        )
                    })?;
                    (alg, alg.digest(&dsse_pae(env)))
                }
                _ => {
                    return Err(mismatch(
                        "content",
                        "a supported content".into(),
                        "unknown".into(),
                    ))
                }
            };
            eq_proto_hash(entry, "artifact digest", alg, &digest, &hr.data)?;
            eq_bytes(
                entry,
                "signature",
                content.signature(),
                &hr.signature.content,
            )?;
            check_v2_verifier(entry, signed.signer, &hr.signature.verifier)
        }
        (EntryBody::DsseV001(d), Content::Dsse(env)) => {
            eq_hex_hash(
                entry,
                "payload hash",
                HashAlgorithm::Sha256,
                &sha256(&env.payload),
                &d.payload_hash,
            )?;
            let sig = single(entry, &d.signatures)?;
            eq_bytes(
                entry,
                "signature",
                signed.content.signature(),
                &sig.signature,
            )?;
            check_pem(entry, "verifier", signed.signer, &sig.verifier)?;
            Ok(())
        }
        // Removed from the Rekor v2 spec (2026-05, "DSSE as hashedrekord"):
        // sigstore-go, -java and -python refuse it, and so do we, whatever
        // the entry records.
        (EntryBody::DsseV002(_), Content::Dsse(_)) => Err(LogError::UnsupportedEntryType {
            entry,
            kind: "dsse:0.0.2".into(),
            content: "DSSE",
            reason: "since the Rekor v2 spec change of 2026-05 (\"DSSE as hashedrekord\"), a DSSE envelope is logged only as hashedrekord 0.0.2 over the digest of its PAE",
        }),
        (EntryBody::IntotoV002(i), Content::Dsse(env)) => {
            let c = &i.content;
            eq_hex_hash(
                entry,
                "payload hash",
                HashAlgorithm::Sha256,
                &sha256(&env.payload),
                &c.payload_hash,
            )?;
            if c.envelope.payload_type != env.payload_type {
                return Err(mismatch(
                    "payload type",
                    env.payload_type.clone(),
                    c.envelope.payload_type.clone(),
                ));
            }
            if !c.envelope.payload.is_empty() && c.envelope.payload_bytes() != env.payload {
                return Err(mismatch(
                    "payload",
                    "the bundle's DSSE payload".into(),
                    "a different payload".into(),
                ));
            }
            let sig = single(entry, &c.envelope.signatures)?;
            eq_bytes(
                entry,
                "signature",
                signed.content.signature(),
                &sig.signature_bytes(),
            )?;
            check_pem(entry, "public key", signed.signer, &sig.public_key)?;
            Ok(())
        }
        (body, content) => {
            let (kind, version) = body.kind_version();
            let content = match content {
                Content::MessageSignature(_) => "a message signature",
                _ => "a DSSE envelope",
            };
            Err(mismatch(
                "entry kind",
                format!("an entry kind that records {content}"),
                format!("{kind} {version}"),
            ))
        }
    }
}

pub(crate) fn dsse_pae(env: &Envelope) -> Vec<u8> {
    pae(&env.payload_type, &env.payload)
}

fn artifact_digest<'a>(
    entry: usize,
    signed: &'a Signed<'_>,
) -> Result<(HashAlgorithm, &'a Vec<u8>), LogError> {
    signed
        .artifact_digest
        .as_ref()
        .map(|(a, d)| (*a, d))
        .ok_or(LogError::Mismatch {
            entry,
            field: "artifact digest",
            expected: "a digest of the artifact".into(),
            found: "none computed".into(),
        })
}

/// The one signature an entry about a single-signature envelope must carry.
fn single<T>(entry: usize, signatures: &[T]) -> Result<&T, LogError> {
    match signatures {
        [sig] => Ok(sig),
        _ => Err(LogError::Mismatch {
            entry,
            field: "signature count",
            expected: "1".into(),
            found: signatures.len().to_string(),
        }),
    }
}

/// The PEM key or certificate an entry records must be the signer's.
fn check_pem(
    entry: usize,
    field: &'static str,
    signer: &Signer,
    pem: &[u8],
) -> Result<(), LogError> {
    if signer.matches_pem(pem) {
        Ok(())
    } else {
        Err(LogError::Mismatch {
            entry,
            field,
            expected: signer.describe(),
            found: "a different key or certificate".into(),
        })
    }
}

fn check_v2_verifier(entry: usize, signer: &Signer, v: &V2Verifier) -> Result<(), LogError> {
    let ok = match (&v.x509_certificate, &v.public_key) {
        (Some(c), None) => signer.matches_certificate_der(&c.raw_bytes),
        (None, Some(k)) => signer.matches_spki_der(&k.raw_bytes),
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(LogError::Mismatch {
            entry,
            field: "verifier",
            expected: signer.describe(),
            found: "a different key or certificate".into(),
        })
    }
}

fn eq_bytes(
    entry: usize,
    field: &'static str,
    expected: &[u8],
    found: &[u8],
) -> Result<(), LogError> {
    if expected == found {
        Ok(())
    } else {
        Err(LogError::Mismatch {
            entry,
            field,
            expected: keyless_types::b64::encode(expected),
            found: keyless_types::b64::encode(found),
        })
    }
}

/// The log entry names another hash than the bundle's message digest: the
/// signature was checked under the bundle's, so the entry is not about it.
fn digest_algorithm_mismatch(entry: usize, bundle: &str, logged: &str) -> LogError {
    LogError::Mismatch {
        entry,
        field: "digest algorithm",
        expected: format!("{bundle} (the bundle's message digest algorithm)"),
        found: logged.to_string(),
    }
}

fn eq_hex_hash(
    entry: usize,
    field: &'static str,
    alg: HashAlgorithm,
    digest: &[u8],
    logged: &HexHash,
) -> Result<(), LogError> {
    // Compared in place (digests are at most 64 bytes); the strings are
    // only written for the error.
    let mut buf = [0u8; 128];
    let n = 2 * digest.len();
    let same_value = n <= buf.len()
        && hex::encode_to_slice(digest, &mut buf[..n]).is_ok()
        && logged.value.as_bytes().eq_ignore_ascii_case(&buf[..n]);
    if same_value && logged.algorithm == alg.name() {
        return Ok(());
    }
    Err(LogError::Mismatch {
        entry,
        field,
        expected: format!("{}:{}", alg.name(), hex::encode(digest)),
        found: format!("{}:{}", logged.algorithm, logged.value.to_ascii_lowercase()),
    })
}

fn eq_proto_hash(
    entry: usize,
    field: &'static str,
    alg: HashAlgorithm,
    digest: &[u8],
    logged: &ProtoHash,
) -> Result<(), LogError> {
    let expected = format!("{}:{}", alg.proto_name(), hex::encode(digest));
    let found = format!("{}:{}", logged.algorithm, hex::encode(&logged.digest));
    if expected == found {
        Ok(())
    } else {
        Err(LogError::Mismatch {
            entry,
            field,
            expected,
            found,
        })
    }
}
