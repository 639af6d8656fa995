//! The Fulcio certificate profile: which OIDs carry the signer's identity and
//! how each is encoded (`fulcio/docs/oid-info.md`).

use std::collections::BTreeMap;

use der::asn1::Utf8StringRef;
use der::Decode;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::SubjectAltName;

use crate::cert::Certificate;
use crate::error::{IdentityError, X509Error};

/// Object identifiers of the Fulcio profile and of Certificate Transparency.
pub mod oid {
    use const_oid::ObjectIdentifier as Oid;

    macro_rules! fulcio_oids {
        ($( $(#[$doc:meta])* $name:ident = $arc:literal, $label:literal; )*) => {
            $( $(#[$doc])* pub const $name: Oid = Oid::new_unwrap(concat!("1.3.6.1.4.1.57264.1.", $arc)); )*
            /// Every Fulcio extension OID (1.3.6.1.4.1.57264.1.1 ..= .1.24) with
            /// its name from `oid-info.md`.
            pub const FULCIO: &[(Oid, &str)] = &[ $( ($name, $label), )* ];
        };
    }

    fulcio_oids! {
        /// OIDC issuer, raw string (deprecated in favour of [`ISSUER_V2`]).
        ISSUER_V1 = "1", "Issuer (deprecated)";
        /// GitHub `event_name`, raw string (deprecated).
        GITHUB_WORKFLOW_TRIGGER = "2", "GitHub Workflow Trigger (deprecated)";
        /// GitHub `sha`, raw string (deprecated).
        GITHUB_WORKFLOW_SHA = "3", "GitHub Workflow SHA (deprecated)";
        /// GitHub `workflow`, raw string (deprecated).
        GITHUB_WORKFLOW_NAME = "4", "GitHub Workflow Name (deprecated)";
        /// GitHub `repository`, raw string (deprecated).
        GITHUB_WORKFLOW_REPOSITORY = "5", "GitHub Workflow Repository (deprecated)";
        /// GitHub `ref`, raw string (deprecated).
        GITHUB_WORKFLOW_REF = "6", "GitHub Workflow Ref (deprecated)";
        /// OtherName SAN type for username identities (`sub!domain`), UTF8String.
        OTHERNAME_SAN = "7", "OtherName SAN";
        /// OIDC issuer, DER UTF8String: the one verifiers must check.
        ISSUER_V2 = "8", "Issuer (V2)";
        BUILD_SIGNER_URI = "9", "Build Signer URI";
        BUILD_SIGNER_DIGEST = "10", "Build Signer Digest";
        RUNNER_ENVIRONMENT = "11", "Runner Environment";
        SOURCE_REPOSITORY_URI = "12", "Source Repository URI";
        SOURCE_REPOSITORY_DIGEST = "13", "Source Repository Digest";
        SOURCE_REPOSITORY_REF = "14", "Source Repository Ref";
        SOURCE_REPOSITORY_IDENTIFIER = "15", "Source Repository Identifier";
        SOURCE_REPOSITORY_OWNER_URI = "16", "Source Repository Owner URI";
        SOURCE_REPOSITORY_OWNER_IDENTIFIER = "17", "Source Repository Owner Identifier";
        BUILD_CONFIG_URI = "18", "Build Config URI";
        BUILD_CONFIG_DIGEST = "19", "Build Config Digest";
        BUILD_TRIGGER = "20", "Build Trigger";
        RUN_INVOCATION_URI = "21", "Run Invocation URI";
        SOURCE_REPOSITORY_VISIBILITY_AT_SIGNING = "22", "Source Repository Visibility At Signing";
        DEPLOYMENT_ENVIRONMENT = "23", "Deployment Environment";
        TOKEN_SUBJECT = "24", "Token Subject";
    }

    /// RFC 6962 embedded SignedCertificateTimestampList.
    pub const CT_SCT_LIST: Oid = Oid::new_unwrap("1.3.6.1.4.1.11129.2.4.2");
    /// RFC 6962 precertificate poison: marks a certificate that must not be used.
    pub const CT_PRECERT_POISON: Oid = Oid::new_unwrap("1.3.6.1.4.1.11129.2.4.3");

    /// Whether `oid` is a Fulcio extension (.1.1–.1.24) encoded as a raw
    /// string rather than DER: only the deprecated .1.1–.1.6.
    pub fn is_raw_string(oid: &Oid) -> bool {
        [
            ISSUER_V1,
            GITHUB_WORKFLOW_TRIGGER,
            GITHUB_WORKFLOW_SHA,
            GITHUB_WORKFLOW_NAME,
            GITHUB_WORKFLOW_REPOSITORY,
            GITHUB_WORKFLOW_REF,
        ]
        .contains(oid)
    }

    /// A readable name for error messages: the Fulcio name, the const-oid
    /// database name, or the dotted form.
    pub fn name(oid: &Oid) -> String {
        if let Some((_, label)) = FULCIO.iter().find(|(o, _)| o == oid) {
            return format!("{label} ({oid})");
        }
        match const_oid::db::DB.by_oid(oid) {
            Some(n) => format!("{n} ({oid})"),
            None => oid.to_string(),
        }
    }
}

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
        .map_err(|e| IdentityError::MalformedSan(e.to_string()))?
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
        let Some(_) = oid::FULCIO.iter().find(|(o, _)| *o == ext.extn_id) else {
            continue;
        };
        if ext.extn_id == oid::OTHERNAME_SAN {
            continue;
        }
        let key = ext.extn_id.to_string();
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
        if id.extensions.insert(key.clone(), value).is_some() {
            return Err(IdentityError::DuplicateExtension { oid: key }.into());
        }
    }

    let v1 = id.extensions.get(&oid::ISSUER_V1.to_string());
    let v2 = id.extensions.get(&oid::ISSUER_V2.to_string());
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
