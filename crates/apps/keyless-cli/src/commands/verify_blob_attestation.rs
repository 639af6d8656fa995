//! `keyless verify-blob-attestation`: verify an in-toto attestation bundle
//! about a file (as cosign's command of that name): the DSSE signature, the
//! statement's subject against the file's digest, the identity, and the
//! predicate type given by `--type`.

use std::path::PathBuf;

use anyhow::{Context, Result};
use keyless_verify::{Artifact, Verifier};

use crate::exit;
use crate::instance::InstanceArgs;
use crate::registry::predicate_type;
use crate::verify_args::PolicyArgs;

#[derive(Debug, clap::Args)]
#[command(after_help = exit::TABLE)]
pub struct VerifyBlobAttestation {
    /// The Sigstore bundle holding the attestation (a DSSE envelope).
    #[arg(long, value_name = "FILE")]
    pub bundle: PathBuf,
    /// The predicate type the statement must have: a URL, or cosign's
    /// short names (slsaprovenance, slsaprovenance1, spdx, spdxjson,
    /// cyclonedx, vuln, openvex, custom).
    #[arg(long = "type", value_name = "TYPE")]
    pub predicate_type: Option<String>,
    /// Accept the attestation only if it was signed with this certificate
    /// (PEM), as cosign's `--certificate`; it is still verified against the
    /// trusted root's CAs.
    #[arg(long, value_name = "FILE")]
    pub certificate: Option<PathBuf>,
    /// Accepted with --certificate for cosign compatibility: the chain
    /// always comes from the trusted root (a CA that is not in it is
    /// refused whatever this file says).
    #[arg(long, value_name = "FILE", requires = "certificate")]
    pub certificate_chain: Option<PathBuf>,
    #[command(flatten)]
    pub policy: PolicyArgs,
    #[command(flatten)]
    pub flags: crate::verify_flags::VerifyFlags,
    #[command(flatten)]
    pub instance: InstanceArgs,
    /// The file the attestation is about, or its digest as `sha256:<hex>`.
    #[arg(value_name = "FILE|sha256:HEX")]
    pub artifact: String,
}

impl VerifyBlobAttestation {
    pub fn run(&self) -> Result<i32> {
        crate::cosign_env::note_ignored();
        let policy = self.policy.policy()?;
        let bundle = std::fs::read(&self.bundle)
            .with_context(|| format!("reading bundle {}", self.bundle.display()))?;
        let pinned = self
            .certificate
            .as_deref()
            .map(crate::detached::certificate_der)
            .transpose()?;
        let artifact = Artifact::from_arg(&self.artifact);
        let instance = match self.instance.resolve_with_log(self.flags.rekor_url()) {
            Ok(i) => i,
            Err(e) => return Ok(e.report()),
        };
        let witness = self
            .flags
            .extra
            .witness_policy(&self.instance, &instance.trust)?;
        let result = match Verifier::new(instance.trust, self.flags.options())
            .verify_json(&bundle, &artifact, &policy)
        {
            Ok(r) => r,
            Err(e) => return Ok(crate::report_verification_error(&e)),
        };
        if let Some(Err(code)) = witness.as_ref().map(|w| w.check_json(&bundle)) {
            return Ok(code);
        }
        if let Some(pin) = &pinned {
            if result.certificate.as_ref().map(|c| c.der()) != Some(pin.as_slice()) {
                eprintln!("Error: the attestation was not signed with the --certificate given");
                return Ok(exit::for_kind(keyless_verify::ErrorKind::Policy));
            }
        }
        let Some(statement) = &result.statement else {
            eprintln!(
                "Error: the bundle holds a signature, not an attestation (no in-toto statement)"
            );
            eprintln!("hint: verify it with `keyless verify-blob`");
            return Ok(exit::for_kind(keyless_verify::ErrorKind::Bundle));
        };
        if let Some(want) = self.predicate_type.as_deref().map(predicate_type) {
            if statement.predicate_type != want {
                eprintln!(
                    "Error: the attestation's predicate type {} is not {want}",
                    statement.predicate_type
                );
                eprintln!(
                    "hint: check --type against the attestation's predicate type shown above"
                );
                return Ok(exit::for_kind(keyless_verify::ErrorKind::Policy));
            }
        }
        if let Some(id) = &result.identity {
            eprintln!(
                "Certificate subject: {}\nCertificate issuer URL: {}",
                id.sans.join(", "),
                id.issuer.as_deref().unwrap_or("(none)")
            );
        }
        eprintln!("Verified OK");
        Ok(exit::OK)
    }
}
