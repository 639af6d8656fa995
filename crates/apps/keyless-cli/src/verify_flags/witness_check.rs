//! `--witness-policy FILE` (or `"witnessPolicy"` in the trust config): after
//! a bundle verified, each of its log entries must be covered by a
//! checkpoint the policy's witness quorum cosigned (C2SP tlog-policy,
//! checked by `keyless_verify::witnessed`).
//!
//! The bundle's own checkpoint carries only the log's signature, so this
//! fetches the log's latest checkpoint from the trusted root's `baseUrl`
//! (`GET <baseUrl>/checkpoint`, which a witnessed log serves with its
//! cosignature lines) and computes the consistency proof from the
//! bundle's tree size to it from the log's tlog-tiles hash tiles. Every
//! read is capped (keyless-monitor's `Fetcher`). Logs that serve no tiles
//! (Rekor v1) cannot satisfy a policy: the command fails, it never falls
//! back to skipping the check.
//!
//! A log serves its cosigned checkpoint only while it is the latest one;
//! right after an append the witnesses may not have answered yet, so a
//! quorum that is not met is asked again for up to [`QUORUM_WAIT`].

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result};
use keyless_monitor::fetch::{Fetcher, MAX_CHECKPOINT};
use keyless_monitor::tiles::TileReader;
use keyless_types::bundle::Bundle;
use keyless_verify::witness_policy::MAX_POLICY_SIZE;
use keyless_verify::witnessed::{self, WitnessError, WitnessedEntry};
use keyless_verify::{TrustMaterial, WitnessPolicy};

/// The trust config key (a keyless extension of Sigstore's
/// ClientTrustConfig) whose string value is a tlog-policy text.
pub const TRUST_CONFIG_KEY: &str = "witnessPolicy";
/// Largest trust config read for the key.
const MAX_TRUST_CONFIG: u64 = 16 << 20;
/// How long a quorum that is not met is retried (see the module docs).
pub const QUORUM_WAIT: Duration = Duration::from_secs(3);
const RETRY_EVERY: Duration = Duration::from_millis(250);

/// The policy to enforce: the `--witness-policy` file, else the trust
/// config's `witnessPolicy`, else none (cosignatures are then ignored).
pub fn load(flag: Option<&Path>, trust_config: Option<&PathBuf>) -> Result<Option<WitnessPolicy>> {
    if let Some(path) = flag {
        return read_policy(path).map(Some);
    }
    let Some(path) = trust_config else {
        return Ok(None);
    };
    let text = read_capped(path, MAX_TRUST_CONFIG)
        .with_context(|| format!("reading trust config {}", path.display()))?;
    let json: serde_json::Value =
        serde_json::from_str(&text).with_context(|| format!("trust config {}", path.display()))?;
    let source = format!("{TRUST_CONFIG_KEY} of {}", path.display());
    match json.get(TRUST_CONFIG_KEY) {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(serde_json::Value::String(text)) => Ok(Some(
            WitnessPolicy::parse(text, &source).with_context(|| source.clone())?,
        )),
        Some(_) => anyhow::bail!("{source} is not a string (a C2SP tlog-policy text)"),
    }
}

/// The C2SP tlog-policy file at `path` (capped at [`MAX_POLICY_SIZE`]).
pub fn read_policy(path: &Path) -> Result<WitnessPolicy> {
    let text = read_capped(path, MAX_POLICY_SIZE as u64)
        .with_context(|| format!("reading witness policy {}", path.display()))?;
    WitnessPolicy::parse(&text, &path.display().to_string())
        .with_context(|| format!("witness policy {}", path.display()))
}

fn read_capped(path: &Path, max: u64) -> Result<String> {
    use std::io::Read;
    let file = std::fs::File::open(path)?;
    let mut text = String::new();
    file.take(max + 1).read_to_string(&mut text)?;
    anyhow::ensure!(text.len() as u64 <= max, "larger than {max} bytes");
    Ok(text)
}

/// Enforce `policy` on every log entry of `bundle` (which has verified).
/// Blocking: it runs its own runtime for the fetches.
pub fn enforce(
    policy: &WitnessPolicy,
    trust: &TrustMaterial,
    bundle: &Bundle,
) -> Result<Vec<WitnessedEntry>> {
    // No entry means nothing a witness vouched for (a detached signature
    // or --insecure-ignore-tlog): with a policy that is a failure.
    anyhow::ensure!(
        !bundle.tlog_entries.is_empty(),
        "witness policy {}: the bundle has no transparency log entry whose checkpoint witnesses could have cosigned",
        policy.source()
    );
    let rt = crate::signing::runtime()?;
    rt.block_on(async {
        let mut out = Vec::with_capacity(bundle.tlog_entries.len());
        for (i, entry) in bundle.tlog_entries.iter().enumerate() {
            out.push(enforce_entry(policy, trust, i, entry).await?);
        }
        Ok(out)
    })
}

