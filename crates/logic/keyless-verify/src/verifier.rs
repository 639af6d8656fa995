//! The verifier: trust material + options, applied to a bundle, an
//! artifact and a policy. The steps follow the client specification §4;
//! each returns early on failure, so an `Ok` means every step passed.

use keyless_crypto::PublicKey;
use keyless_types::intoto::Statement;
use keyless_types::{Bundle, Content, VerificationMaterial};
use keyless_x509::{Certificate, FulcioIdentity, TrustedChain};

use crate::artifact::Artifact;
use crate::binding::Signed;
use crate::certificate::{check_bundle_chain, verify_certificate};
use crate::error::{
    CertificateError, LogError, PolicyError, SignatureError, TimestampError, VerificationError,
};
use crate::policy::Policy;
use crate::signature::{message_hash, verify_dsse, verify_message};
use crate::signer::Signer;
use crate::time::{TimeSource, VerifiedTime};
use crate::timestamp::{distinct_authorities, verify_timestamps, VerifiedTimestamp};
use crate::tlog::{check_checkpoint_keys, verify_entry, VerifiedEntry};
use crate::trust::TrustMaterial;

/// Thresholds and knobs. The defaults are what cosign and sigstore-go
/// require of a keyless bundle: at least one verified transparency log
/// entry, an SCT from a trusted CT log in every keyless certificate, and
/// the system clock as "now".
///
/// The fields are private so that weakening verification is always
/// visible at the call site: everything that accepts less than the
/// default is a `danger_` method (as rustls' `dangerous()` and
/// sigstore-go's `...Unsafe` options), and the safe setters can only keep
/// or raise the bar.
#[derive(Debug, Clone)]
pub struct VerifierOptions {
    /// Distinct transparency logs that must have verified entries.
    tlog_threshold: usize,
    /// Distinct timestamp authorities that must have verified timestamps.
    timestamp_threshold: usize,
    /// Require an SCT from a trusted CT log in keyless certificates.
    require_sct: bool,
    /// "Now", for deciding that an integrated time is in the future.
    /// `None` uses the system clock.
    now: Option<i64>,
}

impl Default for VerifierOptions {
    /// The safe defaults (see the type's documentation).
    fn default() -> Self {
        Self {
            tlog_threshold: 1,
            timestamp_threshold: 0,
            require_sct: true,
            now: None,
        }
    }
}

impl VerifierOptions {
    /// The safe defaults (same as [`Default`]).
    pub fn new() -> Self {
        Self::default()
    }

    /// Require verified entries from at least `logs` distinct
    /// transparency logs (the default is one). Zero cannot be expressed
    /// here: see [`Self::danger_allow_no_tlog_entries`].
    pub fn with_tlog_threshold(mut self, logs: std::num::NonZeroUsize) -> Self {
        self.tlog_threshold = logs.get();
        self
    }

    /// Require verified timestamps from at least `authorities` distinct
    /// timestamp authorities (the default is none, since a Rekor v1 entry's
    /// integrated time also vouches for the signing time).
    pub fn with_timestamp_threshold(mut self, authorities: usize) -> Self {
        self.timestamp_threshold = authorities;
        self
    }

    /// Decide "now" (for integrated times in the future) from `unix_seconds`
    /// instead of the system clock: for tests and for re-checking a bundle
    /// as of a known time. This does not weaken any check: certificates are
    /// still checked at the times a log or timestamp authority vouched for.
    pub fn with_now(mut self, unix_seconds: i64) -> Self {
        self.now = Some(unix_seconds);
        self
    }

    /// **Dangerous**: accept bundles with no verified transparency log
    /// entry. Without one, nobody can audit that the signature was ever
    /// made public, so a stolen key or a mis-issued certificate could sign
    /// in secret. Only for deployments that rely on timestamps alone (pair
    /// it with [`Self::with_timestamp_threshold`]) or for testing the other
    /// steps in isolation.
    pub fn danger_allow_no_tlog_entries(mut self) -> Self {
        self.tlog_threshold = 0;
        self
    }

