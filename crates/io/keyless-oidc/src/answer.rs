//! Reading an identity provider's answer (a discovery document, a token
//! response, a CI provider's or metadata server's token) with a cap on
//! its size: it is untrusted input, and an answer that never ends must
//! not take the signer's memory with it.

use serde::de::DeserializeOwned;
use thiserror::Error;

/// The largest answer read. A discovery document or a token response is a
/// few KiB; an ID token is at most 64 KiB (`claims::MAX_TOKEN`).
pub const MAX_ANSWER: u64 = 256 * 1024;

/// Why an answer could not be used.
#[derive(Debug, Error)]
pub enum AnswerError {
    /// Too large ([`MAX_ANSWER`]), or the connection failed while reading.
    #[error(transparent)]
    Body(#[from] keyless_ca_bundle::BodyError),
    #[error("the answer is not the expected JSON")]
    Json(#[source] serde_json::Error),
    #[error("the answer is not UTF-8 text")]
    NotUtf8,
}

/// The body of `resp`, parsed as JSON into `T`.
pub(crate) async fn json<T: DeserializeOwned>(resp: reqwest::Response) -> Result<T, AnswerError> {
    let body = keyless_ca_bundle::read_capped(resp, MAX_ANSWER).await?;
    serde_json::from_slice(&body).map_err(AnswerError::Json)
}

/// The body of `resp` as text.
pub(crate) async fn text(resp: reqwest::Response) -> Result<String, AnswerError> {
    let body = keyless_ca_bundle::read_capped(resp, MAX_ANSWER).await?;
    String::from_utf8(body).map_err(|_| AnswerError::NotUtf8)
}
