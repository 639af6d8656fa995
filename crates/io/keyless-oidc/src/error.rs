use thiserror::Error;

/// Why no usable identity token was obtained.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum OidcError {
    #[error("no identity token: pass --identity-token, set SIGSTORE_ID_TOKEN, run in a supported CI, or sign interactively")]
    NoToken,
    #[error("identity token is malformed: {0}")]
    Malformed(String),
    #[error("{0}")]
    Source(String),
    #[error("{provider}: {problem}")]
    Ambient {
        provider: &'static str,
        problem: String,
    },
    /// The SPIFFE Workload API at `socket` (the socket path, or the raw
    /// `SPIFFE_ENDPOINT_SOCKET` value when that is not a usable address).
    #[error("spiffe: Workload API at {socket}: {problem}")]
    Spiffe {
        socket: String,
        problem: crate::SpiffeError,
    },
    #[error("OIDC discovery for {issuer} failed: {problem}")]
    Discovery { issuer: String, problem: String },
    #[error("authorization failed: {0}")]
    Authorization(String),
    #[error("the device code expired before it was approved")]
    DeviceCodeExpired,
    #[error("HTTP: {0}")]
    Http(String),
}

impl From<reqwest::Error> for OidcError {
    fn from(e: reqwest::Error) -> Self {
        // reqwest's Display never includes bodies or headers, so no token leaks.
        Self::Http(e.to_string())
    }
}
