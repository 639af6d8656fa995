//! Why the SPIFFE Workload API gave no token. Its own module because the
//! crate's [`OidcError`](crate::OidcError) carries it while the fetch in
//! the parent module returns that error.

use std::time::Duration;

/// The variable the SPIFFE Workload Endpoint spec names for the agent's
/// address.
pub const SPIFFE_ENDPOINT_SOCKET: &str = "SPIFFE_ENDPOINT_SOCKET";

/// Why the Workload API gave no token. The socket is named by the
/// enclosing [`OidcError::Spiffe`](crate::OidcError::Spiffe).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SpiffeError {
    #[error("{SPIFFE_ENDPOINT_SOCKET} is not a usable Unix socket address: {0}")]
    BadAddress(String),
    #[error(
        "no socket there (is the SPIFFE agent running, and its socket mounted into this workload?)"
    )]
    NoSocket,
    #[error("cannot connect")]
    Connect(#[source] std::io::Error),
    #[error("gRPC connection failed: {0}")]
    Transport(String),
    /// The agent answered with a gRPC error, e.g. `PermissionDenied` when
    /// no registration entry matches this workload.
    #[error("the agent answered {code}: {message}")]
    Status { code: String, message: String },
    #[error("the agent returned no JWT-SVID for audience {audience:?}")]
    NoSvid { audience: String },
    #[error("no answer within {} s (is the agent alive?)", .0.as_secs())]
    Timeout(Duration),
}
