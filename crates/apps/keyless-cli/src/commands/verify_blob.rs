//! `keyless verify-blob`: verify a file (or a digest) against a Sigstore
//! bundle, the trusted root and an identity or key policy.

use std::path::PathBuf;

use anyhow::{Context, Result};
use keyless_verify::{Artifact, Verifier, VerifierOptions};

use crate::exit;
use crate::instance::InstanceArgs;
use crate::verify_args::PolicyArgs;

#[derive(Debug, clap::Args)]
#[command(after_help = exit::TABLE)]
pub struct VerifyBlob {
    /// The Sigstore bundle (JSON, v0.1 to v0.3) to verify against.
    #[arg(long, value_name = "FILE")]
    pub bundle: PathBuf,
    #[command(flatten)]
    pub policy: PolicyArgs,
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
        let policy = self.policy.policy()?;
        let bundle = std::fs::read(&self.bundle)
            .with_context(|| format!("reading bundle {}", self.bundle.display()))?;
        let artifact = Artifact::from_arg(&self.artifact);
        let instance = match self.instance.resolve() {
            Ok(i) => i,
            Err(e) => return Ok(e.report()),
        };
        match Verifier::new(instance.trust, VerifierOptions::default())
            .verify_json(&bundle, &artifact, &policy)
        {
            Ok(result) => {
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
