//! Signing with a long-lived key (cosign's `--key`): no CA and no identity
//! token; the log entry names the public key instead of a certificate, and
//! the bundle's verification material is a public-key hint (the standard
//! base64 of the SHA-256 of the key's SubjectPublicKeyInfo, as cosign
//! writes it).
//!
//! Keys: ECDSA P-256 (what `cosign generate-key-pair` makes) and RSA
//! (PKCS#1 v1.5, SHA-256; 2048, 3072 or 4096 bits, the sizes Rekor v2's
//! key details name). Other keys are refused before anything is sent: a
//! SHA-256 hashedrekord entry cannot carry a P-384 or Ed25519 signature the
//! way Rekor v2 checks it.

use base64::Engine;
use keyless_crypto::{KeyAlgorithm, SigningKey};
use keyless_types::bundle::MEDIA_TYPE_V0_3;
use keyless_types::dsse::{pae, Envelope, EnvelopeSignature};
use keyless_types::wire;
use keyless_verify::{Policy, TrustMaterial, Verifier, VerifierOptions};

use crate::error::SignError;
use crate::services::{LogRequest, TimestampAuthority, TransparencyLog};
use crate::signer::{Artifact, Progress};

/// Signs with a caller's key, one optional log and one optional TSA.
pub struct KeySigner<L, T> {
    /// `None` signs without a log entry (`--tlog-upload=false`).
    pub log: Option<L>,
    pub tsa: Option<T>,
    /// Trust material for the self-verification of a bundle with a log
    /// entry; `None` skips it (tests of the flow itself).
    pub trust: Option<TrustMaterial>,
}

/// What key signing produced.
#[derive(Debug, Clone)]
pub struct KeySigned {
    pub bundle: wire::Bundle,
    /// The raw signature (over the digest, or the DSSE PAE).
    pub signature: Vec<u8>,
    /// The log entry's index, when one was recorded.
    pub log_index: Option<i64>,
}

/// Rekor v2's name for how `key` signs (its `keyDetails`).
fn key_details(key: &SigningKey, signature: &[u8]) -> Result<&'static str, SignError> {
    match key.public_key().algorithm() {
        KeyAlgorithm::EcdsaP256 => Ok("PKIX_ECDSA_P256_SHA_256"),
        // An RSA PKCS#1 v1.5 signature is exactly as long as the modulus.
        KeyAlgorithm::Rsa => match signature.len() * 8 {
            2048 => Ok("PKIX_RSA_PKCS1V15_2048_SHA256"),
            3072 => Ok("PKIX_RSA_PKCS1V15_3072_SHA256"),
            4096 => Ok("PKIX_RSA_PKCS1V15_4096_SHA256"),
            bits => Err(unsupported(&format!("RSA-{bits}"))),
        },
        other => Err(unsupported(&format!("{other:?}"))),
    }
}

fn unsupported(what: &str) -> SignError {
    SignError::Config(format!(
        "signing with a {what} key is not supported; use an ECDSA P-256 key \
         (what generate-key-pair makes) or RSA 2048/3072/4096"
    ))
}

/// cosign's public-key hint: base64 of SHA-256 over the SPKI DER.
pub fn public_key_hint(key: &keyless_crypto::PublicKey) -> String {
    base64::engine::general_purpose::STANDARD.encode(keyless_crypto::sha256(key.spki_der()))
}

