//! `keyless tuf trusted-root | rotate-ca | rotate-log | rotate-tsa`: key
//! rotation for a private instance without breaking old bundles.
//!
//! Each rotation makes the new key material in the service's data
//! directory (the service stopped, or for a log shard, a new one), closes
//! the old trusted-root entry's `validFor` at the cut-over, adds the new
//! entry valid from there, and writes the result into the TUF repository
//! as a new `trusted_root.json` target: new targets, snapshot and
//! timestamp versions signed by the repository's keys, then published.
//! Verifiers pick the entry whose `validFor` contains the signing time
//! (protobuf-specs `TransparencyLogInstance` / `CertificateAuthority`), so
//! bundles signed before the cut-over keep verifying and a retired key's
//! signature after it is refused.

mod edit;
mod material;

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use keyless_tuf::repo::Repository;
use keyless_types::signing_config::SigningConfig;
use keyless_types::time::{format_rfc3339, parse_rfc3339};
use keyless_types::wire;

/// The TUF target names a rotation rewrites.
const TRUSTED_ROOT: &str = "trusted_root.json";
const SIGNING_CONFIG: &str = "signing_config.v0.2.json";

/// Where the trusted root lives and when the cut-over is.
#[derive(Debug, Clone, clap::Args)]
pub struct Publishing {
    /// The TUF repository (as `keyless tuf init` made it) whose
    /// trusted_root.json target is rotated.
    #[arg(long, value_name = "DIR")]
    pub repo: PathBuf,
    /// Where to publish the re-signed repository (the mirror's directory).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// The cut-over (RFC 3339): the retired key's validFor end and the new
    /// key's validFor start. Default: now.
    #[arg(long, value_name = "TIME")]
    pub at: Option<String>,
}

impl Publishing {
    fn at(&self) -> Result<i64> {
        match &self.at {
            Some(t) => parse_rfc3339(t).with_context(|| format!("--at {t}")),
            None => Ok(std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .context("the system clock is before 1970")?
                .as_secs() as i64),
        }
    }

    /// The repository and its current trusted root (checked to load).
    fn open(&self) -> Result<(Repository, wire::TrustedRoot)> {
        let repo = Repository::open(&self.repo)
            .with_context(|| format!("opening the TUF repository {}", self.repo.display()))?;
        let bytes = repo
            .target_data(TRUSTED_ROOT)
            .with_context(|| format!("{} has no {TRUSTED_ROOT} target", self.repo.display()))?;
        let root = edit::parse_root(bytes)?;
        Ok((repo, root))
    }

    /// Add the rotated files as targets, sign (new targets, snapshot and
    /// timestamp versions), save and publish.
    fn publish(
        &self,
        mut repo: Repository,
        root: &wire::TrustedRoot,
        signing_config: Option<&SigningConfig>,
    ) -> Result<()> {
        repo.add_target(TRUSTED_ROOT, &edit::encode_root(root)?)?;
        if let Some(config) = signing_config {
            repo.add_target(SIGNING_CONFIG, &serde_json::to_vec_pretty(config)?)?;
        }
        repo.sign().context("signing the TUF metadata")?;
        repo.save(&self.repo)
            .with_context(|| format!("saving {}", self.repo.display()))?;
        repo.publish(&self.out)
            .with_context(|| format!("publishing to {}", self.out.display()))?;
        Ok(())
    }
}

/// `keyless tuf trusted-root`: the trusted root of separately run services.
#[derive(Debug, clap::Args)]
pub struct TrustedRootArgs {
    /// The CA's data directory (`keyless server ca --data-dir`).
    #[arg(long, value_name = "DIR")]
    pub ca_data_dir: PathBuf,
    /// The CA's public URL.
    #[arg(long, value_name = "URL")]
    pub ca_url: String,
    /// The log's data directory (`keyless server log --data-dir`).
    #[arg(long, value_name = "DIR")]
    pub log_data_dir: PathBuf,
    /// The log's public base URL (scheme://host:port, its checkpoint origin).
    #[arg(long, value_name = "URL")]
    pub log_url: String,
    /// The TSA's data directory (`keyless server tsa --data-dir`).
    #[arg(long, value_name = "DIR")]
    pub tsa_data_dir: PathBuf,
    /// The TSA's timestamp URL (…/api/v1/timestamp).
    #[arg(long, value_name = "URL")]
    pub tsa_url: String,
    /// Where to write trusted_root.json.
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
}

impl TrustedRootArgs {
    pub fn run(&self) -> Result<i32> {
        material::origin_of(&self.log_url)?;
        let mut root = material::ca_entries(&self.ca_data_dir, &self.ca_url, &self.ca_url)?;
        // The log's key is trusted from the epoch: everything it ever signed.
        root.tlogs = vec![material::log_entry(&self.log_data_dir, &self.log_url, 0)?];
        root.timestamp_authorities = vec![material::tsa_entry(&self.tsa_data_dir, &self.tsa_url)?];
        write_file(&self.out, &edit::encode_root(&root)?)?;
        eprintln!("Wrote {}", self.out.display());
        Ok(crate::exit::OK)
    }
}

