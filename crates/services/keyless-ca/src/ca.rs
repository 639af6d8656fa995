//! Issuance in fail-closed order (SPEC-CHECKS §3.1 step 8): build the
//! precertificate, get an SCT from the CT log, embed it, sign the final
//! certificate. A CT failure means no certificate.

use std::sync::Arc;

use keyless_crypto::PublicKey;
use keyless_x509::Certificate;

use crate::ct::{CtSubmitter, SignedCertificateTimestamp};
use crate::error::{CaError, IssueError};
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
    ct: Arc<dyn CtSubmitter>,
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
            ct,
        }
    }

    pub fn intermediate(&self) -> &Certificate {
        &self.intermediate
    }

    pub fn root(&self) -> &Certificate {
        &self.root
    }

    /// Issue a certificate for `principal` over `key`, valid from `now`.
    pub fn issue(
        &self,
        principal: &Principal,
        key: &PublicKey,
        now: i64,
    ) -> Result<IssuedChain, CaError> {
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
        let chain = [
            precert,
            self.intermediate.der().to_vec(),
            self.root.der().to_vec(),
        ];
        // Our own precertificate, signed just above: the log need not
        // verify that signature again (it still checks the chain tail).
        let sct = self.ct.add_own_pre_chain(&chain)?;
        let list = SignedCertificateTimestamp::list_to_tls(std::slice::from_ref(&sct))?;
        let tbs = leaf_tbs(
            principal,
            key,
            &self.intermediate,
            &self.intermediate_key,
            &template,
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
