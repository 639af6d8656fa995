//! Answering a registry's 401 challenge: Basic credentials, or a Bearer
//! token from the realm the registry names (Docker's token protocol with
//! Basic credentials, or the OAuth2 refresh-token grant for an identity
//! token), cached per registry and scope so later requests send it up front.
//! Parsing the challenge is the network-free part, in [`crate::auth`]; where
//! credentials come from is [`crate::credentials`].

use reqwest::header::{self, HeaderMap};
use reqwest::StatusCode;
use url::Url;

use super::response::{expect_status, read_capped};
use super::{Access, CredentialSource, RegistryClient};
use crate::auth::{AuthError, Challenge, TokenResponse};
use crate::credentials::{Credential, Found};
use crate::error::{ContentError, Error, Operation};
use crate::reference::Repository;

/// The `client_id` sent with the OAuth2 refresh-token grant (Docker sends
/// its own name too; registries only log it).
const OAUTH_CLIENT_ID: &str = "keyless";
/// Largest token endpoint answer read.
const MAX_TOKEN_RESPONSE: u64 = 1024 * 1024;

/// The answer to a 401 challenge: the `Authorization` header to retry with,
/// and what to say if the retry is refused too.
pub(super) struct Answer {
    pub(super) header: String,
    registry: String,
    scheme: &'static str,
    origin: String,
    had_credentials: bool,
}

impl Answer {
    /// The error for a retry with this answer that still got 401.
    pub(super) fn rejected(&self, url: &str) -> Error {
        rejected(
            &self.registry,
            url,
            self.scheme,
            &self.origin,
            self.had_credentials,
        )
    }
}

/// A 401 after authenticating. Names the registry and where the
/// credentials came from, never the secret.
fn rejected(registry: &str, url: &str, scheme: &'static str, origin: &str, had: bool) -> Error {
    AuthError::Rejected {
        registry: registry.to_owned(),
        url: url.to_owned(),
        scheme,
        origin: origin.to_owned(),
        hint: if had {
            " (check the username and password)"
        } else {
            " (no credentials were configured for this registry)"
        },
    }
    .into()
}

impl RegistryClient {
    pub(super) fn scope(repo: &Repository, access: Access) -> String {
        let actions = match access {
            Access::Pull => "pull",
            Access::Push => "pull,push",
        };
        format!("repository:{}:{actions}", repo.name())
    }

    /// The credentials for `registry`, looked up once per registry (a
    /// credential helper is a process start).
    async fn credentials_for(&self, registry: &str) -> Result<Option<Found>, Error> {
        Ok(match &self.credentials {
            CredentialSource::Anonymous => None,
            CredentialSource::Static(c) => Some(Found {
                credential: Credential::Basic(c.clone()),
                origin: "the username and password given".into(),
            }),
            CredentialSource::Token(t) => Some(Found {
                credential: Credential::RegistryToken(t.clone()),
                origin: "the registry token given".into(),
            }),
            CredentialSource::DockerConfig(cfg) => {
                let cached = self.lock().credentials.get(registry).cloned();
                if let Some(cached) = cached {
                    return Ok(cached);
                }
                let found = cfg.credentials_for(registry).await?.map(|f| Found {
                    origin: format!("the credentials from {}", f.origin),
                    ..f
                });
                self.lock()
                    .credentials
                    .insert(registry.to_owned(), found.clone());
                found
            }
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
        let found = self.credentials_for(registry).await?;
        let origin = found
            .as_ref()
            .map_or_else(|| "anonymous access".to_owned(), |f| f.origin.clone());
        let credential = found.as_ref().map(|f| &f.credential);
        let (auth, scheme, cache_scope) = match (Challenge::parse(&challenge)?, credential) {
            // A registry token is sent as it is, whatever the challenge
            // (go-containerregistry does the same for cosign).
            (_, Some(Credential::RegistryToken(t))) => {
                (format!("Bearer {t}"), "the registry token", String::new())
            }
            (Challenge::Basic, None) => {
                return Err(AuthError::Rejected {
                    registry: registry.to_owned(),
                    url: url.to_owned(),
                    scheme: "a request without credentials",
                    origin,
                    hint: " (the registry asks for Basic auth; no credentials were configured \
                           for this registry: add them to the Docker config or pass them to the \
                           client)",
                }
                .into());
            }
            (Challenge::Basic, Some(Credential::Basic(c))) => {
                (c.basic_header(), "Basic auth", String::new())
            }
            (Challenge::Basic, Some(Credential::IdentityToken(_))) => {
                return Err(AuthError::IdentityTokenNeedsBearer {
                    registry: registry.to_owned(),
                    origin,
                }
                .into());
            }
            (Challenge::Bearer { realm, service, .. }, credential) => {
                let token = self
                    .fetch_token(
                        registry,
                        &origin,
                        &realm,
                        service.as_deref(),
                        scope,
                        credential,
                    )
                    .await?;
                (
                    format!("Bearer {token}"),
                    "a Bearer token",
                    scope.to_owned(),
                )
            }
        };
        self.lock()
            .auth
            .insert((registry.to_owned(), cache_scope), auth.clone());
        Ok(Answer {
            header: auth,
            registry: registry.to_owned(),
            scheme,
            origin,
            had_credentials: found.is_some(),
        })
    }

    /// Docker's token protocol: GET realm?service=…&scope=… with Basic
    /// credentials when we have them; for an identity token, the OAuth2
    /// refresh-token grant POSTed to the realm, as Docker does.
    async fn fetch_token(
        &self,
        registry: &str,
        origin: &str,
        realm: &str,
        service: Option<&str>,
        scope: &str,
        credential: Option<&Credential>,
    ) -> Result<String, Error> {
        let url = Url::parse(realm).map_err(|e| {
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
        let request = match credential {
            Some(Credential::IdentityToken(refresh)) => {
                let mut form = vec![
                    ("grant_type", "refresh_token"),
                    ("refresh_token", refresh.as_str()),
                    ("client_id", OAUTH_CLIENT_ID),
                    ("scope", scope),
                ];
                if let Some(service) = service {
                    form.push(("service", service));
                }
                self.http.post(url).form(&form)
            }
            other => {
                let mut url = url;
                {
                    let mut q = url.query_pairs_mut();
                    if let Some(service) = service {
                        q.append_pair("service", service);
                    }
                    q.append_pair("scope", scope);
                }
                let request = self.http.get(url);
                match other {
                    Some(Credential::Basic(c)) => {
                        request.header(header::AUTHORIZATION, c.basic_header())
                    }
                    _ => request,
                }
            }
        };
        let response = request.send().await.map_err(|source| Error::Transport {
            operation: Operation::Token,
            url: realm.to_owned(),
            source,
        })?;
        if response.status() == StatusCode::UNAUTHORIZED {
            return Err(rejected(
                registry,
                realm,
                "its token endpoint",
                origin,
                credential.is_some(),
            ));
        }
        let response = expect_status(response, Operation::Token, realm, &[StatusCode::OK]).await?;
        let body = read_capped(response, Operation::Token, realm, MAX_TOKEN_RESPONSE).await?;
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
