//! Docker's `config.json`, as `docker login` writes it, and the lookup
//! Docker (and cosign, through go-containerregistry) does in it: a
//! `credHelpers` entry for the registry, else the `credsStore`, else the
//! `auths` entry.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use base64::Engine as _;
use serde::Deserialize;

use super::credential::{Credential, Credentials, Found};
use super::helper;
use crate::auth::AuthError;
use crate::reference::DOCKER_HUB_REGISTRY;

/// Largest `config.json` read (4 MiB; `docker login` writes a few KiB).
pub const MAX_CONFIG_BYTES: u64 = 4 * 1024 * 1024;

/// The key Docker stores Docker Hub credentials under, and the server URL
/// its credential helpers are asked for.
const DOCKER_HUB_KEY: &str = "https://index.docker.io/v1/";

#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ConfigFile {
    #[serde(default)]
    auths: BTreeMap<String, AuthEntry>,
    #[serde(default)]
    creds_store: Option<String>,
    #[serde(default)]
    cred_helpers: BTreeMap<String, String>,
}

#[derive(Default, Deserialize)]
struct AuthEntry {
    #[serde(default)]
    auth: Option<String>,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    password: Option<String>,
    #[serde(default)]
    identitytoken: Option<String>,
}

/// Docker's `config.json`. `Debug` shows where it is and which registries
/// it covers, never a password.
pub struct DockerConfig {
    path: PathBuf,
    file: ConfigFile,
    helper_timeout: Duration,
    /// Where helpers are looked up instead of `PATH` (unit tests only).
    helper_dir: Option<PathBuf>,
}

impl std::fmt::Debug for DockerConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DockerConfig")
            .field("path", &self.path)
            .field("auths", &self.file.auths.keys().collect::<Vec<_>>())
            .field("creds_store", &self.file.creds_store)
            .field("cred_helpers", &self.file.cred_helpers)
            .finish_non_exhaustive()
    }
}

impl Default for DockerConfig {
    fn default() -> Self {
        Self {
            path: PathBuf::new(),
            file: ConfigFile::default(),
            helper_timeout: helper::HELPER_TIMEOUT,
            helper_dir: None,
        }
    }
}

impl DockerConfig {
    /// Find the config the way Docker does: `$DOCKER_CONFIG/config.json`, else
    /// `$HOME/.docker/config.json`. A missing file is an empty config
    /// (anonymous access), not an error. `env` is the environment lookup
    /// (`|k| std::env::var_os(k)` in production), injectable for tests.
    pub fn discover(env: impl Fn(&str) -> Option<OsString>) -> Result<Self, AuthError> {
        let dir = match env("DOCKER_CONFIG") {
            Some(dir) if !dir.is_empty() => PathBuf::from(dir),
            _ => match env("HOME") {
                Some(home) if !home.is_empty() => PathBuf::from(home).join(".docker"),
                _ => return Ok(Self::default()),
            },
        };
        Self::load(&dir.join("config.json"))
    }

    /// Load the config at `path`; a missing file is an empty config. A file
    /// over [`MAX_CONFIG_BYTES`] is refused.
    pub fn load(path: &Path) -> Result<Self, AuthError> {
        let read_err = |source| AuthError::ReadConfig {
            path: path.to_owned(),
            source,
        };
        let file = match std::fs::File::open(path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(Self {
                    path: path.to_owned(),
                    ..Self::default()
                })
            }
            Err(source) => return Err(read_err(source)),
        };
        let mut bytes = Vec::new();
        file.take(MAX_CONFIG_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(read_err)?;
        if bytes.len() as u64 > MAX_CONFIG_BYTES {
            return Err(AuthError::ConfigTooLarge {
                path: path.to_owned(),
                limit: MAX_CONFIG_BYTES,
            });
        }
        Self::from_json(path, &bytes)
    }

