//! The signing state machine.

use keyless_crypto::{KeyAlgorithm, SigningKey};
use keyless_types::dsse::{pae, Envelope, EnvelopeSignature};
use keyless_types::wire;
use keyless_verify::{Identity, Matcher, Policy, TrustMaterial, Verifier, VerifierOptions};
use keyless_x509::{fulcio_identity, verify_embedded_scts, Certificate};

use crate::bundle::{build, SignedContent};
use crate::error::SignError;
use crate::services::{CertificateAuthority, LogRequest, TimestampAuthority, TransparencyLog};

/// Progress messages, as cosign prints them.
pub type Progress<'a> = &'a (dyn Fn(&str) + Send + Sync);

/// What to sign.
#[derive(Debug, Clone)]
pub enum Artifact {
    /// A blob, known by its SHA-256 (hashed streaming by the caller).
    Digest([u8; 32]),
    /// A DSSE payload (an in-toto statement for attestations).
    Dsse {
        payload_type: String,
        payload: Vec<u8>,
    },
}

/// The result of signing.
#[derive(Debug, Clone)]
pub struct SignedBundle {
    pub bundle: wire::Bundle,
    /// DER certificates, leaf first.
    pub chain: Vec<Vec<u8>>,
    pub signature: Vec<u8>,
    /// The log entry's index; `None` when no entry was recorded.
    pub log_index: Option<i64>,
    /// The identity the certificate names, and its issuer.
    pub identity: String,
    pub issuer: String,
}

/// What the ephemeral key produced.
enum Made<'a> {
    Message {
        digest: &'a [u8; 32],
        signature: Vec<u8>,
    },
    Dsse(Envelope),
}

impl Made<'_> {
    /// The raw signature: what the TSA timestamps and the log records.
    fn signature(&self) -> &[u8] {
        match self {
            Self::Message { signature, .. } => signature,
            Self::Dsse(env) => env
                .signatures
                .first()
                .map(|s| s.sig.as_slice())
                .unwrap_or_default(),
        }
    }
}

/// Signs with one CA, one log and optionally one TSA.
pub struct Signer<C, L, T> {
    pub ca: C,
    pub log: L,
    pub tsa: Option<T>,
    /// Trust material for the SCT check and the final self-verification.
    /// `None` skips both (for tests of the flow itself).
    pub trust: Option<TrustMaterial>,
}

const KEY_DETAILS: &str = "PKIX_ECDSA_P256_SHA_256";

impl<C: CertificateAuthority, L: TransparencyLog, T: TimestampAuthority> Signer<C, L, T> {
    /// Sign `artifact` as the holder of `token`. `challenge` is the claim the
    /// CA's proof of possession expects (email or subject).
    pub async fn sign(
        &self,
        token: &str,
        challenge: &str,
        artifact: &Artifact,
        progress: Progress<'_>,
    ) -> Result<SignedBundle, SignError> {
        let mut signed = self
            .sign_all(token, challenge, std::slice::from_ref(artifact), progress)
            .await?;
        signed
            .pop()
            .ok_or_else(|| SignError::Certificate("nothing was signed".into()))
    }

    /// Sign each of `artifacts` with one ephemeral key and its one
    /// certificate (each gets its own timestamp, log entry and bundle): an
    /// image stored in two layouts (cosign's `.sig` layer and its v3
    /// referrer) is then signed by the same certificate, so
    /// `--output-certificate` and `--certificate` mean both signatures.
    pub async fn sign_all(
        &self,
        token: &str,
        challenge: &str,
        artifacts: &[Artifact],
        progress: Progress<'_>,
    ) -> Result<Vec<SignedBundle>, SignError> {
        progress("Generating ephemeral keys...");
        let key = SigningKey::generate(KeyAlgorithm::EcdsaP256)?;

        progress("Retrieving signed certificate...");
        let chain = self.ca.signing_certificate(token, challenge, &key).await?;
        let leaf_der = chain
            .first()
            .ok_or_else(|| SignError::Certificate("the CA returned an empty chain".into()))?;
        let leaf = Certificate::from_der(leaf_der).map_err(SignError::CertificateParse)?;
        let leaf_key = leaf.public_key().map_err(SignError::CertificateParse)?;
        if &leaf_key != key.public_key() {
            return Err(SignError::Certificate(
                "the certificate is for a different key than the one we proved".into(),
            ));
        }
        let id = fulcio_identity(&leaf).map_err(SignError::CertificateParse)?;
        let identity = id.sans.first().cloned().unwrap_or_default();
        let issuer = id.issuer.clone().unwrap_or_default();
        if let Some(trust) = &self.trust {
            let parent = chain
                .get(1)
                .map(|d| Certificate::from_der(d))
                .transpose()
                .map_err(SignError::CertificateParse)?
                .ok_or_else(|| {
                    SignError::Certificate("the CA returned no issuer certificate".into())
                })?;
            verify_embedded_scts(&leaf, &parent, &trust.ctlogs).map_err(SignError::Sct)?;
            progress("Successfully verified SCT...");
        }

        let mut out = Vec::with_capacity(artifacts.len());
        for artifact in artifacts {
            out.push(
                self.sign_one(&key, &chain, artifact, &identity, &issuer, progress)
                    .await?,
            );
        }
        // The key lives only in this stack frame and is dropped here.
        drop(key);
        Ok(out)
    }

