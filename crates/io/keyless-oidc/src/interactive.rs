//! Interactive sign-in: the authorization-code flow with PKCE on a loopback
//! redirect (RFC 8252 §7.3) when a person is at a terminal, or the device
//! authorization grant (RFC 8628) when no browser can be opened here.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Deserialize;
use tokio::sync::oneshot;

use crate::pkce::{pkce_pair, random_token};
use crate::redirect::RedirectPlan;
use crate::{IdentityToken, OidcError};

/// What an interactive flow needs to know.
#[derive(Clone)]
pub struct InteractiveOptions {
    pub issuer: String,
    pub client_id: String,
    pub client_secret: Option<String>,
    /// Use the device flow even on a terminal.
    pub force_device_flow: bool,
    /// cosign's `--oidc-redirect-url`: the `redirect_uri` of the browser
    /// flow (see [`crate::RedirectPlan`]); `None`: a loopback one.
    pub redirect_url: Option<String>,
    /// How to show the sign-in URL; `None` prints it and tries `xdg-open`.
    /// Tests pass a function that plays the browser.
    pub open_url: Option<Arc<dyn Fn(String) + Send + Sync>>,
}

impl std::fmt::Debug for InteractiveOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InteractiveOptions")
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field("force_device_flow", &self.force_device_flow)
            .finish_non_exhaustive()
    }
}

impl InteractiveOptions {
    pub fn new(issuer: impl Into<String>) -> Self {
        Self {
            issuer: issuer.into(),
            client_id: "sigstore".into(),
            client_secret: None,
            force_device_flow: false,
            redirect_url: None,
            open_url: None,
        }
    }

    fn show(&self, url: String) {
        match &self.open_url {
            Some(f) => f(url),
            None => {
                eprintln!("Your browser will now be opened to:\n{url}");
                let _ = std::process::Command::new("xdg-open")
                    .arg(&url)
                    .stdout(std::process::Stdio::null())
                    .stderr(std::process::Stdio::null())
                    .spawn();
            }
        }
    }
}

/// The parts of the OpenID discovery document the flows use.
#[derive(Debug, Clone, Deserialize)]
pub struct Discovery {
    pub issuer: String,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    #[serde(default)]
    pub device_authorization_endpoint: Option<String>,
    #[serde(default)]
    pub jwks_uri: Option<String>,
}

fn client() -> Result<reqwest::Client, OidcError> {
    let builder = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .redirect(reqwest::redirect::Policy::none());
    keyless_ca_bundle::trust(builder)
        .and_then(|b| b.build())
        .map_err(OidcError::from)
}

/// Fetch `issuer/.well-known/openid-configuration`.
pub async fn discover(issuer: &str) -> Result<Discovery, OidcError> {
    let fail = |problem: String, source: Option<Box<dyn std::error::Error + Send + Sync>>| {
        OidcError::Discovery {
            issuer: issuer.to_string(),
            problem,
            source,
        }
    };
    let url = format!(
        "{}/.well-known/openid-configuration",
        issuer.trim_end_matches('/')
    );
    let resp = client()?
        .get(url)
        .send()
        .await
        .map_err(|e| fail("request failed".into(), Some(e.into())))?;
    if !resp.status().is_success() {
        return Err(fail(format!("answered {}", resp.status()), None));
    }
    let d: Discovery = crate::answer::json(resp)
        .await
        .map_err(|e| fail("malformed document".into(), Some(e.into())))?;
    if d.issuer.trim_end_matches('/') != issuer.trim_end_matches('/') {
        return Err(fail(format!("document names issuer {:?}", d.issuer), None));
    }
    Ok(d)
}

#[derive(Deserialize)]
struct TokenResponse {
    #[serde(default)]
    id_token: Option<String>,
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    error_description: Option<String>,
}

