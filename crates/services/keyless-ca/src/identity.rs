//! From verified claims to the certificate's identity: the one SAN, the
//! challenge the proof of possession signs, and the Fulcio extensions
//! (SPEC-CHECKS §3.1 step 6, §3.3).

use const_oid::ObjectIdentifier;
use keyless_x509::oid;
use serde_json::{Map, Value};

use crate::config::{IssuerConfig, IssuerType, Issuers};
use crate::error::IdentityError;
use crate::template::{MissingClaim, Template};
use crate::token::VerifiedToken;

/// The single subject alternative name of a Fulcio certificate (the
/// profile's: [`keyless_x509::profile::San`]).
pub use keyless_x509::profile::San;

/// Who the certificate is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub san: San,
    /// The OIDC issuer, written to .1.1 and .1.8.
    pub issuer: String,
    /// The value the proof of possession must sign.
    pub challenge: String,
    /// The name of the claim the challenge came from, for error messages.
    pub challenge_claim: String,
    /// Further Fulcio extensions (.1.2–.1.6 raw, .1.9+ UTF8String), in OID order.
    pub extensions: Vec<(ObjectIdentifier, String)>,
}

/// Fulcio's `Extensions` field names, as CI metadata templates use them:
/// the one table in [`keyless_x509::oid::FULCIO`], which the verifier
/// reads too.
pub fn extension_oid(name: &str) -> Option<ObjectIdentifier> {
    oid::by_field_name(name)
}

/// A claim as template text: strings as they are, numbers and booleans
/// in their JSON form (GitLab's `project_id` may be a number).
fn claim_text(claims: &Map<String, Value>, name: &str) -> Option<String> {
    match claims.get(name)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn string_claim(claims: &Map<String, Value>, name: &str) -> Result<String, IdentityError> {
    match claims.get(name) {
        Some(Value::String(s)) if !s.is_empty() => Ok(s.clone()),
        _ => Err(IdentityError::MissingClaim { claim: name.into() }),
    }
}

/// A deliberately plain syntactic check: one `@`, non-empty local part, a
/// dotted domain, no whitespace or control characters, RFC 5321 length.
fn valid_email(e: &str) -> bool {
    let Some((local, domain)) = e.split_once('@') else {
        return false;
    };
    e.len() <= 254
        && !local.is_empty()
        && local.len() <= 64
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !e.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// Derive the principal for a verified token.
pub fn principal(token: &VerifiedToken, issuers: &Issuers) -> Result<Principal, IdentityError> {
    let iss = &token.issuer;
    let claims = &token.claims;
    let challenge_claim = iss.challenge_claim().to_string();
    let mut extensions = Vec::new();
    let san = match iss.kind {
        IssuerType::Email => {
            let email = string_claim(claims, "email")?;
            if !iss.skip_email_verification
                && claims.get("email_verified") != Some(&Value::Bool(true))
            {
                return Err(IdentityError::EmailNotVerified);
            }
            if !valid_email(&email) {
                return Err(IdentityError::InvalidEmail(email));
            }
            San::Email(email)
        }
        IssuerType::BuildkiteJob => {
            let org = string_claim(claims, "organization_slug")?;
            let pipeline = string_claim(claims, "pipeline_slug")?;
            for (claim, v) in [("organization_slug", &org), ("pipeline_slug", &pipeline)] {
                if v.contains(['/', '?', '#']) {
                    return Err(IdentityError::MissingClaim {
                        claim: format!("{claim} (a slug without /?#)"),
                    });
                }
            }
            San::Uri(format!("https://buildkite.com/{org}/{pipeline}"))
        }
        IssuerType::Spiffe => {
            let sub = string_claim(claims, "sub")?;
            let td = iss.spiffe_trust_domain.clone().unwrap_or_default();
            let ok = sub
                .strip_prefix("spiffe://")
                .and_then(|rest| rest.split_once('/').map(|(d, _)| d).or(Some(rest)))
                .is_some_and(|d| d == td);
            if !ok {
                return Err(IdentityError::Spiffe {
                    subject: sub,
                    trust_domain: td,
                });
            }
            San::Uri(sub)
        }
        IssuerType::Kubernetes => {
            let k8s = claims.get("kubernetes.io").and_then(Value::as_object);
            // Upstream accepts empty names; we do not (SPEC-CHECKS §3.1).
            let ns = k8s
                .and_then(|k| k.get("namespace"))
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty() && !s.contains('/'))
                .ok_or(IdentityError::Kubernetes("namespace"))?;
            let sa = k8s
                .and_then(|k| k.get("serviceaccount"))
                .and_then(|s| s.get("name"))
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty() && !s.contains('/'))
                .ok_or(IdentityError::Kubernetes("serviceaccount.name"))?;
            San::Uri(format!(
                "https://kubernetes.io/namespaces/{ns}/serviceaccounts/{sa}"
            ))
        }
        IssuerType::Uri => {
            let sub = string_claim(claims, "sub")?;
            let domain = iss.subject_domain.clone().unwrap_or_default();
            let same = |a: &str, b: &str| {
                let (Ok(a), Ok(b)) = (url::Url::parse(a), url::Url::parse(b)) else {
                    return false;
                };
                a.scheme() == b.scheme() && a.host_str() == b.host_str() && a.port() == b.port()
            };
            if !same(&sub, &domain) {
                return Err(IdentityError::SubjectDomain {
                    subject: sub,
                    domain,
                });
            }
            San::Uri(sub)
        }
        IssuerType::Username => {
            let sub = string_claim(claims, "sub")?;
            let domain = iss.subject_domain.clone().unwrap_or_default();
            if sub.contains('!') {
                return Err(IdentityError::SubjectDomain {
                    subject: sub,
                    domain,
                });
            }
            San::Username(format!("{sub}!{domain}"))
        }
        IssuerType::GithubWorkflow
        | IssuerType::GitlabPipeline
        | IssuerType::CodefreshWorkflow
        | IssuerType::CiProvider => {
            let (san, exts) = render_ci(iss, claims, issuers)?;
            extensions = exts;
            San::Uri(san)
        }
    };
    let challenge = string_claim(claims, &challenge_claim)?;
    extensions.sort_by_key(|(o, _)| o.arcs().collect::<Vec<_>>());
    Ok(Principal {
        san,
        issuer: iss.issuer_url.clone(),
        challenge,
        challenge_claim,
        extensions,
    })
}

