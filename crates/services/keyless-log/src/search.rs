//! Rekor v1 search (`POST /api/v1/index/retrieve`) beyond the artifact
//! digest kept in each entry's metadata: every hash and every signer an
//! entry body names, as Rekor's `IndexKeys` list them — the artifact
//! digest of hashedrekord entries, the payload and envelope hashes of
//! dsse entries, the payload hash of intoto entries, and the key or
//! certificate of every signature (canonicalized, so any PEM spelling of
//! the same key finds it).
//!
//! The index lives in memory and is derived from the committed bodies
//! alone, so it needs no storage of its own and cannot disagree with the
//! log: it is brought up to the published size on each search (the first
//! search after a start reads every entry bundle once). Keys are kept as
//! 8-byte prefixes of their SHA-256 ([`PrefixIndex`]); candidates are
//! confirmed against their bodies before they are returned.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Mutex;

use keyless_crypto::{sha256, HashAlgorithm, PublicKey};
use keyless_tlog::tiles::{decode_entry_bundle, TILE_WIDTH};
use keyless_tlog::{TileId, TileKind};
use keyless_types::rekor::{EntryBody, HexHash, ProtoHash, V2Verifier};
use keyless_x509::Certificate;

use crate::entries::v1::verifier::RekorKey;
use crate::error::LogError;
use crate::index::PrefixIndex;
use crate::state::{committed_width, Log};

/// Something an entry can be found by.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum IndexKey {
    /// `alg:hex`, lower case (`sha256:…`).
    Hash(String),
    /// The canonical PEM of a key, certificate or chain.
    Signer(String),
}

impl IndexKey {
    /// The SHA-256 the index files this key under.
    fn digest(&self) -> [u8; 32] {
        let (tag, v) = match self {
            Self::Hash(h) => ("hash\n", h),
            Self::Signer(pem) => ("signer\n", pem),
        };
        sha256(&[tag.as_bytes(), v.as_bytes()].concat())
    }

    /// The key for a PEM verifier, as a search query or a v1 body names it.
    pub fn signer_pem(pem: &[u8]) -> Option<Self> {
        RekorKey::from_pem(pem)
            .ok()
            .map(|k| Self::Signer(k.canonical_pem))
    }
}

fn hex_hash(h: &HexHash) -> IndexKey {
    IndexKey::Hash(format!("{}:{}", h.algorithm, h.value).to_ascii_lowercase())
}

fn proto_hash(h: &ProtoHash) -> Option<IndexKey> {
    let name = match HashAlgorithm::from_proto_name(&h.algorithm)? {
        HashAlgorithm::Sha256 => "sha256",
        HashAlgorithm::Sha384 => "sha384",
        HashAlgorithm::Sha512 => "sha512",
        _ => return None,
    };
    Some(IndexKey::Hash(format!("{name}:{}", hex::encode(&h.digest))))
}

fn v2_signer(v: &V2Verifier) -> Option<IndexKey> {
    let key = match (&v.x509_certificate, &v.public_key) {
        (Some(c), None) => {
            RekorKey::from_certificates(&[Certificate::from_der(&c.raw_bytes).ok()?]).ok()?
        }
        (None, Some(k)) => RekorKey::from_key(PublicKey::from_spki_der(&k.raw_bytes).ok()?),
        _ => return None,
    };
    Some(IndexKey::Signer(key.canonical_pem))
}

/// What an entry body can be found by. Bodies of kinds Rekor does not
/// search, or parts that do not parse, give no keys.
pub fn index_keys(body: &[u8]) -> BTreeSet<IndexKey> {
    let mut keys = BTreeSet::new();
    let Ok(parsed) = EntryBody::parse(body) else {
        return keys;
    };
    match parsed {
        EntryBody::HashedRekordV001(hr) => {
            keys.insert(hex_hash(&hr.data.hash));
            keys.extend(IndexKey::signer_pem(&hr.signature.public_key.content));
        }
        EntryBody::HashedRekordV002(hr) => {
            keys.extend(proto_hash(&hr.data));
            keys.extend(v2_signer(&hr.signature.verifier));
        }
        EntryBody::DsseV001(d) => {
            keys.insert(hex_hash(&d.payload_hash));
            keys.extend(d.envelope_hash.as_ref().map(hex_hash));
            for s in &d.signatures {
                keys.extend(IndexKey::signer_pem(&s.verifier));
            }
        }
        EntryBody::DsseV002(d) => {
            keys.extend(proto_hash(&d.payload_hash));
            for s in &d.signatures {
                keys.extend(v2_signer(&s.verifier));
            }
        }
        EntryBody::IntotoV002(i) => {
            keys.insert(hex_hash(&i.content.payload_hash));
            for s in &i.content.envelope.signatures {
                keys.extend(IndexKey::signer_pem(&s.public_key));
            }
        }
        _ => {}
    }
    keys
}

