//! `keyless initialize` (TUF client bootstrap, as `cosign initialize`) and
//! `keyless tuf …` (a TUF repository for a private instance).

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use keyless_tuf::repo::{Repository, RepositoryBuilder};
use keyless_tuf::sigstore::{default_cache_root, Freshness};

/// The public-good TUF root, embedded as the bootstrap anchor (root v15).
/// Newer roots are fetched and verified from the mirror by rotation.
pub const PUBLIC_GOOD_TUF_ROOT: &[u8] =
    include_bytes!("../../../../../assets/public-good/root.json");
pub const PUBLIC_GOOD_MIRROR: &str = "https://tuf-repo-cdn.sigstore.dev";

#[derive(Debug, clap::Args)]
pub struct Initialize {
    /// The TUF repository to trust (HTTP(S) URL or file:// directory).
    #[arg(long, value_name = "URL", default_value = PUBLIC_GOOD_MIRROR)]
    pub mirror: String,
    /// The initial root.json to trust; defaults to the embedded public-good root.
    #[arg(long, value_name = "FILE")]
    pub root: Option<PathBuf>,
    /// Where to cache verified metadata (default ~/.sigstore/root).
    #[arg(long, value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,
}

impl Initialize {
    pub fn run(&self) -> Result<i32> {
        let root = match &self.root {
            Some(p) => std::fs::read(p).with_context(|| format!("reading {}", p.display()))?,
            None if self.mirror == PUBLIC_GOOD_MIRROR => PUBLIC_GOOD_TUF_ROOT.to_vec(),
            None => bail!("--root is required for a mirror other than {PUBLIC_GOOD_MIRROR}"),
        };
        let cache = cache_root(self.cache_dir.as_deref())?;
        let mut tuf = keyless_tuf::sigstore::initialize(&self.mirror, &root, &cache)
            .with_context(|| format!("initializing TUF from {}", self.mirror))?;
        let trusted_root = tuf.trusted_root().context("fetching trusted_root.json")?;
        keyless_verify::TrustMaterial::from_json(&trusted_root)
            .context("the repository's trusted_root.json is unusable")?;
        // Remember which mirror later commands use (cosign keeps remote.json).
        std::fs::write(cache.join(MIRROR_FILE), &self.mirror)
            .with_context(|| format!("writing {}", cache.display()))?;
        eprintln!(
            "Root of trust for {} initialized in {}",
            self.mirror,
            tuf.cache_dir().display()
        );
        if tuf.signing_config().ok().flatten().is_some() {
            eprintln!("Signing config fetched.");
        }
        Ok(crate::exit::OK)
    }
}

fn cache_root(given: Option<&Path>) -> Result<PathBuf> {
    match given {
        Some(p) => Ok(p.to_path_buf()),
        None => {
            default_cache_root().context("no home directory for ~/.sigstore/root; pass --cache-dir")
        }
    }
}

const MIRROR_FILE: &str = "keyless-mirror";

/// `trusted_root.json` and, when the repository has one, the signing config.
pub struct CachedTrust {
    /// The mirror `keyless initialize` was run against.
    pub mirror: String,
    pub trusted_root: Vec<u8>,
    pub signing_config: Option<Vec<u8>>,
}

/// Why an initialized TUF cache cannot be used. Any of these stops the
/// command: falling back to another root would let a mirror that fails a
/// check (or a damaged cache) silently switch the user's trust.
#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    #[error("reading {path}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} names the mirror {mirror}, but its root.json is missing from the cache")]
    MissingRoot { path: String, mirror: String },
    #[error("the metadata of {mirror} in {dir} failed a check")]
    Tuf {
        mirror: String,
        dir: String,
        #[source]
        source: Box<keyless_tuf::Error>,
    },
}

