//! `keyless verify IMAGE` and `keyless verify-attestation IMAGE`: find the
//! signatures stored for an image (referrer bundles, cosign's classic
//! `.sig`/`.att` layers, cosign v3 bundles; see [`super::image_evidence`]),
//! verify each as a Sigstore bundle against the trusted root and the
//! identity policy, and check that what was signed names this image's
//! digest.

use anyhow::{Context, Result};
use keyless_oci::cosign::{COSIGN_SIGNATURE_TYPE, COSIGN_SIGN_PREDICATE_TYPE};
use keyless_oci::{Reference, SimpleSigning};
use keyless_verify::{Verifier, VerifierOptions};

use super::image_evidence::{self, Expect};

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
    #[command(flatten)]
    pub relax: ImageVerifyArgs,
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
    #[command(flatten)]
    pub relax: ImageVerifyArgs,
}

/// What each piece of evidence stored for an image proved, or why it did not.
struct Outcome {
    payloads: Vec<serde_json::Value>,
    /// "subject (issuer)" of each verified certificate, once each.
    signers: Vec<(String, String)>,
    /// `(exit code, message)` of each refusal, in the order met.
    failures: Vec<(i32, String)>,
}

/// How verification is relaxed, as cosign's flags relax it.
#[derive(Debug, Default, Clone, clap::Args)]
pub struct ImageVerifyArgs {
    /// Accept signatures with no transparency log entry (no
    /// dev.sigstore.cosign/bundle annotation), with a warning. A
    /// certificate still needs a verified time, so without a log entry it
    /// needs an RFC 3161 timestamp.
    #[arg(long)]
    pub insecure_ignore_tlog: bool,
    /// Accept only signatures made with this certificate (PEM), as
    /// cosign's `verify --certificate`; it is still verified against the
    /// trusted root's CAs.
    #[arg(long, value_name = "FILE")]
    pub certificate: Option<std::path::PathBuf>,
    /// Accepted with --certificate for cosign compatibility: the chain
    /// always comes from the trusted root (a CA that is not in it is
    /// refused whatever this file says).
    #[arg(long, value_name = "FILE", requires = "certificate")]
    pub certificate_chain: Option<std::path::PathBuf>,
    #[command(flatten)]
    pub extra: crate::verify_flags::ExtraVerifyFlags,
    /// How to print what verified on stdout: `json` (cosign's array of
    /// payloads) or `text` (one line each).
    #[arg(long, value_enum, value_name = "FORMAT", default_value = "json")]
    pub output: crate::verify_flags::OutputFormat,
}

struct Request<'a> {
    image: &'a str,
    registry: &'a RegistryArgs,
    limits: &'a ReadLimitArgs,
    instance: &'a InstanceArgs,
    policy: &'a PolicyArgs,
    relax: &'a ImageVerifyArgs,
    attestations: bool,
    want_type: Option<String>,
}

