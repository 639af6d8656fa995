//! OIDC identity token verification (SPEC-CHECKS §3.1 steps 1–5).
//!
//! Order matters: size and shape first, then the issuer allow-list (so an
//! unknown issuer costs no network I/O), then discovery and JWKS, then the
//! signature and the claims. Signature and standard-claim checks are done
//! by the `jsonwebtoken` crate; we only read the header and payload
//! beforehand to pick the issuer and key, and to give `alg: none`, HS*
//! and unknown `kid` their own errors.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine;
use jsonwebtoken::jwk::{AlgorithmParameters, Jwk, JwkSet};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Map, Value};

use crate::config::{IssuerConfig, Issuers};
use crate::error::{FetchError, TokenError};

/// Limits and tolerances for token checks.
#[derive(Debug, Clone)]
pub struct TokenPolicy {
    /// Longest token accepted, in bytes (SPEC-CHECKS: 16–64 KiB).
    pub max_token_bytes: usize,
    /// Clock skew tolerated on exp/nbf/iat, in seconds.
    pub leeway_secs: u64,
    /// How long discovery and JWKS answers are reused.
    pub jwks_ttl: Duration,
    /// Least time between two JWKS refetches caused by an unknown `kid`,
    /// so that tokens with random kids cannot make us hammer the issuer.
    pub refetch_interval: Duration,
    /// How long a failed discovery / JWKS fetch is remembered (negative
    /// caching): within it, tokens naming that issuer are refused with the
    /// same error, without network I/O. Anyone can send tokens naming an
    /// allowed issuer, so without this an issuer that is down or slow
    /// would be fetched once per (unauthenticated) request.
    pub negative_ttl: Duration,
    /// Time limit of one issuer's discovery and JWKS fetch, both requests
    /// together (each request alone is limited to it as well).
    pub http_timeout: Duration,
    /// Most discovery / JWKS fetches in flight at once, over all issuers.
    /// Per-issuer coalescing does not bound fetches for meta-issuers
    /// (wildcards match many issuer URLs, each fetched on its own); past
    /// this many, a request that would fetch is refused (503) at once
    /// instead of queueing, and nothing is cached for its issuer.
    pub max_fetches_in_flight: usize,
}

impl Default for TokenPolicy {
    fn default() -> Self {
        Self {
            max_token_bytes: 64 * 1024,
            leeway_secs: 30,
            jwks_ttl: Duration::from_secs(3600),
            refetch_interval: Duration::from_secs(30),
            negative_ttl: Duration::from_secs(30),
            http_timeout: Duration::from_secs(10),
            max_fetches_in_flight: 16,
        }
    }
}

/// A token that passed every check, with its claims.
#[derive(Debug, Clone)]
pub struct VerifiedToken {
    /// The issuer configuration that matched, with `issuer_url` = `iss`.
    pub issuer: IssuerConfig,
    pub claims: Map<String, Value>,
}

/// The asymmetric algorithms we accept. `none` and HS* are rejected
/// before this list is consulted.
fn allowed_alg(alg: &str) -> Option<Algorithm> {
    Some(match alg {
        "RS256" => Algorithm::RS256,
        "RS384" => Algorithm::RS384,
        "RS512" => Algorithm::RS512,
        "PS256" => Algorithm::PS256,
        "PS384" => Algorithm::PS384,
        "PS512" => Algorithm::PS512,
        "ES256" => Algorithm::ES256,
        "ES384" => Algorithm::ES384,
        "EdDSA" => Algorithm::EdDSA,
        _ => return None,
    })
}

/// Discovery + JWKS for one issuer, as fetched.
struct Provider {
    jwks: JwkSet,
    /// `DecodingKey` of each JWKS key (same order), built once per fetch
    /// rather than per token; `None` where the key cannot be used.
    decoding: Vec<Option<DecodingKey>>,
    /// `id_token_signing_alg_values_supported`, when the issuer lists it.
    algs: Option<Vec<String>>,
    fetched: Instant,
}

/// Most issuers whose keys (or whose last failure) are cached; meta-issuers
/// can match many.
const MAX_CACHED_ISSUERS: usize = 256;
/// Largest discovery document or JWKS we read.
const MAX_DOCUMENT_BYTES: usize = 1024 * 1024;

