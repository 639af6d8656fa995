//! The test identities the development issuer can log in as.
//!
//! Each identity belongs to a *provider*: the issuer is served at a path
//! per provider (`/` email, `/github`, `/gitlab`, `/buildkite`), so one
//! dev server stands in for an email IdP and for CI token issuers, each
//! with its own `iss` that a CA can map to its own issuer type.

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

/// Which kind of issuer an identity comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Provider {
    Email,
    Github,
    Gitlab,
    Buildkite,
}

impl Provider {
    pub const ALL: [Provider; 4] = [
        Provider::Email,
        Provider::Github,
        Provider::Gitlab,
        Provider::Buildkite,
    ];

    /// Path of this provider's issuer under the server's base URL.
    pub fn path(self) -> &'static str {
        match self {
            Provider::Email => "",
            Provider::Github => "/github",
            Provider::Gitlab => "/gitlab",
            Provider::Buildkite => "/buildkite",
        }
    }

    /// The Fulcio issuer type a CA should configure for it.
    pub fn fulcio_type(self) -> &'static str {
        match self {
            Provider::Email => "email",
            Provider::Github => "github-workflow",
            Provider::Gitlab => "gitlab-pipeline",
            Provider::Buildkite => "buildkite-job",
        }
    }
}

/// A configured identity: a name to select it, and its claims (`iss`,
/// `aud`, `iat`, `nbf`, `exp` are added at minting).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TestIdentity {
    pub name: String,
    pub provider: Provider,
    pub claims: Map<String, Value>,
}

fn obj(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

/// An email identity with `email_verified: true`.
pub fn email_identity(name: &str, email: &str) -> TestIdentity {
    TestIdentity {
        name: name.into(),
        provider: Provider::Email,
        claims: obj(json!({"sub": email, "email": email, "email_verified": true})),
    }
}

/// The identities used when the data dir has no `identities.json`.
pub fn default_identities() -> Vec<TestIdentity> {
    let sha = "0123456789abcdef0123456789abcdef01234567";
    vec![
        email_identity("email", "dev@keyless.test"),
        TestIdentity {
            name: "github".into(),
            provider: Provider::Github,
            claims: obj(json!({
                "sub": "repo:keyless-dev/widgets:ref:refs/heads/main",
                "repository": "keyless-dev/widgets",
                "repository_id": "1001",
                "repository_owner": "keyless-dev",
                "repository_owner_id": "2002",
                "repository_visibility": "public",
                "ref": "refs/heads/main",
                "ref_type": "branch",
                "sha": sha,
                "workflow": "release",
                "workflow_ref": "keyless-dev/widgets/.github/workflows/release.yml@refs/heads/main",
                "workflow_sha": sha,
                "job_workflow_ref": "keyless-dev/widgets/.github/workflows/release.yml@refs/heads/main",
                "job_workflow_sha": sha,
                "event_name": "push",
                "run_id": "42",
                "run_attempt": "1",
                "runner_environment": "github-hosted"
            })),
        },
        TestIdentity {
            name: "gitlab".into(),
            provider: Provider::Gitlab,
            claims: obj(json!({
                "sub": "project_path:keyless-dev/widgets:ref_type:branch:ref:main",
                "project_path": "keyless-dev/widgets",
                "project_id": "3003",
                "namespace_path": "keyless-dev",
                "namespace_id": "4004",
                "project_visibility": "public",
                "ref": "main",
                "ref_type": "branch",
                "sha": sha,
                "ci_config_ref_uri": "gitlab.com/keyless-dev/widgets//.gitlab-ci.yml@refs/heads/main",
                "ci_config_sha": sha,
                "pipeline_source": "push",
                "job_id": "55",
                "runner_environment": "gitlab-hosted"
            })),
        },
        TestIdentity {
            name: "buildkite".into(),
            provider: Provider::Buildkite,
            claims: obj(json!({
                "sub": "organization:acme:pipeline:widgets:ref:refs/heads/main:commit:abc:step:build",
                "organization_slug": "acme",
                "pipeline_slug": "widgets",
                "build_number": 7,
                "build_branch": "main",
                "build_commit": sha,
                "step_key": "build",
                "job_id": "0190-job"
            })),
        },
    ]
}