    /// **Dangerous**: do not require an SCT in keyless certificates.
    /// Without an SCT there is no evidence the certificate was logged to
    /// certificate transparency, so a mis-issuing CA would go unnoticed.
    /// Only for private CAs that run no CT log.
    pub fn danger_disable_sct_check(mut self) -> Self {
        self.require_sct = false;
        self
    }

    /// Distinct transparency logs that must have verified entries.
    pub fn tlog_threshold(&self) -> usize {
        self.tlog_threshold
    }

    /// Distinct timestamp authorities that must have verified timestamps.
    pub fn timestamp_threshold(&self) -> usize {
        self.timestamp_threshold
    }

    /// Whether keyless certificates must carry a verified SCT.
    pub fn requires_sct(&self) -> bool {
        self.require_sct
    }

    /// The pinned "now", if any ([`Self::with_now`]).
    pub fn now(&self) -> Option<i64> {
        self.now
    }
}

/// What a successful verification established.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct VerificationResult {
    /// The signer's identity, for keyless bundles.
    pub identity: Option<FulcioIdentity>,
    pub certificate: Option<Certificate>,
    pub times: Vec<VerifiedTime>,
    pub log_entries: Vec<VerifiedEntry>,
    pub timestamps: Vec<VerifiedTimestamp>,
    /// The in-toto statement, for DSSE bundles.
    pub statement: Option<Statement>,
    /// Distinct CT logs whose SCT verified.
    pub sct_logs: usize,
}

/// Verifies bundles against one set of trust material.
#[derive(Debug, Clone)]
pub struct Verifier {
    trust: TrustMaterial,
    /// Each Fulcio authority's chain (same order as `trust.fulcio`) with
    /// its intermediate → root signatures checked once, here: they are the
    /// same for every bundle, and a P-384 check costs as much as three of
    /// the P-256 checks a bundle needs.
    fulcio_chains: Vec<TrustedChain>,
    /// The same for each timestamp authority (same order as `trust.tsas`).
    tsa_chains: Vec<TrustedChain>,
    options: VerifierOptions,
}

impl Verifier {
    pub fn new(trust: TrustMaterial, options: VerifierOptions) -> Self {
        let fulcio_chains = trust
            .fulcio
            .iter()
            .map(|ca| TrustedChain::new(ca.chain.clone()))
            .collect();
        let tsa_chains = trust
            .tsas
            .iter()
            .map(|tsa| TrustedChain::new(tsa.chain.clone()))
            .collect();
        Self {
            trust,
            fulcio_chains,
            tsa_chains,
            options,
        }
    }

    pub fn trust(&self) -> &TrustMaterial {
        &self.trust
    }

    /// Parse and verify a bundle from its JSON.
    pub fn verify_json(
        &self,
        bundle_json: &[u8],
        artifact: &Artifact,
        policy: &Policy,
    ) -> Result<VerificationResult, VerificationError> {
        let bundle = Bundle::from_json(bundle_json)?;
        self.verify(&bundle, artifact, policy)
    }

