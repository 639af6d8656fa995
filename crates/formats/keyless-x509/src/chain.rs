//! RFC 5280 path building and validation at a given time.
//!
//! Sigstore certificates live for ten minutes, so "now" is meaningless for
//! them: the path is validated at a verified timestamp instead, and every
//! certificate on it (leaf, intermediates and anchor) must be valid at that
//! instant (the "hybrid model"; GHSA-wfqv, TOB-SIGSTORE-4).

use const_oid::db::rfc5280 as ids;
use const_oid::ObjectIdentifier;
use x509_cert::ext::pkix::SubjectAltName;

use crate::cert::Certificate;
use crate::error::{ChainError, X509Error};
use crate::oid;

/// The longest path we build, leaf and anchor included. Real Sigstore paths
/// have 2–3 certificates; the bound keeps path search cheap on hostile input.
pub const MAX_PATH_LEN: usize = 10;

/// The most signature checks one path search may spend. Many certificates
/// sharing a subject name could otherwise make the depth-first search
/// exponential; honest inputs need a handful.
const SIGNATURE_BUDGET: usize = 64;

/// What the leaf certificate must be good for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Purpose {
    /// A Fulcio signing certificate: EKU id-kp-codeSigning.
    CodeSigning,
    /// An RFC 3161 TSA certificate: critical EKU id-kp-timeStamping.
    TimeStamping,
}

impl Purpose {
    fn eku(self) -> ObjectIdentifier {
        match self {
            Purpose::CodeSigning => ids::ID_KP_CODE_SIGNING,
            Purpose::TimeStamping => ids::ID_KP_TIME_STAMPING,
        }
    }
}

/// Extensions whose meaning we process (or which carry no constraint), so
/// they may be critical. Anything else critical rejects the certificate.
const KNOWN_EXTENSIONS: [ObjectIdentifier; 7] = [
    ids::ID_CE_KEY_USAGE,
    ids::ID_CE_EXT_KEY_USAGE,
    ids::ID_CE_BASIC_CONSTRAINTS,
    ids::ID_CE_SUBJECT_ALT_NAME,
    ids::ID_CE_SUBJECT_KEY_IDENTIFIER,
    ids::ID_CE_AUTHORITY_KEY_IDENTIFIER,
    ids::ID_CE_CERTIFICATE_POLICIES,
];

/// RFC 5280 path validation at time `at` (Unix seconds) — the "hybrid model":
/// every certificate on the path must be valid at `at`.
///
/// `intermediates` are extra untrusted certificates that may be used to build
/// the path (e.g. certificates embedded in a timestamp token). `anchor_chain`
/// is a chain from a trusted root file, ordered child → parent; its last
/// certificate is the trust anchor and the others are merely candidate
/// intermediates (it may contain the leaf itself, as TSA chains do).
///
/// The path is built leaf → … → anchor by matching issuer name to subject and
/// verifying each signature; if several paths exist, each is tried until one
/// passes every check. Checks: validity at `at`; issuers are CAs with
/// keyCertSign (when keyUsage is present); pathLenConstraint; the leaf is not
/// a CA and has keyUsage digitalSignature; the purpose's EKU on the leaf and
/// on every issuer that restricts EKUs; no unhandled critical extension; no
/// precertificate poison on the leaf; at most [`MAX_PATH_LEN`] certificates.
///
/// Returns the path, leaf first, anchor last.
pub fn verify_chain(
    leaf: &Certificate,
    intermediates: &[Certificate],
    anchor_chain: &[Certificate],
    at: i64,
    purpose: Purpose,
) -> Result<Vec<Certificate>, ChainError> {
    build_path(leaf, intermediates, anchor_chain, None, at, purpose)
        .map(|path| path.into_iter().cloned().collect())
}

