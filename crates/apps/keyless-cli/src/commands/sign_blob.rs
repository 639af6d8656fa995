//! `keyless sign-blob`: sign a file keylessly into a Sigstore bundle.

use std::path::PathBuf;

use anyhow::{Context, Result};
use base64::Engine;
use keyless_sign::Artifact;

use crate::signing::{runtime, SignArgs};

#[derive(Debug, clap::Args)]
pub struct SignBlob {
    /// The file to sign (hashed as a stream; any size).
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Where to write the Sigstore bundle (v0.3).
    #[arg(long, value_name = "FILE")]
    pub bundle: PathBuf,
    /// Also write the signing certificate (PEM) here.
    #[arg(long, value_name = "FILE")]
    pub output_certificate: Option<PathBuf>,
    /// Also write the signature (base64) here.
    #[arg(long, value_name = "FILE")]
    pub output_signature: Option<PathBuf>,
    #[command(flatten)]
    pub sign: SignArgs,
}

impl SignBlob {
    pub fn run(&self) -> Result<i32> {
        let digest = crate::hashing::sha256_file(&self.file)?;
        let (instance, endpoints) = self.sign.prepare()?;
        let signed = runtime()?.block_on(self.sign.sign(
            &instance,
            &endpoints,
            &Artifact::Digest(digest),
        ))?;
        let json = keyless_sign::bundle_json(&signed.bundle)?;
        std::fs::write(&self.bundle, json)
            .with_context(|| format!("writing {}", self.bundle.display()))?;
        if let Some(p) = &self.output_certificate {
            let leaf = signed
                .chain
                .first()
                .context("--output-certificate: signing with --key makes no certificate")?;
            std::fs::write(p, keyless_sign::http::certificate_pem(leaf))
                .with_context(|| format!("writing {}", p.display()))?;
            eprintln!("Wrote certificate to file {}", p.display());
        }
        if let Some(p) = &self.output_signature {
            std::fs::write(
                p,
                base64::engine::general_purpose::STANDARD.encode(&signed.signature),
            )
            .with_context(|| format!("writing {}", p.display()))?;
            eprintln!("Wrote signature to file {}", p.display());
        }
        eprintln!("Wrote bundle to file {}", self.bundle.display());
        Ok(crate::exit::OK)
    }
}
