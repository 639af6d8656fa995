//! The CA's side of the certificate profile: the profile itself (what goes
//! into a leaf and into the CA certificates, SPEC-CHECKS §3.2) is
//! [`keyless_x509::profile`]; here it meets the CA's keys ([`CaSigner`]),
//! its [`Principal`] and its errors. We sign the TBS DER ourselves.

use keyless_crypto::{PublicKey, SigningKey};
use keyless_x509::profile::{self as x509_profile, LeafSubject};
use keyless_x509::{Certificate, ProfileError};
use spki::AlgorithmIdentifierOwned;
use x509_cert::TbsCertificate;

use crate::error::{CaError, IssueError};
use crate::identity::Principal;
use crate::signer::CaSigner;

pub use keyless_x509::profile::{
    key_identifier, random_serial, x509_time, CaKind, CtSlot, LeafTemplate, LEAF_VALIDITY_SECS,
};

/// The CA's error for a certificate the profile could not build, with the
/// messages it had before the profile moved to keyless-x509.
fn issue_err(e: ProfileError) -> IssueError {
    match e {
        ProfileError::UnsupportedAlgorithm(alg) => IssueError::UnsupportedAlgorithm(alg),
        ProfileError::Random => IssueError::Random,
        other => IssueError::Profile(other),
    }
}

impl From<ProfileError> for IssueError {
    fn from(e: ProfileError) -> Self {
        issue_err(e)
    }
}

impl From<ProfileError> for CaError {
    fn from(e: ProfileError) -> Self {
        CaError::Issue(issue_err(e))
    }
}

/// The AlgorithmIdentifier for what `key` signs with (a software key or a
/// token key: see [`CaSigner`]).
pub fn signature_algorithm_id<S: CaSigner + ?Sized>(
    key: &S,
) -> Result<AlgorithmIdentifierOwned, IssueError> {
    x509_profile::signature_algorithm_id(key.signature_algorithm()).map_err(issue_err)
}

/// Sign a TBS certificate with `key`, returning the certificate DER.
pub fn sign<S: CaSigner + ?Sized>(tbs: TbsCertificate, key: &S) -> Result<Vec<u8>, IssueError> {
    use der::Encode;
    let tbs_der = tbs.to_der().map_err(IssueError::Der)?;
    let sig = key.sign(&tbs_der)?;
    x509_profile::assemble(tbs, &sig).map_err(issue_err)
}

/// Build a root or intermediate certificate. For a root, `issuer` is `None`.
#[allow(clippy::too_many_arguments)]
pub fn ca_certificate(
    kind: CaKind,
    subject: &str,
    subject_key: &PublicKey,
    issuer: Option<(&Certificate, &SigningKey)>,
    self_key: &SigningKey,
    not_before: i64,
    not_after: i64,
) -> Result<Vec<u8>, IssueError> {
    let signer = issuer.map(|(_, k)| k).unwrap_or(self_key);
    let tbs = x509_profile::ca_tbs(
        kind,
        subject,
        subject_key,
        issuer.map(|(cert, _)| cert),
        CaSigner::signature_algorithm(signer),
        not_before,
        not_after,
    )
    .map_err(issue_err)?;
    sign(tbs, signer)
}

/// Build a leaf TBS for `principal` and `key`, issued by `issuer`.
pub fn leaf_tbs<S: CaSigner + ?Sized>(
    principal: &Principal,
    key: &PublicKey,
    issuer: &Certificate,
    issuer_key: &S,
    template: &LeafTemplate,
    slot: &CtSlot,
) -> Result<TbsCertificate, IssueError> {
    let subject = LeafSubject {
        san: &principal.san,
        issuer: &principal.issuer,
        extensions: &principal.extensions,
    };
    x509_profile::leaf_tbs(
        subject,
        key,
        issuer,
        issuer_key.signature_algorithm(),
        template,
        slot,
    )
    .map_err(issue_err)
}