/// Verifies tokens against the configured issuers, caching discovery and
/// JWKS per issuer.
///
/// Outbound fetches are bounded: per issuer at most one fetch is in
/// flight (concurrent requests wait for its result instead of starting
/// their own), at most [`TokenPolicy::max_fetches_in_flight`] over all
/// issuers, a failure is remembered for [`TokenPolicy::negative_ttl`],
/// each fetch is time-limited ([`TokenPolicy::http_timeout`]) and each
/// document size-capped (1 MiB).
pub struct TokenVerifier {
    issuers: Arc<Issuers>,
    policy: TokenPolicy,
    http: reqwest::Client,
    cache: Mutex<HashMap<String, Arc<Provider>>>,
    /// The last failed fetch of each issuer: when, and the error it gave.
    failures: Mutex<HashMap<String, (Instant, TokenError)>>,
    /// The turn to fetch each issuer: whoever holds it fetches, the others
    /// wait and then use what it cached (keys or failure).
    inflight: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    /// Permits for fetches in flight, [`TokenPolicy::max_fetches_in_flight`].
    fetch_permits: tokio::sync::Semaphore,
    last_refetch: Mutex<HashMap<String, Instant>>,
}

impl std::fmt::Debug for TokenVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenVerifier")
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

/// An HTTP client that follows redirects only within the original host
/// (GHSA-f5mr: a redirect to another host must not supply an issuer's keys).
pub fn discovery_client(timeout: Duration) -> Result<reqwest::Client, reqwest::Error> {
    let policy = reqwest::redirect::Policy::custom(|attempt| {
        let same_host = attempt.previous().first().is_some_and(|first| {
            first.host_str() == attempt.url().host_str() && first.scheme() == attempt.url().scheme()
        });
        if attempt.previous().len() > 5 {
            attempt.error("too many redirects")
        } else if same_host {
            attempt.follow()
        } else {
            attempt.error("redirect to another host refused")
        }
    });
    let builder = reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout)
        .redirect(policy);
    // A private issuer's CA (`keyless --ca-bundle FILE`), on top of the
    // system's roots.
    keyless_ca_bundle::trust(builder)?.build()
}

fn b64url(part: &str, what: &'static str) -> Result<Map<String, Value>, TokenError> {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| TokenError::BadEncoding { part: what })?;
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(Value::Object(m)) => Ok(m),
        _ => Err(TokenError::BadEncoding { part: what }),
    }
}

fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Only `https://` issuers, except plain HTTP on loopback for development
/// issuers (`keyless server oidc`), which never leave the machine.
fn check_url(url: &str) -> Result<url::Url, FetchError> {
    let u = url::Url::parse(url).map_err(|source| FetchError::Url {
        url: url.into(),
        source,
    })?;
    let loopback = match u.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d == "localhost",
        None => false,
    };
    match u.scheme() {
        "https" => Ok(u),
        "http" if loopback => Ok(u),
        other => Err(FetchError::Scheme {
            scheme: other.into(),
            url: url.into(),
        }),
    }
}

impl TokenVerifier {
    pub fn new(issuers: Arc<Issuers>, policy: TokenPolicy) -> Result<Self, reqwest::Error> {
        Ok(Self {
            http: discovery_client(policy.http_timeout)?,
            fetch_permits: tokio::sync::Semaphore::new(
                policy
                    .max_fetches_in_flight
                    .min(tokio::sync::Semaphore::MAX_PERMITS),
            ),
            issuers,
            policy,
            cache: Mutex::new(HashMap::new()),
            failures: Mutex::new(HashMap::new()),
            inflight: Mutex::new(HashMap::new()),
            last_refetch: Mutex::new(HashMap::new()),
        })
    }

    pub fn issuers(&self) -> &Issuers {
        &self.issuers
    }

