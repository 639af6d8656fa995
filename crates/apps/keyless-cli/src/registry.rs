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
        Ok(RegistryClient::new(self.options()?)?)
    }

    /// Client options from these flags and the Docker config.
    pub fn options(&self) -> Result<ClientOptions> {
        let config = DockerConfig::discover(|k| std::env::var_os(k))
            .context("reading the Docker config for registry credentials")?;
        Ok(ClientOptions::new()
            .credentials(CredentialSource::DockerConfig(config))
            .danger_allow_insecure_registry(self.allow_insecure_registry))
    }
}

/// How much one verification may read from the registry. The registry
/// decides how many signatures and referrers it lists and how large they
/// are, so each is bounded; going over is an error naming the flag to raise,
/// never a partial answer.
#[derive(Debug, Clone, clap::Args)]
pub struct ReadLimitArgs {
    /// Most signature layers read from the image's .sig (or .att) manifest;
    /// a manifest listing more is refused.
    #[arg(long, value_name = "N", default_value_t = keyless_oci::client::DEFAULT_MAX_SIGNATURES)]
    pub max_signatures: u64,
    /// Most referrers (OCI 1.1 artifacts such as Sigstore bundles) listed for
    /// the image; a longer listing is refused.
    #[arg(long, value_name = "N", default_value_t = keyless_oci::client::DEFAULT_MAX_REFERRERS)]
    pub max_referrers: u64,
    /// Most bytes fetched from the registry for one verification: manifests,
    /// referrers listings, signature payloads, attestations and bundles
    /// together (default 256 MiB). Raise it for large SBOM attestations.
    #[arg(long, value_name = "BYTES", default_value_t = keyless_oci::client::DEFAULT_MAX_FETCH_BYTES)]
    pub max_fetch_bytes: u64,
}

impl ReadLimitArgs {
    /// A client from `registry`'s flags with these limits.
    pub fn client(&self, registry: &RegistryArgs) -> Result<RegistryClient> {
        let options = registry
            .options()?
            .max_signatures(self.max_signatures)
            .max_referrers(self.max_referrers)
            .max_fetch_bytes(self.max_fetch_bytes);
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
