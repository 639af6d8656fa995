//! Errors of the Rekor server itself. Request-level errors (what a client
//! sent wrong) are [`crate::ApiError`]s; the log core's are
//! [`keyless_log::LogError`]s.

use thiserror::Error;

/// Why [`crate::serve`] stopped.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ServeError {
    /// The log could not be opened.
    #[error("opening the log")]
    Open(#[source] keyless_log::LogError),
    /// The task opening the log panicked or was cancelled.
    #[error("opening the log")]
    OpenTask(#[source] tokio::task::JoinError),
    /// The HTTP server failed.
    #[error("serving HTTP")]
    Http(#[source] std::io::Error),
}
