//! Registry authentication: the `WWW-Authenticate` challenges (Basic, and
//! Bearer with its token endpoint) and the errors of authenticating.
//! Where credentials come from (Docker's `config.json`, credential helpers)
//! is [`crate::credentials`].
//!
//! The HTTP exchange itself lives in the client; this module is the pure part
//! (files, headers, JSON) so it can be tested without a network.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

use base64::Engine as _;
use serde::Deserialize;

pub use crate::credentials::DockerConfig;

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
    #[error("Docker config {path} is over {limit} bytes")]
    ConfigTooLarge { path: PathBuf, limit: u64 },
    #[error("credentials for registry {registry}: credential helper docker-credential-{helper}: {reason}")]
    Helper {
        helper: String,
        registry: String,
        reason: String,
    },
    #[error(
        "registry {registry} asks for Basic auth, but {origin} holds an identity token, which \
         only works with a registry that issues Bearer tokens"
    )]
    IdentityTokenNeedsBearer { registry: String, origin: String },
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
    #[error(
        "registry {registry} refused {origin}: {url} answers 401 Unauthorized to \
         {scheme}{hint}"
    )]
    Rejected {
        registry: String,
        url: String,
        scheme: &'static str,
        /// Which credentials, by where they came from (never the secret
        /// itself): "the username and password given", "the credentials from
        /// the Docker config …", "anonymous access".
        origin: String,
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
