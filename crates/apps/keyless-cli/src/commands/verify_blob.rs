//! `keyless verify-blob`: verify a file (or a digest) against a Sigstore
//! bundle, the trusted root and an identity or key policy.

use std::path::PathBuf;

use anyhow::{Context, Result};
use keyless_verify::{Artifact, Verifier};

use crate::exit;
use crate::instance::InstanceArgs;
use crate::verify_args::PolicyArgs;

#[derive(Debug, clap::Args)]
#[command(after_help = exit::TABLE)]
pub struct VerifyBlob {
    /// The Sigstore bundle (JSON, v0.1 to v0.3) to verify against.
    #[arg(long, value_name = "FILE", required_unless_present = "signature")]
    pub bundle: Option<PathBuf>,
    /// Without a bundle: the signer's certificate (PEM), as cosign's
    /// `verify-blob --certificate --signature`.
    #[arg(
        long,
        value_name = "FILE",
        requires = "signature",
        conflicts_with = "bundle"
    )]
    pub certificate: Option<PathBuf>,
    /// Without a bundle: the certificate's chain (PEM, intermediates then root).
    #[arg(long, value_name = "FILE", requires = "certificate")]
    pub certificate_chain: Option<PathBuf>,
    /// Without a bundle: the signature (base64). Needs --certificate and
    /// --insecure-ignore-tlog (there is no log entry to check).
    #[arg(
        long,
        value_name = "FILE",
        requires = "certificate",
        conflicts_with = "bundle"
    )]
    pub signature: Option<PathBuf>,
    /// Without a bundle: an RFC 3161 timestamp over the signature (DER, or
    /// cosign's JSON form), the trusted time the certificate is checked at.
    #[arg(long, value_name = "FILE", requires = "signature")]
    pub rfc3161_timestamp: Option<PathBuf>,
    #[command(flatten)]
    pub policy: PolicyArgs,
    #[command(flatten)]
    pub flags: crate::verify_flags::VerifyFlags,
    #[command(flatten)]
    pub instance: InstanceArgs,
    /// The artifact: a file path, or its digest as `sha256:<hex>`,
    /// `sha384:<hex>` or `sha512:<hex>` (the hash the bundle declares, or
    /// one its in-toto subjects use).
    #[arg(value_name = "FILE|sha256:HEX")]
    pub artifact: String,
}

impl VerifyBlob {
    /// Returns the exit code.
    pub fn run(&self) -> Result<i32> {
        crate::cosign_env::note_ignored();
        let policy = self.policy.policy()?;
        let artifact = Artifact::from_arg(&self.artifact);
        let bundle = match (&self.bundle, &self.certificate, &self.signature) {
            (Some(path), _, _) => {
                std::fs::read(path).with_context(|| format!("reading bundle {}", path.display()))?
            }
            (None, Some(certificate), Some(signature)) => {
                if !self.flags.insecure_ignore_tlog {
                    anyhow::bail!(
                        "--certificate/--signature without a bundle carry no transparency log entry: \
                         pass --insecure-ignore-tlog to verify them anyway, or verify the --bundle"
                    );
                }
                let digest: [u8; 32] = artifact
                    .digest(keyless_crypto::HashAlgorithm::Sha256)
                    .context("hashing the artifact")?
                    .try_into()
                    .map_err(|_| {
                        anyhow::anyhow!("the detached signature needs the artifact's SHA-256")
                    })?;
                crate::detached::Detached {
                    certificate,
                    chain: self.certificate_chain.as_ref(),
                    signature,
                    timestamp: self.rfc3161_timestamp.as_ref(),
                }
                .bundle_json(digest)?
            }
            _ => anyhow::bail!("pass --bundle, or --certificate with --signature"),
        };
        let instance = match self.instance.resolve_with_log(self.flags.rekor_url()) {
            Ok(i) => i,
            Err(e) => return Ok(e.report()),
        };
        let witness = self
            .flags
            .extra
            .witness_policy(&self.instance, &instance.trust)?;
        match Verifier::new(instance.trust, self.flags.options())
            .verify_json(&bundle, &artifact, &policy)
        {
            Ok(result) => {
                if let Some(Err(code)) = witness.as_ref().map(|w| w.check_json(&bundle)) {
                    return Ok(code);
                }
                if let Some(id) = &result.identity {
                    eprintln!(
                        "Certificate subject: {}\nCertificate issuer URL: {}",
                        id.sans.join(", "),
                        id.issuer.as_deref().unwrap_or("(none)")
                    );
                }
                for e in &result.log_entries {
                    eprintln!(
                        "tlog entry verified with index: {} ({})",
                        e.log_index, e.log_url
                    );
                }
                eprintln!("Verified OK");
                Ok(exit::OK)
            }
            Err(e) => Ok(crate::report_verification_error(&e)),
        }
    }
}
