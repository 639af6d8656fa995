//! Keys and entries for the monitor tests' fake logs.

use std::path::{Path, PathBuf};

use base64::Engine;
use keyless_crypto::{KeyAlgorithm, SigningKey};
use keyless_tlog::{root_from_leaves, Checkpoint, Hash, NoteSigner, TileId, TileKind};

/// A fresh P-256 note signer for a fake log named `origin`, with its
/// public key written to `<dir>/log.pub` (for `--log-public-key`).
pub fn fake_log_signer(dir: &Path, origin: &str) -> (PathBuf, NoteSigner) {
    let key = SigningKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
    let pub_pem = dir.join("log.pub");
    std::fs::write(&pub_pem, key.public_key().to_pem()).unwrap();
    (pub_pem, NoteSigner::new(origin, key).unwrap())
}

/// Two signers of log entries, one of them watched (`--key`): its public
/// key is written to `<dir>/watched.pub`.
pub struct EntryKeys {
    pub watched: SigningKey,
    pub other: SigningKey,
    pub watched_pem: PathBuf,
}

impl EntryKeys {
    pub fn new(dir: &Path) -> Self {
        let watched = SigningKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
        let other = SigningKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
        let watched_pem = dir.join("watched.pub");
        std::fs::write(&watched_pem, watched.public_key().to_pem()).unwrap();
        Self {
            watched,
            other,
            watched_pem,
        }
    }

    /// A hashedrekord entry body for the SHA-256 of `data`, carrying the
    /// public key of the watched signer or of the other one (the
    /// signature is a placeholder: the monitor matches keys, it does not
    /// verify entries).
    pub fn hashedrekord(&self, watched: bool, data: &[u8]) -> Vec<u8> {
        let key = if watched { &self.watched } else { &self.other };
        let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
        format!(
            r#"{{"apiVersion":"0.0.1","kind":"hashedrekord","spec":{{"data":{{"hash":{{"algorithm":"sha256","value":"{}"}}}},"signature":{{"content":"AA==","publicKey":{{"content":"{}"}}}}}}}}"#,
            hex::encode(keyless_crypto::sha256(data)),
            b64(key.public_key().to_pem().as_bytes())
        )
        .into_bytes()
    }
}

/// The checkpoint over `leaves`, signed by `signer` (origin: its name).
pub fn signed_checkpoint(signer: &NoteSigner, leaves: &[Hash]) -> String {
    let cp = Checkpoint {
        origin: signer.name().to_string(),
        size: leaves.len() as u64,
        root_hash: root_from_leaves(leaves),
        extensions: Vec::new(),
    };
    signer.sign(&cp.to_body()).unwrap().to_text()
}

/// The hash tiles of every level over `leaves`, as tlog-tiles lays them
/// out: `(tile path, content)`, partial tiles included.
pub fn hash_tiles(leaves: Vec<Hash>) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut level_hashes = leaves;
    let mut level = 0u8;
    while !level_hashes.is_empty() {
        for (t, chunk) in level_hashes.chunks(256).enumerate() {
            let id = TileId {
                kind: TileKind::Hashes { level },
                index: t as u64,
                width: chunk.len() as u16,
            };
            out.push((id.path(), chunk.concat()));
        }
        level_hashes = level_hashes
            .chunks_exact(256)
            .map(root_from_leaves)
            .collect();
        level += 1;
    }
    out
}
