//! Registry authentication: credentials from Docker's `config.json`, and the
//! `WWW-Authenticate` challenges (Basic, and Bearer with its token endpoint).
//!
//! The HTTP exchange itself lives in the client; this module is the pure part
//! (files, headers, JSON) so it can be tested without a network.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fmt;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use serde::Deserialize;

/// Why authentication could not be set up or completed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    #[error("reading Docker config {path}: {source}")]
    ReadConfig {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("Docker config {path} is not valid JSON: {source}")]
    ParseConfig {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error(
        "Docker config {path}: credentials for {registry} come from the credential helper \
         \"docker-credential-{helper}\", which keyless does not run; put \
         \"auths\": {{\"{registry}\": {{\"auth\": base64(user:password)}}}} in a config of its \
         own (DOCKER_CONFIG=<dir>) instead"
    )]
    CredentialHelperUnsupported {
        path: PathBuf,
        registry: String,
        helper: String,
    },
    #[error(
        "Docker config {path}: the entry for {registry} holds an identity token (OAuth2 refresh \
         token), which keyless does not exchange; use a username and password or access token"
    )]
    IdentityTokenUnsupported { path: PathBuf, registry: String },
    #[error("Docker config {path}: the \"auth\" field for {registry} {reason}")]
    BadAuthField {
        path: PathBuf,
        registry: String,
        reason: &'static str,
    },
    #[error("registry challenge {header:?} cannot be used: {reason}")]
    BadChallenge {
        header: String,
        reason: &'static str,
    },
    #[error("token endpoint {realm} answered without a \"token\" or \"access_token\" field")]
    NoToken { realm: String },
    #[error("{url} still answers 401 Unauthorized after authenticating with {scheme}{hint}")]
    Rejected {
        url: String,
        scheme: &'static str,
        hint: &'static str,
    },
}

/// A username and password (or access token). The password is never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub username: String,
    pub password: String,
}

impl Credentials {
    pub fn new(username: impl Into<String>, password: impl Into<String>) -> Self {
        Self {
            username: username.into(),
            password: password.into(),
        }
    }

    /// The value of an `Authorization: Basic …` header.
    pub fn basic_header(&self) -> String {
        let raw = format!("{}:{}", self.username, self.password);
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(raw)
        )
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .finish()
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ConfigFile {
    #[serde(default)]
    auths: BTreeMap<String, AuthEntry>,
    #[serde(default)]
    creds_store: Option<String>,
    #[serde(default)]
    cred_helpers: BTreeMap<String, String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
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

/// Docker's `config.json`, as `docker login` writes it.
#[derive(Debug, Default)]
pub struct DockerConfig {
    path: PathBuf,
    file: ConfigFile,
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

    /// Load the config at `path`; a missing file is an empty config.
    pub fn load(path: &Path) -> Result<Self, AuthError> {
        let bytes = match std::fs::read(path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(Self {
                    path: path.to_owned(),
                    file: ConfigFile::default(),
                })
            }
            Err(source) => {
                return Err(AuthError::ReadConfig {
                    path: path.to_owned(),
                    source,
                })
            }
        };
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
        })
    }

    /// Credentials for `registry` (host[:port]), or `None` for anonymous.
    ///
    /// Keys are matched the way Docker does: exactly, or after stripping a
    /// scheme and path (`https://host/v2/`); Docker Hub is stored under
    /// `https://index.docker.io/v1/`. A credential helper that would apply is
    /// an error rather than silently anonymous access, because pushing a
    /// signature anonymously fails later with a far less clear 401.
    pub fn credentials_for(&self, registry: &str) -> Result<Option<Credentials>, AuthError> {
        let is_hub = registry == crate::reference::DOCKER_HUB_REGISTRY || registry == "docker.io";
        if let Some(helper) = self.file.cred_helpers.get(registry) {
            return Err(AuthError::CredentialHelperUnsupported {
                path: self.path.clone(),
                registry: registry.to_owned(),
                helper: helper.clone(),
            });
        }
        let entry = self.file.auths.iter().find(|(key, _)| {
            let host = normalize_key(key);
            host == registry
                || (is_hub
                    && (host == "index.docker.io"
                        || host == "docker.io"
                        || host == "registry-1.docker.io"))
        });
        let entry = match entry {
            Some((_, entry)) => entry,
            None => {
                return match &self.file.creds_store {
                    Some(helper) if !helper.is_empty() => {
                        Err(AuthError::CredentialHelperUnsupported {
                            path: self.path.clone(),
                            registry: registry.to_owned(),
                            helper: helper.clone(),
                        })
                    }
                    _ => Ok(None),
                }
            }
        };
        let bad = |reason| AuthError::BadAuthField {
            path: self.path.clone(),
            registry: registry.to_owned(),
            reason,
        };
        if let Some(auth) = entry.auth.as_deref().filter(|a| !a.is_empty()) {
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(auth.trim())
                .map_err(|_| bad("is not base64"))?;
            let decoded =
                String::from_utf8(decoded).map_err(|_| bad("is not UTF-8 once decoded"))?;
            let (user, pass) = decoded
                .split_once(':')
                .ok_or_else(|| bad("does not decode to \"username:password\""))?;
            return Ok(Some(Credentials::new(user, pass)));
        }
        if let (Some(user), Some(pass)) = (&entry.username, &entry.password) {
            return Ok(Some(Credentials::new(user.clone(), pass.clone())));
        }
        if entry
            .identitytoken
            .as_deref()
            .is_some_and(|t| !t.is_empty())
        {
            return Err(AuthError::IdentityTokenUnsupported {
                path: self.path.clone(),
                registry: registry.to_owned(),
            });
        }
        match &self.file.creds_store {
            // `docker login` with a store leaves an empty `auths` entry.
            Some(helper) if !helper.is_empty() => Err(AuthError::CredentialHelperUnsupported {
                path: self.path.clone(),
                registry: registry.to_owned(),
                helper: helper.clone(),
            }),
            _ => Ok(None),
        }
    }
}