/// `keyless tuf rotate-ca`.
#[derive(Debug, clap::Args)]
pub struct RotateCa {
    #[command(flatten)]
    pub publishing: Publishing,
    /// The CA's data directory; stop the CA first, start it again after.
    #[arg(long, value_name = "DIR")]
    pub data_dir: PathBuf,
    /// Curve of the new intermediate key.
    #[arg(long, value_name = "CURVE", default_value = "p384", value_parser = ["p256", "p384"])]
    pub intermediate_key_algorithm: String,
    /// Issue only a new intermediate under the current root (default: a
    /// new root and intermediate).
    #[arg(long)]
    pub keep_root: bool,
}

impl RotateCa {
    pub fn run(&self) -> Result<i32> {
        let at = self.publishing.at()?;
        let (repo, mut root) = self.publishing.open()?;
        let algorithm = match self.intermediate_key_algorithm.as_str() {
            "p256" => keyless_crypto::KeyAlgorithm::EcdsaP256,
            _ => keyless_crypto::KeyAlgorithm::EcdsaP384,
        };
        let new = material::rotate_ca(&self.data_dir, algorithm, at, self.keep_root)?;
        let mut entry = new.entry;
        entry.uri.clear();
        edit::rotate_authority(
            &mut root.certificate_authorities,
            &new.old_leaf,
            entry,
            at,
            "certificate authority",
        )?;
        self.publishing.publish(repo, &root, None)?;
        let retired = new.retired.keep();
        let what = if self.keep_root {
            "CA intermediate"
        } else {
            "CA root and intermediate"
        };
        report(what, at, &retired, &self.publishing);
        eprintln!("Restart the CA: it issues from the new intermediate.");
        Ok(crate::exit::OK)
    }
}

/// `keyless tuf rotate-log`.
#[derive(Debug, clap::Args)]
pub struct RotateLog {
    #[command(flatten)]
    pub publishing: Publishing,
    /// The new shard's data directory (its key is generated there).
    #[arg(long, value_name = "DIR")]
    pub data_dir: PathBuf,
    /// The new shard's base URL; its host:port is the new origin.
    #[arg(long, value_name = "URL")]
    pub url: String,
    /// Retire only the log at this base URL (default: every open one).
    #[arg(long, value_name = "URL")]
    pub retire: Option<String>,
}

impl RotateLog {
    pub fn run(&self) -> Result<i32> {
        let at = self.publishing.at()?;
        let (repo, mut root) = self.publishing.open()?;
        let entry = material::log_entry(&self.data_dir, &self.url, at)?;
        let retired = edit::rotate_tlog(&mut root.tlogs, self.retire.as_deref(), entry, at)?;
        let signing_config = match repo.target_data(SIGNING_CONFIG) {
            Some(bytes) => {
                anyhow::ensure!(
                    bytes.len() <= edit::MAX_TRUST_FILE,
                    "{SIGNING_CONFIG} is too large"
                );
                let mut config: SigningConfig =
                    serde_json::from_slice(bytes).context("parsing the signing config")?;
                edit::rotate_signing_config(&mut config, &retired, &self.url, at)?;
                Some(config)
            }
            None => None,
        };
        self.publishing
            .publish(repo, &root, signing_config.as_ref())?;
        eprintln!(
            "Retired log shard(s) {} at {}; new shard {} (origin {}) from then on.",
            retired.join(", "),
            format_rfc3339(at),
            self.url,
            material::origin_of(&self.url)?
        );
        eprintln!(
            "Start it with `keyless server log --data-dir {} --listen {}`; keep the old shard serving reads.",
            self.data_dir.display(),
            material::origin_of(&self.url)?
        );
        eprintln!("Published to {}", self.publishing.out.display());
        Ok(crate::exit::OK)
    }
}

/// `keyless tuf rotate-tsa`.
#[derive(Debug, clap::Args)]
pub struct RotateTsa {
    #[command(flatten)]
    pub publishing: Publishing,
    /// The TSA's data directory; stop the TSA first, start it again after.
    #[arg(long, value_name = "DIR")]
    pub data_dir: PathBuf,
}

impl RotateTsa {
    pub fn run(&self) -> Result<i32> {
        let at = self.publishing.at()?;
        let (repo, mut root) = self.publishing.open()?;
        let new = material::rotate_tsa(&self.data_dir, at)?;
        let mut entry = new.entry;
        entry.uri.clear();
        edit::rotate_authority(
            &mut root.timestamp_authorities,
            &new.old_leaf,
            entry,
            at,
            "timestamp authority",
        )?;
        self.publishing.publish(repo, &root, None)?;
        let retired = new.retired.keep();
        report("TSA certificate chain", at, &retired, &self.publishing);
        eprintln!("Restart the TSA: it stamps with the new certificate.");
        Ok(crate::exit::OK)
    }
}

fn report(what: &str, at: i64, retired: &Path, publishing: &Publishing) {
    eprintln!(
        "Rotated the {what} at {}; the old files are in {}",
        format_rfc3339(at),
        retired.display()
    );
    eprintln!("Published to {}", publishing.out.display());
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, bytes).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("writing {}", path.display()))
}
