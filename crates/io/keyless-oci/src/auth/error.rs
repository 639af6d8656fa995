//! Why authentication could not be set up or completed. Its own module
//! because reading credentials (`crate::credentials`) fails with it while
//! [`crate::auth`] re-exports that module's `DockerConfig`.

use std::path::PathBuf;

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