/// A chain from the trusted root whose internal issuer signatures were
/// checked once, when it was built. A signature does not depend on the
/// time it is checked at, so [`verify_chain_trusted`] can take a link
/// between two of these certificates as verified and spend signature
/// checks only on the certificates it is given per call (the leaf, and
/// any untrusted intermediates). Every other check (names, validity at
/// the time, extensions, constraints) still runs on every path: the
/// result is the one [`verify_chain`] gives, at a fraction of the cost
/// when the same trusted chain serves many leaves.
#[derive(Clone, Debug)]
pub struct TrustedChain {
    certs: Vec<Certificate>,
    /// `(child, issuer)` indices into `certs` whose signature verified.
    signed: Vec<(usize, usize)>,
}

impl TrustedChain {
    /// Check every issuer link inside `chain` (child → parent order, the
    /// last one the trust anchor). A link whose signature does not verify
    /// is not recorded, so path building checks it again, and fails with
    /// the same error, each time it is tried.
    pub fn new(chain: Vec<Certificate>) -> Self {
        let mut signed = Vec::new();
        for (i, child) in chain.iter().enumerate() {
            for (j, issuer) in chain.iter().enumerate() {
                if i != j
                    && child.inner().tbs_certificate.issuer
                        == issuer.inner().tbs_certificate.subject
                    && child.verify_signed_by(issuer).is_ok()
                {
                    signed.push((i, j));
                }
            }
        }
        Self {
            certs: chain,
            signed,
        }
    }

    /// The chain as given, child first, trust anchor last.
    pub fn certificates(&self) -> &[Certificate] {
        &self.certs
    }

    /// Whether `child` is signed by `issuer`, both being this chain's own
    /// certificates (by identity, not by value: a look-alike from a bundle
    /// is never taken as pre-verified).
    fn verified(&self, child: &Certificate, issuer: &Certificate) -> bool {
        let index = |c: &Certificate| self.certs.iter().position(|t| std::ptr::eq(t, c));
        match (index(child), index(issuer)) {
            (Some(i), Some(j)) => self.signed.contains(&(i, j)),
            _ => false,
        }
    }
}

/// [`verify_chain`] with `trusted` as the anchor chain, whose internal
/// signatures were checked when it was built. The path is returned as
/// references into the arguments: a verifier checks a path per bundle and
/// per verified time and mostly needs only the leaf's issuer from it, so
/// copying the decoded certificates out (and dropping them again) was pure
/// overhead; `.into_iter().cloned()` gives [`verify_chain`]'s owned form.
pub fn verify_chain_trusted<'a>(
    leaf: &'a Certificate,
    intermediates: &'a [Certificate],
    trusted: &'a TrustedChain,
    at: i64,
    purpose: Purpose,
) -> Result<Vec<&'a Certificate>, ChainError> {
    build_path(
        leaf,
        intermediates,
        &trusted.certs,
        Some(trusted),
        at,
        purpose,
    )
}

fn build_path<'a>(
    leaf: &'a Certificate,
    intermediates: &'a [Certificate],
    anchor_chain: &'a [Certificate],
    trusted: Option<&'a TrustedChain>,
    at: i64,
    purpose: Purpose,
) -> Result<Vec<&'a Certificate>, ChainError> {
    let anchor = anchor_chain.last().ok_or(ChainError::NoAnchor)?;
    // Trusted certificates first: an honest trusted chain is then found
    // before any untrusted look-alike spends the signature budget.
    let mut candidates: Vec<&Certificate> = Vec::new();
    for c in anchor_chain.iter().chain(intermediates) {
        if !candidates.contains(&c) {
            candidates.push(c);
        }
    }
    let mut search = Search {
        candidates,
        anchor,
        trusted,
        at,
        purpose,
        error: None,
        budget: SIGNATURE_BUDGET,
    };
    // The path holds references while searching, and is returned as such.
    let mut path = vec![leaf];
    if search.extend(&mut path) {
        return Ok(path);
    }
    Err(search.error.unwrap_or_else(|| ChainError::NoIssuer {
        subject: leaf.describe(),
        issuer: leaf.issuer(),
        last_error: None,
    }))
}