/// Trusted root and signing config from an initialized TUF cache, refreshed
/// when stale; `None` when `keyless initialize` was never run (no mirror
/// recorded in the cache).
pub fn cached_trust() -> Result<Option<CachedTrust>, CacheError> {
    let Some(cache) = default_cache_root() else {
        return Ok(None);
    };
    let mirror_file = cache.join(MIRROR_FILE);
    let mirror = match std::fs::read_to_string(&mirror_file) {
        Ok(m) => m.trim().to_string(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(CacheError::Read {
                path: mirror_file.display().to_string(),
                source,
            })
        }
    };
    let dir = cache.join(keyless_tuf::sigstore::mirror_dir_name(&mirror));
    if !dir.join("root.json").is_file() {
        return Err(CacheError::MissingRoot {
            path: mirror_file.display().to_string(),
            mirror,
        });
    }
    let tuf_error = |source| CacheError::Tuf {
        mirror: mirror.clone(),
        dir: dir.display().to_string(),
        source: Box::new(source),
    };
    let mut tuf = keyless_tuf::sigstore::SigstoreTuf::open(
        &mirror,
        &cache,
        keyless_tuf::AnyFetcher::new(),
        keyless_tuf::sigstore::SigstoreTufOptions::default(),
    )
    .map_err(tuf_error)?;
    if let Freshness::Offline { warning } = tuf.refresh_if_stale().map_err(tuf_error)? {
        eprintln!("WARNING: {warning}");
    }
    let trusted_root = tuf.trusted_root().map_err(tuf_error)?;
    let signing_config = tuf.signing_config().map_err(tuf_error)?;
    Ok(Some(CachedTrust {
        mirror,
        trusted_root,
        signing_config,
    }))
}

#[derive(Debug, clap::Subcommand)]
pub enum TufCommand {
    /// Create a repository (keys 0600 under DIR/keys) with empty targets.
    Init {
        #[arg(long, value_name = "DIR")]
        repo: PathBuf,
    },
    /// Add (or replace) a target file, e.g. trusted_root.json.
    AddTarget {
        #[arg(long, value_name = "DIR")]
        repo: PathBuf,
        /// Name in the repository (default: the file name).
        #[arg(long)]
        name: Option<String>,
        file: PathBuf,
    },
    /// Re-sign changed metadata, bumping versions.
    Sign {
        #[arg(long, value_name = "DIR")]
        repo: PathBuf,
    },
    /// Write the static repository a TUF client reads.
    Publish {
        #[arg(long, value_name = "DIR")]
        repo: PathBuf,
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
    },
    /// Write the trusted_root.json of separately run CA, log and TSA from their data directories.
    TrustedRoot(super::tuf_rotate::TrustedRootArgs),
    /// New CA intermediate (and root, unless --keep-root); the old one's validFor ends; re-sign and publish trusted_root.json.
    RotateCa(super::tuf_rotate::RotateCa),
    /// Start a new log shard (new key and origin); the old shard's validFor ends; re-sign and publish.
    RotateLog(super::tuf_rotate::RotateLog),
    /// New TSA certificate chain; the old one's validFor ends; re-sign and publish trusted_root.json.
    RotateTsa(super::tuf_rotate::RotateTsa),
}

impl TufCommand {
    pub fn run(&self) -> Result<i32> {
        match self {
            Self::Init { repo } => {
                if repo.join("state.json").exists() {
                    bail!("{} already holds a repository", repo.display());
                }
                let r = RepositoryBuilder::new().build()?;
                r.save(repo)?;
                eprintln!(
                    "Created TUF repository in {} (keys in {}/keys, mode 0600)",
                    repo.display(),
                    repo.display()
                );
            }
            Self::AddTarget { repo, name, file } => {
                let mut r = Repository::open(repo)?;
                let data =
                    std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
                let name = match name {
                    Some(n) => n.clone(),
                    None => file
                        .file_name()
                        .and_then(|n| n.to_str())
                        .context("target file has no name")?
                        .to_string(),
                };
                r.add_target(&name, &data)?;
                r.save(repo)?;
                eprintln!("Added target {name}; run `keyless tuf sign` to sign it");
            }
            Self::Sign { repo } => {
                let mut r = Repository::open(repo)?;
                r.sign()?;
                r.save(repo)?;
                eprintln!("Signed metadata in {}", repo.display());
            }
            Self::Publish { repo, out } => {
                let r = Repository::open(repo)?;
                r.publish(out)?;
                eprintln!("Published to {}", out.display());
            }
            Self::TrustedRoot(c) => return c.run(),
            Self::RotateCa(c) => return c.run(),
            Self::RotateLog(c) => return c.run(),
            Self::RotateTsa(c) => return c.run(),
        }
        Ok(crate::exit::OK)
    }
}