async fn enforce_entry(
    policy: &WitnessPolicy,
    trust: &TrustMaterial,
    i: usize,
    entry: &keyless_types::bundle::TlogEntry,
) -> Result<WitnessedEntry> {
    let (log, _) = witnessed::entry_log(policy, trust, i, entry)?;
    let fetch = Fetcher::new(&log.base_url)?;
    let deadline = tokio::time::Instant::now() + QUORUM_WAIT;
    loop {
        let latest = fetch
            .get("checkpoint", MAX_CHECKPOINT)
            .await
            .with_context(|| {
                format!("witness policy {}: the latest checkpoint", policy.source())
            })?;
        let latest = String::from_utf8(latest).with_context(|| {
            format!(
                "witness policy {}: the latest checkpoint is not text",
                policy.source()
            )
        })?;
        let proof = match (witnessed::bundle_size(entry), witnessed::latest_size(&latest)) {
            (Some(old), Some(new)) if old > 0 && old < new => TileReader::new(&fetch)
                .consistency_proof(old, new)
                .await
                .with_context(|| {
                    format!(
                        "witness policy {}: the consistency proof from size {old} to {new} from {}'s tiles",
                        policy.source(),
                        log.base_url
                    )
                })?,
            // Same size, or unparsable (check_entry says what is wrong).
            _ => Vec::new(),
        };
        match witnessed::check_entry(policy, trust, i, entry, &latest, &proof) {
            Err(WitnessError::Quorum { .. }) if tokio::time::Instant::now() < deadline => {
                tokio::time::sleep(RETRY_EVERY).await;
            }
            other => return Ok(other?),
        }
    }
}

/// Print what the policy vouched for, one line per entry, on stderr.
pub fn report(entries: &[WitnessedEntry]) {
    for e in entries {
        eprintln!(
            "witness policy met: {} checkpoint size {} cosigned by {} (bundle's size {})",
            e.log_url,
            e.witnessed_size,
            if e.cosigners.is_empty() {
                "nobody (quorum none)".to_string()
            } else {
                e.cosigners.join(", ")
            },
            e.bundle_size
        );
    }
}

/// A policy with the trust it is checked against: what the verify
/// commands hold when a witness policy is in force.
#[derive(Debug, Clone)]
pub struct Enforcer {
    pub policy: WitnessPolicy,
    pub trust: TrustMaterial,
}

impl Enforcer {
    /// After a bundle (as JSON) verified: enforce the policy on it, print
    /// the outcome, and return the exit code of a failure (a checkpoint
    /// failure's, or a malformed bundle's).
    pub fn check_json(&self, bundle_json: &[u8]) -> Result<(), i32> {
        match Bundle::from_json(bundle_json) {
            Ok(bundle) => self.check(&bundle),
            Err(e) => {
                eprintln!(
                    "Error: witness policy {}: {}",
                    self.policy.source(),
                    crate::error_chain(&e)
                );
                Err(crate::exit::for_kind(keyless_verify::ErrorKind::Bundle))
            }
        }
    }

    /// [`Enforcer::check_json`] on a parsed bundle.
    pub fn check(&self, bundle: &Bundle) -> Result<(), i32> {
        match self.try_check(bundle) {
            Ok(entries) => {
                report(&entries);
                Ok(())
            }
            Err(e) => {
                eprintln!("Error: {}", crate::error_chain(e.as_ref()));
                eprintln!("hint: {HINT}");
                Err(crate::exit::for_kind(keyless_verify::ErrorKind::Checkpoint))
            }
        }
    }

    /// The check, its failure as an error (for callers that collect them).
    pub fn try_check(&self, bundle: &Bundle) -> Result<Vec<WitnessedEntry>> {
        enforce(&self.policy, &self.trust, bundle)
    }
}

/// Printed after a witness policy failure.
pub const HINT: &str = "the log's checkpoint is not cosigned by the witnesses the policy asks for, or the log \
showed this bundle a tree the witnesses did not see; check the policy's witness keys and that the log is \
configured with those witnesses";
