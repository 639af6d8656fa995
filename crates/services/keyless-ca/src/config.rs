//! The issuer allow-list, in the spirit of Fulcio's JSON config
//! (`OIDCIssuers`, `MetaIssuers`, `CIIssuerMetadata`).
//!
//! A token is considered only if its `iss` is an exact `OIDCIssuers` key or
//! matches a `MetaIssuers` pattern. Patterns are anchored and `*` matches
//! one `[-_a-zA-Z0-9]+` segment, so `https://oidc.eks.*.amazonaws.com/id/*`
//! cannot be satisfied by `https://evil.example/?x=https://oidc.eks…`
//! (GHSA-59jp).

use std::collections::BTreeMap;

use regex::Regex;
use serde::{Deserialize, Serialize};

use crate::error::{ConfigError, SetupError};

/// How the identity in the certificate is derived from the token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum IssuerType {
    #[serde(rename = "email")]
    Email,
    #[serde(rename = "github-workflow")]
    GithubWorkflow,
    #[serde(rename = "gitlab-pipeline")]
    GitlabPipeline,
    #[serde(rename = "buildkite-job")]
    BuildkiteJob,
    #[serde(rename = "codefresh-workflow")]
    CodefreshWorkflow,
    /// A CI provider described entirely by `CIIssuerMetadata` templates
    /// (CircleCI by default).
    #[serde(rename = "ci-provider")]
    CiProvider,
    #[serde(rename = "spiffe")]
    Spiffe,
    #[serde(rename = "kubernetes")]
    Kubernetes,
    #[serde(rename = "uri")]
    Uri,
    #[serde(rename = "username")]
    Username,
}

impl IssuerType {
    /// The claim the proof of possession signs (Fulcio `principal.Name()`).
    pub fn default_challenge_claim(self) -> &'static str {
        match self {
            IssuerType::Email => "email",
            _ => "sub",
        }
    }

    /// The CI metadata a CI type uses when `CIProvider` is not given.
    fn default_ci_provider(self) -> Option<&'static str> {
        match self {
            IssuerType::GithubWorkflow => Some("github-workflow"),
            IssuerType::GitlabPipeline => Some("gitlab-pipeline"),
            IssuerType::CodefreshWorkflow => Some("codefresh-workflow"),
            _ => None,
        }
    }
}

/// One trusted OIDC issuer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssuerConfig {
    #[serde(rename = "IssuerURL", default)]
    pub issuer_url: String,
    /// The audience the token must contain; `sigstore` unless configured.
    #[serde(rename = "ClientID", default = "default_client_id")]
    pub client_id: String,
    #[serde(rename = "Type")]
    pub kind: IssuerType,
    /// Which `CIIssuerMetadata` entry renders SAN and extensions.
    #[serde(
        rename = "CIProvider",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub ci_provider: Option<String>,
    /// `uri`: required scheme+host prefix of `sub`; `username`: the domain appended.
    #[serde(
        rename = "SubjectDomain",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub subject_domain: Option<String>,
    #[serde(
        rename = "SPIFFETrustDomain",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub spiffe_trust_domain: Option<String>,
    #[serde(
        rename = "ChallengeClaim",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub challenge_claim: Option<String>,
    /// Only for development issuers: accept `email` without `email_verified`.
    #[serde(
        rename = "SkipEmailVerification",
        default,
        skip_serializing_if = "is_false"
    )]
    pub skip_email_verification: bool,
}

fn is_false(b: &bool) -> bool {
    !*b
}

fn default_client_id() -> String {
    "sigstore".into()
}

impl IssuerConfig {
    /// The challenge claim: configured, else the type's default.
    pub fn challenge_claim(&self) -> &str {
        self.challenge_claim
            .as_deref()
            .unwrap_or(self.kind.default_challenge_claim())
    }

    /// The `CIIssuerMetadata` key for CI types.
    pub fn ci_provider(&self) -> Option<&str> {
        self.ci_provider
            .as_deref()
            .or(self.kind.default_ci_provider())
    }
}