fn verify_all(req: Request<'_>) -> Result<(Reference, Outcome, usize)> {
    crate::cosign_env::note_ignored();
    let reference = parse(req.image)?;
    let policy = req.policy.policy()?;
    let trust = req
        .instance
        .resolve_with_log(req.relax.extra.rekor_url.as_deref())?
        .trust;
    let options = if req.relax.insecure_ignore_tlog {
        VerifierOptions::default().danger_allow_no_tlog_entries()
    } else {
        VerifierOptions::default()
    };
    let options = req.relax.extra.apply(options);
    let witness = req.relax.extra.witness_policy(req.instance, &trust)?;
    let verifier = Verifier::new(trust, options);
    let pinned = req
        .relax
        .certificate
        .as_deref()
        .map(crate::detached::certificate_der)
        .transpose()?;
    let stored = runtime()?.block_on(async {
        let client = req.limits.client(req.registry)?;
        anyhow::Ok(client.list_signatures(&reference).await?)
    })?;
    let (evidence, unreadable) = image_evidence::collect(&stored, req.attestations);
    let mut out = Outcome {
        payloads: vec![],
        signers: vec![],
        failures: unreadable,
    };
    let considered = evidence.len() + out.failures.len();
    for e in evidence {
        let result = match verifier.verify(&e.bundle, &e.artifact, &policy) {
            Ok(r) => r,
            Err(err) => {
                // cosign's wording: the reason alone, not where it was found.
                out.failures
                    .push((crate::exit::for_kind(err.kind()), err.to_string()));
                continue;
            }
        };
        if let Some(pin) = &pinned {
            if result.certificate.as_ref().map(|c| c.der()) != Some(pin.as_slice()) {
                out.failures.push((
                    crate::exit::for_kind(keyless_verify::ErrorKind::Policy),
                    format!("{} was not signed with the --certificate given", e.origin),
                ));
                continue;
            }
        }
        if let Some(w) = &witness {
            match w.try_check(&e.bundle) {
                Ok(entries) => crate::verify_flags::witness_check::report(&entries),
                Err(err) => {
                    out.failures.push((
                        crate::exit::for_kind(keyless_verify::ErrorKind::Checkpoint),
                        format!("{}: {}", e.origin, crate::error_chain(err.as_ref())),
                    ));
                    continue;
                }
            }
        }
        if let Some(id) = &result.identity {
            let signer = (
                id.sans.join(", "),
                id.issuer.clone().unwrap_or_else(|| "(none)".into()),
            );
            if !out.signers.contains(&signer) {
                out.signers.push(signer);
            }
        }
        if result.log_entries.is_empty() {
            eprintln!(
                "Warning: {} has no transparency log entry; accepted only because of --insecure-ignore-tlog",
                e.origin
            );
        }
        match e.expect {
            Expect::SimpleSigning(payload) => match check_simple_signing(&payload, &stored.image) {
                Ok(doc) => out.payloads.push(doc),
                Err(problem) => out.failures.push((
                    crate::exit::for_kind(keyless_verify::ErrorKind::Artifact),
                    problem,
                )),
            },
            Expect::Statement => {
                let st = result
                    .statement
                    .context("verified DSSE evidence without a statement")?;
                if let Some(t) = &req.want_type {
                    if &st.predicate_type != t {
                        out.failures.push((
                            crate::exit::FAILURE,
                            format!(
                                "{}: predicate type {} is not {t}",
                                e.origin, st.predicate_type
                            ),
                        ));
                        continue;
                    }
                }
                if !req.attestations && st.predicate_type == COSIGN_SIGN_PREDICATE_TYPE {
                    out.payloads
                        .push(sign_v1_payload(&reference, &stored.image, &e.bundle));
                } else {
                    out.payloads.push(serde_json::to_value(&st)?);
                }
            }
        }
    }
    let listed = if req.attestations {
        stored.attestations.len()
    } else {
        stored.signatures.len()
    };
    Ok((
        reference.with_digest(stored.image.clone()),
        out,
        considered.max(listed),
    ))
}

/// What cosign v3 prints for a verified `cosign/sign/v1` statement: the
/// simple-signing shape with that type, the image the statement's subject
/// digest names (already checked by the verifier) and the subject's
/// annotations (the `-a k=v` claims) as `optional`.
fn sign_v1_payload(
    reference: &Reference,
    image: &keyless_oci::Digest,
    bundle: &keyless_types::Bundle,
) -> serde_json::Value {
    let annotations = match &bundle.content {
        keyless_types::Content::Dsse(env) => {
            serde_json::from_slice::<serde_json::Value>(&env.payload)
                .ok()
                .and_then(|v| v["subject"][0]["annotations"].as_object().cloned())
        }
        _ => None,
    };
    serde_json::json!({
        "critical": {
            "identity": {"docker-reference": reference.repository().to_string()},
            "image": {"docker-manifest-digest": image.to_string()},
            "type": COSIGN_SIGN_PREDICATE_TYPE,
        },
        "optional": annotations.unwrap_or_default(),
    })
}