    /// Verify `token`; the returned claims are authentic and current.
    pub async fn verify(&self, token: &str) -> Result<VerifiedToken, TokenError> {
        // Step 1: size and shape before anything else.
        if token.len() > self.policy.max_token_bytes {
            return Err(TokenError::TooLarge {
                len: token.len(),
                max: self.policy.max_token_bytes,
            });
        }
        let mut parts = token.splitn(4, '.');
        let (Some(h), Some(p), Some(s), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(TokenError::Malformed);
        };
        if h.is_empty() || p.is_empty() || s.is_empty() {
            return Err(TokenError::Malformed);
        }
        let header = b64url(h, "header")?;
        let payload = b64url(p, "payload")?;

        // Step 2: the issuer must be configured; no network I/O before this.
        let iss = payload
            .get("iss")
            .and_then(Value::as_str)
            .ok_or(TokenError::MissingIssuer)?;
        let issuer = self
            .issuers
            .get(iss)
            .ok_or_else(|| TokenError::UnknownIssuer {
                issuer: iss.to_string(),
            })?;

        // Step 4 (header part): asymmetric algorithms only.
        let alg_name = header.get("alg").and_then(Value::as_str).unwrap_or("");
        if alg_name.eq_ignore_ascii_case("none") || alg_name.is_empty() {
            return Err(TokenError::AlgNone);
        }
        if alg_name.starts_with("HS") {
            return Err(TokenError::SymmetricAlg {
                alg: alg_name.to_string(),
            });
        }
        let alg = allowed_alg(alg_name).ok_or_else(|| TokenError::UnsupportedAlg {
            alg: alg_name.to_string(),
        })?;
        let kid = header
            .get("kid")
            .and_then(Value::as_str)
            .map(str::to_string);

        // Step 3: discovery and JWKS (cached).
        let mut provider = self.provider(&issuer.issuer_url, false).await?;
        if let Some(algs) = &provider.algs {
            if !algs.iter().any(|a| a == alg_name) {
                return Err(TokenError::AlgNotAdvertised {
                    alg: alg_name.to_string(),
                });
            }
        }
        let mut keys = select_keys(&provider.jwks, kid.as_deref(), alg);
        if keys.is_empty() && kid.is_some() && self.may_refetch(&issuer.issuer_url) {
            // Key rotation: the issuer may have published a new key.
            provider = self.provider(&issuer.issuer_url, true).await?;
            keys = select_keys(&provider.jwks, kid.as_deref(), alg);
        }
        let keys: Vec<&DecodingKey> = keys
            .into_iter()
            .filter_map(|i| provider.decoding.get(i)?.as_ref())
            .collect();
        if keys.is_empty() {
            return Err(match kid {
                Some(kid) => TokenError::UnknownKid { kid },
                None => TokenError::AmbiguousKey { keys: 0 },
            });
        }

        // Steps 4–5: signature and claims, by jsonwebtoken.
        let mut validation = Validation::new(alg);
        validation.leeway = self.policy.leeway_secs;
        validation.validate_nbf = true;
        validation.set_audience(&[issuer.client_id.as_str()]);
        validation.set_issuer(&[issuer.issuer_url.as_str()]);
        validation.set_required_spec_claims(&["exp", "iss", "aud"]);
        let mut last = TokenError::BadSignature;
        for key in keys {
            match jsonwebtoken::decode::<Map<String, Value>>(token, key, &validation) {
                Ok(data) => {
                    let claims = data.claims;
                    check_iat(&claims, self.policy.leeway_secs)?;
                    return Ok(VerifiedToken { issuer, claims });
                }
                Err(e) => {
                    last = map_jwt_error(e.kind(), &issuer);
                    if !matches!(last, TokenError::BadSignature) {
                        return Err(last);
                    }
                }
            }
        }
        Err(last)
    }

    fn may_refetch(&self, issuer: &str) -> bool {
        let Ok(mut m) = self.last_refetch.lock() else {
            return false;
        };
        let now = Instant::now();
        match m.get(issuer) {
            Some(t) if now.duration_since(*t) < self.policy.refetch_interval => false,
            _ => {
                m.insert(issuer.to_string(), now);
                true
            }
        }
    }

    /// Cached keys of `issuer`: fresh ones, or with `since`, ones fetched
    /// at or after it.
    fn cached(&self, issuer: &str, since: Option<Instant>) -> Option<Arc<Provider>> {
        let cache = self.cache.lock().ok()?;
        let p = cache.get(issuer)?;
        let usable = match since {
            Some(t) => p.fetched >= t,
            None => p.fetched.elapsed() < self.policy.jwks_ttl,
        };
        usable.then(|| p.clone())
    }

    /// The error of the last fetch of `issuer`, if it failed within
    /// [`TokenPolicy::negative_ttl`].
    fn recent_failure(&self, issuer: &str) -> Option<TokenError> {
        let failures = self.failures.lock().ok()?;
        let (at, error) = failures.get(issuer)?;
        (at.elapsed() < self.policy.negative_ttl).then(|| error.clone())
    }

