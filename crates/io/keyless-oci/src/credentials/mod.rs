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

pub(crate) mod credential;
mod docker_config;
mod helper;

pub use credential::{Credential, Found};
pub use docker_config::{DockerConfig, MAX_CONFIG_BYTES};
pub use helper::{HELPER_TIMEOUT, MAX_HELPER_OUTPUT};

#[cfg(test)]
mod tests;
