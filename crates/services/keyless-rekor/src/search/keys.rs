//! What an entry can be found by: the keys of Rekor's `IndexKeys` for the
//! kinds this log stores, derived from the body alone.
//!
//! Identities (`"email"` searches) are the subject alternative names of
//! the signing certificate, e-mail addresses and URIs (and Fulcio's
//! username SAN), lower-cased as Rekor compares them. Only the leaf of a
//! chain names the signer, so only its SANs are keys.

use std::collections::BTreeSet;

use keyless_crypto::{sha256, HashAlgorithm, PublicKey};
use keyless_types::rekor::{EntryBody, HexHash, ProtoHash, V2Verifier};
use keyless_x509::Certificate;

use crate::entries::v1::verifier::RekorKey;

/// Longest identity a search names or the index keeps (a URI SAN of a CI
/// workflow is well under this).
pub const MAX_IDENTITY: usize = 1024;

/// Something an entry can be found by.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum IndexKey {
    /// `alg:hex`, lower case (`sha256:…`).
    Hash(String),
    /// The canonical PEM of a key, certificate or chain.
    Signer(String),
    /// A SAN of the signing certificate (e-mail or URI), lower case.
    Identity(String),
    /// Marks the index as built with identity keys: filed under entry 0
    /// only, so an index built before them (which lacks it) is seen and
    /// rebuilt when opened.
    Schema,
}

impl IndexKey {
    /// The SHA-256 the index files this key under.
    pub(super) fn digest(&self) -> [u8; 32] {
        let (tag, v) = match self {
            Self::Hash(h) => ("hash\n", h.as_str()),
            Self::Signer(pem) => ("signer\n", pem.as_str()),
            Self::Identity(id) => ("identity\n", id.as_str()),
            Self::Schema => ("schema\n", "identity"),
        };
        sha256(&[tag.as_bytes(), v.as_bytes()].concat())
    }

    /// The key for a PEM verifier, as a search query or a v1 body names it.
    pub fn signer_pem(pem: &[u8]) -> Option<Self> {
        RekorKey::from_pem(pem)
            .ok()
            .map(|k| Self::Signer(k.canonical_pem))
    }

    /// The key for an identity a search names: an e-mail address (Rekor's
    /// `email` field) or a SAN URI, compared lower-cased. `None` when it is
    /// neither (empty, too long, white space or control characters, or no
    /// `@` and no `scheme://`).
    pub fn identity(id: &str) -> Option<Self> {
        let id = id.trim();
        let plausible = !id.is_empty()
            && id.len() <= MAX_IDENTITY
            && !id.chars().any(|c| c.is_whitespace() || c.is_control())
            && (is_email(id) || id.contains("://"));
        plausible.then(|| Self::Identity(id.to_lowercase()))
    }
}

/// `local@domain` with exactly one `@` and neither side empty.
fn is_email(s: &str) -> bool {
    matches!(s.split_once('@'), Some((l, d)) if !l.is_empty() && !d.is_empty() && !d.contains('@'))
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

/// The identity keys of a certificate: its SANs as
/// [`keyless_x509::fulcio_identity`] reads them. A certificate whose SANs
/// or Fulcio extensions do not decode gives none.
fn cert_identities(cert: &Certificate) -> Vec<IndexKey> {
    keyless_x509::fulcio_identity(cert)
        .map(|id| {
            id.sans
                .iter()
                .filter(|s| !s.is_empty() && s.len() <= MAX_IDENTITY)
                .map(|s| IndexKey::Identity(s.to_lowercase()))
                .collect()
        })
        .unwrap_or_default()
}

/// The signer key and identities of a v1 PEM verifier (key, certificate
/// or chain, leaf first).
fn v1_signer(pem: &[u8]) -> Vec<IndexKey> {
    let Ok(key) = RekorKey::from_pem(pem) else {
        return Vec::new();
    };
    const END: &str = "-----END CERTIFICATE-----";
    // The canonical PEM's first block is the leaf certificate, if any.
    let leaf = key
        .canonical_pem
        .find(END)
        .and_then(|at| keyless_crypto::pem::decode(&key.canonical_pem[..at + END.len()]).ok())
        .and_then(|(_, der)| Certificate::from_der(&der).ok());
    let mut out = leaf.as_ref().map(cert_identities).unwrap_or_default();
    out.push(IndexKey::Signer(key.canonical_pem));
    out
}

fn v2_signer(v: &V2Verifier) -> Vec<IndexKey> {
    let (key, ids) = match (&v.x509_certificate, &v.public_key) {
        (Some(c), None) => {
            let Ok(cert) = Certificate::from_der(&c.raw_bytes) else {
                return Vec::new();
            };
            let ids = cert_identities(&cert);
            (RekorKey::from_certificates(&[cert]).ok(), ids)
        }
        (None, Some(k)) => (
            PublicKey::from_spki_der(&k.raw_bytes)
                .ok()
                .map(RekorKey::from_key),
            Vec::new(),
        ),
        _ => return Vec::new(),
    };
    let mut out = ids;
    out.extend(key.map(|k| IndexKey::Signer(k.canonical_pem)));
    out
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
            keys.extend(v1_signer(&hr.signature.public_key.content));
        }
        EntryBody::HashedRekordV002(hr) => {
            keys.extend(proto_hash(&hr.data));
            keys.extend(v2_signer(&hr.signature.verifier));
        }
        EntryBody::DsseV001(d) => {
            keys.insert(hex_hash(&d.payload_hash));
            keys.extend(d.envelope_hash.as_ref().map(hex_hash));
            for s in &d.signatures {
                keys.extend(v1_signer(&s.verifier));
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
                keys.extend(v1_signer(&s.public_key));
            }
        }
        _ => {}
    }
    keys
}