/// Templates that render SAN and extensions from claims (Fulcio
/// `ci-issuer-metadata`). A template is either a bare claim name or text
/// with `{{ .claim }}` placeholders and `{{ if eq .claim "v" }}…{{ else }}…{{ end }}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CiIssuerMetadata {
    /// Values used when the token lacks the claim.
    #[serde(rename = "DefaultTemplateValues", default)]
    pub default_template_values: BTreeMap<String, String>,
    /// Extension name (Fulcio's `Extensions` field names, e.g.
    /// `BuildSignerURI`) → template.
    #[serde(rename = "ExtensionTemplates", alias = "ClaimsTemplates", default)]
    pub extension_templates: BTreeMap<String, String>,
    #[serde(rename = "SubjectAlternativeNameTemplate", default)]
    pub subject_alternative_name_template: String,
}

/// The whole issuer configuration file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssuersConfig {
    #[serde(rename = "OIDCIssuers", default)]
    pub oidc_issuers: BTreeMap<String, IssuerConfig>,
    #[serde(rename = "MetaIssuers", default)]
    pub meta_issuers: BTreeMap<String, IssuerConfig>,
    /// Merged over the built-in GitHub / GitLab / Codefresh / CircleCI metadata.
    #[serde(rename = "CIIssuerMetadata", default)]
    pub ci_issuer_metadata: BTreeMap<String, CiIssuerMetadata>,
}

/// A parsed configuration with meta-issuer patterns compiled.
#[derive(Debug, Clone)]
pub struct Issuers {
    config: IssuersConfig,
    meta: Vec<(Regex, IssuerConfig)>,
}

/// Compile a meta-issuer pattern: quote everything, `*` becomes one
/// `[-_a-zA-Z0-9]+` segment, and the whole pattern is anchored.
pub fn meta_regex(pattern: &str) -> Result<Regex, regex::Error> {
    let quoted = regex::escape(pattern).replace(r"\*", "[-_a-zA-Z0-9]+");
    Regex::new(&format!("^(?:{quoted})$"))
}

impl Issuers {
    /// Validate and compile a configuration.
    pub fn new(mut config: IssuersConfig) -> Result<Self, ConfigError> {
        for (name, meta) in builtin_ci_metadata() {
            config.ci_issuer_metadata.entry(name).or_insert(meta);
        }
        for (url, iss) in config.oidc_issuers.iter_mut() {
            if iss.issuer_url.is_empty() {
                iss.issuer_url = url.clone();
            }
            if &iss.issuer_url != url {
                return Err(ConfigError::IssuerUrlMismatch {
                    key: url.clone(),
                    issuer_url: iss.issuer_url.clone(),
                });
            }
            check_issuer(url, iss, &config.ci_issuer_metadata)?;
        }
        let mut meta = Vec::new();
        for (pattern, iss) in &config.meta_issuers {
            if iss.kind == IssuerType::Spiffe {
                return Err(ConfigError::SpiffeMetaIssuer);
            }
            check_issuer(pattern, iss, &config.ci_issuer_metadata)?;
            let re = meta_regex(pattern).map_err(|source| ConfigError::MetaPattern {
                pattern: pattern.clone(),
                source,
            })?;
            meta.push((re, iss.clone()));
        }
        Ok(Self { config, meta })
    }

    /// Read a JSON issuer configuration file.
    pub fn from_file(path: &std::path::Path) -> Result<Self, SetupError> {
        let text = std::fs::read(path).map_err(|source| SetupError::Io {
            path: path.display().to_string(),
            source,
        })?;
        let cfg = serde_json::from_slice(&text).map_err(|e| SetupError::Config {
            path: path.display().to_string(),
            source: ConfigError::Json(e),
        })?;
        Self::new(cfg).map_err(|source| SetupError::Config {
            path: path.display().to_string(),
            source,
        })
    }

    /// The issuer configuration for `iss`: an exact entry first, then the
    /// first meta pattern that matches the whole string.
    pub fn get(&self, iss: &str) -> Option<IssuerConfig> {
        if let Some(c) = self.config.oidc_issuers.get(iss) {
            return Some(c.clone());
        }
        self.meta
            .iter()
            .find(|(re, _)| re.is_match(iss))
            .map(|(_, c)| {
                let mut c = c.clone();
                c.issuer_url = iss.to_string();
                c
            })
    }

    pub fn ci_metadata(&self, name: &str) -> Option<&CiIssuerMetadata> {
        self.config.ci_issuer_metadata.get(name)
    }

