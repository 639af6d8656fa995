//! Ambient credentials: CI systems and clouds that hand a workload an
//! identity token without a person present. Each provider is detected from
//! its environment and speaks its platform's real protocol, so it can be
//! tested against a loopback stand-in by pointing the same variables at it.

pub(crate) mod spiffe;

use serde::Deserialize;

pub use spiffe::{SpiffeError, SPIFFE_ENDPOINT_SOCKET};

use crate::{IdentityToken, OidcError};

/// The ambient providers we know, in the order they are tried.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AmbientProvider {
    /// `ACTIONS_ID_TOKEN_REQUEST_URL` + `ACTIONS_ID_TOKEN_REQUEST_TOKEN`.
    GitHubActions { url: String, bearer: String },
    /// `BUILDKITE=true`: `buildkite-agent oidc request-token`.
    Buildkite,
    /// `CIRCLECI=true`: `circleci run oidc get`.
    CircleCi,
    /// `SPIFFE_ENDPOINT_SOCKET`: a JWT-SVID from the SPIFFE Workload API
    /// (e.g. a SPIRE agent) on that Unix socket. `endpoint` is the raw
    /// value (`unix:///path`, `unix:/path` or a bare path), checked when
    /// fetching so that a bad value is reported rather than skipped.
    Spiffe { endpoint: String },
    /// Google Cloud Build / any GCP workload impersonating a service account
    /// (`GOOGLE_SERVICE_ACCOUNT_NAME`): metadata access token, then the IAM
    /// Credentials `generateIdToken` call.
    GoogleImpersonation {
        service_account: String,
        metadata_host: String,
        iam_endpoint: String,
    },
    /// A GCE/GKE workload: the metadata server's identity endpoint
    /// (detected through `GCE_METADATA_HOST`, as Google's libraries do).
    GceMetadata { metadata_host: String },
}

/// Detect the ambient provider of this environment, if any.
///
/// CI systems come first: their variables are set by the platform for every
/// job. SPIFFE comes next, before the Google providers, because a workload
/// given a Workload API socket is meant to use that identity even when it
/// runs on Google Cloud. (cosign keeps its providers in a Go map, so its
/// order among several enabled ones is unspecified; we pick one and test it.)
/// Unlike cosign, an unset `SPIFFE_ENDPOINT_SOCKET` never falls back to a
/// default socket path: a stray socket must not change who signs.
pub fn detect_ambient() -> Option<AmbientProvider> {
    let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    if let (Some(url), Some(bearer)) = (
        var("ACTIONS_ID_TOKEN_REQUEST_URL"),
        var("ACTIONS_ID_TOKEN_REQUEST_TOKEN"),
    ) {
        return Some(AmbientProvider::GitHubActions { url, bearer });
    }
    if var("BUILDKITE").as_deref() == Some("true") {
        return Some(AmbientProvider::Buildkite);
    }
    if var("CIRCLECI").as_deref() == Some("true") {
        return Some(AmbientProvider::CircleCi);
    }
    if let Some(endpoint) = var(SPIFFE_ENDPOINT_SOCKET) {
        return Some(AmbientProvider::Spiffe { endpoint });
    }
    let metadata_host = var("GCE_METADATA_HOST");
    if let Some(service_account) = var("GOOGLE_SERVICE_ACCOUNT_NAME") {
        return Some(AmbientProvider::GoogleImpersonation {
            service_account,
            metadata_host: metadata_host.unwrap_or_else(|| "metadata.google.internal".into()),
            iam_endpoint: var("GOOGLE_IAMCREDENTIALS_ENDPOINT")
                .unwrap_or_else(|| "https://iamcredentials.googleapis.com".into()),
        });
    }
    metadata_host.map(|metadata_host| AmbientProvider::GceMetadata { metadata_host })
}