/// The in-memory search index of one log; see the module documentation.
#[derive(Debug, Default)]
pub struct SearchIndex {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    /// Entries `[0, indexed)` are in `keys`.
    indexed: u64,
    keys: PrefixIndex,
}

/// Committed entry bodies read a bundle at a time, for one request.
struct Bodies<'a> {
    log: &'a Log,
    size: u64,
    bundles: HashMap<u64, Vec<Vec<u8>>>,
}

impl<'a> Bodies<'a> {
    fn new(log: &'a Log, size: u64) -> Self {
        Self {
            log,
            size,
            bundles: HashMap::new(),
        }
    }

    fn bundle(&mut self, tile: u64) -> Result<&[Vec<u8>], LogError> {
        if !self.bundles.contains_key(&tile) {
            let width = committed_width(TileKind::Entries, tile, self.size).ok_or_else(|| {
                LogError::Corrupt(format!("no entry bundle {tile} at size {}", self.size))
            })?;
            let id = TileId {
                kind: TileKind::Entries,
                index: tile,
                width,
            };
            let data = self.log.tile(&id)?.ok_or_else(|| {
                LogError::Corrupt(format!("entry bundle {} is missing", id.path()))
            })?;
            let entries = decode_entry_bundle(&data)
                .map_err(|e| LogError::Corrupt(format!("{}: {e}", id.path())))?
                .into_iter()
                .map(<[u8]>::to_vec)
                .collect();
            self.bundles.insert(tile, entries);
        }
        Ok(self
            .bundles
            .get(&tile)
            .map(Vec::as_slice)
            .unwrap_or_default())
    }

    /// The body of committed entry `index`.
    fn body(&mut self, index: u64) -> Result<&[u8], LogError> {
        let size = self.size;
        self.bundle(index / TILE_WIDTH)?
            .get((index % TILE_WIDTH) as usize)
            .map(Vec::as_slice)
            .ok_or_else(|| LogError::Corrupt(format!("entry {index} missing at size {size}")))
    }
}

impl SearchIndex {
    /// Committed entries (as of `size`, a published size) that have `key`
    /// or, when given, whose metadata names this artifact SHA-256;
    /// ascending, with their bodies.
    pub fn find(
        &self,
        log: &Log,
        size: u64,
        key: &IndexKey,
        artifact_sha256: Option<&[u8; 32]>,
    ) -> Result<BTreeMap<u64, Vec<u8>>, LogError> {
        let candidates = {
            let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
            inner.catch_up(log, size)?;
            inner.keys.candidates(&key.digest())
        };
        // Already confirmed by their metadata.
        let by_meta = match artifact_sha256 {
            Some(d) => log.find_artifact(d)?,
            None => Vec::new(),
        };
        let mut bodies = Bodies::new(log, size);
        let mut out = BTreeMap::new();
        for i in by_meta.into_iter().filter(|&i| i < size) {
            out.insert(i, bodies.body(i)?.to_vec());
        }
        for i in candidates.into_iter().filter(|&i| i < size) {
            if out.contains_key(&i) {
                continue;
            }
            let body = bodies.body(i)?;
            if index_keys(body).contains(key) {
                out.insert(i, body.to_vec());
            }
        }
        Ok(out)
    }
}

impl Inner {
    /// Index the entries published since the last call.
    fn catch_up(&mut self, log: &Log, size: u64) -> Result<(), LogError> {
        let mut bodies = Bodies::new(log, size);
        while self.indexed < size {
            let i = self.indexed;
            for key in index_keys(bodies.body(i)?) {
                self.keys.insert(&key.digest(), i);
            }
            self.indexed += 1;
            if i % TILE_WIDTH == TILE_WIDTH - 1 {
                // Each bundle is read once; drop it when done.
                bodies.bundles.clear();
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashedrekord_keys_are_the_digest_and_the_canonical_signer() {
        let key =
            keyless_crypto::SigningKey::generate(keyless_crypto::KeyAlgorithm::EcdsaP256).unwrap();
        let pem = key.public_key().to_pem();
        let body = serde_json::json!({
            "apiVersion": "0.0.1", "kind": "hashedrekord",
            "spec": {
                "data": { "hash": { "algorithm": "sha256", "value": "AB".repeat(32) } },
                "signature": { "content": "AAAA", "publicKey": { "content": keyless_types::b64::encode(pem.trim_end().as_bytes()) } },
            },
        });
        let keys = index_keys(body.to_string().as_bytes());
        assert!(keys.contains(&IndexKey::Hash(format!("sha256:{}", "ab".repeat(32)))));
        assert!(keys.contains(&IndexKey::signer_pem(pem.as_bytes()).unwrap()));
        assert_eq!(keys.len(), 2);
        assert!(index_keys(b"{}").is_empty());
    }
}
