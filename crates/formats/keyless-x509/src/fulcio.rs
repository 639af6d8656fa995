//! Reading the signer's identity from a Fulcio certificate: the SANs and the
//! Fulcio extensions of [`crate::oid`], decoded as `fulcio/docs/oid-info.md`
//! says each is encoded.

use std::collections::btree_map::Entry;
use std::collections::BTreeMap;

use der::asn1::Utf8StringRef;
use der::Decode;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::SubjectAltName;

use crate::cert::Certificate;
use crate::error::{IdentityError, X509Error};
use crate::oid;

/// What a Fulcio certificate says about its subject.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FulcioIdentity {
    /// rfc822Name emails, URIs, and OtherName .1.7 usernames, in SAN order.
    pub sans: Vec<String>,
    /// The OIDC issuer (.1.8, else .1.1).
    pub issuer: Option<String>,
    /// Every Fulcio extension present other than .1.7, by dotted OID, decoded.
    pub extensions: BTreeMap<String, String>,
}

/// The dotted forms of [`oid::ISSUER_V1`] and [`oid::ISSUER_V2`], the keys
/// of `FulcioIdentity::extensions` (a test checks they match).
const ISSUER_V1_DOTTED: &str = "1.3.6.1.4.1.57264.1.1";
const ISSUER_V2_DOTTED: &str = "1.3.6.1.4.1.57264.1.8";

/// Read the identity from a Fulcio certificate.
///
/// SANs: rfc822Name emails, URIs, and OtherName 1.3.6.1.4.1.57264.1.7 as
/// UTF8String (Fulcio "username" identities); other name forms are not
/// identities Fulcio issues and are skipped. Issuer: .1.8 (DER UTF8String),
/// falling back to .1.1 (raw bytes); if both are present and differ, that is
/// an error — upstream takes whichever comes last, which lets a CA bug pick
/// the identity. Extensions .1.1–.1.6 are raw UTF-8, .1.8–.1.24 DER UTF8String.
///
/// This does not check the certificate's signature or chain; call it on a
/// certificate that [`crate::verify_chain`] accepted.
pub fn fulcio_identity(cert: &Certificate) -> Result<FulcioIdentity, X509Error> {
    let mut id = FulcioIdentity::default();

    if let Some((_, san)) = cert
        .decode_extension::<SubjectAltName>(&const_oid::db::rfc5280::ID_CE_SUBJECT_ALT_NAME)
        .map_err(|e| IdentityError::MalformedSan(Box::new(e)))?
    {
        for name in san.0 {
            match name {
                GeneralName::Rfc822Name(s) => id.sans.push(s.to_string()),
                GeneralName::UniformResourceIdentifier(s) => id.sans.push(s.to_string()),
                GeneralName::OtherName(other) if other.type_id == oid::OTHERNAME_SAN => {
                    let value = other.value.decode_as::<Utf8StringRef<'_>>().map_err(|e| {
                        IdentityError::MalformedOtherName {
                            oid: oid::OTHERNAME_SAN.to_string(),
                            reason: e.to_string(),
                        }
                    })?;
                    id.sans.push(value.as_str().to_owned());
                }
                _ => {}
            }
        }
    }

    for ext in cert.extensions() {
        let Some(known) = oid::fulcio(&ext.extn_id) else {
            continue;
        };
        if ext.extn_id == oid::OTHERNAME_SAN {
            continue;
        }
        let key = known.dotted.to_owned();
        let bytes = ext.extn_value.as_bytes();
        let value = if oid::is_raw_string(&ext.extn_id) {
            std::str::from_utf8(bytes)
                .map_err(|_| IdentityError::NotUtf8 { oid: key.clone() })?
                .to_owned()
        } else {
            Utf8StringRef::from_der(bytes)
                .map_err(|e| IdentityError::NotUtf8String {
                    oid: key.clone(),
                    reason: e.to_string(),
                })?
                .as_str()
                .to_owned()
        };
        match id.extensions.entry(key) {
            Entry::Vacant(slot) => {
                slot.insert(value);
            }
            Entry::Occupied(taken) => {
                let oid = taken.key().clone();
                return Err(IdentityError::DuplicateExtension { oid }.into());
            }
        }
    }

    let v1 = id.extensions.get(ISSUER_V1_DOTTED);
    let v2 = id.extensions.get(ISSUER_V2_DOTTED);
    id.issuer = match (v1, v2) {
        (Some(v1), Some(v2)) if v1 != v2 => {
            return Err(IdentityError::IssuerMismatch {
                v1_oid: oid::ISSUER_V1.to_string(),
                v1: v1.clone(),
                v2_oid: oid::ISSUER_V2.to_string(),
                v2: v2.clone(),
            }
            .into())
        }
        (_, Some(v)) | (Some(v), None) => Some(v.clone()),
        (None, None) => None,
    };
    Ok(id)
}

#[cfg(test)]
mod tests {
    /// The issuer keys are the dotted OIDs the extension table writes.
    #[test]
    fn issuer_keys_are_the_dotted_oids() {
        use crate::oid;
        assert_eq!(super::ISSUER_V1_DOTTED, oid::ISSUER_V1.to_string());
        assert_eq!(super::ISSUER_V2_DOTTED, oid::ISSUER_V2.to_string());
        for e in oid::FULCIO {
            assert_eq!(e.dotted, e.oid.to_string(), "{}", e.label);
        }
    }
}
