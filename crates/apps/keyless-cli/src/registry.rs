//! Registry access for the image commands: cosign's flags (including
//! `--registry-username`/`--registry-password`/`--registry-token`),
//! credentials from the Docker config and its credential helpers, and the
//! error a missing signature gets.

use anyhow::{bail, Context, Result};
use keyless_oci::{
    ClientOptions, CredentialSource, Credentials, DockerConfig, Reference, RegistryClient,
};

/// cosign's registry flags. Credentials given here are used for every
/// registry the command talks to and override the Docker config, as in
/// cosign; without them, `$DOCKER_CONFIG/config.json` (or
/// `~/.docker/config.json`) and the credential helpers it names are used.
#[derive(Default, Clone, clap::Args)]
pub struct RegistryArgs {
    /// Allow plain-HTTP (and unverified TLS) registries, e.g. one on loopback.
    #[arg(long)]
    pub allow_insecure_registry: bool,
    /// Registry Basic auth username (with --registry-password); overrides
    /// the Docker config.
    #[arg(long, value_name = "USERNAME", requires = "registry_password")]
    pub registry_username: Option<String>,
    /// Registry Basic auth password (with --registry-username). Visible to
    /// other local users in the process list: prefer the Docker config or
    /// a credential helper on shared machines.
    #[arg(long, value_name = "PASSWORD", requires = "registry_username")]
    pub registry_password: Option<String>,
    /// Registry bearer token, sent as it is (no token exchange); overrides
    /// the Docker config.
    #[arg(
        long,
        value_name = "TOKEN",
        conflicts_with_all = ["registry_username", "registry_password"]
    )]
    pub registry_token: Option<String>,
}

/// Never prints the password or token.
impl std::fmt::Debug for RegistryArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let redacted = |v: &Option<String>| v.as_ref().map(|_| "<redacted>");
        f.debug_struct("RegistryArgs")
            .field("allow_insecure_registry", &self.allow_insecure_registry)
            .field("registry_username", &self.registry_username)
            .field("registry_password", &redacted(&self.registry_password))
            .field("registry_token", &redacted(&self.registry_token))
            .finish()
    }
}

impl RegistryArgs {
    pub fn client(&self) -> Result<RegistryClient> {
        Ok(RegistryClient::new(self.options()?)?)
    }

    /// Client options from these flags and, without credential flags, the
    /// Docker config.
    pub fn options(&self) -> Result<ClientOptions> {
        let source = match (
            &self.registry_username,
            &self.registry_password,
            &self.registry_token,
        ) {
            (Some(user), Some(password), None) => {
                if user.is_empty() || password.is_empty() {
                    bail!("--registry-username and --registry-password must not be empty");
                }
                CredentialSource::Static(Credentials::new(user.clone(), password.clone()))
            }
            (None, None, Some(token)) => {
                if token.is_empty() {
                    bail!("--registry-token must not be empty");
                }
                CredentialSource::Token(token.clone())
            }
            // clap's requires/conflicts make any other combination unreachable.
            (None, None, None) => CredentialSource::DockerConfig(
                DockerConfig::discover(|k| std::env::var_os(k))
                    .context("reading the Docker config for registry credentials")?,
            ),
            _ => {
                bail!("use --registry-username with --registry-password, or --registry-token alone")
            }
        };
        Ok(ClientOptions::new()
            .credentials(source)
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

/// The `hint:` for a failed registry login: where this command line takes
/// credentials from (the library names no flags).
pub fn auth_hint(e: &anyhow::Error) -> Option<&'static str> {
    let auth = e.chain().find_map(|c| {
        c.downcast_ref::<keyless_oci::AuthError>().or_else(|| {
            match c.downcast_ref::<keyless_oci::Error>() {
                Some(keyless_oci::Error::Auth(a)) => Some(a),
                _ => None,
            }
        })
    })?;
    match auth {
        keyless_oci::AuthError::BadChallenge { .. } | keyless_oci::AuthError::NoToken { .. } => {
            None
        }
        _ => Some(
            "registry credentials come from --registry-username with --registry-password, or \
             --registry-token, else from the Docker config ($DOCKER_CONFIG/config.json or \
             ~/.docker/config.json, as `docker login` writes it) and the credential helpers it names",
        ),
    }
}
