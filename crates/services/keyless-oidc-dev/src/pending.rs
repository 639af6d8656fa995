//! The logins in progress that the issuer holds ([`crate::DevIssuer`]):
//! authorization codes ([`crate::authorize`]) and device codes
//! ([`crate::device`]). Plain data, in its own module so that the issuer
//! does not import the handlers that fill it.

use crate::identity::Provider;

#[derive(Debug, Clone)]
pub(crate) struct PendingCode {
    pub identity: String,
    pub client_id: String,
    pub redirect_uri: String,
    pub challenge: String,
    pub nonce: Option<String>,
    pub expires: u64,
}

#[derive(Debug, Clone)]
pub(crate) struct PendingDevice {
    pub user_code: String,
    pub client_id: String,
    pub provider: Provider,
    /// Set when someone approved the code.
    pub approved_identity: Option<String>,
    pub denied: bool,
    pub expires: u64,
    pub interval: u64,
    pub last_poll_ms: Option<u128>,
}
