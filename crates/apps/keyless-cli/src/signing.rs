//! What every signing command shares: where the token comes from, which
//! services to use, consent, and running the signing flow.

use anyhow::{Context, Result};
use keyless_oidc::InteractiveOptions;
use keyless_sign::http::{AnyRekor, FulcioClient, HttpClient, TsaClient};
use keyless_sign::{Artifact, SignedBundle, Signer};

use crate::instance::{Endpoints, Instance, InstanceArgs, ServiceArgs};

/// Not `Default`: a derived default would turn the transparency log off.
#[derive(Debug, Clone, clap::Args)]
pub struct SignArgs {
    /// An OIDC identity token to sign with, or @FILE holding one. Without
    /// it: SIGSTORE_ID_TOKEN, then an ambient CI provider, then a browser
    /// sign-in (device flow when there is no terminal).
    #[arg(long, value_name = "TOKEN")]
    pub identity_token: Option<String>,
    /// Sign with this key instead of keylessly: a cosign private key
    /// (ENCRYPTED SIGSTORE PRIVATE KEY; password from COSIGN_PASSWORD or the
    /// terminal). No identity token or certificate; the log records the
    /// public key. Verify with --key PUBLIC.pem.
    #[arg(long, value_name = "FILE", conflicts_with = "identity_token")]
    pub key: Option<std::path::PathBuf>,
    /// Skip the confirmation prompt.
    #[arg(long, short = 'y', env = "COSIGN_YES")]
    pub yes: bool,
    /// Record the signature in the transparency log (`--tlog-upload=false`
    /// signs without a log entry: verifiers then need --insecure-ignore-tlog,
    /// and the signing time comes from the timestamp authority alone).
    #[arg(
        long,
        value_name = "BOOL",
        default_value_t = true,
        action = clap::ArgAction::Set,
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "true"
    )]
    pub tlog_upload: bool,
    #[command(flatten)]
    pub oidc: crate::token::OidcArgs,
    #[command(flatten)]
    pub services: ServiceArgs,
    #[command(flatten)]
    pub instance: InstanceArgs,
}

impl SignArgs {
    /// Resolve the instance (outside any async runtime: the TUF client is
    /// blocking) and ask for consent.
    pub fn prepare(&self) -> Result<(Instance, Endpoints)> {
        crate::cosign_env::note_ignored();
        let instance = self.instance.resolve()?;
        let mut services = self.services.clone();
        services.without_log = !self.tlog_upload;
        let endpoints = instance.endpoints(&services)?;
        if !self.tlog_upload {
            eprintln!(
                "WARNING: --tlog-upload=false: the signature is NOT recorded in a transparency log, so nobody \
                 can audit that it was made; verifiers must pass --insecure-ignore-tlog to accept it"
            );
        }
        crate::consent::confirm(self.yes)?;
        Ok((instance, endpoints))
    }

    /// Run the signing flow for `artifact`, printing progress as cosign does.
    pub async fn sign(
        &self,
        instance: &Instance,
        endpoints: &Endpoints,
        artifact: &Artifact,
    ) -> Result<SignedBundle> {
        let mut signed = self
            .sign_all(instance, endpoints, std::slice::from_ref(artifact))
            .await?;
        signed.pop().context("the signing flow returned no bundle")
    }

    /// Sign each of `artifacts` with one identity token and one certificate
    /// (a log entry each), so an image stored in two layouts asks for one
    /// sign-in and `--output-certificate` names the signer of both.
    pub async fn sign_all(
        &self,
        instance: &Instance,
        endpoints: &Endpoints,
        artifacts: &[Artifact],
    ) -> Result<Vec<SignedBundle>> {
        let mut out = Vec::with_capacity(artifacts.len());
        if let Some(key) = &self.key {
            for artifact in artifacts {
                out.push(
                    crate::commands::keys::sign_with_key(
                        key,
                        self.tlog_upload,
                        instance,
                        endpoints,
                        artifact,
                    )
                    .await?,
                );
            }
            return Ok(out);
        }
        let interactive = endpoints.oidc_issuer.as_ref().map(|issuer| {
            let mut o = InteractiveOptions::new(issuer.clone());
            o.client_id = endpoints.oidc_client_id.clone();
            o
        });
        let token = self
            .oidc
            .token(self.identity_token.as_deref(), interactive)
            .await
            .context("getting an identity token")?;

        let http = HttpClient::shared()?;
        let signer = Signer {
            ca: FulcioClient::new(&endpoints.fulcio, http.clone()),
            log: if self.tlog_upload {
                AnyRekor::new(&endpoints.rekor, endpoints.rekor_version, http.clone())
            } else {
                AnyRekor::Off
            },
            tsa: endpoints
                .tsa
                .as_ref()
                .map(|url| TsaClient::new(url, http.clone())),
            trust: Some(instance.trust.clone()),
        };
        let progress = |m: &str| eprintln!("{m}");
        let signed = signer
            .sign_all(token.raw(), token.challenge(), artifacts, &progress)
            .await?;
        if signed.iter().any(|s| s.log_index.is_some()) {
            if let Some(url) = explorer_page(&http, &endpoints.rekor).await {
                for index in signed.iter().filter_map(|s| s.log_index) {
                    eprintln!(
                        "View the entry in the transparency log explorer: {url}/?logIndex={index}"
                    );
                }
            }
        }
        out.extend(signed);
        Ok(out)
    }
}

/// The explorer page for entries of the log at `log_url`, as cosign prints
/// the search.sigstore.dev link: that site for the public-good Rekor, and
/// the log's own root when it serves the keyless explorer there (one short
/// GET whose answer carries the explorer's header; a log without the page,
/// or one that does not answer in time, gets no link: the index is printed
/// by the signing progress either way).
pub async fn explorer_page(http: &HttpClient, log_url: &str) -> Option<String> {
    if let Some(public) = explorer_url(log_url) {
        return Some(public.to_string());
    }
    let base = log_url.trim_end_matches('/');
    // Only the status and headers are read, never the body.
    let (status, headers) = http
        .probe(&format!("{base}/"), std::time::Duration::from_secs(3))
        .await
        .ok()?;
    let serves_page = status.is_success()
        && headers
            .get(keyless_explorer::EXPLORER_HEADER)
            .is_some_and(|v| v.as_bytes() == b"logIndex");
    serves_page.then(|| base.to_string())
}

/// The public explorer for the public-good Rekor logs (search.sigstore.dev).
pub fn explorer_url(log_url: &str) -> Option<&'static str> {
    let host = log_url
        .trim_start_matches("https://")
        .split(['/', ':'])
        .next()
        .unwrap_or_default();
    matches!(host, "rekor.sigstore.dev" | "log2025-1.rekor.sigstore.dev")
        .then_some("https://search.sigstore.dev")
}

/// A runtime for the async client code.
pub fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")
}