    pub fn config(&self) -> &IssuersConfig {
        &self.config
    }
}

fn check_issuer(
    name: &str,
    iss: &IssuerConfig,
    ci: &BTreeMap<String, CiIssuerMetadata>,
) -> Result<(), ConfigError> {
    let missing = |kind, setting| {
        Err(ConfigError::MissingSetting {
            kind,
            name: name.into(),
            setting,
        })
    };
    if iss.client_id.is_empty() {
        return Err(ConfigError::EmptyClientId { name: name.into() });
    }
    match iss.kind {
        IssuerType::Spiffe if iss.spiffe_trust_domain.as_deref().unwrap_or("").is_empty() => {
            return missing("spiffe issuer", "SPIFFETrustDomain")
        }
        IssuerType::Uri | IssuerType::Username if iss.subject_domain.is_none() => {
            return missing("issuer", "SubjectDomain")
        }
        IssuerType::CiProvider if iss.ci_provider.is_none() => {
            return missing("ci-provider issuer", "CIProvider")
        }
        _ => {}
    }
    if let Some(p) = iss.ci_provider() {
        let Some(meta) = ci.get(p) else {
            return Err(ConfigError::UnknownCiMetadata {
                name: name.into(),
                provider: p.into(),
            });
        };
        let template_err = |field: &str| {
            let (provider, field) = (p.to_string(), field.to_string());
            move |source| ConfigError::CiTemplate {
                provider,
                field,
                source,
            }
        };
        crate::template::Template::parse(&meta.subject_alternative_name_template)
            .map_err(template_err("SAN template"))?;
        for (ext, t) in &meta.extension_templates {
            // The table identity::extension_oid reads (keyless-x509's),
            // named directly: identity imports this module.
            if keyless_x509::oid::by_field_name(ext).is_none() {
                return Err(ConfigError::UnknownExtension {
                    provider: p.into(),
                    extension: ext.clone(),
                });
            }
            crate::template::Template::parse(t).map_err(template_err(ext))?;
        }
    }
    Ok(())
}

fn meta(defaults: &[(&str, &str)], san: &str, exts: &[(&str, &str)]) -> CiIssuerMetadata {
    CiIssuerMetadata {
        default_template_values: defaults
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        extension_templates: exts
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        subject_alternative_name_template: san.into(),
    }
}

