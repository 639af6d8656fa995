//! Grant types and data-dir file names shared by the handlers, the
//! issuer and the CLI (re-exported from the crate root).

/// The custom grant that mints a token for a configured identity.
pub const DEV_MINT_GRANT: &str = "urn:keyless:params:oauth:grant-type:dev-mint";
/// RFC 8628 device code grant.
pub const DEVICE_CODE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";
/// File in the data dir that remembers the base URL the server runs at.
pub const ISSUER_FILE: &str = "issuer-url";
/// Optional file in the data dir listing [`TestIdentity`](crate::TestIdentity)s as JSON.
pub const IDENTITIES_FILE: &str = "identities.json";
