//! What every CT log of this crate does with an `add-pre-chain` before it
//! stores anything: parse and check the chain (verified chain tails are
//! cached), build the RFC 6962 `MerkleTreeLeaf` of the precertificate
//! entry and sign the SCT over it. The in-memory [`crate::CtLog`] and the
//! durable [`crate::DurableCtLog`] differ only in where the leaf goes.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use keyless_crypto::{PublicKey, SigningKey};
use keyless_x509::{oid, precert_signed_data, precert_tbs, Certificate, SctError};

use crate::error::CtError;
use crate::sct::SignedCertificateTimestamp;

/// A chain tail (issuer … root) whose links and anchor have been verified.
struct VerifiedTail {
    issuer: Certificate,
    issuer_key_hash: [u8; 32],
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

/// A checked submission: the SCT, and the log entry it promises.
pub(crate) struct Prepared {
    pub sct: SignedCertificateTimestamp,
    /// RFC 6962 §3.4 `MerkleTreeLeaf` (v1, timestamped_entry, precert
    /// entry): the bytes whose leaf hash the tree holds. They equal the
    /// SCT's signed data, whose first two bytes (v1, certificate_timestamp)
    /// are the same zeros as the leaf's (v1, timestamped_entry).
    pub leaf: Vec<u8>,
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
        });
        if let Ok(mut m) = self.verified_tails.lock() {
            if m.len() >= MAX_VERIFIED_TAILS {
                m.clear();
            }
            m.insert(key, verified.clone());
        }
        Ok(verified)
    }

    /// Check an `add-pre-chain` and sign its SCT, verifying the
    /// precertificate's signature unless the CA in this process submits
    /// what it has just signed. Nothing is stored: the caller must log
    /// [`Prepared::leaf`] before it hands the SCT out.
    pub fn prepare(
        &self,
        chain: &[Vec<u8>],
        verify_precert_signature: bool,
    ) -> Result<Prepared, CtError> {
        let (precert_der, tail) = match chain {
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
        let signature = self.key.sign(&signed).map_err(CtError::Sign)?;
        Ok(Prepared {
            sct: SignedCertificateTimestamp {
                log_id: self.log_id,
                timestamp,
                extensions: Vec::new(),
                signature,
            },
            leaf: signed,
            tbs_hash: keyless_crypto::sha256(&tbs),
        })
    }
}
