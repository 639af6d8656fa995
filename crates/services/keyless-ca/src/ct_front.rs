//! What every CT log of this crate does with an `add-pre-chain` or
//! `add-chain` before it stores anything: parse and check the chain
//! (verified chain tails are cached), build the RFC 6962 `MerkleTreeLeaf`
//! of the entry, sign the SCT over it, and wrap it in the static-ct-api
//! `TileLeaf` the durable log stores. The in-memory [`crate::CtLog`] and the
//! durable [`crate::DurableCtLog`] differ only in where the leaf goes.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use keyless_crypto::{PublicKey, SigningKey};
use keyless_x509::{oid, precert_signed_data, precert_tbs, Certificate, SctError};

use crate::ct_leaf;
use crate::error::CtError;
use crate::sct::SignedCertificateTimestamp;

/// Most certificates accepted in one submitted chain (leaf or
/// precertificate included): real chains have 2–4.
pub const MAX_CHAIN_LEN: usize = 8;

/// Bytes the `leaf_index` extension adds to a stored entry.
const LEAF_INDEX_ROOM: usize = 8;

/// A chain tail (issuer … root) whose links and anchor have been verified.
pub(crate) struct VerifiedTail {
    issuer: Certificate,
    issuer_key_hash: [u8; 32],
    /// The tail's certificates as submitted (DER), issuer first.
    pub ders: Vec<Vec<u8>>,
    /// SHA-256 of each of [`Self::ders`]: a `TileLeaf`'s chain.
    pub fingerprints: Vec<[u8; 32]>,
}

/// Most distinct verified chain tails remembered (a CA has one or two).
const MAX_VERIFIED_TAILS: usize = 64;

/// Cache key of a chain tail: SHA-256 over each certificate's length and DER.
fn tail_key(tail: &[Vec<u8>]) -> [u8; 32] {
    let mut buf = Vec::with_capacity(tail.iter().map(|c| c.len() + 8).sum());
    for c in tail {
        buf.extend_from_slice(&(c.len() as u64).to_be_bytes());
        buf.extend_from_slice(c);
    }
    keyless_crypto::sha256(&buf)
}

pub(crate) fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// A checked submission: the log entry, and what its SCT will sign
/// ([`CtFront::sct`], once the log knows whether the SCT carries
/// extensions such as the entry's index).
pub(crate) struct Prepared {
    /// The SCT's timestamp (ms).
    pub timestamp: u64,
    /// RFC 6962 §3.4 `MerkleTreeLeaf` (v1, timestamped_entry, precert
    /// entry): the bytes whose leaf hash the tree holds. They equal the
    /// SCT's signed data, whose first two bytes (v1, certificate_timestamp)
    /// are the same zeros as the leaf's (v1, timestamped_entry).
    pub leaf: Vec<u8>,
    /// The static-ct-api `TileLeaf` holding [`Self::leaf`]: what the
    /// durable log stores.
    pub tile_leaf: Vec<u8>,
    /// The verified chain tail: the issuers to publish.
    pub tail: Arc<VerifiedTail>,
    /// SHA-256 of the precertificate's TBS without the poison: what a
    /// monitor looks a certificate up by.
    pub tbs_hash: [u8; 32],
}

/// Chain checks and SCT signing, shared by the log variants.
pub(crate) struct CtFront {
    key: Arc<SigningKey>,
    log_id: [u8; 32],
    roots: Vec<Certificate>,
    /// Chain tails (issuer → … → root) already verified, by [`tail_key`]:
    /// the CA's intermediate ← root link is checked once, not per request.
    verified_tails: Mutex<HashMap<[u8; 32], Arc<VerifiedTail>>>,
}

impl CtFront {
    pub fn new(key: Arc<SigningKey>, roots: Vec<Certificate>) -> Self {
        let log_id = keyless_crypto::sha256(key.public_key().spki_der());
        Self {
            key,
            log_id,
            roots,
            verified_tails: Mutex::new(HashMap::new()),
        }
    }

    pub fn key(&self) -> &Arc<SigningKey> {
        &self.key
    }

    pub fn public_key(&self) -> &PublicKey {
        self.key.public_key()
    }

    pub fn log_id(&self) -> [u8; 32] {
        self.log_id
    }

    pub fn roots(&self) -> &[Certificate] {
        &self.roots
    }

    fn check_chain(&self, chain: &[Certificate]) -> Result<(), CtError> {
        for pair in chain.windows(2) {
            pair[0]
                .verify_signed_by(&pair[1])
                .map_err(CtError::Signature)?;
        }
        let last = chain.last().ok_or(CtError::EmptyChain)?;
        let anchored = self
            .roots
            .iter()
            .any(|r| r == last || last.verify_signed_by(r).is_ok());
        if anchored {
            Ok(())
        } else {
            Err(CtError::UntrustedRoot)
        }
    }

