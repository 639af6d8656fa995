//! `keyless log verify`: check that a log still contains the tree of a
//! checkpoint remembered earlier (append-only, no rewritten history) — the
//! basis for monitors and witnesses. `get`, `search` and `checkpoint` read
//! entries and checkpoints (see `log_read`).

use std::path::PathBuf;

use anyhow::{Context, Result};
use keyless_tlog::NoteVerifier;

pub use super::log_read::log_verifier;
use super::log_read::{checkpoint, get, search, LogArgs};
use crate::instance::InstanceArgs;

#[derive(Debug, clap::Subcommand)]
pub enum LogCommand {
    /// Print one entry, decoded, with its inclusion proof verified.
    Get {
        #[command(flatten)]
        log: LogArgs,
        /// The entry's index.
        #[arg(
            long,
            value_name = "N",
            required_unless_present = "uuid",
            conflicts_with = "uuid"
        )]
        index: Option<u64>,
        /// The entry's UUID (leaf hash, hex).
        #[arg(long, value_name = "U")]
        uuid: Option<String>,
    },
    /// Find entries by artifact digest, signer email or public key.
    Search {
        #[command(flatten)]
        log: LogArgs,
        /// The artifact's SHA-256, hex.
        #[arg(long, value_name = "HEX", required_unless_present_any = ["email", "public_key"], conflicts_with_all = ["email", "public_key"])]
        sha256: Option<String>,
        /// The signer's email.
        #[arg(long, value_name = "E", conflicts_with = "public_key")]
        email: Option<String>,
        /// The signer's public key or certificate (PEM).
        #[arg(long, value_name = "FILE")]
        public_key: Option<PathBuf>,
    },
    /// Print the log's checkpoint, signature verified.
    Checkpoint {
        #[command(flatten)]
        log: LogArgs,
    },
    /// Verify consistency between a remembered checkpoint and the log's current one.
    Verify {
        /// The log's base URL (as in the trusted root's tlogs).
        #[arg(long, value_name = "URL")]
        url: String,
        /// A signed checkpoint saved earlier (e.g. from GET URL/checkpoint).
        #[arg(long, value_name = "FILE")]
        from_checkpoint: PathBuf,
        #[command(flatten)]
        instance: InstanceArgs,
    },
}

impl LogCommand {
    pub fn run(&self) -> Result<i32> {
        let (url, from_checkpoint, instance) = match self {
            Self::Get { log, index, uuid } => return get(log, *index, uuid.as_deref()),
            Self::Search {
                log,
                sha256,
                email,
                public_key,
            } => {
                return search(
                    log,
                    sha256.as_deref(),
                    email.as_deref(),
                    public_key.as_deref(),
                )
            }
            Self::Checkpoint { log } => return checkpoint(log),
            Self::Verify {
                url,
                from_checkpoint,
                instance,
            } => (url, from_checkpoint, instance),
        };
        let trust = instance.resolve()?.trust;
        let base = url.trim_end_matches('/');
        let log = trust
            .tlogs
            .iter()
            .find(|l| l.base_url.trim_end_matches('/') == base)
            .with_context(|| format!("{url} is not a transparency log in the trusted root"))?;
        let verifier = NoteVerifier::new(&log.origin, log.key.clone())
            .context("the log's key cannot verify checkpoints")?;
        let old = std::fs::read_to_string(from_checkpoint)
            .with_context(|| format!("reading {}", from_checkpoint.display()))?;
        let rt = crate::signing::runtime()?;
        let new = rt.block_on(keyless_log::verify_consistency_remote(
            base, &old, &verifier,
        ))?;
        eprintln!("Consistent: the log at {url} now has {} entries (root {}) and contains the remembered tree", new.size, hex::encode(new.root_hash));
        Ok(crate::exit::OK)
    }
}
