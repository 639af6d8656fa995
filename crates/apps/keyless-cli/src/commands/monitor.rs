//! `keyless monitor`: follow a transparency log and print the entries
//! signed by a watched identity or key, one JSON line each. A log that
//! rewrites its history is an alarm (exit code 3), never skipped.

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result};
use keyless_monitor::scan::Hit;
use keyless_monitor::{Fetcher, FollowError, Matcher, Monitor as LogMonitor};
use keyless_tlog::Checkpoint;
use serde_json::json;

use crate::instance::InstanceArgs;

/// The exit code for a log caught rewriting its history.
pub const ALARM: i32 = 3;

/// Follow a log and report entries by an identity or key.
#[derive(Debug, clap::Args)]
pub struct Monitor {
    /// The log's base URL.
    #[arg(long, value_name = "URL")]
    log: String,
    /// Report certificates for this identity (email, URI).
    #[arg(long, value_name = "EMAIL", required_unless_present_any = ["identity_regexp", "key"])]
    identity: Option<String>,
    /// Report certificates whose identity matches this regular expression (whole identity).
    #[arg(long, value_name = "RE", conflicts_with = "identity")]
    identity_regexp: Option<String>,
    /// Only certificates from this OIDC issuer.
    #[arg(long, value_name = "ISS")]
    issuer: Option<String>,
    /// Report entries signed by this public key (PEM); repeatable.
    #[arg(long, value_name = "PUBKEY")]
    key: Vec<PathBuf>,
    /// Where the last verified checkpoint and position are kept.
    #[arg(long, value_name = "FILE")]
    state: PathBuf,
    /// The log's public key (PEM), instead of the trusted root's.
    #[arg(long, value_name = "FILE")]
    log_public_key: Option<PathBuf>,
    /// One pass, then exit.
    #[arg(long)]
    once: bool,
    /// Seconds between passes.
    #[arg(long, value_name = "SECS", default_value_t = 60)]
    interval: u64,
    /// With no state file yet: the first entry to read (default: only new entries).
    #[arg(long, value_name = "N")]
    from_index: Option<u64>,
    /// Test hook: stop (state saved) after this many matches.
    #[arg(long, hide = true)]
    stop_after: Option<u64>,
    #[command(flatten)]
    instance: InstanceArgs,
}

fn hit_line(base: &str, hit: &Hit, cp: &Checkpoint) -> serde_json::Value {
    let cert = hit.info.certificate.as_ref();
    json!({
        "logIndex": hit.index,
        "uuid": hex::encode(hit.leaf),
        "kind": hit.info.kind,
        "apiVersion": hit.info.api_version,
        "identity": hit.identity,
        "issuer": cert.and_then(|c| c.oidc_issuer.clone()),
        "subject": cert.map(|c| c.subject.clone()).filter(|s| !s.is_empty()),
        "digest": hit.info.digest,
        "checkpoint": {"size": cp.size, "rootHash": hex::encode(cp.root_hash)},
        "entryUrl": format!("{base}/api/v1/log/entries?logIndex={}", hit.index),
    })
}

impl Monitor {
    pub fn run(&self) -> Result<i32> {
        let regexp = self
            .identity_regexp
            .as_deref()
            .map(|re| regex::Regex::new(&format!("^(?:{re})$")))
            .transpose()
            .context("--identity-regexp")?;
        let mut keys = Vec::new();
        for path in &self.key {
            let pem = std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?;
            let key = keyless_crypto::PublicKey::from_pem(&pem)
                .with_context(|| format!("{} is not a PEM public key", path.display()))?;
            keys.push(keyless_crypto::sha256(key.spki_der()));
        }
        let matcher = Matcher::new(self.identity.clone(), regexp, self.issuer.clone(), keys);
        let verifier =
            super::log::log_verifier(&self.log, self.log_public_key.as_deref(), &self.instance)?;
        let monitor = LogMonitor {
            fetch: Fetcher::new(&self.log),
            verifier,
            matcher,
            state_path: self.state.clone(),
            from_index: self.from_index,
            stop_after: self.stop_after,
        };
        let base = monitor.fetch.base().to_string();
        let rt = crate::signing::runtime()?;
        loop {
            let mut emit = |hit: &Hit, cp: &Checkpoint| {
                let mut out = std::io::stdout().lock();
                writeln!(out, "{}", hit_line(&base, hit, cp))?;
                out.flush()
            };
            match rt.block_on(monitor.run_once(&mut emit)) {
                Ok(p) => {
                    eprintln!(
                        "checkpoint {}: read {} entries, {} matched, next index {}",
                        p.checkpoint_size, p.entries_read, p.matches, p.next_index
                    );
                    if p.stopped || self.once {
                        return Ok(crate::exit::OK);
                    }
                }
                Err(FollowError::Alarm(alarm)) => {
                    eprintln!("{alarm}");
                    return Ok(ALARM);
                }
                Err(e) => return Err(e.into()),
            }
            std::thread::sleep(Duration::from_secs(self.interval.max(1)));
        }
    }
}
