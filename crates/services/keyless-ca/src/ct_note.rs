//! The RFC 6962 signed tree head as a C2SP note signature, as
//! static-ct-api wants it on `/checkpoint`: key name = the checkpoint
//! origin, key ID = first four bytes of SHA-256(name || `\n` || 0x05 ||
//! LogID), signature = `RFC6962NoteSignature { uint64 timestamp;
//! TreeHeadSignature signature; }`. The core's checkpoint note keeps its
//! own signature line; this one is added to it. Both `/ct/checkpoint` and
//! `get-sth` serve the same tree head, signed once per checkpoint.

use std::sync::Mutex;

use base64::Engine;
use keyless_crypto::SigningKey;
use keyless_log::Published;
use keyless_tlog::Hash;

use crate::ct::sign_tree_head;
use crate::ct_front::now_ms;
use crate::error::CtError;

/// Signature type identifier of an RFC 6962 note signature.
pub const RFC6962_SIGNATURE_TYPE: u8 = 0x05;

/// A signed tree head: size, timestamp (ms), root, `digitally-signed`
/// TreeHeadSignature; and the checkpoint note carrying it.
#[derive(Debug, Clone)]
pub struct SignedTreeHead {
    pub size: u64,
    pub timestamp: u64,
    pub root: Hash,
    pub signature: Vec<u8>,
    pub note: String,
}

/// The note key ID of the RFC 6962 signature of a log.
pub fn key_id(origin: &str, log_id: &[u8; 32]) -> [u8; 4] {
    let mut data = Vec::with_capacity(origin.len() + 34);
    data.extend_from_slice(origin.as_bytes());
    data.push(b'\n');
    data.push(RFC6962_SIGNATURE_TYPE);
    data.extend_from_slice(log_id);
    let h = keyless_crypto::sha256(&data);
    [h[0], h[1], h[2], h[3]]
}

/// Signs each new checkpoint's tree head once, and remembers it.
#[derive(Default)]
pub(crate) struct SthCache(Mutex<Option<SignedTreeHead>>);

impl SthCache {
    /// The signed tree head of `published` (the latest checkpoint).
    pub fn get(
        &self,
        published: &Published,
        origin: &str,
        key: &SigningKey,
        log_id: &[u8; 32],
    ) -> Result<SignedTreeHead, CtError> {
        let mut cached = self
            .0
            .lock()
            .map_err(|_| CtError::Unavailable("tree head cache poisoned".into()))?;
        if let Some(sth) = cached
            .as_ref()
            .filter(|s| s.size == published.size && s.root == published.root)
        {
            return Ok(sth.clone());
        }
        let timestamp = now_ms();
        let signature = sign_tree_head(key, timestamp, published.size, &published.root)?;
        let mut blob = Vec::with_capacity(4 + 8 + signature.len());
        blob.extend_from_slice(&key_id(origin, log_id));
        blob.extend_from_slice(&timestamp.to_be_bytes());
        blob.extend_from_slice(&signature);
        let mut note = published.note.clone();
        if !note.ends_with('\n') {
            note.push('\n');
        }
        note.push_str(&format!(
            "\u{2014} {origin} {}\n",
            base64::engine::general_purpose::STANDARD.encode(blob)
        ));
        let sth = SignedTreeHead {
            size: published.size,
            timestamp,
            root: published.root,
            signature,
            note,
        };
        *cached = Some(sth.clone());
        Ok(sth)
    }
}