    /// Discovery + JWKS of `issuer`: cached, or fetched by one request at
    /// a time. `force` (a refetch for an unknown `kid`) skips fresh cached
    /// keys but still takes keys fetched while it waited for its turn.
    async fn provider(&self, issuer: &str, force: bool) -> Result<Arc<Provider>, TokenError> {
        let asked = Instant::now();
        if !force {
            if let Some(p) = self.cached(issuer, None) {
                return Ok(p);
            }
        }
        if let Some(e) = self.recent_failure(issuer) {
            return Err(e);
        }
        let turn = {
            let mut inflight = self.inflight.lock().map_err(|_| TokenError::Discovery {
                issuer: issuer.to_string(),
                source: FetchError::Poisoned,
            })?;
            if inflight.len() >= MAX_CACHED_ISSUERS && !inflight.contains_key(issuer) {
                // Forget turns nobody holds or waits for.
                inflight.retain(|_, t| Arc::strong_count(t) > 1);
            }
            inflight.entry(issuer.to_string()).or_default().clone()
        };
        let _turn = turn.lock().await;
        // Whoever had the turn before us may have fetched already.
        if let Some(p) = self.cached(issuer, if force { Some(asked) } else { None }) {
            return Ok(p);
        }
        if let Some(e) = self.recent_failure(issuer) {
            return Err(e);
        }
        let Ok(_permit) = self.fetch_permits.try_acquire() else {
            return Err(TokenError::Discovery {
                issuer: issuer.to_string(),
                source: FetchError::Busy {
                    max: self.policy.max_fetches_in_flight,
                },
            });
        };
        let fetched =
            match tokio::time::timeout(self.policy.http_timeout, self.fetch_provider(issuer)).await
            {
                Ok(r) => r,
                Err(_) => Err(TokenError::Discovery {
                    issuer: issuer.to_string(),
                    source: FetchError::Timeout {
                        ms: self.policy.http_timeout.as_millis(),
                    },
                }),
            };
        match fetched {
            Ok(provider) => {
                if let Ok(mut failures) = self.failures.lock() {
                    failures.remove(issuer);
                }
                if let Ok(mut cache) = self.cache.lock() {
                    if cache.len() >= MAX_CACHED_ISSUERS && !cache.contains_key(issuer) {
                        let oldest = cache
                            .iter()
                            .min_by_key(|(_, p)| p.fetched)
                            .map(|(k, _)| k.clone());
                        if let Some(k) = oldest {
                            cache.remove(&k);
                        }
                    }
                    cache.insert(issuer.to_string(), provider.clone());
                }
                Ok(provider)
            }
            Err(e) => {
                tracing::warn!(%issuer, error = %crate::error::error_chain(&e), "OIDC discovery failed; refusing tokens of this issuer for a while");
                if let Ok(mut failures) = self.failures.lock() {
                    if failures.len() >= MAX_CACHED_ISSUERS && !failures.contains_key(issuer) {
                        let ttl = self.policy.negative_ttl;
                        failures.retain(|_, (at, _)| at.elapsed() < ttl);
                        if failures.len() >= MAX_CACHED_ISSUERS {
                            let oldest = failures
                                .iter()
                                .min_by_key(|(_, (at, _))| *at)
                                .map(|(k, _)| k.clone());
                            if let Some(k) = oldest {
                                failures.remove(&k);
                            }
                        }
                    }
                    failures.insert(issuer.to_string(), (Instant::now(), e.clone()));
                }
                Err(e)
            }
        }
    }

    /// Fetch and check discovery, then the JWKS it names.
    async fn fetch_provider(&self, issuer: &str) -> Result<Arc<Provider>, TokenError> {
        let fail = |source: FetchError| TokenError::Discovery {
            issuer: issuer.to_string(),
            source,
        };
        check_url(issuer).map_err(fail)?;
        let discovery_url = format!(
            "{}/.well-known/openid-configuration",
            issuer.trim_end_matches('/')
        );
        let doc = self.fetch_json(&discovery_url).await.map_err(fail)?;
        // OpenID Connect Discovery §4.3: the document's issuer must be the issuer.
        if doc.get("issuer").and_then(Value::as_str) != Some(issuer) {
            return Err(fail(FetchError::IssuerMismatch));
        }
        let jwks_uri = doc
            .get("jwks_uri")
            .and_then(Value::as_str)
            .ok_or_else(|| fail(FetchError::NoJwksUri))?;
        check_url(jwks_uri).map_err(fail)?;
        let algs = doc
            .get("id_token_signing_alg_values_supported")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect::<Vec<_>>()
            });
        let jwks_value = self.fetch_json(jwks_uri).await.map_err(fail)?;
        let jwks = jwks_from_value(jwks_value).map_err(fail)?;
        let decoding = jwks
            .keys
            .iter()
            .map(|k| DecodingKey::from_jwk(k).ok())
            .collect();
        Ok(Arc::new(Provider {
            jwks,
            decoding,
            algs,
            fetched: Instant::now(),
        }))
    }

    async fn fetch_json(&self, url: &str) -> Result<Value, FetchError> {
        let http = |e: reqwest::Error| FetchError::Http {
            url: url.into(),
            source: Arc::new(e),
        };
        let resp = self.http.get(url).send().await.map_err(http)?;
        if !resp.status().is_success() {
            return Err(FetchError::Status {
                url: url.into(),
                status: resp.status(),
            });
        }
        let body = keyless_ca_bundle::read_capped(resp, MAX_DOCUMENT_BYTES as u64)
            .await
            .map_err(|e| match e {
                keyless_ca_bundle::BodyError::TooLarge { .. } => FetchError::TooLarge {
                    url: url.into(),
                    max: MAX_DOCUMENT_BYTES,
                },
                keyless_ca_bundle::BodyError::Http(source) => http(source),
            })?;
        serde_json::from_slice(&body).map_err(|e| FetchError::Json {
            url: url.into(),
            source: Arc::new(e),
        })
    }
}

