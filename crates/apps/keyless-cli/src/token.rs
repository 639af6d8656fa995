//! Where the signing command's identity token comes from, with cosign's
//! OIDC flags: `--oidc-provider`, `--oidc-disable-ambient-providers`,
//! `--oidc-client-secret-file`, `--oidc-redirect-url`.

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use keyless_oidc::{
    browser_flow, detect_ambient, device_flow, get_token, IdentityToken, InteractiveOptions,
    TokenOptions, SIGSTORE_AUDIENCE,
};

/// Where cosign's `filesystem` provider reads a token (a projected
/// service-account token in Kubernetes).
pub const FILESYSTEM_TOKEN_PATH: &str = "/var/run/sigstore/cosign/oidc-token";

/// Largest token file read (a JWT is a few KiB).
const MAX_TOKEN_FILE_BYTES: u64 = 64 * 1024;

/// cosign's OIDC flags.
#[derive(Debug, Default, Clone, clap::Args)]
pub struct OidcArgs {
    /// File holding the OIDC client secret for interactive sign-in.
    #[arg(long, value_name = "FILE")]
    pub oidc_client_secret_file: Option<PathBuf>,
    /// Take the token from this provider only: github-actions,
    /// buildkite-agent, circleci, spiffe, google, filesystem (cosign's
    /// names). Fails if the provider is not available here.
    #[arg(long, value_name = "PROVIDER")]
    pub oidc_provider: Option<String>,
    /// The redirect_uri of interactive sign-in (default
    /// `http://localhost:0/auth/callback`: a free loopback port). A loopback
    /// http URL sets the port and path keyless listens on; any other
    /// http(s) URL is sent as given (register it with the provider) and
    /// must be forwarded to the loopback listener keyless opens and prints.
    #[arg(long, value_name = "URL")]
    pub oidc_redirect_url: Option<String>,
    /// Never take a token from the CI/cloud environment (GitHub Actions,
    /// Buildkite, SPIFFE, ...): use --identity-token, SIGSTORE_ID_TOKEN or
    /// interactive sign-in.
    #[arg(long)]
    pub oidc_disable_ambient_providers: bool,
}

impl OidcArgs {
    /// Find a token: `explicit` (`--identity-token`), `SIGSTORE_ID_TOKEN`,
    /// the named or detected ambient provider, then interactive sign-in.
    pub async fn token(
        &self,
        explicit: Option<&str>,
        interactive: Option<InteractiveOptions>,
    ) -> Result<IdentityToken> {
        self.check_redirect()?;
        let env_token = std::env::var("SIGSTORE_ID_TOKEN")
            .ok()
            .filter(|t| !t.trim().is_empty());
        if explicit.is_some() || env_token.is_some() {
            let (token, _) = get_token(&TokenOptions {
                explicit: explicit.map(str::to_string),
                interactive: None,
                non_interactive: true,
            })
            .await?;
            return Ok(token);
        }
        if let Some(name) = &self.oidc_provider {
            return Self::provider_token(name).await;
        }
        if !self.oidc_disable_ambient_providers {
            if let Some(provider) = detect_ambient() {
                return provider
                    .fetch(SIGSTORE_AUDIENCE)
                    .await
                    .with_context(|| format!("getting a token from {}", provider.name()));
            }
        }
        let Some(mut interactive) = interactive else {
            bail!("no identity token: pass --identity-token, set SIGSTORE_ID_TOKEN, or name an OIDC issuer for interactive sign-in");
        };
        interactive.redirect_url = self.oidc_redirect_url.clone();
        if let Some(path) = &self.oidc_client_secret_file {
            let secret = read_capped(path, "OIDC client secret file")?;
            interactive.client_secret = Some(secret.trim().to_string());
        }
        if std::io::IsTerminal::is_terminal(&std::io::stdin()) {
            Ok(browser_flow(&interactive).await?)
        } else {
            Ok(device_flow(&interactive).await?)
        }
    }

    async fn provider_token(name: &str) -> Result<IdentityToken> {
        if name == "filesystem" {
            let raw = read_capped(std::path::Path::new(FILESYSTEM_TOKEN_PATH), "token file")?;
            return Ok(IdentityToken::parse(raw.trim())?);
        }
        let known = [
            "github-actions",
            "buildkite-agent",
            "circleci",
            "spiffe",
            "google",
            "filesystem",
        ];
        if !known.contains(&name) {
            bail!(
                "unknown --oidc-provider {name:?}: expected one of {}",
                known.join(", ")
            );
        }
        let detected = detect_ambient().filter(|p| {
            let got = p.name();
            got == name
                || (name == "google" && matches!(got, "google-impersonation" | "gce-metadata"))
        });
        let Some(provider) = detected else {
            bail!("--oidc-provider {name}: that provider is not available in this environment");
        };
        provider
            .fetch(SIGSTORE_AUDIENCE)
            .await
            .with_context(|| format!("getting a token from {}", provider.name()))
    }

    /// A redirect URL the browser flow cannot use (not http(s), an https
    /// loopback URL, credentials or a fragment) is refused before anything
    /// else happens, rather than ignored.
    fn check_redirect(&self) -> Result<()> {
        if let Some(url) = &self.oidc_redirect_url {
            keyless_oidc::RedirectPlan::new(Some(url))?;
        }
        Ok(())
    }
}

fn read_capped(path: &std::path::Path, what: &str) -> Result<String> {
    use std::io::Read;
    let file =
        std::fs::File::open(path).with_context(|| format!("reading {what} {}", path.display()))?;
    let mut text = String::new();
    file.take(MAX_TOKEN_FILE_BYTES + 1)
        .read_to_string(&mut text)
        .with_context(|| format!("reading {what} {}", path.display()))?;
    if text.len() as u64 > MAX_TOKEN_FILE_BYTES {
        bail!("{what} {} is larger than 64 KiB", path.display());
    }
    Ok(text)
}