impl AmbientProvider {
    pub fn name(&self) -> &'static str {
        match self {
            Self::GitHubActions { .. } => "github-actions",
            Self::Buildkite => "buildkite-agent",
            Self::CircleCi => "circleci",
            Self::Spiffe { .. } => "spiffe",
            Self::GoogleImpersonation { .. } => "google-impersonation",
            Self::GceMetadata { .. } => "gce-metadata",
        }
    }

    /// Fetch a token for `audience`.
    pub async fn fetch(&self, audience: &str) -> Result<IdentityToken, OidcError> {
        let name = self.name();
        let fail =
            |problem: &str, source: Box<dyn std::error::Error + Send + Sync>| OidcError::Ambient {
                provider: name,
                problem: problem.to_string(),
                source: Some(source),
            };
        let raw = match self {
            Self::GitHubActions { url, bearer } => {
                #[derive(Deserialize)]
                struct Resp {
                    value: String,
                }
                let mut u = url::Url::parse(url)
                    .map_err(|e| fail("ACTIONS_ID_TOKEN_REQUEST_URL", e.into()))?;
                u.query_pairs_mut().append_pair("audience", audience);
                let resp = client()?.get(u).bearer_auth(bearer).send().await?;
                let resp = check(resp, name).await?;
                crate::answer::json::<Resp>(resp)
                    .await
                    .map_err(|e| fail("bad response", e.into()))?
                    .value
            }
            Self::Buildkite => {
                run(
                    name,
                    "buildkite-agent",
                    &["oidc", "request-token", "--audience", audience],
                )
                .await?
            }
            Self::CircleCi => {
                let claims = serde_json::json!({ "aud": audience }).to_string();
                run(
                    name,
                    "circleci",
                    &["run", "oidc", "get", "--claims", &claims],
                )
                .await?
            }
            Self::Spiffe { endpoint } => {
                spiffe::fetch_jwt_svid(endpoint, audience, spiffe::FETCH_TIMEOUT).await?
            }
            Self::GceMetadata { metadata_host } => {
                let url = format!("http://{metadata_host}/computeMetadata/v1/instance/service-accounts/default/identity");
                let mut u =
                    url::Url::parse(&url).map_err(|e| fail("GCE_METADATA_HOST", e.into()))?;
                // The audience is a query value: encode it, never paste it.
                u.query_pairs_mut()
                    .append_pair("audience", audience)
                    .append_pair("format", "full");
                let resp = metadata_client()?
                    .get(u)
                    .header("Metadata-Flavor", "Google")
                    .send()
                    .await?;
                crate::answer::text(check(resp, name).await?)
                    .await
                    .map_err(|e| fail("bad response", e.into()))?
            }
            Self::GoogleImpersonation {
                service_account,
                metadata_host,
                iam_endpoint,
            } => {
                #[derive(Deserialize)]
                struct Access {
                    access_token: String,
                }
                #[derive(Deserialize)]
                struct IdToken {
                    token: String,
                }
                let url = format!("http://{metadata_host}/computeMetadata/v1/instance/service-accounts/default/token");
                let resp = metadata_client()?
                    .get(url)
                    .header("Metadata-Flavor", "Google")
                    .send()
                    .await?;
                let access = crate::answer::json::<Access>(check(resp, name).await?)
                    .await
                    .map_err(|e| fail("metadata token", e.into()))?;
                let url = format!("{iam_endpoint}/v1/projects/-/serviceAccounts/{service_account}:generateIdToken");
                let body = serde_json::json!({ "audience": audience, "includeEmail": true });
                let resp = client()?
                    .post(url)
                    .bearer_auth(access.access_token)
                    .json(&body)
                    .send()
                    .await?;
                crate::answer::json::<IdToken>(check(resp, name).await?)
                    .await
                    .map_err(|e| fail("generateIdToken", e.into()))?
                    .token
            }
        };
        IdentityToken::parse(raw.trim())
    }
}

fn client() -> Result<reqwest::Client, OidcError> {
    let builder = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(30))
        .redirect(reqwest::redirect::Policy::none());
    keyless_ca_bundle::trust(builder)
        .and_then(|b| b.build())
        .map_err(OidcError::from)
}

/// The metadata server is link-local: never reach it through a proxy (as
/// Google's own client libraries do not).
fn metadata_client() -> Result<reqwest::Client, OidcError> {
    reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(30))
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .build()
        .map_err(OidcError::from)
}

async fn check(
    resp: reqwest::Response,
    provider: &'static str,
) -> Result<reqwest::Response, OidcError> {
    if resp.status().is_success() {
        Ok(resp)
    } else {
        Err(OidcError::Ambient {
            provider,
            problem: format!("token request answered {}", resp.status()),
            source: None,
        })
    }
}

/// Run a CI agent's token command; its stdout is the token. Runs on
/// tokio's process support so that the agent does not block the runtime.
async fn run(provider: &'static str, program: &str, args: &[&str]) -> Result<String, OidcError> {
    let out = tokio::process::Command::new(program)
        .args(args)
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true)
        .output()
        .await
        .map_err(|e| OidcError::Ambient {
            provider,
            problem: format!("cannot run {program}"),
            source: Some(e.into()),
        })?;
    if !out.status.success() {
        return Err(OidcError::Ambient {
            provider,
            problem: format!("{program} exited with {}", out.status),
            source: None,
        });
    }
    String::from_utf8(out.stdout).map_err(|_| OidcError::Ambient {
        provider,
        problem: format!("{program} printed non-UTF-8"),
        source: None,
    })
}