/// The CI metadata shipped with the CA, after Fulcio's public-good
/// `ci-issuer-metadata` (the same claim → extension mapping, written anew).
pub fn builtin_ci_metadata() -> BTreeMap<String, CiIssuerMetadata> {
    let mut m = BTreeMap::new();
    m.insert(
        "github-workflow".into(),
        meta(
            &[("url", "https://github.com")],
            "{{ .url }}/{{ .job_workflow_ref }}",
            &[
                ("GithubWorkflowTrigger", "event_name"),
                ("GithubWorkflowSHA", "sha"),
                ("GithubWorkflowName", "workflow"),
                ("GithubWorkflowRepository", "repository"),
                ("GithubWorkflowRef", "ref"),
                ("BuildSignerURI", "{{ .url }}/{{ .job_workflow_ref }}"),
                ("BuildSignerDigest", "job_workflow_sha"),
                ("RunnerEnvironment", "runner_environment"),
                ("SourceRepositoryURI", "{{ .url }}/{{ .repository }}"),
                ("SourceRepositoryDigest", "sha"),
                ("SourceRepositoryRef", "ref"),
                ("SourceRepositoryIdentifier", "repository_id"),
                ("SourceRepositoryOwnerURI", "{{ .url }}/{{ .repository_owner }}"),
                ("SourceRepositoryOwnerIdentifier", "repository_owner_id"),
                ("BuildConfigURI", "{{ .url }}/{{ .workflow_ref }}"),
                ("BuildConfigDigest", "workflow_sha"),
                ("BuildTrigger", "event_name"),
                (
                    "RunInvocationURI",
                    "{{ .url }}/{{ .repository }}/actions/runs/{{ .run_id }}/attempts/{{ .run_attempt }}",
                ),
                ("SourceRepositoryVisibilityAtSigning", "repository_visibility"),
            ],
        ),
    );
    m.insert(
        "gitlab-pipeline".into(),
        meta(
            &[("url", "https://gitlab.com")],
            "https://{{ .ci_config_ref_uri }}",
            &[
                ("BuildSignerURI", "https://{{ .ci_config_ref_uri }}"),
                ("BuildSignerDigest", "ci_config_sha"),
                ("RunnerEnvironment", "runner_environment"),
                ("SourceRepositoryURI", "{{ .url }}/{{ .project_path }}"),
                ("SourceRepositoryDigest", "sha"),
                (
                    "SourceRepositoryRef",
                    "refs/{{ if eq .ref_type \"branch\" }}heads/{{ else }}tags/{{ end }}{{ .ref }}",
                ),
                ("SourceRepositoryIdentifier", "project_id"),
                (
                    "SourceRepositoryOwnerURI",
                    "{{ .url }}/{{ .namespace_path }}",
                ),
                ("SourceRepositoryOwnerIdentifier", "namespace_id"),
                ("BuildConfigURI", "https://{{ .ci_config_ref_uri }}"),
                ("BuildConfigDigest", "ci_config_sha"),
                ("BuildTrigger", "pipeline_source"),
                (
                    "RunInvocationURI",
                    "{{ .url }}/{{ .project_path }}/-/jobs/{{ .job_id }}",
                ),
                ("SourceRepositoryVisibilityAtSigning", "project_visibility"),
            ],
        ),
    );
    m.insert(
        "codefresh-workflow".into(),
        meta(
            &[("url", "https://g.codefresh.io")],
            "{{ .url }}/build/{{ .workflow_id }}",
            &[
                ("BuildSignerURI", "{{ .url }}/{{ .account_name }}/{{ .pipeline_name }}:{{ .account_id }}/{{ .pipeline_id }}"),
                ("RunnerEnvironment", "runner_environment"),
                ("SourceRepositoryURI", "scm_repo_url"),
                ("SourceRepositoryRef", "scm_ref"),
                ("BuildConfigURI", "{{ .url }}/api/pipelines/{{ .pipeline_id }}"),
                ("RunInvocationURI", "{{ .url }}/build/{{ .workflow_id }}"),
            ],
        ),
    );
    m.insert(
        "circleci".into(),
        meta(
            &[("url", "https://app.circleci.com")],
            "https://app.circleci.com/pipelines/circleci/{{ .oidc.circleci.com/org-id }}/{{ .oidc.circleci.com/project-id }}",
            &[
                (
                    "BuildSignerURI",
                    "https://app.circleci.com/pipelines/circleci/{{ .oidc.circleci.com/org-id }}/{{ .oidc.circleci.com/project-id }}",
                ),
                ("SourceRepositoryIdentifier", "oidc.circleci.com/project-id"),
                ("SourceRepositoryOwnerIdentifier", "oidc.circleci.com/org-id"),
            ],
        ),
    );
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meta_issuers_are_anchored() {
        let re = meta_regex("https://oidc.eks.*.amazonaws.com/id/*").unwrap();
        assert!(re.is_match("https://oidc.eks.us-west-2.amazonaws.com/id/B02C93B6"));
        assert!(!re.is_match("https://oidc.eks.us-west-2.amazonaws.com/id/B02C93B6/extra"));
        assert!(!re.is_match("https://evil.example/?https://oidc.eks.a.amazonaws.com/id/b"));
        assert!(!re.is_match("https://oidc.eks.a.b.amazonaws.com/id/x"));
        assert!(!re.is_match("https://oidcXeks.a.amazonaws.com/id/x"));
    }

    #[test]
    fn config_parses_fulcio_shape() {
        let cfg: IssuersConfig = serde_json::from_str(
            r#"{"OIDCIssuers": {"https://a.example": {"IssuerURL": "https://a.example", "ClientID": "sigstore", "Type": "email"}},
                "MetaIssuers": {"https://*.ci.example": {"ClientID": "sigstore", "Type": "github-workflow"}}}"#,
        )
        .unwrap();
        let issuers = Issuers::new(cfg).unwrap();
        assert_eq!(
            issuers.get("https://a.example").unwrap().kind,
            IssuerType::Email
        );
        let m = issuers.get("https://x1.ci.example").unwrap();
        assert_eq!(m.issuer_url, "https://x1.ci.example");
        assert!(issuers.get("https://b.example").is_none());
    }
}
