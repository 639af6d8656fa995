//! Sigstore's use of TUF: the trust root (`trusted_root.json`) and the
//! signing configuration (`signing_config.v0.2.json`) are targets of a TUF
//! repository (production mirror `https://tuf-repo-cdn.sigstore.dev`).
//!
//! Cache layout, as sigstore-go and cosign use it:
//!
//! ```text
//! ~/.sigstore/root/<mirror>/root.json, timestamp.json, snapshot.json, targets.json
//! ~/.sigstore/root/<mirror>/targets/<target name>
//! ```
//!
//! where `<mirror>` is the mirror URL without `https://` and with `/`
//! replaced by `-` (e.g. `tuf-repo-cdn.sigstore.dev`).

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use crate::client::cache::{target_file_name, write_atomic};
use crate::client::{verify_target, Updater, UpdaterConfig};
use crate::error::{Error, TargetError};
use crate::fetch::{AnyFetcher, Fetcher};

/// The production Sigstore TUF mirror.
pub const DEFAULT_MIRROR: &str = "https://tuf-repo-cdn.sigstore.dev";
/// The target holding the protobuf-specs `TrustedRoot`.
pub const TRUSTED_ROOT_TARGET: &str = "trusted_root.json";
/// The target holding the protobuf-specs `SigningConfig` (v0.2 media type).
pub const SIGNING_CONFIG_TARGET: &str = "signing_config.v0.2.json";

/// `$TUF_ROOT` when set (as cosign reads it), else `$HOME/.sigstore/root`,
/// the cache root cosign and sigstore-go use.
pub fn default_cache_root() -> Option<PathBuf> {
    if let Some(root) = std::env::var_os("TUF_ROOT").filter(|r| !r.is_empty()) {
        return Some(PathBuf::from(root));
    }
    std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(|h| PathBuf::from(h).join(".sigstore").join("root"))
}

/// The directory name for a mirror: the URL without its scheme, `/` and
/// characters unsafe in file names replaced by `-`.
pub fn mirror_dir_name(mirror_url: &str) -> String {
    let s = mirror_url
        .strip_prefix("https://")
        .or_else(|| mirror_url.strip_prefix("http://"))
        .or_else(|| mirror_url.strip_prefix("file://"))
        .unwrap_or(mirror_url)
        .trim_end_matches('/');
    let name: String = s
        .chars()
        .map(|c| match c {
            '/' | '\\' | ':' => '-',
            c if c.is_ascii_alphanumeric() || "-._~".contains(c) => c,
            _ => '_',
        })
        .collect();
    let name = name.trim_matches('-').to_string();
    if name.is_empty() || name.chars().all(|c| c == '.') {
        "mirror".into()
    } else {
        name
    }
}

/// Options for [`SigstoreTuf`].
#[derive(Debug, Clone)]
pub struct SigstoreTufOptions {
    /// Cached metadata younger than this (by the time `timestamp.json` was
    /// last written) is used without contacting the mirror. sigstore-go's
    /// default is one day.
    pub cache_validity: Duration,
    pub updater: UpdaterConfig,
}

impl Default for SigstoreTufOptions {
    fn default() -> Self {
        Self {
            cache_validity: Duration::from_secs(24 * 3600),
            updater: UpdaterConfig::default(),
        }
    }
}

/// How fresh the metadata in use is.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Freshness {
    /// Updated from the mirror just now.
    Updated,
    /// The cache was recent enough; the mirror was not contacted.
    Cached,
    /// The mirror could not be reached (no connection at all, not an HTTP
    /// error); verified, unexpired cached metadata is used. Show the
    /// warning to the user.
    Offline { warning: String },
}

/// A Sigstore TUF client over a mirror and a cache directory.
pub struct SigstoreTuf<F: Fetcher = AnyFetcher> {
    mirror_url: String,
    dir: PathBuf,
    options: SigstoreTufOptions,
    updater: Updater<F>,
}

/// `keyless initialize`: trust `root_json` for `mirror_url`, update from the
/// mirror and fetch `trusted_root.json` (and `signing_config.v0.2.json` when
/// the repository has it) into `cache_root/<mirror>/`.
pub fn initialize(
    mirror_url: &str,
    root_json: &[u8],
    cache_root: &Path,
) -> Result<SigstoreTuf<AnyFetcher>, Error> {
    SigstoreTuf::initialize_with(
        mirror_url,
        root_json,
        cache_root,
        AnyFetcher::new(),
        SigstoreTufOptions::default(),
    )
}

impl<F: Fetcher> SigstoreTuf<F> {
    /// [`initialize`] with a chosen fetcher and options.
    pub fn initialize_with(
        mirror_url: &str,
        root_json: &[u8],
        cache_root: &Path,
        fetcher: F,
        options: SigstoreTufOptions,
    ) -> Result<Self, Error> {
        let dir = cache_root.join(mirror_dir_name(mirror_url));
        let mirror = mirror_url.trim_end_matches('/').to_string();
        let targets_url = format!("{mirror}/targets");
        let updater = Updater::bootstrap(
            &mirror,
            &dir,
            Some(&targets_url),
            root_json,
            fetcher,
            options.updater.clone(),
        )?;
        let mut tuf = Self {
            mirror_url: mirror,
            dir,
            options,
            updater,
        };
        tuf.updater.refresh()?;
        tuf.fetch_target(TRUSTED_ROOT_TARGET)?;
        tuf.signing_config()?;
        Ok(tuf)
    }

