//! `keyless verify IMAGE` and `keyless verify-attestation IMAGE`: find the
//! Sigstore bundles stored for an image, verify each against the trusted
//! root and the identity policy, and check that what was signed names this
//! image's digest.

use anyhow::{Context, Result};
use keyless_oci::Reference;
use keyless_verify::{Artifact, Verifier, VerifierOptions};

use crate::instance::InstanceArgs;
use crate::registry::{parse, predicate_type, ReadLimitArgs, RegistryArgs};
use crate::signing::runtime;
use crate::verify_args::PolicyArgs;

/// Exit code when no signature (of any kind) is stored for the image.
pub const NO_SIGNATURES: i32 = 23;

#[derive(Debug, clap::Args)]
#[command(after_help = crate::exit::TABLE)]
pub struct VerifyImage {
    #[arg(value_name = "IMAGE")]
    pub image: String,
    #[command(flatten)]
    pub policy: PolicyArgs,
    #[command(flatten)]
    pub instance: InstanceArgs,
    #[command(flatten)]
    pub registry: RegistryArgs,
    #[command(flatten)]
    pub limits: ReadLimitArgs,
}

#[derive(Debug, clap::Args)]
#[command(after_help = crate::exit::TABLE)]
pub struct VerifyAttestation {
    #[arg(value_name = "IMAGE")]
    pub image: String,
    /// Only accept attestations of this predicate type (URL or cosign's short names).
    #[arg(long = "type", value_name = "TYPE")]
    pub predicate_type: Option<String>,
    #[command(flatten)]
    pub policy: PolicyArgs,
    #[command(flatten)]
    pub instance: InstanceArgs,
    #[command(flatten)]
    pub registry: RegistryArgs,
    #[command(flatten)]
    pub limits: ReadLimitArgs,
}

/// What each bundle stored for an image proved, or why it did not.
struct Outcome {
    payloads: Vec<serde_json::Value>,
    failures: Vec<keyless_verify::VerificationError>,
    other: Vec<String>,
}

fn verify_all(
    image: &str,
    registry: &RegistryArgs,
    limits: &ReadLimitArgs,
    instance: &InstanceArgs,
    policy: &PolicyArgs,
    attestations: bool,
    want_type: Option<String>,
) -> Result<(Reference, Outcome, usize)> {
    let reference = parse(image)?;
    let policy = policy.policy()?;
    let trust = instance.resolve()?.trust;
    let verifier = Verifier::new(trust, VerifierOptions::default());
    runtime()?.block_on(async {
        let client = limits.client(registry)?;
        let stored = client.list_signatures(&reference).await?;
        let digest_hex = stored
            .image
            .to_string()
            .trim_start_matches("sha256:")
            .to_string();
        let mut out = Outcome {
            payloads: vec![],
            failures: vec![],
            other: vec![],
        };
        let mut considered = 0;
        for b in &stored.bundles {
            let bundle = match keyless_types::Bundle::from_json(&b.bundle) {
                Ok(b) => b,
                Err(e) => {
                    out.other.push(format!("unreadable bundle: {e}"));
                    continue;
                }
            };
            let is_attestation = matches!(bundle.content, keyless_types::Content::Dsse(_));
            if is_attestation != attestations {
                continue;
            }
            considered += 1;
            if attestations {
                // The statement's subject must be this image's digest.
                let artifact = Artifact::Digest {
                    algorithm: keyless_crypto::HashAlgorithm::Sha256,
                    digest: hex::decode(&digest_hex)?,
                };
                match verifier.verify(&bundle, &artifact, &policy) {
                    Ok(r) => {
                        let st = r.statement.context("attestation without a statement")?;
                        if let Some(t) = &want_type {
                            if &st.predicate_type != t {
                                out.other.push(format!(
                                    "predicate type {} is not {t}",
                                    st.predicate_type
                                ));
                                continue;
                            }
                        }
                        out.payloads.push(serde_json::to_value(&st)?);
                    }
                    Err(e) => out.failures.push(e),
                }
            } else {
                // The signed payload is the simple-signing document stored in
                // the .sig layer with the same signature.
                let sig = bundle.content.signature().to_vec();
                let b64 = keyless_types::b64::encode(&sig);
                let Some(layer) = stored
                    .signatures
                    .iter()
                    .find(|s| s.base64_signature() == Some(b64.as_str()))
                else {
                    out.other
                        .push("a bundle whose signature is in no .sig layer".into());
                    continue;
                };
                match verifier.verify(&bundle, &Artifact::Bytes(layer.payload.clone()), &policy) {
                    Ok(_) => {
                        let doc: serde_json::Value = serde_json::from_slice(&layer.payload)
                            .context("simple-signing payload")?;
                        let signed_digest = doc["critical"]["image"]["docker-manifest-digest"]
                            .as_str()
                            .unwrap_or_default();
                        if signed_digest != stored.image.to_string() {
                            out.other.push(format!(
                                "signature is for {signed_digest}, not {}",
                                stored.image
                            ));
                            continue;
                        }
                        out.payloads.push(doc);
                    }
                    Err(e) => out.failures.push(e),
                }
            }
        }
        let listed = if attestations {
            stored.attestations.len()
        } else {
            stored.signatures.len()
        };
        Ok((
            reference.with_digest(stored.image.clone()),
            out,
            considered.max(listed),
        ))
    })
}

fn report(
    reference: &Reference,
    out: Outcome,
    found: usize,
    what: &str,
    checks: &[&str],
) -> Result<i32> {
    if found == 0 {
        eprintln!("Error: no {what} found for image");
        return Ok(NO_SIGNATURES);
    }
    if out.payloads.is_empty() {
        let reason = out
            .failures
            .first()
            .map(|e| e.to_string())
            .or_else(|| out.other.first().cloned())
            .unwrap_or_else(|| "no bundle carried verifiable evidence".into());
        eprintln!("Error: no matching {what}: {reason}");
        let code = out
            .failures
            .first()
            .map_or(crate::exit::FAILURE, |e| crate::exit::for_kind(e.kind()));
        return Ok(code);
    }
    eprintln!("\nVerification for {reference} --");
    eprintln!("The following checks were performed on each of these {what}:");
    for c in checks {
        eprintln!("  - {c}");
    }
    println!("{}", serde_json::to_string(&out.payloads)?);
    Ok(crate::exit::OK)
}

impl VerifyImage {
    pub fn run(&self) -> Result<i32> {
        let (reference, out, found) = verify_all(
            &self.image,
            &self.registry,
            &self.limits,
            &self.instance,
            &self.policy,
            false,
            None,
        )?;
        report(
            &reference,
            out,
            found,
            "signatures",
            &[
                "The cosign claims were validated",
                "Existence of the claims in the transparency log was verified offline",
                "The code-signing certificate was verified using trusted certificate authority certificates",
                "The signed payload names this image's digest",
            ],
        )
    }
}

impl VerifyAttestation {
    pub fn run(&self) -> Result<i32> {
        let want = self.predicate_type.as_deref().map(predicate_type);
        let (reference, out, found) = verify_all(
            &self.image,
            &self.registry,
            &self.limits,
            &self.instance,
            &self.policy,
            true,
            want,
        )?;
        report(
            &reference,
            out,
            found,
            "attestations",
            &[
                "The cosign claims were validated",
                "Existence of the claims in the transparency log was verified offline",
                "The code-signing certificate was verified using trusted certificate authority certificates",
                "The statement's subject is this image's digest",
            ],
        )
    }
}