fn normalize_key(key: &str) -> &str {
    let key = key
        .strip_prefix("https://")
        .or_else(|| key.strip_prefix("http://"))
        .unwrap_or(key);
    key.split('/').next().unwrap_or(key)
}

/// A parsed `WWW-Authenticate` challenge.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Challenge {
    Basic,
    Bearer {
        realm: String,
        service: Option<String>,
        scope: Option<String>,
    },
}

impl Challenge {
    /// Parse the header value (`Bearer realm="…",service="…",scope="…"`).
    pub fn parse(header: &str) -> Result<Self, AuthError> {
        let bad = |reason| AuthError::BadChallenge {
            header: header.to_owned(),
            reason,
        };
        let trimmed = header.trim();
        let (scheme, rest) = match trimmed.split_once(char::is_whitespace) {
            Some((s, r)) => (s, r),
            None => (trimmed, ""),
        };
        if scheme.eq_ignore_ascii_case("basic") {
            return Ok(Self::Basic);
        }
        if !scheme.eq_ignore_ascii_case("bearer") {
            return Err(bad("only the Basic and Bearer schemes are supported"));
        }
        let params = parse_params(rest).ok_or_else(|| bad("its parameters do not parse"))?;
        let realm = params
            .get("realm")
            .cloned()
            .ok_or_else(|| bad("a Bearer challenge needs a realm"))?;
        Ok(Self::Bearer {
            realm,
            service: params.get("service").cloned(),
            scope: params.get("scope").cloned(),
        })
    }
}

/// `key="quoted, value", key2=token` → map. `None` on malformed input.
fn parse_params(input: &str) -> Option<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    let mut chars = input.chars().peekable();
    loop {
        while matches!(chars.peek(), Some(c) if c.is_whitespace() || *c == ',') {
            chars.next();
        }
        if chars.peek().is_none() {
            return Some(out);
        }
        let mut key = String::new();
        while let Some(&c) = chars.peek() {
            if c == '=' {
                break;
            }
            key.push(c);
            chars.next();
        }
        if chars.next() != Some('=') || key.trim().is_empty() {
            return None;
        }
        let mut value = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            loop {
                match chars.next()? {
                    '\\' => value.push(chars.next()?),
                    '"' => break,
                    c => value.push(c),
                }
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c == ',' || c.is_whitespace() {
                    break;
                }
                value.push(c);
                chars.next();
            }
        }
        out.insert(key.trim().to_ascii_lowercase(), value);
    }
}

