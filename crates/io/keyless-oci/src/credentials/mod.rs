//! Where registry credentials come from: Docker's `config.json` (`auths`,
//! `credsStore`, `credHelpers`) and the `docker-credential-<name>` helper
//! programs it names, as `docker login` and cosign use them.
//!
//! - `docker_config`: finding and reading `config.json`, matching registry
//!   keys the way Docker does.
//! - `helper`: running a credential helper (`get`) with a timeout and an
//!   output cap.
//!
//! What the client does with a [`Credential`] (Basic auth, the Bearer token
//! exchange) is in the client's `auth` module.

mod docker_config;
mod helper;

use std::fmt;

pub use docker_config::{DockerConfig, MAX_CONFIG_BYTES};
pub use helper::{HELPER_TIMEOUT, MAX_HELPER_OUTPUT};

use crate::auth::Credentials;

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

#[cfg(test)]
mod tests;
