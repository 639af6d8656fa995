//! Checks on what a log serves after a disruption (a restart, a database
//! failover): every entry it acknowledged is still there, with an
//! inclusion proof that verifies.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;

use super::http_get;

/// Size and root hash of the checkpoint the log on `port` serves.
pub fn log_checkpoint(port: u16) -> Option<(u64, [u8; 32])> {
    let text = http_get(&format!("http://127.0.0.1:{port}/checkpoint"));
    let mut lines = text.lines();
    let size = lines.nth(1)?.parse().ok()?;
    let root = B64.decode(lines.next()?).ok()?.try_into().ok()?;
    Some((size, root))
}

/// A hex hash of a Rekor v1 JSON answer.
pub fn hash32(v: &serde_json::Value) -> [u8; 32] {
    let bytes = hex::decode(v.as_str().expect("hex string")).expect("hex");
    bytes.try_into().expect("32 bytes")
}

/// A JSON array of hex hashes.
pub fn hashes(v: &serde_json::Value) -> Vec<[u8; 32]> {
    v.as_array().expect("hashes").iter().map(hash32).collect()
}

/// The inclusion proof an entry was served with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServedProof {
    pub index: u64,
    pub tree_size: u64,
    pub root: [u8; 32],
}

/// For each acknowledged `(log index, canonical body)`: the log on `port`
/// serves the same body at that index (Rekor v1 API), with an inclusion
/// proof that verifies against the proof's own tree size and root. Panics
/// otherwise; returns the proofs, for the caller to compare with the
/// checkpoint it holds.
pub fn check_acknowledged<'a>(
    port: u16,
    acked: impl IntoIterator<Item = (u64, &'a [u8])>,
) -> Vec<ServedProof> {
    let mut out = Vec::new();
    for (index, canonical) in acked {
        let url = format!("http://127.0.0.1:{port}/api/v1/log/entries?logIndex={index}");
        let text = http_get(&url);
        let v: serde_json::Value =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
        let (_, entry) = v
            .as_object()
            .and_then(|m| m.iter().next())
            .expect("one entry");
        let body = B64
            .decode(entry["body"].as_str().expect("body"))
            .expect("base64 body");
        assert_eq!(body, canonical, "entry {index} changed");
        let proof = &entry["verification"]["inclusionProof"];
        let tree_size = proof["treeSize"].as_u64().expect("treeSize");
        let root = hash32(&proof["rootHash"]);
        keyless_tlog::verify_inclusion(
            index,
            tree_size,
            &keyless_tlog::leaf_hash(&body),
            &hashes(&proof["hashes"]),
            &root,
        )
        .unwrap_or_else(|e| panic!("entry {index}: {e}"));
        out.push(ServedProof {
            index,
            tree_size,
            root,
        });
    }
    out
}

/// A hashedrekord v0.0.2 request (`POST /api/v2/log/entries`) for
/// `artifact`, signed with `key`.
pub fn hashedrekord_v002_request(key: &keyless_crypto::SigningKey, artifact: &str) -> Vec<u8> {
    let spki = B64.encode(key.public_key().spki_der());
    let sig = key.sign(artifact.as_bytes()).expect("sign");
    serde_json::to_vec(&serde_json::json!({ "hashedRekordRequestV002": {
        "digest": B64.encode(keyless_crypto::sha256(artifact.as_bytes())),
        "signature": { "content": B64.encode(sig), "verifier": {
            "publicKey": { "rawBytes": spki }, "keyDetails": "PKIX_ECDSA_P256_SHA_256" } },
    }}))
    .expect("json")
}

/// The log index and canonicalized body of a 201 answer to an entry
/// submission (the index as a string or a number).
pub fn acknowledged(answer: &[u8]) -> (u64, Vec<u8>) {
    let entry: serde_json::Value = serde_json::from_slice(answer).expect("entry JSON");
    let index: u64 = entry["logIndex"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .or_else(|| entry["logIndex"].as_u64())
        .expect("logIndex");
    let canonical = B64
        .decode(entry["canonicalizedBody"].as_str().expect("body"))
        .expect("base64 body");
    (index, canonical)
}