/// The token endpoint's answer (Docker's token spec; OAuth2 spells it
/// `access_token`).
#[derive(Debug, Deserialize)]
pub(crate) struct TokenResponse {
    #[serde(default)]
    token: Option<String>,
    #[serde(default)]
    access_token: Option<String>,
}

impl TokenResponse {
    pub(crate) fn into_token(self) -> Option<String> {
        self.token
            .filter(|t| !t.is_empty())
            .or(self.access_token.filter(|t| !t.is_empty()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(json: &str) -> DockerConfig {
        DockerConfig::from_json(Path::new("/test/config.json"), json.as_bytes()).unwrap()
    }

    #[test]
    fn auth_field_and_key_forms() {
        let b64 = base64::engine::general_purpose::STANDARD.encode("alice:s3:cret");
        let c = cfg(&format!(
            r#"{{"auths":{{"https://ghcr.io/v2/":{{"auth":"{b64}"}},"https://index.docker.io/v1/":{{"auth":"{b64}"}},"127.0.0.1:5000":{{"username":"u","password":"p"}}}}}}"#
        ));
        let got = c.credentials_for("ghcr.io").unwrap().unwrap();
        assert_eq!(got, Credentials::new("alice", "s3:cret"));
        assert!(c.credentials_for("index.docker.io").unwrap().is_some());
        assert_eq!(
            c.credentials_for("127.0.0.1:5000").unwrap().unwrap(),
            Credentials::new("u", "p")
        );
        assert!(c.credentials_for("quay.io").unwrap().is_none());
        assert!(!format!("{got:?}").contains("s3:cret"));
    }

    #[test]
    fn helpers_are_reported() {
        let c = cfg(
            r#"{"auths":{"ghcr.io":{}},"credsStore":"desktop","credHelpers":{"gcr.io":"gcloud"}}"#,
        );
        let e = c.credentials_for("gcr.io").unwrap_err();
        assert!(e.to_string().contains("docker-credential-gcloud"), "{e}");
        let e = c.credentials_for("ghcr.io").unwrap_err();
        assert!(e.to_string().contains("docker-credential-desktop"), "{e}");
        assert!(matches!(
            c.credentials_for("quay.io"),
            Err(AuthError::CredentialHelperUnsupported { .. })
        ));
    }

    #[test]
    fn bad_auth_fields() {
        let c = cfg(
            r#"{"auths":{"a.io":{"auth":"%%%"},"b.io":{"auth":"bm9jb2xvbg=="},"c.io":{"identitytoken":"x"}}}"#,
        );
        assert!(matches!(
            c.credentials_for("a.io"),
            Err(AuthError::BadAuthField { .. })
        ));
        assert!(matches!(
            c.credentials_for("b.io"),
            Err(AuthError::BadAuthField { .. })
        ));
        assert!(matches!(
            c.credentials_for("c.io"),
            Err(AuthError::IdentityTokenUnsupported { .. })
        ));
        assert!(matches!(
            DockerConfig::from_json(Path::new("x"), b"{"),
            Err(AuthError::ParseConfig { .. })
        ));
    }

    #[test]
    fn discover_uses_docker_config_then_home() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("config.json"),
            r#"{"auths":{"h.io":{"username":"a","password":"b"}}}"#,
        )
        .unwrap();
        let d = dir.path().as_os_str().to_owned();
        let c = DockerConfig::discover(|k| (k == "DOCKER_CONFIG").then(|| d.clone())).unwrap();
        assert!(c.credentials_for("h.io").unwrap().is_some());
        let c = DockerConfig::discover(|_| None).unwrap();
        assert!(c.credentials_for("h.io").unwrap().is_none());
    }

    #[test]
    fn challenges() {
        assert_eq!(
            Challenge::parse("Basic realm=\"x\"").unwrap(),
            Challenge::Basic
        );
        let c = Challenge::parse(
            r#"Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull,push""#,
        )
        .unwrap();
        assert_eq!(
            c,
            Challenge::Bearer {
                realm: "https://auth.example/token".into(),
                service: Some("registry.example".into()),
                scope: Some("repository:a/b:pull,push".into()),
            }
        );
        assert!(Challenge::parse("Bearer service=\"x\"").is_err());
        assert!(Challenge::parse("Negotiate abc").is_err());
        assert!(Challenge::parse("Bearer realm=\"unterminated").is_err());
    }
}
