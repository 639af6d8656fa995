//! The credential types: a username and password ([`Credentials`], re-exported
//! as `crate::auth::Credentials`), a registry [`Credential`] and where it was
//! [`Found`]. Their own module so that `auth` (which re-exports
//! `Credentials` and `DockerConfig`) and the readers of Docker's config and
//! credential helpers (which build these and fail with `AuthError`) do not
//! import each other.

use std::fmt;

use base64::Engine as _;

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

/// One registry credential. Secrets are never printed by `Debug`.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Credential {
    /// A username and password (or an access token used as a password): sent
    /// as Basic auth, to the registry or to its token endpoint.
    Basic(Credentials),
    /// Docker's `identitytoken`: an OAuth2 refresh token, exchanged at the
    /// Bearer realm for an access token (`grant_type=refresh_token`).
    IdentityToken(String),
    /// A registry token sent as it is (`Authorization: Bearer …`), with no
    /// exchange, as cosign's `--registry-token`.
    RegistryToken(String),
}

impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Basic(c) => f.debug_tuple("Basic").field(c).finish(),
            Self::IdentityToken(_) => f.write_str("IdentityToken(<redacted>)"),
            Self::RegistryToken(_) => f.write_str("RegistryToken(<redacted>)"),
        }
    }
}

/// A credential and where it came from, so an error can say which
/// configuration to fix without printing the secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub credential: Credential,
    /// E.g. `the Docker config /home/u/.docker/config.json` or `the credential
    /// helper docker-credential-pass`.
    pub origin: String,
}
