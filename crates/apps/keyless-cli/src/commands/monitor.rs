//! `keyless monitor`: follow a transparency log and print the entries
//! signed by a watched identity or key, one JSON line each; with
//! `--ct-log`, follow the CA's CT log too and print every certificate
//! issued for a watched identity. A log that rewrites its history is an
//! alarm (exit code 3), never skipped.

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result};
use keyless_monitor::ct::CtHit;
use keyless_monitor::scan::Hit;
use keyless_monitor::{Fetcher, FollowError, Found, LogKind, Matcher, Monitor as LogMonitor};
use keyless_tlog::Checkpoint;
use serde_json::json;

use crate::instance::InstanceArgs;

/// The exit code for a log caught rewriting its history.
pub const ALARM: i32 = 3;

/// Follow a log and report entries by an identity or key.
#[derive(Debug, clap::Args)]
pub struct Monitor {
    /// The log's base URL (tlog-tiles, or only the Rekor v1 API).
    #[arg(long, value_name = "URL", required_unless_present = "ct_log")]
    log: Option<String>,
    /// Also follow this CT log (the CA's URL, or a static-ct-api
    /// monitoring prefix): every certificate issued for a watched
    /// identity. Its state is kept in `<--state>.ct`.
    #[arg(long, value_name = "URL")]
    ct_log: Option<String>,
    /// The CT log's public key (PEM), instead of the trusted root's.
    #[arg(long, value_name = "FILE", requires = "ct_log")]
    ct_log_public_key: Option<PathBuf>,
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
    /// With no state file yet: the first entry to read (default: only new
    /// entries). Applies to --log, and to --ct-log unless --ct-from-index
    /// is given.
    #[arg(long, value_name = "N")]
    from_index: Option<u64>,
    /// With no CT state file yet: the first CT log entry to read (CT and
    /// Rekor indices are unrelated); default: --from-index, else only new
    /// entries.
    #[arg(long, value_name = "N", requires = "ct_log")]
    ct_from_index: Option<u64>,
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

fn ct_line(base: &str, hit: &CtHit, cp: &Checkpoint) -> serde_json::Value {
    let cert = hit.info.certificate.as_ref();
    json!({
        "log": "ct",
        "logIndex": hit.index,
        "timestamp": hit.cert.timestamp,
        "entryType": hit.cert.entry_type,
        "identity": hit.identity,
        "issuer": cert.and_then(|c| c.oidc_issuer.clone()),
        "subject": cert.map(|c| c.subject.clone()).filter(|s| !s.is_empty()),
        "serial": hit.cert.serial,
        "fingerprint": format!("sha256:{}", hit.cert.fingerprint),
        "checkpoint": {"size": cp.size, "rootHash": hex::encode(cp.root_hash)},
        "entryUrl": format!("{base}/{}", hit.tile),
    })
}

/// The CT log's monitoring prefix: `url` if it serves a checkpoint, else
/// `url/ct` (the keyless CA serves its log there).
async fn ct_base(url: &str) -> Result<String> {
    let url = url.trim_end_matches('/');
    let fetch = Fetcher::new(url)?;
    let limit = keyless_monitor::fetch::MAX_CHECKPOINT;
    if url.ends_with("/ct") || fetch.get_opt("checkpoint", limit).await?.is_some() {
        return Ok(url.to_string());
    }
    Ok(format!("{url}/ct"))
}

/// The CT log's key: `--ct-log-public-key`, else the trusted root's CT
/// log key that verifies the log's current checkpoint (the trusted root
/// lists CT logs by key, not by URL).
async fn ct_verifier(
    base: &str,
    key_file: Option<&std::path::Path>,
    instance: &InstanceArgs,
) -> Result<keyless_tlog::NoteVerifier> {
    let any_name = |key| {
        keyless_tlog::NoteVerifier::any_name(key)
            .context("the CT log's key cannot verify checkpoints")
    };
    if let Some(path) = key_file {
        let pem =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let key = keyless_crypto::PublicKey::from_pem(&pem)
            .with_context(|| format!("{} is not a PEM public key", path.display()))?;
        return any_name(key);
    }
    let limit = keyless_monitor::fetch::MAX_CHECKPOINT;
    let text = Fetcher::new(base)?.get("checkpoint", limit).await?;
    let note = keyless_tlog::SignedNote::parse(&String::from_utf8_lossy(&text))
        .with_context(|| format!("{base}/checkpoint is not a signed note"))?;
    for log in &instance.resolve()?.trust.ctlogs {
        let verifier = any_name(log.key.clone())?;
        if note.verify(&verifier).is_ok() {
            return Ok(verifier);
        }
    }
    anyhow::bail!(
        "no CT log key of the trusted root signed {base}/checkpoint (give --ct-log-public-key)"
    )
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
        let rt = crate::signing::runtime()?;
        let mut monitors = Vec::new();
        if let Some(log) = &self.log {
            let verifier =
                super::log::log_verifier(log, self.log_public_key.as_deref(), &self.instance)?;
            monitors.push(LogMonitor {
                fetch: Fetcher::new(log)?,
                verifier,
                matcher: matcher.clone(),
                state_path: self.state.clone(),
                from_index: self.from_index,
                stop_after: self.stop_after,
                kind: LogKind::Rekor,
            });
        }
        if let Some(url) = &self.ct_log {
            let base = rt.block_on(ct_base(url))?;
            let verifier = rt.block_on(ct_verifier(
                &base,
                self.ct_log_public_key.as_deref(),
                &self.instance,
            ))?;
            let mut state = self.state.clone().into_os_string();
            state.push(".ct");
            monitors.push(LogMonitor {
                fetch: Fetcher::new(&base)?,
                verifier,
                matcher,
                state_path: state.into(),
                from_index: self.ct_from_index.or(self.from_index),
                stop_after: self.stop_after,
                kind: LogKind::Ct,
            });
        }
        loop {
            let mut stopped = false;
            for monitor in &monitors {
                let base = monitor.fetch.base().to_string();
                let mut emit = |found: Found<'_>, cp: &Checkpoint| {
                    let line = match found {
                        Found::Entry(hit) => hit_line(&base, hit, cp),
                        Found::Certificate(hit) => ct_line(&base, hit, cp),
                    };
                    let mut out = std::io::stdout().lock();
                    writeln!(out, "{line}")?;
                    out.flush()
                };
                match rt.block_on(monitor.run_once(&mut emit)) {
                    Ok(p) => {
                        eprintln!(
                            "{base}: checkpoint {}: read {} entries, {} matched, next index {}",
                            p.checkpoint_size, p.entries_read, p.matches, p.next_index
                        );
                        if p.undecodable > 0 {
                            eprintln!(
                                "{base}: WARNING: {} entries did not decode and could not be matched",
                                p.undecodable
                            );
                        }
                        stopped |= p.stopped;
                    }
                    Err(FollowError::Alarm(alarm)) => {
                        eprintln!("{alarm}");
                        return Ok(ALARM);
                    }
                    Err(e) => return Err(e.into()),
                }
            }
            if stopped || self.once {
                return Ok(crate::exit::OK);
            }
            std::thread::sleep(Duration::from_secs(self.interval.max(1)));
        }
    }
}
