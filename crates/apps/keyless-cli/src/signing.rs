//! What every signing command shares: where the token comes from, which
//! services to use, consent, and running the signing flow.

use anyhow::{Context, Result};
use keyless_oidc::{get_token, InteractiveOptions, TokenOptions};
use keyless_sign::http::{AnyRekor, FulcioClient, HttpClient, TsaClient};
use keyless_sign::{Artifact, SignedBundle, Signer};

use crate::instance::{Endpoints, Instance, InstanceArgs, ServiceArgs};

#[derive(Debug, Default, Clone, clap::Args)]
pub struct SignArgs {
    /// An OIDC identity token to sign with, or @FILE holding one. Without
    /// it: SIGSTORE_ID_TOKEN, then an ambient CI provider, then a browser
    /// sign-in (device flow when there is no terminal).
    #[arg(long, value_name = "TOKEN")]
    pub identity_token: Option<String>,
    /// Skip the confirmation prompt.
    #[arg(long, short = 'y')]
    pub yes: bool,
    #[command(flatten)]
    pub services: ServiceArgs,
    #[command(flatten)]
    pub instance: InstanceArgs,
}

impl SignArgs {
    /// Resolve the instance (outside any async runtime: the TUF client is
    /// blocking) and ask for consent.
    pub fn prepare(&self) -> Result<(Instance, Endpoints)> {
        let instance = self.instance.resolve()?;
        let endpoints = instance.endpoints(&self.services)?;
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
        let interactive = endpoints.oidc_issuer.as_ref().map(|issuer| {
            let mut o = InteractiveOptions::new(issuer.clone());
            o.client_id = endpoints.oidc_client_id.clone();
            o
        });
        let (token, _source) = get_token(&TokenOptions {
            explicit: self.identity_token.clone(),
            interactive,
            non_interactive: false,
        })
        .await
        .context("getting an identity token")?;

        let http = HttpClient::shared()?;
        let signer = Signer {
            ca: FulcioClient::new(&endpoints.fulcio, http.clone()),
            log: AnyRekor::new(&endpoints.rekor, endpoints.rekor_version, http.clone()),
            tsa: endpoints
                .tsa
                .as_ref()
                .map(|url| TsaClient::new(url, http.clone())),
            trust: Some(instance.trust.clone()),
        };
        let progress = |m: &str| eprintln!("{m}");
        Ok(signer
            .sign(token.raw(), token.challenge(), artifact, &progress)
            .await?)
    }
}

/// A runtime for the async client code.
pub fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")
}
