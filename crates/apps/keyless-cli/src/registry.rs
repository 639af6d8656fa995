//! Registry access for the image commands: cosign's flags, credentials
//! from the Docker config, and the error a missing signature gets.

use anyhow::{Context, Result};
use keyless_oci::{ClientOptions, CredentialSource, DockerConfig, Reference, RegistryClient};

#[derive(Debug, Default, Clone, clap::Args)]
pub struct RegistryArgs {
    /// Allow plain-HTTP (and unverified TLS) registries, e.g. one on loopback.
    #[arg(long)]
    pub allow_insecure_registry: bool,
}

impl RegistryArgs {
    pub fn client(&self) -> Result<RegistryClient> {
        let config = DockerConfig::discover(|k| std::env::var_os(k)).context("reading the Docker config for registry credentials")?;
        let options = ClientOptions::new()
            .credentials(CredentialSource::DockerConfig(config))
            .danger_allow_insecure_registry(self.allow_insecure_registry);
        Ok(RegistryClient::new(options)?)
    }
}

pub fn parse(image: &str) -> Result<Reference> {
    Reference::parse(image).with_context(|| format!("parsing image reference {image:?}"))
}

/// cosign's names for predicate types, and URLs passed through.
pub fn predicate_type(t: &str) -> String {
    match t {
        "slsaprovenance" | "slsaprovenance02" => "https://slsa.dev/provenance/v0.2".into(),
        "slsaprovenance1" => "https://slsa.dev/provenance/v1".into(),
        "spdx" | "spdxjson" => "https://spdx.dev/Document".into(),
        "cyclonedx" => "https://cyclonedx.org/bom".into(),
        "vuln" => "https://cosign.sigstore.dev/attestation/vuln/v1".into(),
        "openvex" => "https://openvex.dev/ns".into(),
        "custom" => "https://cosign.sigstore.dev/attestation/v1".into(),
        other => other.into(),
    }
}