    /// Open an initialized cache (no network yet). Call
    /// [`Self::refresh_if_stale`] or [`Self::refresh`] next.
    pub fn open(
        mirror_url: &str,
        cache_root: &Path,
        fetcher: F,
        options: SigstoreTufOptions,
    ) -> Result<Self, Error> {
        let dir = cache_root.join(mirror_dir_name(mirror_url));
        if !dir.join("root.json").is_file() {
            return Err(Error::Config(format!(
                "no trusted root for {mirror_url} in {}: run `keyless initialize` first",
                dir.display()
            )));
        }
        let mirror = mirror_url.trim_end_matches('/').to_string();
        let targets_url = format!("{mirror}/targets");
        let updater = Updater::new(
            &mirror,
            &dir,
            Some(&targets_url),
            fetcher,
            options.updater.clone(),
        )?;
        Ok(Self {
            mirror_url: mirror,
            dir,
            options,
            updater,
        })
    }

    /// The cache directory of this mirror.
    pub fn cache_dir(&self) -> &Path {
        &self.dir
    }

    pub fn mirror_url(&self) -> &str {
        &self.mirror_url
    }

    /// The underlying TUF updater.
    pub fn updater(&mut self) -> &mut Updater<F> {
        &mut self.updater
    }

    /// Full TUF update from the mirror.
    ///
    /// Only when the mirror cannot be reached at all (cannot connect, DNS,
    /// timeout: [`Error::is_unreachable`]) is the verified cache used, and
    /// only if none of it is expired; the result is then
    /// [`Freshness::Offline`] with a warning for the user. An HTTP error
    /// status or any failed check is an error: a hostile mirror must not be
    /// able to freeze the client on its cache. An unreachable mirror with an
    /// expired or unusable cache is [`Error::Offline`].
    pub fn refresh(&mut self) -> Result<Freshness, Error> {
        match self.updater.refresh() {
            Ok(()) => Ok(Freshness::Updated),
            Err(e) if e.is_unreachable() => match self.updater.load_offline() {
                Ok(warnings) => {
                    let mut warning = format!(
                        "could not reach the TUF mirror {} ({}); using unexpired cached metadata from {}",
                        self.mirror_url,
                        e.report(),
                        self.dir.display()
                    );
                    for w in warnings {
                        warning.push_str("; ");
                        warning.push_str(&w);
                    }
                    Ok(Freshness::Offline { warning })
                }
                Err(cache) => Err(Error::Offline {
                    mirror: self.mirror_url.clone(),
                    reason: e.report(),
                    source: Box::new(cache),
                }),
            },
            Err(e) => Err(e),
        }
    }

    /// Use the cache as is when it is younger than `cache_validity` and
    /// passes every check offline, none of it expired; otherwise
    /// [`Self::refresh`].
    pub fn refresh_if_stale(&mut self) -> Result<Freshness, Error> {
        let ts = self.dir.join("timestamp.json");
        let fresh = std::fs::metadata(&ts)
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| SystemTime::now().duration_since(t).ok())
            .is_some_and(|age| age < self.options.cache_validity);
        if fresh {
            if let Ok(warnings) = self.updater.load_offline() {
                if warnings.is_empty() {
                    return Ok(Freshness::Cached);
                }
            }
        }
        self.refresh()
    }

    /// A verified target: from `cache_dir/targets/` when the cached copy
    /// still matches the trusted metadata, else downloaded, verified and
    /// then cached.
    pub fn fetch_target(&mut self, name: &str) -> Result<Vec<u8>, Error> {
        let info = self.updater.get_target_info(name)?;
        let path = self.dir.join("targets").join(target_file_name(name));
        if let Ok(bytes) = std::fs::read(&path) {
            if verify_target(&bytes, &info).is_ok() {
                return Ok(bytes);
            }
        }
        let bytes = self.updater.download_target(name, &info)?;
        write_atomic(&path, &bytes)?;
        Ok(bytes)
    }

    /// The verified `trusted_root.json`.
    pub fn trusted_root(&mut self) -> Result<Vec<u8>, Error> {
        self.fetch_target(TRUSTED_ROOT_TARGET)
    }

    /// The verified `signing_config.v0.2.json`, or `None` when the
    /// repository does not publish one.
    pub fn signing_config(&mut self) -> Result<Option<Vec<u8>>, Error> {
        match self.fetch_target(SIGNING_CONFIG_TARGET) {
            Ok(b) => Ok(Some(b)),
            Err(Error::Target {
                source: TargetError::NotFound,
                ..
            }) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mirror_names() {
        assert_eq!(mirror_dir_name(DEFAULT_MIRROR), "tuf-repo-cdn.sigstore.dev");
        assert_eq!(
            mirror_dir_name("https://github.github.com/prod-tuf-root/"),
            "github.github.com-prod-tuf-root"
        );
        assert_eq!(
            mirror_dir_name("http://127.0.0.1:8080/tuf"),
            "127.0.0.1-8080-tuf"
        );
        assert_eq!(mirror_dir_name("file:///srv/../x"), "srv-..-x");
        assert_eq!(mirror_dir_name("https://"), "mirror");
    }
}