    pub fn verify(
        &self,
        bundle: &Bundle,
        artifact: &Artifact,
        policy: &Policy,
    ) -> Result<VerificationResult, VerificationError> {
        let now = self.options.now.unwrap_or_else(unix_now);

        // Step 0, the part that needs X.509: trust anchors come only from
        // the trusted root, so a bundle chain carrying a root is malformed.
        check_bundle_chain(bundle.material.chain_rest())?;

        // Who signed, as the policy allows it.
        let signer = signer(&bundle.material, policy)?;

        // Step 4 first for the cheap, local part: the signature over the
        // artifact. (Order does not weaken anything: every step must pass.)
        let key = signer.key();
        let mut statement = None;
        let artifact_digest = match &bundle.content {
            Content::MessageSignature(ms) => {
                // The hash the bundle declares; step 1 binds it to the
                // hash each log entry declares.
                let alg = message_hash(ms, key, &bundle.tlog_entries)?;
                let digest = artifact.digest(alg)?;
                verify_message(ms, key, artifact, alg, &digest)?;
                Some((alg, digest))
            }
            Content::Dsse(env) => {
                statement = Some(verify_dsse(env, key, artifact)?);
                None
            }
            _ => return Err(SignatureError::UnsupportedContent.into()),
        };

        // Step 1: log entries, each bound to this bundle.
        let signed = Signed {
            content: &bundle.content,
            artifact_digest,
            signer: &signer,
        };
        let mut log_entries = Vec::new();
        for (i, entry) in bundle.tlog_entries.iter().enumerate() {
            log_entries.push(verify_entry(i, entry, &self.trust, &signed, now)?);
        }
        let mut logs: Vec<&[u8]> = log_entries.iter().map(|e| e.log_id.as_slice()).collect();
        logs.sort_unstable();
        logs.dedup();
        if logs.len() < self.options.tlog_threshold {
            return Err(if bundle.tlog_entries.is_empty() {
                LogError::NoEntries {
                    required: self.options.tlog_threshold,
                }
            } else {
                LogError::Threshold {
                    verified: logs.len(),
                    required: self.options.tlog_threshold,
                }
            }
            .into());
        }

        // Step 2: verified times.
        let timestamps = verify_timestamps(
            &bundle.timestamps,
            bundle.content.signature(),
            &self.trust,
            &self.tsa_chains,
        )?;
        let tsa_count = distinct_authorities(&timestamps);
        if tsa_count < self.options.timestamp_threshold {
            return Err(TimestampError::Threshold {
                verified: tsa_count,
                required: self.options.timestamp_threshold,
            }
            .into());
        }
        // Step 1's checkpoints, at the times step 2 established.
        check_checkpoint_keys(&log_entries, &timestamps)?;
        let mut times: Vec<VerifiedTime> = log_entries
            .iter()
            .filter_map(|e| e.integrated_time)
            .map(|time| VerifiedTime {
                time,
                source: TimeSource::IntegratedTime,
            })
            .collect();
        times.extend(timestamps.iter().map(|t| VerifiedTime {
            time: t.time,
            source: TimeSource::Timestamp,
        }));

        // Step 3: the certificate and the identity policy.
        let mut result = VerificationResult {
            identity: None,
            certificate: None,
            times,
            log_entries,
            timestamps,
            statement,
            sct_logs: 0,
        };
        if let Signer::Certificate { cert, .. } = &signer {
            if result.times.is_empty() {
                // A short-lived certificate is only meaningful at a time
                // someone vouched for (client-spec §4.2).
                return Err(TimestampError::NoVerifiedTime.into());
            }
            let verified = verify_certificate(
                cert,
                &self.trust,
                &self.fulcio_chains,
                &result.times,
                self.options.require_sct,
            )?;
            policy.check_identity(&verified.identity)?;
            result.sct_logs = verified.sct_logs;
            result.identity = Some(verified.identity);
        }
        // The leaf is moved into the result, not copied: every check that
        // borrowed it is done.
        if let Signer::Certificate { cert, .. } = signer {
            result.certificate = Some(*cert);
        }
        Ok(result)
    }
}

fn signer(material: &VerificationMaterial, policy: &Policy) -> Result<Signer, VerificationError> {
    match (material, policy) {
        (VerificationMaterial::PublicKey { .. }, Policy::Key(key)) => Ok(Signer::Key(key.clone())),
        (VerificationMaterial::PublicKey { hint }, Policy::Identities(_)) => {
            Err(PolicyError::KeySignedBundle { hint: hint.clone() }.into())
        }
        (_, Policy::Key(_)) => Err(PolicyError::CertificateSignedBundle.into()),
        (m, Policy::Identities(_)) => {
            let der = m.leaf_der().ok_or(CertificateError::NoLeaf)?;
            let cert = Certificate::from_der(der).map_err(CertificateError::Parse)?;
            let key: PublicKey = cert.public_key().map_err(CertificateError::Parse)?;
            Ok(Signer::Certificate {
                cert: Box::new(cert),
                key,
            })
        }
    }
}

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    #[test]
    fn verifier_is_shareable_across_threads() {
        fn is<T: Send + Sync>() {}
        is::<super::Verifier>();
    }
}