    /// One artifact signed with the certified key: signature, timestamp,
    /// log entry, bundle, self-check.
    async fn sign_one(
        &self,
        key: &SigningKey,
        chain: &[Vec<u8>],
        artifact: &Artifact,
        identity: &str,
        issuer: &str,
        progress: Progress<'_>,
    ) -> Result<SignedBundle, SignError> {
        let leaf_der = chain
            .first()
            .ok_or_else(|| SignError::Certificate("the CA returned an empty chain".into()))?;
        let made = match artifact {
            Artifact::Digest(digest) => Made::Message {
                digest,
                signature: key.sign_prehashed(digest)?,
            },
            Artifact::Dsse {
                payload_type,
                payload,
            } => {
                let sig = key.sign(&pae(payload_type, payload))?;
                Made::Dsse(Envelope {
                    payload: payload.clone(),
                    payload_type: payload_type.clone(),
                    signatures: vec![EnvelopeSignature {
                        sig,
                        keyid: String::new(),
                    }],
                })
            }
        };
        let signature = made.signature().to_vec();

        let mut timestamps = Vec::new();
        if let Some(tsa) = &self.tsa {
            timestamps.push(tsa.timestamp(&signature).await?);
        }

        let request = match &made {
            Made::Dsse(env) => LogRequest::Dsse {
                envelope: env,
                certificate: leaf_der,
                key_details: KEY_DETAILS,
            },
            Made::Message { digest, signature } => LogRequest::Message {
                digest: digest.as_slice(),
                signature,
                certificate: leaf_der,
                key_details: KEY_DETAILS,
            },
        };
        let entry = if self.log.records() {
            let entry = self.log.submit(&request).await?;
            progress(&format!(
                "tlog entry created with index: {}",
                entry.log_index
            ));
            Some(entry)
        } else {
            None
        };
        let log_index = entry.as_ref().map(|e| e.log_index);

        let content = match &made {
            Made::Dsse(env) => SignedContent::Dsse(env),
            Made::Message { digest, signature } => SignedContent::Message {
                digest: digest.as_slice(),
                signature,
            },
        };
        let bundle = build(leaf_der, content, entry, timestamps);

        if let Some(trust) = &self.trust {
            self.self_check(trust, &bundle, artifact, identity, issuer)?;
        }
        Ok(SignedBundle {
            bundle,
            chain: chain.to_vec(),
            signature,
            log_index,
            identity: identity.to_owned(),
            issuer: issuer.to_owned(),
        })
    }

    /// Verify what we are about to hand out, as a verifier will.
    fn self_check(
        &self,
        trust: &TrustMaterial,
        bundle: &wire::Bundle,
        artifact: &Artifact,
        identity: &str,
        issuer: &str,
    ) -> Result<(), SignError> {
        let options = if self.log.records() {
            VerifierOptions::default()
        } else {
            // No entry was asked for; everything else is still checked.
            VerifierOptions::default().danger_allow_no_tlog_entries()
        };
        let verifier = Verifier::new(trust.clone(), options);
        let policy = Policy::identity(Identity::new(
            Matcher::exact(identity),
            Matcher::exact(issuer),
        ));
        let digest = match artifact {
            Artifact::Digest(d) => d.to_vec(),
            Artifact::Dsse { payload, .. } => {
                // Attestations are verified against a subject; use the first.
                let statement: keyless_types::intoto::Statement =
                    serde_json::from_slice(payload).map_err(SignError::Statement)?;
                let hex_digest = statement
                    .subject
                    .first()
                    .and_then(|s| s.digest.get("sha256"))
                    .ok_or_else(|| {
                        SignError::Artifact("the statement has no sha256 subject".into())
                    })?;
                hex::decode(hex_digest).map_err(SignError::SubjectDigest)?
            }
        };
        let artifact = keyless_verify::Artifact::Digest {
            algorithm: keyless_crypto::HashAlgorithm::Sha256,
            digest,
        };
        let parsed = keyless_types::Bundle::from_wire(bundle.clone())
            .map_err(keyless_verify::VerificationError::from)?;
        verifier.verify(&parsed, &artifact, &policy)?;
        Ok(())
    }
}
