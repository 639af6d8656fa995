//! Capped HTTP reads: a log (or whoever answers at its URL) can send any
//! number of bytes, so every body is read chunk by chunk up to a limit.

use thiserror::Error;

/// A checkpoint note is a few hundred bytes; 64 KiB leaves room for many
/// cosignatures.
pub const MAX_CHECKPOINT: usize = 64 * 1024;
/// An entry bundle holds at most 256 entries of at most 64 KiB each.
pub const MAX_BUNDLE: usize = 256 * (2 + 65_535);
/// A static-ct-api data tile: 256 entries of a certificate, its
/// precertificate and a chain of fingerprints (Let's Encrypt's are under
/// 2 MiB); an entry bundle of the older layout fits too.
pub const MAX_DATA_TILE: usize = 16 * 1024 * 1024;
/// A Rekor v1 API answer (one entry with its proof, or a search result).
pub const MAX_API_RESPONSE: usize = 4 * 1024 * 1024;

#[derive(Debug, Error)]
#[non_exhaustive]
pub enum FetchError {
    #[error("fetching {url}")]
    Http {
        url: String,
        #[source]
        source: reqwest::Error,
    },
    #[error("fetching {url}: HTTP {status}{}", if message.is_empty() { String::new() } else { format!(": {message}") })]
    Status {
        url: String,
        status: u16,
        /// The server's error message (its first 512 bytes), if any.
        message: String,
    },
    #[error("fetching {url}: the response is over {limit} bytes")]
    TooLarge { url: String, limit: usize },
}

/// An HTTP client bound to one log's base URL.
#[derive(Clone)]
pub struct Fetcher {
    base: String,
    http: reqwest::Client,
}

impl Fetcher {
    pub fn new(base_url: &str) -> Self {
        Self {
            base: base_url.trim_end_matches('/').to_string(),
            http: reqwest::Client::new(),
        }
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    /// GET `base/path`, at most `limit` bytes; `Ok(None)` on 404.
    pub async fn get_opt(&self, path: &str, limit: usize) -> Result<Option<Vec<u8>>, FetchError> {
        let url = format!("{}/{}", self.base, path.trim_start_matches('/'));
        self.send(self.http.get(&url), url, limit).await
    }

    /// GET `base/path`, at most `limit` bytes; a non-success status is an error.
    pub async fn get(&self, path: &str, limit: usize) -> Result<Vec<u8>, FetchError> {
        let url = format!("{}/{}", self.base, path.trim_start_matches('/'));
        self.send(self.http.get(&url), url.clone(), limit)
            .await?
            .ok_or(FetchError::Status {
                url,
                status: 404,
                message: String::new(),
            })
    }

    /// POST a JSON body to `base/path`, at most `limit` bytes back.
    pub async fn post_json(
        &self,
        path: &str,
        body: &serde_json::Value,
        limit: usize,
    ) -> Result<Vec<u8>, FetchError> {
        let url = format!("{}/{}", self.base, path.trim_start_matches('/'));
        self.send(self.http.post(&url).json(body), url.clone(), limit)
            .await?
            .ok_or(FetchError::Status {
                url,
                status: 404,
                message: String::new(),
            })
    }

    async fn send(
        &self,
        req: reqwest::RequestBuilder,
        url: String,
        limit: usize,
    ) -> Result<Option<Vec<u8>>, FetchError> {
        let fail = |source| FetchError::Http {
            url: url.clone(),
            source,
        };
        let mut resp = req.send().await.map_err(fail)?;
        if resp.status() == reqwest::StatusCode::NOT_FOUND {
            return Ok(None);
        }
        if !resp.status().is_success() {
            let status = resp.status().as_u16();
            // Only the first chunk, cut short: an error text for a human.
            let first = resp.chunk().await.ok().flatten().unwrap_or_default();
            let text = String::from_utf8_lossy(&first[..first.len().min(512)]).to_string();
            let message = serde_json::from_str::<serde_json::Value>(&text)
                .ok()
                .and_then(|v| v["message"].as_str().map(str::to_string))
                .unwrap_or(text);
            let message = message.chars().filter(|c| !c.is_control()).collect();
            return Err(FetchError::Status {
                url,
                status,
                message,
            });
        }
        let mut out = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(fail)? {
            if out.len() + chunk.len() > limit {
                return Err(FetchError::TooLarge { url, limit });
            }
            out.extend_from_slice(&chunk);
        }
        Ok(Some(out))
    }
}
