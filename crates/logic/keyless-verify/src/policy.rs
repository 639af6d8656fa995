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
            .map_err(|source| PolicyError::Regex {
                pattern: pattern.to_string(),
                source,
            })
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

    /// Every required extension is present with the expected value. A
    /// missing extension never matches, not even an expected empty value.
    fn check_extensions(&self, id: &FulcioIdentity) -> Result<(), PolicyError> {
        for (oid, expected) in &self.extensions {
            let name = oid
                .parse()
                .map(|o| keyless_x509::oid::name(&o))
                .unwrap_or_else(|_| oid.clone());
            match id.extensions.get(oid) {
                None => {
                    return Err(PolicyError::ExtensionAbsent {
                        name,
                        oid: oid.clone(),
                        expected: expected.clone(),
                    })
                }
                Some(found) if found != expected => {
                    return Err(PolicyError::Extension {
                        name,
                        oid: oid.clone(),
                        expected: expected.clone(),
                        found: found.clone(),
                    })
                }
                Some(_) => {}
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
            return Err(PolicyError::NoIdentities);
        }
        // A certificate without an issuer (or with an empty one) names no
        // issuer: it must not reach the matchers as "", which `.*` would
        // accept. Likewise an empty SAN names no one, and no SAN at all
        // leaves nothing for the SAN matcher to accept.
        let issuer = id.issuer.as_deref().filter(|i| !i.is_empty());
        let mut last_extension_error = None;
        for want in ids {
            let issuer_ok = issuer.is_some_and(|i| want.issuer.matches(i));
            let san_ok = id.sans.iter().any(|s| !s.is_empty() && want.san.matches(s));
            if issuer_ok && san_ok {
                match want.check_extensions(id) {
                    Ok(()) => return Ok(()),
                    Err(e) => last_extension_error = Some(e),
                }
            }
        }
        Err(
            last_extension_error.unwrap_or_else(|| PolicyError::IdentityMismatch {
                subjects: id.sans.join(" "),
                issuer: issuer.unwrap_or("(none)").into(),
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

    fn identity(sans: &[&str], issuer: Option<&str>) -> FulcioIdentity {
        FulcioIdentity {
            sans: sans.iter().map(|s| s.to_string()).collect(),
            issuer: issuer.map(String::from),
            extensions: Default::default(),
        }
    }

    fn anything() -> Policy {
        Policy::identity(Identity::new(
            Matcher::regex(".*").unwrap(),
            Matcher::regex(".*").unwrap(),
        ))
    }

    #[test]
    fn a_missing_issuer_satisfies_no_issuer_policy() {
        assert!(anything()
            .check_identity(&identity(&["alice@example.com"], Some("https://idp")))
            .is_ok());
        for issuer in [None, Some("")] {
            let id = identity(&["alice@example.com"], issuer);
            let e = anything().check_identity(&id).unwrap_err();
            assert!(
                matches!(&e, PolicyError::IdentityMismatch { issuer, .. } if issuer == "(none)"),
                "{issuer:?}: {e:?}"
            );
            let exact_empty = Policy::identity(Identity::new(
                Matcher::exact("alice@example.com"),
                Matcher::exact(""),
            ));
            assert!(exact_empty.check_identity(&id).is_err(), "{issuer:?}");
        }
    }

    #[test]
    fn a_missing_san_satisfies_no_identity_policy() {
        for sans in [&[][..], &[""][..]] {
            let id = identity(sans, Some("https://idp"));
            assert!(
                matches!(
                    anything().check_identity(&id),
                    Err(PolicyError::IdentityMismatch { .. })
                ),
                "{sans:?}"
            );
        }
    }

    #[test]
    fn a_missing_extension_is_not_an_empty_one() {
        let oid = "1.3.6.1.4.1.57264.1.12".to_string();
        let mut want = Identity::new(Matcher::regex(".*").unwrap(), Matcher::regex(".*").unwrap());
        want.extensions.push((oid.clone(), String::new()));
        let policy = Policy::identity(want);
        let mut id = identity(&["alice@example.com"], Some("https://idp"));
        let e = policy.check_identity(&id).unwrap_err();
        assert!(matches!(e, PolicyError::ExtensionAbsent { .. }), "{e:?}");
        id.extensions.insert(oid, String::new());
        assert!(policy.check_identity(&id).is_ok());
    }
}