fn render_ci(
    iss: &IssuerConfig,
    claims: &Map<String, Value>,
    issuers: &Issuers,
) -> Result<(String, Vec<(ObjectIdentifier, String)>), IdentityError> {
    let name = iss.ci_provider().unwrap_or_default().to_string();
    let meta = issuers
        .ci_metadata(&name)
        .ok_or_else(|| IdentityError::UnknownCiProvider(name.clone()))?;
    let lookup =
        |k: &str| claim_text(claims, k).or_else(|| meta.default_template_values.get(k).cloned());
    let render = |field: &str, text: &str| -> Result<String, IdentityError> {
        let t = Template::parse(text).map_err(|source| IdentityError::Template {
            field: field.into(),
            source,
        })?;
        t.render(&lookup)
            .map_err(|MissingClaim(claim)| IdentityError::TemplateClaim {
                field: field.into(),
                claim,
            })
    };
    let san = render(
        "SubjectAlternativeName",
        &meta.subject_alternative_name_template,
    )?;
    let mut exts = Vec::new();
    for (field, text) in &meta.extension_templates {
        let oid = extension_oid(field).ok_or_else(|| IdentityError::UnknownExtension {
            field: field.clone(),
        })?;
        exts.push((oid, render(field, text)?));
    }
    Ok((san, exts))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::IssuersConfig;
    use serde_json::json;

    fn issuers() -> Issuers {
        let cfg: IssuersConfig = serde_json::from_value(json!({
            "OIDCIssuers": {
                "https://mail.example": {"Type": "email"},
                "https://token.actions.githubusercontent.com": {"Type": "github-workflow"},
                "https://gitlab.com": {"Type": "gitlab-pipeline"},
                "https://agent.buildkite.com": {"Type": "buildkite-job"},
                "https://k8s.example": {"Type": "kubernetes"},
                "https://spiffe.example": {"Type": "spiffe", "SPIFFETrustDomain": "example.org"},
                "https://accounts.example.com": {"Type": "username", "SubjectDomain": "example.com"},
                "https://oidc.circleci.com/org/o1": {"Type": "ci-provider", "CIProvider": "circleci"}
            }
        }))
        .unwrap();
        Issuers::new(cfg).unwrap()
    }

    fn tok(iss: &str, claims: Value) -> VerifiedToken {
        let issuers = issuers();
        VerifiedToken {
            issuer: issuers.get(iss).unwrap(),
            claims: claims.as_object().unwrap().clone(),
        }
    }

    #[test]
    fn email_needs_verified() {
        let is = issuers();
        let p = principal(
            &tok(
                "https://mail.example",
                json!({"sub": "1", "email": "a@b.example", "email_verified": true}),
            ),
            &is,
        )
        .unwrap();
        assert_eq!(p.san, San::Email("a@b.example".into()));
        assert_eq!(p.challenge, "a@b.example");
        let e = principal(
            &tok(
                "https://mail.example",
                json!({"sub": "1", "email": "a@b.example"}),
            ),
            &is,
        );
        assert_eq!(e, Err(IdentityError::EmailNotVerified));
        let e = principal(
            &tok(
                "https://mail.example",
                json!({"email": "no-at", "email_verified": true}),
            ),
            &is,
        );
        assert!(matches!(e, Err(IdentityError::InvalidEmail(_))));
    }

    #[test]
    fn github_templates_and_missing_claim() {
        let is = issuers();
        let mut claims = json!({
            "sub": "repo:o/r:ref:refs/heads/main", "job_workflow_ref": "o/r/.github/workflows/w.yml@refs/heads/main",
            "job_workflow_sha": "abc", "runner_environment": "github-hosted", "repository": "o/r", "sha": "abc",
            "ref": "refs/heads/main", "repository_id": "1", "repository_owner": "o", "repository_owner_id": "2",
            "workflow_ref": "o/r/.github/workflows/w.yml@refs/heads/main", "workflow_sha": "abc", "event_name": "push",
            "run_id": "7", "run_attempt": "1", "repository_visibility": "public", "workflow": "w"
        });
        let p = principal(
            &tok(
                "https://token.actions.githubusercontent.com",
                claims.clone(),
            ),
            &is,
        )
        .unwrap();
        assert_eq!(
            p.san.value(),
            "https://github.com/o/r/.github/workflows/w.yml@refs/heads/main"
        );
        assert!(p
            .extensions
            .iter()
            .any(|(o, v)| *o == oid::RUN_INVOCATION_URI
                && v == "https://github.com/o/r/actions/runs/7/attempts/1"));
        claims.as_object_mut().unwrap().remove("run_attempt");
        let e = principal(
            &tok("https://token.actions.githubusercontent.com", claims),
            &is,
        );
        assert!(
            matches!(e, Err(IdentityError::TemplateClaim { claim, .. }) if claim == "run_attempt")
        );
    }

    #[test]
    fn other_types() {
        let is = issuers();
        let p = principal(
            &tok(
                "https://agent.buildkite.com",
                json!({"sub": "s", "organization_slug": "org", "pipeline_slug": "pipe"}),
            ),
            &is,
        )
        .unwrap();
        assert_eq!(p.san.value(), "https://buildkite.com/org/pipe");
        let p = principal(&tok("https://k8s.example", json!({"sub": "s", "kubernetes.io": {"namespace": "ns", "serviceaccount": {"name": "sa"}}})), &is).unwrap();
        assert_eq!(
            p.san.value(),
            "https://kubernetes.io/namespaces/ns/serviceaccounts/sa"
        );
        let e = principal(
            &tok(
                "https://k8s.example",
                json!({"sub": "s", "kubernetes.io": {"namespace": "", "serviceaccount": {"name": "sa"}}}),
            ),
            &is,
        );
        assert_eq!(e, Err(IdentityError::Kubernetes("namespace")));
        let p = principal(
            &tok(
                "https://spiffe.example",
                json!({"sub": "spiffe://example.org/w"}),
            ),
            &is,
        )
        .unwrap();
        assert_eq!(p.san, San::Uri("spiffe://example.org/w".into()));
        assert!(principal(
            &tok(
                "https://spiffe.example",
                json!({"sub": "spiffe://example.org.evil/w"})
            ),
            &is
        )
        .is_err());
        let p = principal(
            &tok("https://accounts.example.com", json!({"sub": "alice"})),
            &is,
        )
        .unwrap();
        assert_eq!(p.san, San::Username("alice!example.com".into()));
        let p = principal(&tok("https://oidc.circleci.com/org/o1", json!({"sub": "s", "oidc.circleci.com/org-id": "o1", "oidc.circleci.com/project-id": "p1"})), &is).unwrap();
        assert_eq!(
            p.san.value(),
            "https://app.circleci.com/pipelines/circleci/o1/p1"
        );
    }
}
