//! `--witness URL=VKEY` and `--witness-policy FILE`: one pair of flags,
//! one parser and one meaning for every log `keyless server` runs (`log`,
//! `ct`, and the CA's own CT log).

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use keyless_log::witnessing::WitnessEndpoint;

/// The witnesses a log asks to cosign its checkpoints.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct WitnessArgs {
    /// A C2SP tlog-witness asked to cosign each checkpoint, as URL=VKEY
    /// (submission prefix and cosignature/v1 vkey; repeatable); the log's
    /// checkpoint (/checkpoint, /ct/checkpoint for a CT log) then carries
    /// the cosignatures.
    #[arg(long = "witness", value_name = "URL=VKEY", value_parser = WitnessEndpoint::parse)]
    pub witnesses: Vec<WitnessEndpoint>,
    /// A C2SP tlog-policy file, the one verifiers are given with
    /// `--witness-policy`: each of its witnesses with a URL is asked as
    /// with --witness, so the log gathers the cosignatures that policy
    /// requires. A witness listed without a URL cannot be asked; it is
    /// named in a warning at start.
    #[arg(long = "witness-policy", value_name = "FILE")]
    pub policy: Option<PathBuf>,
}

impl WitnessArgs {
    /// The --witness endpoints, then the policy's witnesses with a URL
    /// (each once: a witness named both ways is asked once).
    pub fn endpoints(&self) -> Result<Vec<WitnessEndpoint>> {
        let mut out = self.witnesses.clone();
        let Some(path) = &self.policy else {
            return Ok(out);
        };
        let policy = crate::verify_flags::witness_check::read_policy(path)?;
        for w in policy.witnesses() {
            let Some(url) = &w.url else {
                tracing::warn!(witness = %w.name, policy = %path.display(), "the witness policy gives no URL for this witness; it is not asked");
                continue;
            };
            let endpoint = WitnessEndpoint::parse(&format!("{url}={}", w.vkey))
                .map_err(anyhow::Error::msg)
                .with_context(|| format!("{}: witness {}", path.display(), w.name))?;
            if !out.iter().any(|e| e.vkey == endpoint.vkey) {
                out.push(endpoint);
            }
        }
        if out.is_empty() {
            bail!(
                "{}: none of the policy's witnesses has a URL, so the log could ask none of them",
                path.display()
            );
        }
        Ok(out)
    }
}
