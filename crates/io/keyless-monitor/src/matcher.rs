//! Which entries a monitor reports: a certificate identity (exact or
//! regular expression, optionally with its OIDC issuer) or one of a set
//! of public keys.

use regex::Regex;

use crate::entry::EntryInfo;

/// What to watch for. An entry matches when any rule matches.
#[derive(Debug, Clone, Default)]
pub struct Matcher {
    identity: Option<String>,
    identity_regexp: Option<Regex>,
    issuer: Option<String>,
    /// SHA-256 of each watched key's SubjectPublicKeyInfo.
    keys: Vec<[u8; 32]>,
}

impl Matcher {
    /// `identity` and `identity_regexp` are alternatives (the CLI takes one);
    /// `issuer`, when set, must also equal the certificate's OIDC issuer.
    pub fn new(
        identity: Option<String>,
        identity_regexp: Option<Regex>,
        issuer: Option<String>,
        keys: Vec<[u8; 32]>,
    ) -> Self {
        Self {
            identity,
            identity_regexp,
            issuer,
            keys,
        }
    }

    /// Whether anything is watched at all.
    pub fn is_empty(&self) -> bool {
        self.identity.is_none() && self.identity_regexp.is_none() && self.keys.is_empty()
    }

    /// Whether key hashes are needed to match.
    pub fn watches_keys(&self) -> bool {
        !self.keys.is_empty()
    }

    /// The identity that matched (or the key's hash), if any.
    pub fn matches(&self, e: &EntryInfo) -> Option<String> {
        if let Some(c) = &e.certificate {
            let issuer_ok = match &self.issuer {
                Some(want) => c.oidc_issuer.as_deref() == Some(want.as_str()),
                None => true,
            };
            if issuer_ok {
                for id in &c.identities {
                    if self.identity.as_deref() == Some(id.as_str())
                        || self
                            .identity_regexp
                            .as_ref()
                            .is_some_and(|r| r.is_match(id))
                    {
                        return Some(id.clone());
                    }
                }
            }
        }
        let k = e.key_sha256.as_deref()?;
        self.keys
            .iter()
            .any(|want| hex::encode(want) == k)
            .then(|| format!("key:sha256:{k}"))
    }
}