struct Search<'a> {
    candidates: Vec<&'a Certificate>,
    anchor: &'a Certificate,
    /// Links between trusted certificates already checked.
    trusted: Option<&'a TrustedChain>,
    at: i64,
    purpose: Purpose,
    /// The most informative failure so far: a complete path that failed a
    /// check beats "no issuer found".
    error: Option<ChainError>,
    /// Signature checks left.
    budget: usize,
}

impl<'a> Search<'a> {
    /// Depth-first search for an issuer chain ending at the anchor. Returns
    /// true with `path` complete and validated, or false with `path` as given.
    fn extend(&mut self, path: &mut Vec<&'a Certificate>) -> bool {
        let Some(current) = path.last().copied() else {
            return false;
        };
        if current == self.anchor {
            return match check_path(path, self.at, self.purpose) {
                Ok(()) => true,
                Err(e) => {
                    self.error = Some(e);
                    false
                }
            };
        }
        if path.len() >= MAX_PATH_LEN {
            self.note(ChainError::PathTooLong { max: MAX_PATH_LEN });
            return false;
        }
        let issuer_name = &current.inner().tbs_certificate.issuer;
        let mut found = false;
        for i in 0..self.candidates.len() {
            let cand = self.candidates[i];
            if &cand.inner().tbs_certificate.subject != issuer_name || path.contains(&cand) {
                continue;
            }
            if self.budget == 0 {
                self.error = Some(ChainError::SearchBudgetExhausted {
                    max: SIGNATURE_BUDGET,
                });
                return false;
            }
            self.budget -= 1;
            let checked = if self.trusted.is_some_and(|t| t.verified(current, cand)) {
                Ok(())
            } else {
                current.verify_signed_by(cand)
            };
            if let Err(e) = checked {
                self.note(ChainError::NoIssuer {
                    subject: current.describe(),
                    issuer: current.issuer(),
                    last_error: Some(Box::new(e)),
                });
                continue;
            }
            found = true;
            path.push(cand);
            if self.extend(path) {
                return true;
            }
            path.pop();
        }
        if !found {
            self.note(ChainError::NoIssuer {
                subject: current.describe(),
                issuer: current.issuer(),
                last_error: None,
            });
        }
        false
    }

    /// Remember a path-building failure unless a more specific one is known.
    fn note(&mut self, e: ChainError) {
        let keep = match &self.error {
            None => true,
            // A signature failure says more than a bare "no issuer".
            Some(ChainError::NoIssuer {
                last_error: None, ..
            }) => true,
            Some(_) => false,
        };
        if keep {
            self.error = Some(e);
        }
    }
}

fn cert_err(cert: &Certificate) -> impl Fn(X509Error) -> ChainError + '_ {
    move |source| ChainError::Certificate {
        subject: cert.describe(),
        source: Box::new(source),
    }
}

fn oid_names(oids: &[ObjectIdentifier]) -> String {
    if oids.is_empty() {
        return "none".into();
    }
    oids.iter().map(oid::name).collect::<Vec<_>>().join(", ")
}

/// Every check of RFC 5280 §6.1 that applies to Sigstore paths, on a path
/// already linked by names and signatures (leaf first, anchor last).
fn check_path(path: &[&Certificate], at: i64, purpose: Purpose) -> Result<(), ChainError> {
    if path.len() > MAX_PATH_LEN {
        return Err(ChainError::PathTooLong { max: MAX_PATH_LEN });
    }
    for (i, cert) in path.iter().enumerate() {
        let subject = || cert.describe();
        if at < cert.not_before() {
            return Err(ChainError::NotYetValid {
                subject: subject(),
                not_before: cert.not_before(),
                at,
            });
        }
        if at > cert.not_after() {
            return Err(ChainError::Expired {
                subject: subject(),
                not_after: cert.not_after(),
                at,
            });
        }
        check_extensions(cert, i == 0)?;
        if i == 0 {
            check_leaf(cert, purpose)?;
        } else {
            check_issuer(cert, &path[1..i], purpose)?;
        }
    }
    Ok(())
}

