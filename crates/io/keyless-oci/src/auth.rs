//! Registry authentication: the `WWW-Authenticate` challenges (Basic, and
//! Bearer with its token endpoint) and the errors of authenticating.
//! Where credentials come from (Docker's `config.json`, credential helpers)
//! is [`crate::credentials`].
//!
//! The HTTP exchange itself lives in the client; this module is the pure part
//! (files, headers, JSON) so it can be tested without a network.

mod error;

use std::collections::BTreeMap;

use serde::Deserialize;

pub use crate::credentials::credential::Credentials;
pub use crate::credentials::DockerConfig;
pub use error::AuthError;

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
