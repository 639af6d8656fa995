//! Development-only OpenID Connect issuer. **Never use it to protect
//! anything**: it approves logins without a password and signs whatever
//! identity it is configured with. It exists so that the whole keyless
//! flow (token → certificate → signature → verification) runs on one
//! machine without a real identity provider.
//!
//! One server stands in for several issuers, one per [`Provider`], at
//! `<base>` (email), `<base>/github`, `<base>/gitlab` and `<base>/buildkite`:
//!
//! ```text
//! discovery  /.well-known/openid-configuration, /keys (JWKS)
//! authorize  /authorize: authorization code + PKCE (S256), loopback redirect
//! device     /device/code, /device: RFC 8628 device authorization grant
//! token      /token: authorization_code, device_code, and a dev mint grant
//! ```
//!
//! The CLI calls [`serve`] for `keyless server oidc` and [`mint_token`] for
//! `keyless dev-token`.

mod authorize;
mod consts;
mod device;
mod discovery;
mod error;
pub mod identity;
mod issuer;
pub mod keys;
mod pending;
mod server;
mod token;
mod util;

pub use consts::{DEVICE_CODE_GRANT, DEV_MINT_GRANT, IDENTITIES_FILE, ISSUER_FILE};
pub use error::OidcDevError;
pub use identity::{default_identities, email_identity, Provider, TestIdentity};
pub use issuer::{ca_issuers_config, mint_token, DevIssuer, MintOptions, OidcDevConfig};
pub use keys::TokenKey;
pub use server::{open_for, router, serve, serve_with_shutdown};