impl<L: TransparencyLog, T: TimestampAuthority> KeySigner<L, T> {
    /// Sign `artifact` with `key`.
    pub async fn sign(
        &self,
        key: &SigningKey,
        artifact: &Artifact,
        progress: Progress<'_>,
    ) -> Result<KeySigned, SignError> {
        if !matches!(
            key.public_key().algorithm(),
            KeyAlgorithm::EcdsaP256 | KeyAlgorithm::Rsa
        ) {
            return Err(unsupported(&format!("{:?}", key.public_key().algorithm())));
        }
        let (signature, envelope) = match artifact {
            Artifact::Digest(digest) => (key.sign_prehashed(digest)?, None),
            Artifact::Dsse {
                payload_type,
                payload,
            } => {
                let sig = key.sign(&pae(payload_type, payload))?;
                let env = Envelope {
                    payload: payload.clone(),
                    payload_type: payload_type.clone(),
                    signatures: vec![EnvelopeSignature {
                        sig: sig.clone(),
                        keyid: String::new(),
                    }],
                };
                (sig, Some(env))
            }
        };
        let details = key_details(key, &signature)?;

        let mut timestamps = Vec::new();
        if let Some(tsa) = &self.tsa {
            timestamps.push(tsa.timestamp(&signature).await?);
        }

        let spki = key.public_key().spki_der();
        let entry = match &self.log {
            None => None,
            Some(log) => {
                let request = match (&envelope, artifact) {
                    (Some(env), _) => LogRequest::Dsse {
                        envelope: env,
                        certificate: spki,
                        key_details: details,
                    },
                    (None, Artifact::Digest(digest)) => LogRequest::Message {
                        digest: digest.as_slice(),
                        signature: &signature,
                        certificate: spki,
                        key_details: details,
                    },
                    (None, Artifact::Dsse { .. }) => {
                        return Err(SignError::Artifact("DSSE payload without envelope".into()))
                    }
                };
                let entry = log.submit(&request).await?;
                progress(&format!(
                    "tlog entry created with index: {}",
                    entry.log_index
                ));
                Some(entry)
            }
        };
        let log_index = entry.as_ref().map(|e| e.log_index);
        let message_signature = match artifact {
            Artifact::Digest(digest) => Some(wire::MessageSignature {
                message_digest: Some(wire::HashOutput {
                    algorithm: "SHA2_256".into(),
                    digest: digest.to_vec(),
                }),
                signature: signature.clone(),
            }),
            Artifact::Dsse { .. } => None,
        };
        let bundle = wire::Bundle {
            media_type: MEDIA_TYPE_V0_3.into(),
            verification_material: Some(wire::VerificationMaterial {
                public_key: Some(wire::PublicKeyIdentifier {
                    hint: public_key_hint(key.public_key()),
                }),
                x509_certificate_chain: None,
                certificate: None,
                tlog_entries: entry.into_iter().collect(),
                timestamp_verification_data: (!timestamps.is_empty()).then(|| {
                    wire::TimestampVerificationData {
                        rfc3161_timestamps: timestamps
                            .into_iter()
                            .map(|signed_timestamp| wire::Rfc3161SignedTimestamp {
                                signed_timestamp,
                            })
                            .collect(),
                    }
                }),
            }),
            message_signature,
            dsse_envelope: envelope,
        };
        match (&self.trust, log_index) {
            (Some(trust), Some(_)) => self_check(trust, key, &bundle, artifact)?,
            // Without a log entry the bundle verifies only where the
            // verifier waives the log; check the signature itself.
            _ => check_signature(key, artifact, &signature)?,
        }
        Ok(KeySigned {
            bundle,
            signature,
            log_index,
        })
    }
}

fn check_signature(
    key: &SigningKey,
    artifact: &Artifact,
    signature: &[u8],
) -> Result<(), SignError> {
    let public = key.public_key();
    match artifact {
        Artifact::Digest(d) => public.verify_prehashed(key.signature_algorithm(), d, signature),
        Artifact::Dsse {
            payload_type,
            payload,
        } => public.verify(
            key.signature_algorithm(),
            &pae(payload_type, payload),
            signature,
        ),
    }
    .map_err(SignError::SignatureSelfCheck)
}

