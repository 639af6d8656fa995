//! Rekor v2 (rekor-tiles) requests: `hashedRekordRequestV002`, producing
//! hashedrekord 0.0.2 bodies.
//!
//! `dsseRequestV002` is refused. Since the Rekor v2 spec change of 2026-05
//! ("DSSE as hashedrekord") a DSSE envelope is logged only as
//! `hashedrekord/0.0.2` whose digest is SHA-256(PAE(payloadType,
//! payload)) with the envelope's signature; the `dsse/0.0.2` kind is gone
//! and the public v2 log answers "invalid type, must be hashedrekord".
//! Accepting it here would let clients make entries no current verifier
//! expects. Entries of that kind already in a log are still read (search
//! indexes them).

use keyless_crypto::HashAlgorithm;
use keyless_types::b64;
use serde::Deserialize;

use self::body::{Body, HashOut, SignatureOut, Verifier};
use super::{verify_digest, EntryError};

mod body;

/// The `CreateEntryRequest` oneof, as protobuf JSON.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct CreateEntryRequest {
    #[serde(default)]
    hashed_rekord_request_v002: Option<HashedRekordRequest>,
    /// Only its presence matters: the kind is refused whatever it holds.
    #[serde(default)]
    dsse_request_v002: Option<serde::de::IgnoredAny>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct HashedRekordRequest {
    #[serde(with = "b64::bytes")]
    digest: Vec<u8>,
    signature: Signature,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Signature {
    #[serde(with = "b64::bytes")]
    content: Vec<u8>,
    verifier: Verifier,
}

/// A verified request, ready to log.
#[derive(Debug, Clone)]
pub struct Entry {
    pub kind: &'static str,
    pub body: Vec<u8>,
    /// SHA-256 of the artifact or DSSE payload, when known.
    pub artifact_sha256: Option<[u8; 32]>,
}

/// Parse and verify a `POST /api/v2/log/entries` body.
pub fn parse_request(body: &[u8]) -> Result<Entry, EntryError> {
    let req: CreateEntryRequest = serde_json::from_slice(body).map_err(EntryError::json(""))?;
    if req.dsse_request_v002.is_some() {
        return Err(EntryError::DsseV2Removed);
    }
    match req.hashed_rekord_request_v002 {
        Some(hr) => hashed_rekord(hr),
        None => Err(EntryError::Malformed(
            "hashedRekordRequestV002 is required".into(),
        )),
    }
}

fn hashed_rekord(req: HashedRekordRequest) -> Result<Entry, EntryError> {
    if req.signature.content.is_empty() {
        return Err(EntryError::Malformed("empty signature".into()));
    }
    let (key, alg) = req.signature.verifier.key()?;
    let hash = verify_digest(&key, alg, &req.digest, &req.signature.content)?;
    let body = Body::hashed_rekord(
        HashOut {
            algorithm: hash.proto_name(),
            digest: &req.digest,
        },
        SignatureOut {
            content: &req.signature.content,
            verifier: &req.signature.verifier,
        },
    );
    let artifact_sha256 = (hash == HashAlgorithm::Sha256).then(|| {
        let mut d = [0u8; 32];
        d.copy_from_slice(&req.digest);
        d
    });
    Ok(Entry {
        kind: "hashedrekord",
        body: body.to_json()?,
        artifact_sha256,
    })
}
