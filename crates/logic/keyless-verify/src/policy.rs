//! Who must have signed: a certificate identity (SAN and OIDC issuer, each
//! exact or an anchored regular expression), or a known public key.

use keyless_crypto::PublicKey;
use keyless_x509::FulcioIdentity;
use regex::Regex;

use crate::error::PolicyError;

/// Match a string exactly or by a regular expression that must match the
/// whole string (we anchor it ourselves: `^(?:…)$`, so `foo` cannot match
/// `evilfoo`).
#[derive(Debug, Clone)]
pub enum Matcher {
    Exact(String),
    Regex(Regex),
}

impl Matcher {
    pub fn exact(s: impl Into<String>) -> Self {
        Self::Exact(s.into())
    }

    pub fn regex(pattern: &str) -> Result<Self, PolicyError> {
        Regex::new(&format!("^(?:{pattern})$"))
            .map(Self::Regex)
            .map_err(|e| PolicyError::Invalid(format!("bad regular expression {pattern:?}: {e}")))
    }

    pub fn matches(&self, s: &str) -> bool {
        match self {
            Self::Exact(e) => e == s,
            Self::Regex(r) => r.is_match(s),
        }
    }
}

/// An expected signer identity: one SAN matcher and one issuer matcher,
/// both required (a policy that checks only one of them accepts anyone who
/// can get a certificate from any issuer, or under any name).
#[derive(Debug, Clone)]
pub struct Identity {
    pub san: Matcher,
    pub issuer: Matcher,
    /// Further Fulcio extensions that must equal the given values
    /// (dotted OID → value), e.g. the source repository digest.
    pub extensions: Vec<(String, String)>,
}

impl Identity {
    pub fn new(san: Matcher, issuer: Matcher) -> Self {
        Self {
            san,
            issuer,
            extensions: Vec::new(),
        }
    }

    fn check_extensions(&self, id: &FulcioIdentity) -> Result<(), PolicyError> {
        for (oid, expected) in &self.extensions {
            let found = id.extensions.get(oid).cloned().unwrap_or_default();
            if &found != expected {
                return Err(PolicyError::Extension {
                    name: oid
                        .parse()
                        .map(|o| keyless_x509::oid::name(&o))
                        .unwrap_or_else(|_| oid.clone()),
                    oid: oid.clone(),
                    expected: expected.clone(),
                    found,
                });
            }
        }
        Ok(())
    }
}

/// What verification requires of the signer.
#[derive(Debug, Clone)]
pub enum Policy {
    /// Keyless: any of these identities (cosign accepts a match of any).
    Identities(Vec<Identity>),
    /// A long-lived key, given out of band.
    Key(PublicKey),
}

impl Policy {
    pub fn identity(identity: Identity) -> Self {
        Self::Identities(vec![identity])
    }

    /// Check a certificate's identity against this policy.
    pub(crate) fn check_identity(&self, id: &FulcioIdentity) -> Result<(), PolicyError> {
        let Self::Identities(ids) = self else {
            return Err(PolicyError::CertificateSignedBundle);
        };
        if ids.is_empty() {
            return Err(PolicyError::Invalid("no identities given".into()));
        }
        let issuer = id.issuer.as_deref().unwrap_or("");
        let mut last_extension_error = None;
        for want in ids {
            if want.issuer.matches(issuer) && id.sans.iter().any(|s| want.san.matches(s)) {
                match want.check_extensions(id) {
                    Ok(()) => return Ok(()),
                    Err(e) => last_extension_error = Some(e),
                }
            }
        }
        Err(
            last_extension_error.unwrap_or_else(|| PolicyError::IdentityMismatch {
                subjects: id.sans.join(" "),
                issuer: if issuer.is_empty() {
                    "(none)".into()
                } else {
                    issuer.into()
                },
            }),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regex_is_anchored() {
        let m = Matcher::regex("foo@example\\.com").unwrap();
        assert!(m.matches("foo@example.com"));
        assert!(!m.matches("evilfoo@example.com"));
        assert!(!m.matches("foo@example.com.evil"));
        let alt = Matcher::regex("a|b").unwrap();
        assert!(alt.matches("a") && !alt.matches("ab"));
    }

    #[test]
    fn identity_mismatch_names_what_was_found() {
        let id = FulcioIdentity {
            sans: vec!["alice@example.com".into()],
            issuer: Some("https://accounts.example.com".into()),
            extensions: Default::default(),
        };
        let p = Policy::identity(Identity::new(
            Matcher::exact("bob@example.com"),
            Matcher::exact("https://accounts.example.com"),
        ));
        let e = p.check_identity(&id).unwrap_err().to_string();
        assert_eq!(
            e,
            "none of the expected identities matched what was in the certificate, got subjects [alice@example.com] with issuer https://accounts.example.com"
        );
        let p = Policy::identity(Identity::new(
            Matcher::exact("alice@example.com"),
            Matcher::exact("https://other"),
        ));
        assert!(p.check_identity(&id).is_err());
        let p = Policy::identity(Identity::new(
            Matcher::exact("alice@example.com"),
            Matcher::exact("https://accounts.example.com"),
        ));
        assert!(p.check_identity(&id).is_ok());
    }
}