    /// Parse and verify `tail` (issuer first, up to a root), or find it
    /// among the tails verified before. Only verified tails are cached, so
    /// a bad chain is rejected every time it is sent.
    fn verified_tail(&self, tail: &[Vec<u8>]) -> Result<Arc<VerifiedTail>, CtError> {
        let key = tail_key(tail);
        if let Some(t) = self
            .verified_tails
            .lock()
            .ok()
            .and_then(|m| m.get(&key).cloned())
        {
            return Ok(t);
        }
        let certs = tail
            .iter()
            .map(|d| Certificate::from_der(d).map_err(CtError::Malformed))
            .collect::<Result<Vec<_>, _>>()?;
        self.check_chain(&certs)?;
        let issuer = certs.into_iter().next().ok_or(CtError::EmptyChain)?;
        let issuer_key_hash =
            keyless_crypto::sha256(&issuer.spki_der().map_err(CtError::Malformed)?);
        let verified = Arc::new(VerifiedTail {
            issuer,
            issuer_key_hash,
            fingerprints: tail.iter().map(|d| keyless_crypto::sha256(d)).collect(),
            ders: tail.to_vec(),
        });
        if let Ok(mut m) = self.verified_tails.lock() {
            if m.len() >= MAX_VERIFIED_TAILS {
                m.clear();
            }
            m.insert(key, verified.clone());
        }
        Ok(verified)
    }

    /// Check an `add-pre-chain` and build its entry, verifying the
    /// precertificate's signature unless the CA in this process submits
    /// what it has just signed. Nothing is stored: the caller must log
    /// [`Prepared::leaf`] before it hands the SCT out.
    pub fn prepare(
        &self,
        chain: &[Vec<u8>],
        verify_precert_signature: bool,
    ) -> Result<Prepared, CtError> {
        let (precert_der, tail) = match chain {
            c if c.len() > MAX_CHAIN_LEN => return Err(too_long()),
            [] => return Err(CtError::EmptyChain),
            [_] => return Err(CtError::NoIssuer),
            [p, rest @ ..] => (p, rest),
        };
        let precert = Certificate::from_der(precert_der).map_err(CtError::Malformed)?;
        match precert.extension(&oid::CT_PRECERT_POISON) {
            Some(e) if e.critical => {}
            _ => return Err(CtError::NotPrecert),
        }
        let tail = self.verified_tail(tail)?;
        if verify_precert_signature {
            precert
                .verify_signed_by(&tail.issuer)
                .map_err(CtError::Signature)?;
        }
        let tbs = precert_tbs(&precert).map_err(CtError::Malformed)?;
        let timestamp = now_ms();
        // digitally-signed: version v1, signature_type certificate_timestamp,
        // then the precert entry (keyless-x509 builds it for the verifier too).
        let signed = precert_signed_data(timestamp, &tail.issuer_key_hash, &tbs, &[])
            .map_err(|e: SctError| CtError::Sct(e))?;
        let tile_leaf = ct_leaf::encode(&signed, Some(precert_der), &tail.fingerprints)
            .map_err(|_| too_large())?;
        self.entry(
            timestamp,
            signed,
            tile_leaf,
            tail,
            keyless_crypto::sha256(&tbs),
        )
    }

    /// Check an `add-chain` (RFC 6962 §4.1, x509 entry): `chain[0]` is a
    /// certificate (not a precertificate) signed by `chain[1]`, and the
    /// chain ends at an accepted root. Nothing is stored.
    pub fn prepare_x509(&self, chain: &[Vec<u8>]) -> Result<Prepared, CtError> {
        let (cert_der, tail) = match chain {
            c if c.len() > MAX_CHAIN_LEN => return Err(too_long()),
            [] => return Err(CtError::EmptyChain),
            [_] => return Err(CtError::NoIssuer),
            [c, rest @ ..] => (c, rest),
        };
        let cert = Certificate::from_der(cert_der).map_err(CtError::Malformed)?;
        if cert.extension(&oid::CT_PRECERT_POISON).is_some() {
            return Err(CtError::BadRequest(
                "a precertificate belongs in add-pre-chain, not add-chain",
            ));
        }
        let tail = self.verified_tail(tail)?;
        cert.verify_signed_by(&tail.issuer)
            .map_err(CtError::Signature)?;
        let timestamp = now_ms();
        let signed =
            ct_leaf::x509_signed_data(timestamp, cert_der, &[]).map_err(|_| too_large())?;
        let tile_leaf =
            ct_leaf::encode(&signed, None, &tail.fingerprints).map_err(|_| too_large())?;
        // The lookup key a precertificate of the same certificate has.
        let tbs = precert_tbs(&cert).map_err(CtError::Malformed)?;
        self.entry(
            timestamp,
            signed,
            tile_leaf,
            tail,
            keyless_crypto::sha256(&tbs),
        )
    }

    fn entry(
        &self,
        timestamp: u64,
        signed: Vec<u8>,
        tile_leaf: Vec<u8>,
        tail: Arc<VerifiedTail>,
        tbs_hash: [u8; 32],
    ) -> Result<Prepared, CtError> {
        // Room for the leaf_index extension the durable log adds.
        if tile_leaf.len() + LEAF_INDEX_ROOM > keyless_log::MAX_ENTRY_SIZE {
            return Err(too_large());
        }
        Ok(Prepared {
            timestamp,
            leaf: signed,
            tile_leaf,
            tail,
            tbs_hash,
        })
    }

    /// The SCT over `signed` (the entry's signed data, with `extensions`
    /// already in it) at `timestamp`.
    pub fn sct(
        &self,
        timestamp: u64,
        signed: &[u8],
        extensions: Vec<u8>,
    ) -> Result<SignedCertificateTimestamp, CtError> {
        let signature = self.key.sign(signed).map_err(CtError::Sign)?;
        Ok(SignedCertificateTimestamp {
            log_id: self.log_id,
            timestamp,
            extensions,
            signature,
        })
    }
}

fn too_long() -> CtError {
    CtError::BadRequest("chain has more than 8 certificates")
}

fn too_large() -> CtError {
    CtError::BadRequest("entry larger than the log stores (64 KiB)")
}
