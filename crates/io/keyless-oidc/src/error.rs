use thiserror::Error;

/// Why no usable identity token was obtained.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum OidcError {
    #[error("no identity token: pass --identity-token, set SIGSTORE_ID_TOKEN, run in a supported CI, or sign interactively")]
    NoToken,
    #[error("identity token is malformed: {0}")]
    Malformed(String),
    /// The token's payload did not decode; the decoder's error is the source.
    #[error("identity token is malformed: {what}")]
    MalformedPayload {
        what: &'static str,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    #[error("{0}")]
    Source(String),
    /// `--identity-token @file` named a file that could not be read.
    #[error("reading token file {path}")]
    TokenFile {
        path: String,
        #[source]
        source: std::io::Error,
    },
    /// A CI or cloud provider's token could not be had; `source`, when
    /// there is one, is the lower error (URL, HTTP body, process).
    #[error("{provider}: {problem}")]
    Ambient {
        provider: &'static str,
        problem: String,
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
    /// The SPIFFE Workload API at `socket` (the socket path, or the raw
    /// `SPIFFE_ENDPOINT_SOCKET` value when that is not a usable address).
    #[error("spiffe: Workload API at {socket}: {problem}")]
    Spiffe {
        socket: String,
        problem: crate::ambient::spiffe::error::SpiffeError,
    },
    #[error("OIDC discovery for {issuer} failed: {problem}")]
    Discovery {
        issuer: String,
        problem: String,
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
    #[error("authorization failed: {0}")]
    Authorization(String),
    /// `--oidc-redirect-url` names something the flow cannot use.
    #[error("--oidc-redirect-url {url}: {problem}")]
    RedirectUrl { url: String, problem: String },
    #[error("authorization failed: cannot listen for the redirect")]
    Redirect(#[source] std::io::Error),
    #[error("the device code expired before it was approved")]
    DeviceCodeExpired,
    /// The `endpoint`'s answer was too large, cut short or not the JSON
    /// it should be.
    #[error("the {endpoint}'s answer could not be used")]
    Answer {
        endpoint: &'static str,
        #[source]
        source: crate::AnswerError,
    },
    /// reqwest's Display never includes bodies or headers, so no token leaks.
    #[error("HTTP request failed")]
    Http(#[from] reqwest::Error),
}