    /// Parse config JSON; `path` is only used in error messages.
    pub fn from_json(path: &Path, json: &[u8]) -> Result<Self, AuthError> {
        let file = serde_json::from_slice(json).map_err(|source| AuthError::ParseConfig {
            path: path.to_owned(),
            source,
        })?;
        Ok(Self {
            path: path.to_owned(),
            file,
            ..Self::default()
        })
    }

    /// How long a credential helper may run (default
    /// [`super::HELPER_TIMEOUT`]).
    pub fn helper_timeout(mut self, timeout: Duration) -> Self {
        self.helper_timeout = timeout;
        self
    }

    #[cfg(test)]
    pub(crate) fn helper_dir(mut self, dir: &Path) -> Self {
        self.helper_dir = Some(dir.to_owned());
        self
    }

    /// Credentials for `registry` (host[:port]), or `None` for anonymous.
    ///
    /// As Docker: a `credHelpers` entry for the registry runs that helper;
    /// otherwise a `credsStore` runs that helper for every registry (the
    /// passwords are in the store, not in `auths`); otherwise the `auths`
    /// entry is used. Keys match exactly or after stripping a scheme and
    /// path (`https://host/v2/`); Docker Hub answers to `docker.io`,
    /// `index.docker.io` and `registry-1.docker.io`, and its helpers are asked
    /// for `https://index.docker.io/v1/`.
    pub async fn credentials_for(&self, registry: &str) -> Result<Option<Found>, AuthError> {
        let hub = is_hub(registry);
        let matches = |key: &str| {
            let host = normalize_key(key);
            host == registry || (hub && is_hub(host))
        };
        let server_url = if hub { DOCKER_HUB_KEY } else { registry };
        let helper_name = self
            .file
            .cred_helpers
            .iter()
            .find(|(key, _)| matches(key))
            .map(|(_, helper)| helper)
            .or(self.file.creds_store.as_ref())
            .filter(|h| !h.is_empty());
        if let Some(name) = helper_name {
            let program = match &self.helper_dir {
                Some(dir) => dir.join(format!("docker-credential-{name}")),
                None => PathBuf::from(format!("docker-credential-{name}")),
            };
            let found =
                helper::get(name, &program, server_url, registry, self.helper_timeout).await?;
            return Ok(found.map(|credential| Found {
                credential,
                origin: format!("the credential helper docker-credential-{name}"),
            }));
        }
        let Some((_, entry)) = self.file.auths.iter().find(|(key, _)| matches(key)) else {
            return Ok(None);
        };
        let bad = |reason| AuthError::BadAuthField {
            path: self.path.clone(),
            registry: registry.to_owned(),
            reason,
        };
        let credential = if let Some(auth) = entry.auth.as_deref().filter(|a| !a.is_empty()) {
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(auth.trim())
                .map_err(|_| bad("is not base64"))?;
            let decoded =
                String::from_utf8(decoded).map_err(|_| bad("is not UTF-8 once decoded"))?;
            let (user, pass) = decoded
                .split_once(':')
                .ok_or_else(|| bad("does not decode to \"username:password\""))?;
            Credential::Basic(Credentials::new(user, pass))
        } else if let (Some(user), Some(pass)) = (&entry.username, &entry.password) {
            Credential::Basic(Credentials::new(user.clone(), pass.clone()))
        } else if let Some(token) = entry.identitytoken.as_deref().filter(|t| !t.is_empty()) {
            Credential::IdentityToken(token.to_owned())
        } else {
            return Ok(None);
        };
        Ok(Some(Found {
            credential,
            origin: format!("the Docker config {}", self.path.display()),
        }))
    }
}

fn is_hub(host: &str) -> bool {
    matches!(
        host,
        DOCKER_HUB_REGISTRY | "docker.io" | "registry-1.docker.io"
    )
}

/// `https://host:port/v2/` → `host:port`, as Docker's `ConvertToHostname`.
fn normalize_key(key: &str) -> &str {
    let key = key
        .strip_prefix("https://")
        .or_else(|| key.strip_prefix("http://"))
        .unwrap_or(key);
    key.split('/').next().unwrap_or(key)
}
