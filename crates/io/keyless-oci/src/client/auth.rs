//! Answering a registry's 401 challenge: Basic credentials, or a Bearer
//! token from the realm the registry names, cached per registry and scope so
//! later requests send it up front. Parsing the challenge and Docker's
//! config is the network-free part, in [`crate::auth`].

use reqwest::header::{self, HeaderMap};
use reqwest::StatusCode;
use url::Url;

use super::response::{expect_status, read_capped};
use super::{Access, CredentialSource, RegistryClient};
use crate::auth::{AuthError, Challenge, Credentials, TokenResponse};
use crate::error::{ContentError, Error, Operation};
use crate::reference::Repository;

/// The answer to a 401 challenge: the `Authorization` header to retry with,
/// and what to say if the retry is refused too.
pub(super) struct Answer {
    pub(super) header: String,
    scheme: &'static str,
    had_credentials: bool,
}

impl Answer {
    /// The error for a retry with this answer that still got 401.
    pub(super) fn rejected(&self, url: &str) -> Error {
        AuthError::Rejected {
            url: url.to_owned(),
            scheme: self.scheme,
            hint: if self.had_credentials {
                " (check the username and password)"
            } else {
                " (no credentials were configured for this registry)"
            },
        }
        .into()
    }
}

impl RegistryClient {
    pub(super) fn scope(repo: &Repository, access: Access) -> String {
        let actions = match access {
            Access::Pull => "pull",
            Access::Push => "pull,push",
        };
        format!("repository:{}:{actions}", repo.name())
    }

    fn credentials_for(&self, registry: &str) -> Result<Option<Credentials>, Error> {
        Ok(match &self.credentials {
            CredentialSource::Anonymous => None,
            CredentialSource::Static(c) => Some(c.clone()),
            CredentialSource::DockerConfig(cfg) => cfg.credentials_for(registry)?,
        })
    }

    pub(super) fn cached_auth(&self, registry: &str, scope: &str) -> Option<String> {
        let state = self.lock();
        state
            .auth
            .get(&(registry.to_owned(), scope.to_owned()))
            .or_else(|| state.auth.get(&(registry.to_owned(), String::new())))
            .cloned()
    }

    /// Answer the challenge in a 401's `headers` for a request of `op` to
    /// `url` with `scope`, and cache the answer for later requests.
    pub(super) async fn answer_challenge(
        &self,
        op: Operation,
        registry: &str,
        scope: &str,
        url: &str,
        headers: &HeaderMap,
    ) -> Result<Answer, Error> {
        let challenge = headers
            .get(header::WWW_AUTHENTICATE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
            .ok_or_else(|| {
                Error::from(ContentError::MissingHeader {
                    what: format!("{op} {url} (401 Unauthorized)"),
                    header: "WWW-Authenticate",
                })
            })?;
        let credentials = self.credentials_for(registry)?;
        let (auth, scheme, cache_scope) = match Challenge::parse(&challenge)? {
            Challenge::Basic => {
                let Some(c) = &credentials else {
                    return Err(AuthError::Rejected {
                        url: url.to_owned(),
                        scheme: "no credentials",
                        hint: " (the registry asks for Basic auth; add credentials for it to \
                               the Docker config or pass them to the client)",
                    }
                    .into());
                };
                (c.basic_header(), "Basic", String::new())
            }
            Challenge::Bearer { realm, service, .. } => {
                let token = self
                    .fetch_token(&realm, service.as_deref(), scope, credentials.as_ref())
                    .await?;
                (format!("Bearer {token}"), "Bearer", scope.to_owned())
            }
        };
        self.lock()
            .auth
            .insert((registry.to_owned(), cache_scope), auth.clone());
        Ok(Answer {
            header: auth,
            scheme,
            had_credentials: credentials.is_some(),
        })
    }

    /// Docker token protocol: GET realm?service=…&scope=… with Basic
    /// credentials when we have them.
    async fn fetch_token(
        &self,
        realm: &str,
        service: Option<&str>,
        scope: &str,
        credentials: Option<&Credentials>,
    ) -> Result<String, Error> {
        let mut url = Url::parse(realm).map_err(|e| {
            Error::from(AuthError::BadChallenge {
                header: realm.to_owned(),
                reason: if matches!(e, url::ParseError::RelativeUrlWithoutBase) {
                    "the realm is not an absolute URL"
                } else {
                    "the realm is not a valid URL"
                },
            })
        })?;
        if url.scheme() != "https" && !(url.scheme() == "http" && self.allow_insecure) {
            return Err(AuthError::BadChallenge {
                header: realm.to_owned(),
                reason: "the token realm is not HTTPS (allowed only for insecure registries)",
            }
            .into());
        }
        {
            let mut q = url.query_pairs_mut();
            if let Some(service) = service {
                q.append_pair("service", service);
            }
            q.append_pair("scope", scope);
        }
        let mut request = self.http.get(url.clone());
        if let Some(c) = credentials {
            request = request.header(header::AUTHORIZATION, c.basic_header());
        }
        let response = request.send().await.map_err(|source| Error::Transport {
            operation: Operation::Token,
            url: realm.to_owned(),
            source,
        })?;
        if response.status() == StatusCode::UNAUTHORIZED {
            return Err(AuthError::Rejected {
                url: realm.to_owned(),
                scheme: "Basic (token endpoint)",
                hint: " (check the username and password)",
            }
            .into());
        }
        let response = expect_status(response, Operation::Token, realm, &[StatusCode::OK]).await?;
        let body = read_capped(response, Operation::Token, realm, 1024 * 1024).await?;
        let parsed: TokenResponse =
            serde_json::from_slice(&body).map_err(|source| ContentError::InvalidJson {
                what: format!("token response from {realm}"),
                expected: "token response",
                source,
            })?;
        parsed.into_token().ok_or_else(|| {
            AuthError::NoToken {
                realm: realm.to_owned(),
            }
            .into()
        })
    }
}
