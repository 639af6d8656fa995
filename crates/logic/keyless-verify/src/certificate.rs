//! Step 3 of the client specification: the signing certificate. It must
//! chain to a Fulcio CA of the trusted root at every verified time (the
//! hybrid model: each certificate valid at that time, GHSA-wfqv), carry an
//! SCT from a trusted CT log, and name an identity.

use keyless_x509::{
    fulcio_identity, verify_chain_trusted, verify_embedded_scts, Certificate, FulcioIdentity,
    Purpose, TrustedChain,
};

use crate::error::{AuthorityFailure, CertificateError};
use crate::time::VerifiedTime;
use crate::trust::TrustMaterial;

/// A certificate that passed every check.
#[derive(Debug, Clone)]
pub struct VerifiedCertificate<'a> {
    pub identity: FulcioIdentity,
    /// Leaf first, trust anchor last: references to the leaf checked and
    /// to the trusted root's certificates, not copies (a path is built per
    /// bundle and per verified time).
    pub path: Vec<&'a Certificate>,
    /// Distinct CT logs whose SCT verified.
    pub sct_logs: usize,
}

/// Reject a bundle chain that carries a root: trust anchors come only from
/// the trusted root, never from the bundle (client-spec §4.6).
pub(crate) fn check_bundle_chain(rest: &[Vec<u8>]) -> Result<(), CertificateError> {
    for der in rest {
        let cert = Certificate::from_der(der).map_err(CertificateError::Parse)?;
        if cert.is_self_issued() && cert.is_ca() {
            return Err(CertificateError::RootInBundle {
                subject: cert.subject(),
            });
        }
    }
    Ok(())
}

pub(crate) fn verify_certificate<'a>(
    leaf: &'a Certificate,
    trust: &TrustMaterial,
    chains: &'a [TrustedChain],
    times: &[VerifiedTime],
    require_sct: bool,
) -> Result<VerifiedCertificate<'a>, CertificateError> {
    let mut path = None;
    for t in times {
        if !leaf.is_valid_at(t.time) {
            return Err(CertificateError::TimeOutsideValidity {
                time_kind: t.source.describe(),
                time: t.time,
                not_before: leaf.not_before(),
                not_after: leaf.not_after(),
            });
        }
        path = Some(chain_at(leaf, trust, chains, t.time)?);
    }
    // No verified time means the caller did not establish one; the verifier
    // refuses before this, but never build a path "now" for a short-lived cert.
    let path = path.ok_or(CertificateError::NoVerifiedTime)?;

    let sct_logs = match path.get(1) {
        Some(issuer) if require_sct => {
            verify_embedded_scts(leaf, issuer, &trust.ctlogs).map_err(CertificateError::Sct)?
        }
        _ => 0,
    };
    let identity = fulcio_identity(leaf).map_err(CertificateError::Identity)?;
    Ok(VerifiedCertificate {
        identity,
        path,
        sct_logs,
    })
}

/// `chains[i]` is `trust.fulcio[i]`'s chain, its own links checked once.
fn chain_at<'a>(
    leaf: &'a Certificate,
    trust: &TrustMaterial,
    chains: &'a [TrustedChain],
    at: i64,
) -> Result<Vec<&'a Certificate>, CertificateError> {
    let mut failures = Vec::new();
    let mut checked = 0;
    for (ca, chain) in trust
        .fulcio
        .iter()
        .zip(chains)
        .filter(|(ca, _)| ca.valid_for.contains(at))
    {
        checked += 1;
        // Intermediates from the bundle are not used: the trusted root
        // lists the whole chain, and anything else is unauthenticated.
        match verify_chain_trusted(leaf, &[], chain, at, Purpose::CodeSigning) {
            Ok(path) => return Ok(path),
            Err(error) => failures.push(AuthorityFailure {
                authority: ca.uri.clone(),
                error,
            }),
        }
    }
    if checked == 0 {
        return Err(CertificateError::NoAuthorityAtTime {
            time: at,
            checked: trust.fulcio.len(),
        });
    }
    Err(CertificateError::Chain { time: at, failures })
}
