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
    /// The GitHub workflow trigger (event) the certificate must name
    /// (Fulcio extension 1.3.6.1.4.1.57264.1.2).
    #[arg(long, value_name = "EVENT")]
    pub certificate_github_workflow_trigger: Option<String>,
    /// The commit SHA the certificate must name (1.3.6.1.4.1.57264.1.3).
    #[arg(long, value_name = "SHA")]
    pub certificate_github_workflow_sha: Option<String>,
    /// The workflow name the certificate must name (1.3.6.1.4.1.57264.1.4).
    #[arg(long, value_name = "NAME")]
    pub certificate_github_workflow_name: Option<String>,
    /// The repository the certificate must name, `owner/repo`
    /// (1.3.6.1.4.1.57264.1.5).
    #[arg(long, value_name = "REPO")]
    pub certificate_github_workflow_repository: Option<String>,
    /// The git ref the certificate must name, e.g. `refs/heads/main`
    /// (1.3.6.1.4.1.57264.1.6).
    #[arg(long, value_name = "REF")]
    pub certificate_github_workflow_ref: Option<String>,
}

/// cosign's `--certificate-github-workflow-*` flags and the Fulcio
/// extension each one must equal.
const GITHUB_WORKFLOW_OIDS: [(&str, &str); 5] = [
    ("trigger", "1.3.6.1.4.1.57264.1.2"),
    ("sha", "1.3.6.1.4.1.57264.1.3"),
    ("name", "1.3.6.1.4.1.57264.1.4"),
    ("repository", "1.3.6.1.4.1.57264.1.5"),
    ("ref", "1.3.6.1.4.1.57264.1.6"),
];

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
            let mut given: Vec<&str> = identity_flags
                .iter()
                .filter(|(_, set)| *set)
                .map(|(flag, _)| *flag)
                .collect();
            if !self.github_workflow_extensions().is_empty() {
                given.push("--certificate-github-workflow-*");
            }
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
        let mut identity = Identity::new(san, issuer);
        identity.extensions = self.github_workflow_extensions();
        Ok(Policy::identity(identity))
    }

    /// The `--certificate-github-workflow-*` values as (OID, value) pairs.
    fn github_workflow_extensions(&self) -> Vec<(String, String)> {
        let values = [
            &self.certificate_github_workflow_trigger,
            &self.certificate_github_workflow_sha,
            &self.certificate_github_workflow_name,
            &self.certificate_github_workflow_repository,
            &self.certificate_github_workflow_ref,
        ];
        GITHUB_WORKFLOW_OIDS
            .iter()
            .zip(values)
            .filter_map(|((_, oid), value)| value.as_ref().map(|v| (oid.to_string(), v.clone())))
            .collect()
    }
}
