//! Turning command-line flags into trust material, a policy and an
//! artifact; shared by `keyless verify-blob` and `keyless-conformance`.

use anyhow::{bail, Context, Result};
use keyless_crypto::PublicKey;
use keyless_verify::{Identity, Matcher, Policy};

/// The identity or key flags, as cosign spells them.
#[derive(Debug, Default, Clone, clap::Args)]
pub struct PolicyArgs {
    /// The identity expected in the certificate's subject alternative name
    /// (an email address or a URI, e.g. a GitHub workflow).
    #[arg(long, value_name = "ID")]
    pub certificate_identity: Option<String>,
    /// A regular expression the certificate identity must match in full.
    #[arg(long, value_name = "REGEX", conflicts_with = "certificate_identity")]
    pub certificate_identity_regexp: Option<String>,
    /// The OIDC issuer expected in the certificate (e.g.
    /// https://token.actions.githubusercontent.com).
    #[arg(long, value_name = "URL")]
    pub certificate_oidc_issuer: Option<String>,
    /// A regular expression the OIDC issuer must match in full.
    #[arg(long, value_name = "REGEX", conflicts_with = "certificate_oidc_issuer")]
    pub certificate_oidc_issuer_regexp: Option<String>,
    /// Verify with this PEM public key instead of a certificate identity
    /// (for bundles signed with a long-lived key).
    #[arg(long, value_name = "FILE")]
    pub key: Option<std::path::PathBuf>,
}

impl PolicyArgs {
    pub fn policy(&self) -> Result<Policy> {
        if let Some(path) = &self.key {
            // A key policy ignores certificates; accepting identity flags
            // beside it would let a user believe an identity was checked.
            let identity_flags = [
                (
                    "--certificate-identity",
                    self.certificate_identity.is_some(),
                ),
                (
                    "--certificate-identity-regexp",
                    self.certificate_identity_regexp.is_some(),
                ),
                (
                    "--certificate-oidc-issuer",
                    self.certificate_oidc_issuer.is_some(),
                ),
                (
                    "--certificate-oidc-issuer-regexp",
                    self.certificate_oidc_issuer_regexp.is_some(),
                ),
            ];
            let given: Vec<&str> = identity_flags
                .iter()
                .filter(|(_, set)| *set)
                .map(|(flag, _)| *flag)
                .collect();
            if !given.is_empty() {
                bail!(
                    "--key cannot be used with {}: a key policy checks the signature against the key only, \
                     so no certificate identity or issuer would be checked",
                    given.join(", ")
                );
            }
            let pem = std::fs::read_to_string(path)
                .with_context(|| format!("reading key {}", path.display()))?;
            let key = PublicKey::from_pem(&pem)
                .with_context(|| format!("parsing key {}", path.display()))?;
            return Ok(Policy::Key(key));
        }
        let san = match (&self.certificate_identity, &self.certificate_identity_regexp) {
            (Some(id), None) => Matcher::exact(id),
            (None, Some(re)) => Matcher::regex(re)?,
            _ => bail!("--certificate-identity or --certificate-identity-regexp is required for keyless verification"),
        };
        let issuer = match (&self.certificate_oidc_issuer, &self.certificate_oidc_issuer_regexp) {
            (Some(iss), None) => Matcher::exact(iss),
            (None, Some(re)) => Matcher::regex(re)?,
            _ => bail!("--certificate-oidc-issuer or --certificate-oidc-issuer-regexp is required for keyless verification"),
        };
        Ok(Policy::identity(Identity::new(san, issuer)))
    }
}