/// The simple-signing payload must be cosign's and name this image.
fn check_simple_signing(
    payload: &[u8],
    image: &keyless_oci::Digest,
) -> Result<serde_json::Value, String> {
    let doc: serde_json::Value = serde_json::from_slice(payload)
        .map_err(|e| format!("the signed payload is not JSON: {e}"))?;
    let parsed = SimpleSigning::from_json(payload).map_err(|e| e.to_string())?;
    if parsed.critical.kind != COSIGN_SIGNATURE_TYPE {
        return Err(format!(
            "the signed payload's critical.type is {:?}, not {COSIGN_SIGNATURE_TYPE:?}",
            parsed.critical.kind
        ));
    }
    if &parsed.critical.image.docker_manifest_digest != image {
        return Err(format!(
            "signature is for {}, not {image}",
            parsed.critical.image.docker_manifest_digest
        ));
    }
    Ok(doc)
}

fn report(
    reference: &Reference,
    out: Outcome,
    found: usize,
    what: &str,
    checks: &[&str],
    output: crate::verify_flags::OutputFormat,
) -> Result<i32> {
    if found == 0 {
        eprintln!("Error: no {what} found for image");
        return Ok(NO_SIGNATURES);
    }
    if out.payloads.is_empty() {
        let Some((code, reason)) = out.failures.into_iter().next() else {
            eprintln!("Error: no matching {what}: no bundle carried verifiable evidence");
            return Ok(crate::exit::FAILURE);
        };
        eprintln!("Error: no matching {what}: {reason}");
        return Ok(code);
    }
    eprintln!("\nVerification for {reference} --");
    eprintln!("The following checks were performed on each of these {what}:");
    for c in checks {
        eprintln!("  - {c}");
    }
    // As verify-blob prints them (a signature may carry the same signer
    // more than once; each is shown once).
    for (subject, issuer) in &out.signers {
        eprintln!("Certificate subject: {subject}\nCertificate issuer URL: {issuer}");
    }
    match output {
        crate::verify_flags::OutputFormat::Json => {
            println!("{}", serde_json::to_string(&out.payloads)?)
        }
        crate::verify_flags::OutputFormat::Text => {
            for p in &out.payloads {
                println!("{}", crate::verify_flags::text_line(p));
            }
        }
    }
    Ok(crate::exit::OK)
}

/// The check line about the signer, worded as cosign words it for a key
/// (`--key`) or for a certificate.
fn signer_check(policy: &PolicyArgs) -> &'static str {
    if policy.key.is_some() {
        "The signatures were verified against the specified public key"
    } else {
        "The code-signing certificate was verified using trusted certificate authority certificates"
    }
}

impl VerifyImage {
    pub fn run(&self) -> Result<i32> {
        let (reference, out, found) = verify_all(Request {
            image: &self.image,
            registry: &self.registry,
            limits: &self.limits,
            instance: &self.instance,
            policy: &self.policy,
            relax: &self.relax,
            attestations: false,
            want_type: None,
        })?;
        report(
            &reference,
            out,
            found,
            "signatures",
            &[
                "The cosign claims were validated",
                "Existence of the claims in the transparency log was verified offline",
                signer_check(&self.policy),
                "The signed payload names this image's digest",
            ],
            self.relax.output,
        )
    }
}

impl VerifyAttestation {
    pub fn run(&self) -> Result<i32> {
        let want = self.predicate_type.as_deref().map(predicate_type);
        let (reference, out, found) = verify_all(Request {
            image: &self.image,
            registry: &self.registry,
            limits: &self.limits,
            instance: &self.instance,
            policy: &self.policy,
            relax: &self.relax,
            attestations: true,
            want_type: want,
        })?;
        report(
            &reference,
            out,
            found,
            "attestations",
            &[
                "The cosign claims were validated",
                "Existence of the claims in the transparency log was verified offline",
                signer_check(&self.policy),
                "The statement's subject is this image's digest",
            ],
            self.relax.output,
        )
    }
}