/// Parse a JWKS, skipping keys this library cannot use (unknown `kty`,
/// unknown curves) instead of rejecting the whole set, as go-oidc does.
fn jwks_from_value(v: Value) -> Result<JwkSet, FetchError> {
    let keys = v
        .get("keys")
        .and_then(Value::as_array)
        .ok_or(FetchError::NoKeys)?;
    let keys: Vec<Jwk> = keys
        .iter()
        .filter_map(|k| serde_json::from_value::<Jwk>(k.clone()).ok())
        .filter(|k| !matches!(k.algorithm, AlgorithmParameters::OctetKey(_)))
        .collect();
    Ok(JwkSet { keys })
}

/// Keys (indices into the JWKS) that may have signed a token with this
/// `kid` and `alg`: the key with that kid, or every key of the right
/// family when there is no kid.
fn select_keys(jwks: &JwkSet, kid: Option<&str>, alg: Algorithm) -> Vec<usize> {
    let family_ok = |k: &Jwk| {
        matches!(
            (&k.algorithm, alg),
            (
                AlgorithmParameters::RSA(_),
                Algorithm::RS256
                    | Algorithm::RS384
                    | Algorithm::RS512
                    | Algorithm::PS256
                    | Algorithm::PS384
                    | Algorithm::PS512
            ) | (
                AlgorithmParameters::EllipticCurve(_),
                Algorithm::ES256 | Algorithm::ES384
            ) | (AlgorithmParameters::OctetKeyPair(_), Algorithm::EdDSA)
        )
    };

    jwks.keys
        .iter()
        .enumerate()
        .filter(|(_, k)| match kid {
            Some(kid) => k.common.key_id.as_deref() == Some(kid),
            None => true,
        })
        .filter(|(_, k)| family_ok(k))
        .map(|(i, _)| i)
        .collect()
}

fn check_iat(claims: &Map<String, Value>, leeway: u64) -> Result<(), TokenError> {
    // fulcio-spec §2.2.1: iat is required.
    let iat = claims
        .get("iat")
        .ok_or_else(|| TokenError::MissingClaim {
            claim: "iat".into(),
        })?
        .as_f64()
        .ok_or_else(|| TokenError::Claims("iat is not a number".into()))?;
    if iat > (now_secs() + leeway) as f64 {
        return Err(TokenError::IssuedInFuture);
    }
    Ok(())
}

fn map_jwt_error(kind: &jsonwebtoken::errors::ErrorKind, issuer: &IssuerConfig) -> TokenError {
    use jsonwebtoken::errors::ErrorKind as K;
    match kind {
        K::ExpiredSignature => TokenError::Expired,
        K::ImmatureSignature => TokenError::NotYetValid,
        K::InvalidAudience => TokenError::WrongAudience {
            expected: issuer.client_id.clone(),
        },
        K::InvalidIssuer => TokenError::WrongIssuer {
            expected: issuer.issuer_url.clone(),
        },
        K::MissingRequiredClaim(c) => TokenError::MissingClaim { claim: c.clone() },
        K::InvalidSignature
        | K::InvalidEcdsaKey
        | K::InvalidEddsaKey
        | K::InvalidRsaKey(_)
        | K::InvalidKeyFormat => TokenError::BadSignature,
        K::InvalidClaimFormat(c) => TokenError::Claims(format!("claim {c} has the wrong type")),
        K::Json(_) | K::Base64(_) | K::Utf8(_) | K::InvalidToken => TokenError::Malformed,
        other => TokenError::Claims(format!("{other:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_may_be_plain_http() {
        assert!(check_url("https://accounts.example.com").is_ok());
        assert!(check_url("http://127.0.0.1:8080").is_ok());
        assert!(check_url("http://localhost:1").is_ok());
        assert!(check_url("http://example.com").is_err());
        assert!(check_url("file:///etc/passwd").is_err());
    }
}
