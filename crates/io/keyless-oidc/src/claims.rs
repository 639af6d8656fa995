//! Reading a token's claims on the client side. The client does not verify
//! the token (the CA does); it reads `iss`, `sub`, `email` and `exp` to pick
//! the proof-of-possession challenge and to warn about expiry.

use base64::Engine;
use serde::Deserialize;

use crate::OidcError;

/// Largest token we handle (the CA caps tokens similarly).
const MAX_TOKEN: usize = 64 * 1024;

/// The claims a signing client looks at.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
pub struct TokenClaims {
    #[serde(default)]
    pub iss: String,
    #[serde(default)]
    pub sub: String,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub exp: Option<i64>,
    #[serde(default, deserialize_with = "aud")]
    pub aud: Vec<String>,
    /// OpenID Connect `nonce`, echoed from the authentication request.
    #[serde(default)]
    pub nonce: Option<String>,
}

fn aud<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Aud {
        One(String),
        Many(Vec<String>),
    }
    Ok(match Option::<Aud>::deserialize(d)? {
        None => vec![],
        Some(Aud::One(s)) => vec![s],
        Some(Aud::Many(v)) => v,
    })
}

/// A raw JWT and its (unverified) claims.
#[derive(Clone)]
pub struct IdentityToken {
    raw: String,
    claims: TokenClaims,
}

impl std::fmt::Debug for IdentityToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "IdentityToken(iss={}, identity={})",
            self.claims.iss,
            self.identity()
        )
    }
}

impl IdentityToken {
    /// Split the compact JWS and decode its payload's claims.
    pub fn parse(raw: &str) -> Result<Self, OidcError> {
        if raw.len() > MAX_TOKEN {
            return Err(OidcError::Malformed(format!(
                "{} bytes, more than {MAX_TOKEN}",
                raw.len()
            )));
        }
        let mut parts = raw.splitn(4, '.');
        let (Some(_), Some(payload), Some(_), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(OidcError::Malformed(
                "not a JWT (expected three dot-separated parts)".into(),
            ));
        };
        let json = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload.trim_end_matches('='))
            .map_err(|e| OidcError::MalformedPayload {
                what: "payload is not base64url",
                source: e.into(),
            })?;
        let claims: TokenClaims =
            serde_json::from_slice(&json).map_err(|e| OidcError::MalformedPayload {
                what: "payload is not JSON claims",
                source: e.into(),
            })?;
        if claims.iss.is_empty() {
            return Err(OidcError::Malformed("no issuer (iss) claim".into()));
        }
        Ok(Self {
            raw: raw.to_string(),
            claims,
        })
    }

    /// The token itself; send it only to the CA.
    pub fn raw(&self) -> &str {
        &self.raw
    }

    pub fn claims(&self) -> &TokenClaims {
        &self.claims
    }

    /// The identity the certificate will carry for email issuers, else `sub`.
    pub fn identity(&self) -> &str {
        self.claims.email.as_deref().unwrap_or(&self.claims.sub)
    }

    /// What Fulcio's proof of possession signs: the email claim when
    /// present, else the subject.
    pub fn challenge(&self) -> &str {
        self.identity()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwt(claims: &str) -> String {
        let e = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
        format!("{}.{}.{}", e(r#"{"alg":"ES256"}"#), e(claims), e("sig"))
    }

    #[test]
    fn reads_claims_and_hides_token() {
        let t = IdentityToken::parse(&jwt(
            r#"{"iss":"https://i","sub":"123","email":"a@b.c","aud":"sigstore"}"#,
        ))
        .unwrap();
        assert_eq!(t.challenge(), "a@b.c");
        assert_eq!(t.claims().aud, vec!["sigstore"]);
        let dbg = format!("{t:?}");
        assert!(!dbg.contains(t.raw()), "Debug must not print the token");
    }

    #[test]
    fn rejects_non_jwt() {
        assert!(IdentityToken::parse("abc").is_err());
        assert!(IdentityToken::parse("a.b.c.d").is_err());
        assert!(
            IdentityToken::parse(&jwt(r#"{"sub":"x"}"#)).is_err(),
            "no issuer"
        );
    }
}