/// Authorization code + PKCE with a loopback listener for the redirect
/// (its URL per [`InteractiveOptions::redirect_url`]).
pub async fn browser_flow(opts: &InteractiveOptions) -> Result<IdentityToken, OidcError> {
    let d = discover(&opts.issuer).await?;
    let plan = RedirectPlan::new(opts.redirect_url.as_deref())?;
    let listener = tokio::net::TcpListener::bind(plan.listen)
        .await
        .map_err(OidcError::Redirect)?;
    let bound = listener.local_addr().map_err(OidcError::Redirect)?;
    let redirect_uri = plan.redirect_uri(bound);
    if let Some(note) = plan.note(bound) {
        eprintln!("{note}");
    }
    let (verifier, challenge) = pkce_pair();
    let state = random_token(16);
    let nonce = random_token(16);

    let mut url = url::Url::parse(&d.authorization_endpoint).map_err(|e| OidcError::Discovery {
        issuer: opts.issuer.clone(),
        problem: "authorization_endpoint".into(),
        source: Some(e.into()),
    })?;
    url.query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", &opts.client_id)
        .append_pair("redirect_uri", &redirect_uri)
        .append_pair("scope", "openid email")
        .append_pair("state", &state)
        .append_pair("nonce", &nonce)
        .append_pair("code_challenge", &challenge)
        .append_pair("code_challenge_method", "S256");

    let (tx, rx) = oneshot::channel::<Result<String, String>>();
    let tx = Arc::new(std::sync::Mutex::new(Some(tx)));
    let expected_state = state.clone();
    let callback_path = plan.path.clone();
    // A fallback compared with the path, not a route: the path comes from
    // the user and may contain characters axum's router treats as syntax.
    let app = axum::Router::new().fallback(move |uri: axum::http::Uri| {
        let tx = tx.clone();
        let expected_state = expected_state.clone();
        let callback_path = callback_path.clone();
        async move {
            if uri.path() != callback_path {
                return (axum::http::StatusCode::NOT_FOUND, axum::response::Html("<html><body>Not found.</body></html>"));
            }
            let q: std::collections::HashMap<String, String> =
                url::form_urlencoded::parse(uri.query().unwrap_or_default().as_bytes())
                    .into_owned()
                    .collect();
            let result = if let Some(err) = q.get("error") {
                Err(format!("the issuer refused: {err}"))
            } else if q.get("state") != Some(&expected_state) {
                Err("state mismatch in the redirect (possible CSRF); try again".to_string())
            } else {
                q.get("code").cloned().ok_or_else(|| "redirect without a code".to_string())
            };
            let ok = result.is_ok();
            if let Some(tx) = tx.lock().ok().and_then(|mut t| t.take()) {
                let _ = tx.send(result);
            }
            (
                axum::http::StatusCode::OK,
                axum::response::Html(if ok {
                    "<html><body>Signed in. You may close this window and return to the terminal.</body></html>"
                } else {
                    "<html><body>Sign-in failed; see the terminal.</body></html>"
                }),
            )
        }
    });
    let server = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    opts.show(url.to_string());
    let code = tokio::time::timeout(Duration::from_secs(300), rx).await;
    server.abort();
    let code = code
        .map_err(|_| OidcError::Authorization("timed out waiting for the browser redirect".into()))?
        .map_err(|_| OidcError::Authorization("redirect listener stopped".into()))?
        .map_err(OidcError::Authorization)?;

    let mut form = vec![
        ("grant_type", "authorization_code".to_string()),
        ("code", code),
        ("redirect_uri", redirect_uri),
        ("client_id", opts.client_id.clone()),
        ("code_verifier", verifier),
    ];
    if let Some(secret) = &opts.client_secret {
        form.push(("client_secret", secret.clone()));
    }
    let resp = client()?.post(&d.token_endpoint).form(&form).send().await?;
    let resp: TokenResponse = endpoint_answer(resp, "token endpoint").await?;
    let token = token_from(resp)?;
    // OpenID Connect Core §3.1.3.7: a nonce sent must come back unchanged,
    // else the token may have been minted for another login.
    if token.claims().nonce.as_deref() != Some(nonce.as_str()) {
        return Err(OidcError::Authorization(
            "the ID token's nonce does not match the login request".into(),
        ));
    }
    Ok(token)
}

fn token_from(resp: TokenResponse) -> Result<IdentityToken, OidcError> {
    match (resp.id_token, resp.error) {
        (Some(t), _) => IdentityToken::parse(&t),
        (None, Some(e)) => Err(OidcError::Authorization(format!(
            "{e}: {}",
            resp.error_description.unwrap_or_default()
        ))),
        (None, None) => Err(OidcError::Authorization(
            "token response has no id_token".into(),
        )),
    }
}

/// RFC 8628 device authorization grant: print a link and a code, then poll.
pub async fn device_flow(opts: &InteractiveOptions) -> Result<IdentityToken, OidcError> {
    #[derive(Deserialize)]
    struct DeviceResponse {
        device_code: String,
        user_code: String,
        verification_uri: String,
        #[serde(default)]
        verification_uri_complete: Option<String>,
        #[serde(default = "default_interval")]
        interval: u64,
        #[serde(default = "default_expiry")]
        expires_in: u64,
    }
    fn default_interval() -> u64 {
        5
    }
    fn default_expiry() -> u64 {
        600
    }
    let d = discover(&opts.issuer).await?;
    let endpoint = d
        .device_authorization_endpoint
        .clone()
        .ok_or_else(|| OidcError::Discovery {
            issuer: opts.issuer.clone(),
            problem: "the issuer does not offer the device flow (no device_authorization_endpoint)"
                .into(),
            source: None,
        })?;
    let http = client()?;
    let resp = http
        .post(endpoint)
        .form(&[
            ("client_id", opts.client_id.as_str()),
            ("scope", "openid email"),
        ])
        .send()
        .await?;
    if !resp.status().is_success() {
        return Err(OidcError::Authorization(format!(
            "device authorization answered {}",
            resp.status()
        )));
    }
    let dev: DeviceResponse = endpoint_answer(resp, "device authorization endpoint").await?;
    let link = dev
        .verification_uri_complete
        .clone()
        .unwrap_or_else(|| dev.verification_uri.clone());
    // stderr: stdout may carry the command's output (a signature, a bundle).
    eprintln!(
        "To sign in, open {link} and enter the code {}",
        dev.user_code
    );
    if let Some(f) = &opts.open_url {
        f(link);
    }
    let mut interval = Duration::from_secs(dev.interval.max(1));
    let deadline = Instant::now() + Duration::from_secs(dev.expires_in);
    loop {
        if Instant::now() >= deadline {
            return Err(OidcError::DeviceCodeExpired);
        }
        tokio::time::sleep(interval).await;
        let resp = http
            .post(&d.token_endpoint)
            .form(&[
                ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
                ("device_code", dev.device_code.as_str()),
                ("client_id", opts.client_id.as_str()),
            ])
            .send()
            .await?;
        let resp: TokenResponse = endpoint_answer(resp, "token endpoint").await?;
        match resp.error.as_deref() {
            Some("authorization_pending") => continue,
            Some("slow_down") => interval += Duration::from_secs(5),
            Some("expired_token") => return Err(OidcError::DeviceCodeExpired),
            _ => return token_from(resp),
        }
    }
}

/// The JSON answer of an authorization server's `endpoint`, read under the
/// cap ([`crate::MAX_ANSWER`]).
async fn endpoint_answer<T: serde::de::DeserializeOwned>(
    resp: reqwest::Response,
    endpoint: &'static str,
) -> Result<T, OidcError> {
    crate::answer::json(resp)
        .await
        .map_err(|source| OidcError::Answer { endpoint, source })
}
