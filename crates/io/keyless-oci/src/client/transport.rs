//! How a request reaches the registry: HTTPS (or plain HTTP where insecure
//! registries are allowed) decided once per registry, URLs under `/v2/`, and
//! [`RegistryClient::send`], the one place requests go out, which retries
//! reads on server errors and answers a 401 challenge once (see `auth`).

use std::time::Duration;

use reqwest::header;
use reqwest::{RequestBuilder, Response, StatusCode};

use super::{Access, RegistryClient, Scheme};
use crate::error::{Error, Operation};
use crate::reference::Repository;

/// How often a read is tried when the registry answers 5xx.
const READ_TRIES: u32 = 4;

impl RegistryClient {
    /// `scheme://registry/v2/`, deciding the scheme on first use: HTTPS, or
    /// plain HTTP only if allowed and HTTPS does not answer.
    async fn base_url(&self, registry: &str) -> Result<String, Error> {
        if let Some(scheme) = self.lock().schemes.get(registry).copied() {
            return Ok(format!("{}://{registry}/v2/", scheme.as_str()));
        }
        let https = format!("https://{registry}/v2/");
        let scheme = match self.http.get(&https).send().await {
            Ok(_) => Scheme::Https,
            Err(https_err) => {
                let http = format!("http://{registry}/v2/");
                let http_answers = self.http.get(&http).send().await.is_ok();
                match (http_answers, self.allow_insecure) {
                    (true, true) => Scheme::Http,
                    (true, false) => {
                        return Err(Error::InsecureNotAllowed {
                            registry: registry.to_owned(),
                            reason: https_err.to_string(),
                        })
                    }
                    (false, _) => {
                        return Err(Error::Transport {
                            operation: Operation::Ping,
                            url: https,
                            source: https_err,
                        })
                    }
                }
            }
        };
        tracing::debug!(registry, scheme = scheme.as_str(), "registry scheme");
        self.lock().schemes.insert(registry.to_owned(), scheme);
        Ok(format!("{}://{registry}/v2/", scheme.as_str()))
    }

    /// URL of `path` (relative to `/v2/`) in the registry of `repo`.
    pub(crate) async fn url(&self, repo: &Repository, path: &str) -> Result<String, Error> {
        Ok(format!(
            "{}{}/{}",
            self.base_url(repo.registry()).await?,
            repo.name(),
            path
        ))
    }

    /// Send a request built by `build`, authenticating on a 401 challenge and
    /// retrying once. `build` is called again for the retry, so bodies must be
    /// owned by the closure.
    pub(crate) async fn send(
        &self,
        op: Operation,
        repo: &Repository,
        access: Access,
        url: &str,
        build: impl Fn(&reqwest::Client) -> RequestBuilder,
    ) -> Result<Response, Error> {
        let registry = repo.registry();
        let scope = Self::scope(repo, access);
        let transport = |source| Error::Transport {
            operation: op,
            url: url.to_owned(),
            source,
        };
        // Reads are retried on server errors: distribution's filesystem
        // storage answers 500 when a tag is read while being rewritten.
        let retryable = matches!(
            op,
            Operation::HeadManifest
                | Operation::GetManifest
                | Operation::HeadBlob
                | Operation::GetBlob
                | Operation::Referrers
        );
        let mut try_number = 0u32;
        let response = loop {
            try_number += 1;
            let mut request = build(&self.http);
            if let Some(auth) = self.cached_auth(registry, &scope) {
                request = request.header(header::AUTHORIZATION, auth);
            }
            let response = request.send().await.map_err(transport)?;
            if retryable && response.status().is_server_error() && try_number < READ_TRIES {
                tracing::debug!(%url, status = %response.status(), "retrying read");
                tokio::time::sleep(Duration::from_millis(25 * u64::from(try_number))).await;
                continue;
            }
            break response;
        };
        if response.status() != StatusCode::UNAUTHORIZED {
            return Ok(response);
        }
        let answer = self
            .answer_challenge(op, registry, &scope, url, response.headers())
            .await?;
        let response = build(&self.http)
            .header(header::AUTHORIZATION, answer.header.clone())
            .send()
            .await
            .map_err(transport)?;
        if response.status() == StatusCode::UNAUTHORIZED {
            return Err(answer.rejected(url));
        }
        Ok(response)
    }
}