/// Verify the bundle as a verifier with `--key` will.
fn self_check(
    trust: &TrustMaterial,
    key: &SigningKey,
    bundle: &wire::Bundle,
    artifact: &Artifact,
) -> Result<(), SignError> {
    let digest = match artifact {
        Artifact::Digest(d) => d.to_vec(),
        Artifact::Dsse { payload, .. } => {
            let statement: keyless_types::intoto::Statement =
                serde_json::from_slice(payload).map_err(SignError::Statement)?;
            let hex_digest = statement
                .subject
                .first()
                .and_then(|s| s.digest.get("sha256"))
                .ok_or_else(|| SignError::Artifact("the statement has no sha256 subject".into()))?;
            hex::decode(hex_digest).map_err(SignError::SubjectDigest)?
        }
    };
    let parsed = keyless_types::Bundle::from_wire(bundle.clone())
        .map_err(keyless_verify::VerificationError::from)?;
    Verifier::new(trust.clone(), VerifierOptions::default()).verify(
        &parsed,
        &keyless_verify::Artifact::Digest {
            algorithm: keyless_crypto::HashAlgorithm::Sha256,
            digest,
        },
        &Policy::Key(key.public_key().clone()),
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;
    use crate::services::NoTimestamps;

    /// A log that records what it was sent and answers with a fixed entry.
    #[derive(Default)]
    struct RecordingLog {
        sent: Mutex<Vec<(Vec<u8>, String)>>,
    }

    impl TransparencyLog for RecordingLog {
        async fn submit(
            &self,
            request: &LogRequest<'_>,
        ) -> Result<wire::TransparencyLogEntry, SignError> {
            let (verifier, details) = match request {
                LogRequest::Message {
                    certificate,
                    key_details,
                    ..
                }
                | LogRequest::Dsse {
                    certificate,
                    key_details,
                    ..
                } => (certificate.to_vec(), key_details.to_string()),
            };
            self.sent
                .lock()
                .map_err(|_| SignError::Config("poisoned".into()))?
                .push((verifier, details));
            Ok(wire::TransparencyLogEntry {
                log_index: 7,
                log_id: wire::LogId {
                    key_id: vec![1; 32],
                },
                kind_version: wire::KindVersion {
                    kind: "hashedrekord".into(),
                    version: "0.0.2".into(),
                },
                integrated_time: None,
                inclusion_promise: None,
                inclusion_proof: None,
                canonicalized_body: b"{}".to_vec(),
                canonicalized_body_b64: None,
            })
        }
    }

    fn block<F: std::future::Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(f)
    }

    fn quiet(_: &str) {}

    #[test]
    fn a_digest_signed_with_a_key_names_the_key_everywhere() {
        let key = SigningKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
        let signer = KeySigner {
            log: Some(RecordingLog::default()),
            tsa: None::<NoTimestamps>,
            trust: None,
        };
        let digest = keyless_crypto::sha256(b"artifact");
        let out = block(signer.sign(&key, &Artifact::Digest(digest), &quiet)).unwrap();
        assert_eq!(out.log_index, Some(7));
        let vm = out.bundle.verification_material.as_ref().unwrap();
        assert!(vm.certificate.is_none() && vm.x509_certificate_chain.is_none());
        assert_eq!(
            vm.public_key.as_ref().map(|p| p.hint.clone()),
            Some(public_key_hint(key.public_key()))
        );
        let sent = signer.log.as_ref().unwrap().sent.lock().unwrap().clone();
        assert_eq!(
            sent,
            vec![(
                key.public_key().spki_der().to_vec(),
                "PKIX_ECDSA_P256_SHA_256".to_string()
            )]
        );
        key.public_key()
            .verify_prehashed(key.signature_algorithm(), &digest, &out.signature)
            .unwrap();
        assert_eq!(
            out.bundle.message_signature.as_ref().unwrap().signature,
            out.signature
        );
    }

    #[test]
    fn without_a_log_there_is_no_entry_and_dsse_is_signed_over_pae() {
        let key = SigningKey::generate(KeyAlgorithm::Rsa).unwrap();
        let signer = KeySigner {
            log: None::<RecordingLog>,
            tsa: None::<NoTimestamps>,
            trust: None,
        };
        let artifact = Artifact::Dsse {
            payload_type: "application/vnd.in-toto+json".into(),
            payload: b"{}".to_vec(),
        };
        let out = block(signer.sign(&key, &artifact, &quiet)).unwrap();
        assert_eq!(out.log_index, None);
        let vm = out.bundle.verification_material.as_ref().unwrap();
        assert!(vm.tlog_entries.is_empty());
        let env = out.bundle.dsse_envelope.as_ref().unwrap();
        key.public_key()
            .verify(
                key.signature_algorithm(),
                &pae(&env.payload_type, &env.payload),
                &env.signatures[0].sig,
            )
            .unwrap();
        assert_eq!(
            key_details(&key, &out.signature).unwrap(),
            "PKIX_RSA_PKCS1V15_3072_SHA256"
        );
    }

    #[test]
    fn keys_rekor_cannot_check_are_refused_before_anything_is_sent() {
        for alg in [KeyAlgorithm::EcdsaP384, KeyAlgorithm::Ed25519] {
            let key = SigningKey::generate(alg).unwrap();
            let signer = KeySigner {
                log: Some(RecordingLog::default()),
                tsa: None::<NoTimestamps>,
                trust: None,
            };
            let err = block(signer.sign(&key, &Artifact::Digest([0; 32]), &quiet)).unwrap_err();
            assert!(err.to_string().contains("not supported"), "{err}");
            assert!(signer.log.as_ref().unwrap().sent.lock().unwrap().is_empty());
        }
    }
}
