//! Object identifiers of the Fulcio profile and of Certificate Transparency.
//!
//! The Fulcio extensions are one table ([`FULCIO`]): OID, the name in
//! `fulcio/docs/oid-info.md`, and the field name Fulcio's configuration
//! uses for it (`Extensions` in `ciprovider`'s CI issuer metadata). The CA
//! reads the field names when it renders CI templates, the verifier the
//! labels when it names an extension in an error; both come from here, so
//! an OID cannot be spelt two ways.

use const_oid::ObjectIdentifier as Oid;

/// One Fulcio extension of the table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FulcioExtension {
    pub oid: Oid,
    /// The name in `oid-info.md`, for messages.
    pub label: &'static str,
    /// The field name in Fulcio's `Extensions` (CI metadata templates);
    /// `None` for the OIDs no template may set (.1.1 and .1.8, the issuer,
    /// which the CA always writes itself, and .1.7, a SAN type).
    pub field: Option<&'static str>,
    /// The dotted form of `oid` ("1.3.6.1.4.1.57264.1.8"), written out at
    /// compile time: identities key their extensions by it, per bundle.
    pub dotted: &'static str,
}

macro_rules! fulcio_oids {
    ($( $(#[$doc:meta])* $name:ident = $arc:literal, $label:literal, $field:expr; )*) => {
        $( $(#[$doc])* pub const $name: Oid = Oid::new_unwrap(concat!("1.3.6.1.4.1.57264.1.", $arc)); )*
        /// Every Fulcio extension OID (1.3.6.1.4.1.57264.1.1 ..= .1.24) with
        /// its name from `oid-info.md` and its Fulcio field name.
        pub const FULCIO: &[FulcioExtension] = &[ $( FulcioExtension { oid: $name, label: $label, field: $field, dotted: concat!("1.3.6.1.4.1.57264.1.", $arc) }, )* ];
    };
}

fulcio_oids! {
    /// OIDC issuer, raw string (deprecated in favour of [`ISSUER_V2`]).
    ISSUER_V1 = "1", "Issuer (deprecated)", None;
    /// GitHub `event_name`, raw string (deprecated).
    GITHUB_WORKFLOW_TRIGGER = "2", "GitHub Workflow Trigger (deprecated)", Some("GithubWorkflowTrigger");
    /// GitHub `sha`, raw string (deprecated).
    GITHUB_WORKFLOW_SHA = "3", "GitHub Workflow SHA (deprecated)", Some("GithubWorkflowSHA");
    /// GitHub `workflow`, raw string (deprecated).
    GITHUB_WORKFLOW_NAME = "4", "GitHub Workflow Name (deprecated)", Some("GithubWorkflowName");
    /// GitHub `repository`, raw string (deprecated).
    GITHUB_WORKFLOW_REPOSITORY = "5", "GitHub Workflow Repository (deprecated)", Some("GithubWorkflowRepository");
    /// GitHub `ref`, raw string (deprecated).
    GITHUB_WORKFLOW_REF = "6", "GitHub Workflow Ref (deprecated)", Some("GithubWorkflowRef");
    /// OtherName SAN type for username identities (`sub!domain`), UTF8String.
    OTHERNAME_SAN = "7", "OtherName SAN", None;
    /// OIDC issuer, DER UTF8String: the one verifiers must check.
    ISSUER_V2 = "8", "Issuer (V2)", None;
    BUILD_SIGNER_URI = "9", "Build Signer URI", Some("BuildSignerURI");
    BUILD_SIGNER_DIGEST = "10", "Build Signer Digest", Some("BuildSignerDigest");
    RUNNER_ENVIRONMENT = "11", "Runner Environment", Some("RunnerEnvironment");
    SOURCE_REPOSITORY_URI = "12", "Source Repository URI", Some("SourceRepositoryURI");
    SOURCE_REPOSITORY_DIGEST = "13", "Source Repository Digest", Some("SourceRepositoryDigest");
    SOURCE_REPOSITORY_REF = "14", "Source Repository Ref", Some("SourceRepositoryRef");
    SOURCE_REPOSITORY_IDENTIFIER = "15", "Source Repository Identifier", Some("SourceRepositoryIdentifier");
    SOURCE_REPOSITORY_OWNER_URI = "16", "Source Repository Owner URI", Some("SourceRepositoryOwnerURI");
    SOURCE_REPOSITORY_OWNER_IDENTIFIER = "17", "Source Repository Owner Identifier", Some("SourceRepositoryOwnerIdentifier");
    BUILD_CONFIG_URI = "18", "Build Config URI", Some("BuildConfigURI");
    BUILD_CONFIG_DIGEST = "19", "Build Config Digest", Some("BuildConfigDigest");
    BUILD_TRIGGER = "20", "Build Trigger", Some("BuildTrigger");
    RUN_INVOCATION_URI = "21", "Run Invocation URI", Some("RunInvocationURI");
    SOURCE_REPOSITORY_VISIBILITY_AT_SIGNING = "22", "Source Repository Visibility At Signing", Some("SourceRepositoryVisibilityAtSigning");
    DEPLOYMENT_ENVIRONMENT = "23", "Deployment Environment", Some("DeploymentEnvironment");
    TOKEN_SUBJECT = "24", "Token Subject", Some("TokenSubject");
}

/// RFC 6962 embedded SignedCertificateTimestampList.
pub const CT_SCT_LIST: Oid = Oid::new_unwrap("1.3.6.1.4.1.11129.2.4.2");
/// RFC 6962 precertificate poison: marks a certificate that must not be used.
pub const CT_PRECERT_POISON: Oid = Oid::new_unwrap("1.3.6.1.4.1.11129.2.4.3");

/// The Fulcio extension `oid` is, if it is one.
///
/// Called for every extension of every bundle's leaf: an OID outside the
/// Fulcio arc is turned away on its encoded prefix, and a Fulcio one is
/// looked up by its last arc (the table lists .1.1 to .1.24 in order),
/// the whole OID still compared; the linear search remains as a fallback.
pub fn fulcio(oid: &Oid) -> Option<&'static FulcioExtension> {
    let (&last, prefix) = oid.as_bytes().split_last()?;
    let (_, fulcio_prefix) = ISSUER_V1.as_bytes().split_last()?;
    if prefix != fulcio_prefix {
        return None;
    }
    usize::from(last)
        .checked_sub(1)
        .and_then(|i| FULCIO.get(i))
        .filter(|e| e.oid == *oid)
        .or_else(|| FULCIO.iter().find(|e| e.oid == *oid))
}

/// The OID of a Fulcio `Extensions` field name (`"BuildSignerURI"`), as CI
/// issuer metadata templates name them; `None` for any other name.
pub fn by_field_name(name: &str) -> Option<Oid> {
    FULCIO.iter().find(|e| e.field == Some(name)).map(|e| e.oid)
}

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
    if let Some(e) = fulcio(oid) {
        return format!("{} ({oid})", e.label);
    }
    match const_oid::db::DB.by_oid(oid) {
        Some(n) => format!("{n} ({oid})"),
        None => oid.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The table is the only place OIDs and field names meet: each OID
    /// once, in arc order .1.1–.1.24, each field name once, and the names
    /// the CA's built-in CI metadata uses resolve to the OIDs oid-info.md
    /// gives them.
    #[test]
    fn one_row_per_oid_and_field_names_resolve() {
        for (i, e) in FULCIO.iter().enumerate() {
            assert_eq!(e.oid.to_string(), format!("1.3.6.1.4.1.57264.1.{}", i + 1));
            assert_eq!(fulcio(&e.oid), Some(e));
            if let Some(f) = e.field {
                assert_eq!(by_field_name(f), Some(e.oid), "{f}");
            }
        }
        assert_eq!(FULCIO.len(), 24);
        assert_eq!(
            by_field_name("GithubWorkflowTrigger"),
            Some(GITHUB_WORKFLOW_TRIGGER)
        );
        assert_eq!(
            by_field_name("BuildSignerURI")
                .map(|o| o.to_string())
                .as_deref(),
            Some("1.3.6.1.4.1.57264.1.9")
        );
        assert_eq!(by_field_name("TokenSubject"), Some(TOKEN_SUBJECT));
        // The issuer and the SAN type are written by the CA itself, never by a template.
        assert_eq!(
            FULCIO
                .iter()
                .filter(|e| e.field.is_none())
                .map(|e| e.oid)
                .collect::<Vec<_>>(),
            [ISSUER_V1, OTHERNAME_SAN, ISSUER_V2]
        );
        for other in [
            "1.3.6.1.4.1.57264.1.25",
            "1.3.6.1.4.1.57264.2.1",
            "1.3.6.1.4.1.57264.1",
            "1.3.6.1.4.1.57264.1.1.1",
            "2.5.29.17",
        ] {
            assert_eq!(fulcio(&Oid::new_unwrap(other)), None, "{other}");
        }
        assert_eq!(by_field_name("Issuer"), None);
        assert_eq!(by_field_name("buildsigneruri"), None);
        assert_eq!(
            name(&RUNNER_ENVIRONMENT),
            "Runner Environment (1.3.6.1.4.1.57264.1.11)"
        );
    }
}
