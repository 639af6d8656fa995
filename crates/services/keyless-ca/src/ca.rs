//! Issuance in fail-closed order (SPEC-CHECKS §3.1 step 8): build the
//! precertificate, get an SCT from the CT log, embed it, sign the final
//! certificate. A CT failure means no certificate.

use std::sync::Arc;

use keyless_crypto::PublicKey;
use keyless_x509::Certificate;

use crate::ct::{CtSubmitter, SignedCertificateTimestamp};
use crate::error::{CaError, CtError, IssueError};
use crate::identity::Principal;
use crate::profile::{leaf_tbs, sign, CtSlot, LeafTemplate};
use crate::signer::CaKey;

/// The issuing side of the CA: intermediate key and chain, and the CT log.
/// The key may be in software or on a PKCS#11 token ([`CaKey`]); nothing
/// here depends on which.
pub struct Issuer {
    intermediate: Certificate,
    intermediate_key: CaKey,
    root: Certificate,
    /// `None` when the caller submits to an asynchronous log itself
    /// ([`Issuer::precertify`], [`Issuer::finish`]); [`Issuer::issue`]
    /// then fails.
    ct: Option<Arc<dyn CtSubmitter>>,
}

impl std::fmt::Debug for Issuer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Issuer")
            .field("intermediate", &self.intermediate.subject())
            .finish_non_exhaustive()
    }
}

/// A certificate and the chain above it, DER, leaf first.
#[derive(Debug, Clone)]
pub struct IssuedChain {
    pub certificates: Vec<Vec<u8>>,
    pub sct: SignedCertificateTimestamp,
}

/// A signed precertificate waiting for its SCT ([`Issuer::precertify`]).
#[derive(Debug)]
pub struct Precertified {
    template: LeafTemplate,
    /// Precertificate, intermediate, root (DER): the `add-pre-chain` chain.
    pub chain: [Vec<u8>; 3],
}

impl Issuer {
    pub fn new(
        intermediate: Certificate,
        intermediate_key: impl Into<CaKey>,
        root: Certificate,
        ct: Arc<dyn CtSubmitter>,
    ) -> Self {
        Self {
            intermediate,
            intermediate_key: intermediate_key.into(),
            root,
            ct: Some(ct),
        }
    }

    /// An issuer without a synchronous CT log: [`Issuer::issue`] refuses
    /// (no SCT, no certificate); the caller gets the SCT between
    /// [`Issuer::precertify`] and [`Issuer::finish`].
    pub fn without_ct(
        intermediate: Certificate,
        intermediate_key: impl Into<CaKey>,
        root: Certificate,
    ) -> Self {
        Self {
            intermediate,
            intermediate_key: intermediate_key.into(),
            root,
            ct: None,
        }
    }

    pub fn intermediate(&self) -> &Certificate {
        &self.intermediate
    }

    pub fn root(&self) -> &Certificate {
        &self.root
    }

    /// Issue a certificate for `principal` over `key`, valid from `now`,
    /// with the SCT of this issuer's (synchronous) CT log.
    pub fn issue(
        &self,
        principal: &Principal,
        key: &PublicKey,
        now: i64,
    ) -> Result<IssuedChain, CaError> {
        let pre = self.precertify(principal, key, now)?;
        // Our own precertificate, signed just above: the log need not
        // verify that signature again (it still checks the chain tail).
        let ct = self
            .ct
            .as_ref()
            .ok_or_else(|| CtError::Unavailable("this issuer has no synchronous CT log".into()))?;
        let sct = ct.add_own_pre_chain(&pre.chain)?;
        self.finish(principal, key, pre, sct)
    }

    /// First half of issuance: the precertificate, and the chain to
    /// submit to a CT log. For a log that answers asynchronously (the
    /// durable one); [`Issuer::finish`] is the second half.
    pub fn precertify(
        &self,
        principal: &Principal,
        key: &PublicKey,
        now: i64,
    ) -> Result<Precertified, CaError> {
        let template = LeafTemplate::new(now, &self.intermediate)?;
        let pre_tbs = leaf_tbs(
            principal,
            key,
            &self.intermediate,
            &self.intermediate_key,
            &template,
            &CtSlot::Poison,
        )?;
        let precert = sign(pre_tbs, &self.intermediate_key)?;
        Ok(Precertified {
            template,
            chain: [
                precert,
                self.intermediate.der().to_vec(),
                self.root.der().to_vec(),
            ],
        })
    }

    /// Second half: the final certificate of `pre` with `sct` embedded.
    /// `principal` and `key` must be the ones `pre` was made for.
    pub fn finish(
        &self,
        principal: &Principal,
        key: &PublicKey,
        pre: Precertified,
        sct: SignedCertificateTimestamp,
    ) -> Result<IssuedChain, CaError> {
        let list = SignedCertificateTimestamp::list_to_tls(std::slice::from_ref(&sct))?;
        let tbs = leaf_tbs(
            principal,
            key,
            &self.intermediate,
            &self.intermediate_key,
            &pre.template,
            &CtSlot::Scts(list),
        )?;
        let leaf = sign(tbs, &self.intermediate_key)?;
        // Cheap sanity check that what we hand out parses as we encoded it.
        Certificate::from_der(&leaf).map_err(IssueError::SelfCheck)?;
        Ok(IssuedChain {
            certificates: vec![
                leaf,
                self.intermediate.der().to_vec(),
                self.root.der().to_vec(),
            ],
            sct,
        })
    }
}
