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
use crate::timestamp::{distinct_authorities, verify_timestamps, VerifiedTimestamp};
use crate::tlog::{check_checkpoint_keys, verify_entry, VerifiedEntry};
use crate::trust::TrustMaterial;

/// Thresholds and knobs. The defaults are what cosign and sigstore-go
/// require of a keyless bundle.
#[derive(Debug, Clone)]
pub struct VerifierOptions {
    /// Distinct transparency logs that must have verified entries.
    pub tlog_threshold: usize,
    /// Distinct timestamp authorities that must have verified timestamps.
    pub timestamp_threshold: usize,
    /// Require an SCT from a trusted CT log in keyless certificates.
    pub require_sct: bool,
    /// "Now", for deciding that an integrated time is in the future.
    /// `None` uses the system clock; tests pin it.
    pub now: Option<i64>,
}

impl Default for VerifierOptions {
    fn default() -> Self {
        Self {
            tlog_threshold: 1,
            timestamp_threshold: 0,
            require_sct: true,
            now: None,
        }
    }
}

/// Where a verified time came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TimeSource {
    /// A Rekor v1 integrated time whose signed entry timestamp verified.
    IntegratedTime,
    /// An RFC 3161 timestamp from a trusted authority.
    Timestamp,
}

impl TimeSource {
    pub fn describe(self) -> &'static str {
        match self {
            Self::IntegratedTime => "log integrated time",
            Self::Timestamp => "RFC 3161 timestamp",
        }
    }
}

/// A point in time some trusted party vouched for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VerifiedTime {
    pub time: i64,
    pub source: TimeSource,
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
            _ => return Err(SignatureError::Key("unsupported bundle content".into()).into()),
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
            result.certificate = Some((**cert).clone());
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
            let der = m
                .leaf_der()
                .ok_or(CertificateError::Parse("no leaf certificate".into()))?;
            let cert =
                Certificate::from_der(der).map_err(|e| CertificateError::Parse(e.to_string()))?;
            let key: PublicKey = cert
                .public_key()
                .map_err(|e| CertificateError::Parse(e.to_string()))?;
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