fn check_extensions(cert: &Certificate, is_leaf: bool) -> Result<(), ChainError> {
    for ext in cert.extensions() {
        if ext.extn_id == ids::ID_CE_NAME_CONSTRAINTS {
            return Err(ChainError::NameConstraints {
                subject: cert.describe(),
            });
        }
        if is_leaf && ext.extn_id == oid::CT_PRECERT_POISON {
            return Err(ChainError::PrecertPoison {
                subject: cert.describe(),
            });
        }
        if ext.critical && !KNOWN_EXTENSIONS.contains(&ext.extn_id) {
            return Err(ChainError::UnknownCriticalExtension {
                subject: cert.describe(),
                oid: ext.extn_id.to_string(),
            });
        }
    }
    // A SAN we claim to understand must at least decode (this includes
    // Fulcio's critical OtherName .1.7, which x509-cert parses generically).
    cert.decode_extension::<SubjectAltName>(&ids::ID_CE_SUBJECT_ALT_NAME)
        .map_err(cert_err(cert))?;
    Ok(())
}

fn check_leaf(cert: &Certificate, purpose: Purpose) -> Result<(), ChainError> {
    let subject = || cert.describe();
    if cert
        .basic_constraints()
        .map_err(cert_err(cert))?
        .is_some_and(|bc| bc.ca)
    {
        return Err(ChainError::LeafIsCa { subject: subject() });
    }
    match cert.key_usage().map_err(cert_err(cert))? {
        Some(ku) if ku.digital_signature() => {}
        Some(ku) => {
            return Err(ChainError::LeafKeyUsage {
                subject: subject(),
                found: format!("{:?}", ku.0),
            })
        }
        None => {
            return Err(ChainError::LeafKeyUsage {
                subject: subject(),
                found: "no keyUsage".into(),
            })
        }
    }
    let expected = purpose.eku();
    match cert.extended_key_usage().map_err(cert_err(cert))? {
        None => Err(ChainError::ExtendedKeyUsage {
            subject: subject(),
            expected: oid::name(&expected),
            found: "no extendedKeyUsage".into(),
        }),
        Some((_, eku)) if !eku.0.contains(&expected) => Err(ChainError::ExtendedKeyUsage {
            subject: subject(),
            expected: oid::name(&expected),
            found: oid_names(&eku.0),
        }),
        // RFC 3161 §2.3: the TSA's EKU "MUST be marked critical".
        Some((false, _)) if purpose == Purpose::TimeStamping => {
            Err(ChainError::ExtendedKeyUsageNotCritical { subject: subject() })
        }
        Some(_) => Ok(()),
    }
}

/// `below` are the certificates strictly between the leaf and `cert`.
fn check_issuer(
    cert: &Certificate,
    below: &[&Certificate],
    purpose: Purpose,
) -> Result<(), ChainError> {
    let subject = || cert.describe();
    let Some(bc) = cert
        .basic_constraints()
        .map_err(cert_err(cert))?
        .filter(|bc| bc.ca)
    else {
        return Err(ChainError::IssuerNotCa { subject: subject() });
    };
    if let Some(ku) = cert.key_usage().map_err(cert_err(cert))? {
        if !ku.key_cert_sign() {
            return Err(ChainError::IssuerKeyUsage { subject: subject() });
        }
    }
    if let Some(max) = bc.path_len_constraint {
        // RFC 5280 §6.1.4 (l): self-issued intermediates do not count.
        let found = below.iter().filter(|c| !c.is_self_issued()).count();
        if found > usize::from(max) {
            return Err(ChainError::PathLenExceeded {
                subject: subject(),
                max,
                found,
            });
        }
    }
    // An issuer's EKU restricts what it may issue for (the CA/Browser and Go
    // reading); anyExtendedKeyUsage lifts the restriction.
    if let Some((_, eku)) = cert.extended_key_usage().map_err(cert_err(cert))? {
        let expected = purpose.eku();
        if !eku.0.contains(&expected) && !eku.0.contains(&ids::ANY_EXTENDED_KEY_USAGE) {
            return Err(ChainError::ExtendedKeyUsage {
                subject: subject(),
                expected: oid::name(&expected),
                found: oid_names(&eku.0),
            });
        }
    }
    Ok(())
}
