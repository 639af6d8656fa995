//! [`EntryBody::parse`]: the one-pass reading ([`super::one_pass`]) where
//! it applies, else the header and then the body again as its kind. Its
//! own file, beside the types it builds, so that neither the types nor
//! the one-pass reader import the other.

use serde::Deserialize;

use super::one_pass::OnePass;
use super::{
    DsseV001, DsseV002Spec, EntryBody, HashedRekordV001, HashedRekordV002Spec, Header, IntotoV002,
};
use crate::error::BodyError;

impl EntryBody {
    /// Parse a body; the kind and version come from the body itself.
    ///
    /// A body whose `apiVersion` and `kind` come before its `spec` (Rekor
    /// canonicalizes bodies with sorted keys, so every logged body) is
    /// read in one pass; anything else, and every body that does not
    /// parse that way, is read as before (the header, then the body again
    /// as its kind), so the answer, value or error, is always that one.
    pub fn parse(body: &[u8]) -> Result<Self, BodyError> {
        match serde_json::from_slice::<OnePass>(body) {
            Ok(OnePass(parsed)) => Ok(parsed),
            Err(_) => Self::parse_two_pass(body),
        }
    }

    /// The header, then the whole body again as the kind it names.
    fn parse_two_pass(body: &[u8]) -> Result<Self, BodyError> {
        let header: Header =
            serde_json::from_slice(body).map_err(|e| BodyError::Json(std::sync::Arc::new(e)))?;
        let json = |e: serde_json::Error| BodyError::Json(std::sync::Arc::new(e));
        Ok(match (header.kind.as_str(), header.api_version.as_str()) {
            ("hashedrekord", "0.0.1") => {
                let b: Typed<HashedRekordV001> = serde_json::from_slice(body).map_err(json)?;
                Self::HashedRekordV001(b.spec)
            }
            ("hashedrekord", "0.0.2") => {
                let b: Typed<HashedRekordV002Spec> = serde_json::from_slice(body).map_err(json)?;
                Self::HashedRekordV002(b.spec.hashed_rekord_v002)
            }
            ("dsse", "0.0.1") => {
                let b: Typed<DsseV001> = serde_json::from_slice(body).map_err(json)?;
                Self::DsseV001(b.spec)
            }
            ("dsse", "0.0.2") => {
                let b: Typed<DsseV002Spec> = serde_json::from_slice(body).map_err(json)?;
                Self::DsseV002(b.spec.dsse_v002)
            }
            ("intoto", "0.0.2") => {
                let b: Typed<IntotoV002> = serde_json::from_slice(body).map_err(json)?;
                Self::IntotoV002(b.spec)
            }
            (kind, version) => {
                return Err(BodyError::UnsupportedKind {
                    kind: kind.to_string(),
                    version: version.to_string(),
                })
            }
        })
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Typed<T> {
    spec: T,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The one-pass reading gives what the two-pass one gives, value or
    /// error, on in-order, reordered, repeated, unsupported and broken bodies.
    #[test]
    fn one_pass_agrees_with_two_passes() {
        let spec = r#"{"data":{"hash":{"algorithm":"sha256","value":"00"}},"signature":{"content":"AAAA","publicKey":{"content":"UEVN"}}}"#;
        let v2 = r#"{"hashedRekordV002":{"data":{"algorithm":"SHA2_256","digest":"AAAA"},"signature":{"content":"AAAA","verifier":{"keyDetails":"PKIX_ECDSA_P256_SHA_256","publicKey":{"rawBytes":"AAAA"}}}}}"#;
        let bodies = [
            format!(r#"{{"apiVersion":"0.0.1","kind":"hashedrekord","spec":{spec}}}"#),
            format!(r#"{{"kind":"hashedrekord","apiVersion":"0.0.1","x":[1,{{}}],"spec":{spec}}}"#),
            format!(r#"{{"spec":{spec},"apiVersion":"0.0.1","kind":"hashedrekord"}}"#),
            format!(r#"{{"apiVersion":"0.0.2","kind":"hashedrekord","spec":{v2}}}"#),
            format!(
                r#"{{"apiVersion":"0.0.1","kind":"hashedrekord","spec":{spec},"spec":{spec}}}"#
            ),
            format!(
                r#"{{"apiVersion":"0.0.1","kind":"hashedrekord","kind":"dsse","spec":{spec}}}"#
            ),
            format!(r#"{{"apiVersion":"0.0.1","kind":"hashedrekord","spec":{spec},"kind":"x"}}"#),
            format!(r#"{{"apiVersion":"0.0.9","kind":"hashedrekord","spec":{spec}}}"#),
            format!(r#"{{"apiVersion":"0.0.1","kind":"rekord","spec":{spec}}}"#),
            r#"{"apiVersion":"0.0.1","kind":"hashedrekord","spec":{}}"#.to_string(),
            r#"{"apiVersion":"0.0.1","kind":"hashedrekord"}"#.to_string(),
            format!(r#"{{"apiVersion":"0.0.1","spec":{spec}}}"#),
            format!(r#"{{"apiVersion":"0.0.1","kind":"hashedrekord","spec":{spec}}} x"#),
            format!(r#"{{"apiVersion":1,"kind":"hashedrekord","spec":{spec}}}"#),
            "[]".to_string(),
            String::new(),
        ];
        let mut parsed = Vec::new();
        let mut one_pass = Vec::new();
        for (i, body) in bodies.iter().enumerate() {
            let one = EntryBody::parse(body.as_bytes()).map_err(|e| e.to_string());
            let two = EntryBody::parse_two_pass(body.as_bytes()).map_err(|e| e.to_string());
            assert_eq!(one, two, "body {i}");
            if one.is_ok() {
                parsed.push(i);
            }
            if serde_json::from_slice::<OnePass>(body.as_bytes()).is_ok() {
                one_pass.push(i);
            }
        }
        assert_eq!(parsed, [0, 1, 2, 3]);
        // Spec first (2) is read the two-pass way; the rest fail both ways.
        assert_eq!(one_pass, [0, 1, 3]);
    }
}
