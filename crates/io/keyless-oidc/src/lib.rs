//! Where identity tokens come from, in cosign's order:
//!
//! 1. an explicit token (`--identity-token`),
//! 2. the `SIGSTORE_ID_TOKEN` environment variable (also GitLab's way),
//! 3. an ambient provider, the first one detected of: GitHub Actions,
//!    Buildkite, CircleCI, the SPIFFE Workload API (`SPIFFE_ENDPOINT_SOCKET`),
//!    Google service-account impersonation (Cloud Build), GCE metadata
//!    (GitLab hands its token over through `SIGSTORE_ID_TOKEN`),
//! 4. interactively: the browser authorization-code flow with PKCE on a
//!    loopback redirect when a terminal is attached, else the device flow
//!    (RFC 8628) with the link printed.
//!
//! Tokens are never logged: [`IdentityToken`]'s `Debug` shows only claims
//! that identify the signer.

mod ambient;
mod answer;
mod claims;
mod error;
mod interactive;
mod pkce;
mod redirect;

pub use ambient::{detect_ambient, AmbientProvider, SpiffeError, SPIFFE_ENDPOINT_SOCKET};
pub use answer::{AnswerError, MAX_ANSWER};
pub use claims::{IdentityToken, TokenClaims};
pub use error::OidcError;
pub use interactive::{browser_flow, device_flow, discover, Discovery, InteractiveOptions};
pub use redirect::RedirectPlan;

/// The audience Sigstore's CAs require.
pub const SIGSTORE_AUDIENCE: &str = "sigstore";

/// Where a token came from, for the consent notice and error messages.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TokenSource {
    Flag,
    Environment,
    Ambient(String),
    Browser,
    DeviceFlow,
}

/// Options for [`get_token`].
#[derive(Debug, Clone, Default)]
pub struct TokenOptions {
    /// `--identity-token`: a token or `@path` to a file holding one.
    pub explicit: Option<String>,
    /// Interactive flows' issuer and client.
    pub interactive: Option<InteractiveOptions>,
    /// Never prompt (CI, `--yes` without a token is an error).
    pub non_interactive: bool,
}

/// Find a token, trying each source in order.
pub async fn get_token(opts: &TokenOptions) -> Result<(IdentityToken, TokenSource), OidcError> {
    if let Some(t) = &opts.explicit {
        let raw = match t.strip_prefix('@') {
            Some(path) => std::fs::read_to_string(path).map_err(|source| OidcError::TokenFile {
                path: path.to_string(),
                source,
            })?,
            None => t.clone(),
        };
        return Ok((IdentityToken::parse(raw.trim())?, TokenSource::Flag));
    }
    if let Ok(t) = std::env::var("SIGSTORE_ID_TOKEN") {
        if !t.trim().is_empty() {
            return Ok((IdentityToken::parse(t.trim())?, TokenSource::Environment));
        }
    }
    if let Some(provider) = detect_ambient() {
        let token = provider.fetch(SIGSTORE_AUDIENCE).await?;
        return Ok((token, TokenSource::Ambient(provider.name().to_string())));
    }
    let Some(interactive) = &opts.interactive else {
        return Err(OidcError::NoToken);
    };
    if opts.non_interactive {
        return Err(OidcError::NoToken);
    }
    if std::io::IsTerminal::is_terminal(&std::io::stdin()) && !interactive.force_device_flow {
        Ok((browser_flow(interactive).await?, TokenSource::Browser))
    } else {
        Ok((device_flow(interactive).await?, TokenSource::DeviceFlow))
    }
}
