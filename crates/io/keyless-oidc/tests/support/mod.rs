//! Shared helpers: the development issuer in-process, and loopback
//! stand-ins for the token services of CI systems and Google Cloud.
#![allow(dead_code)] // each test binary uses a different subset

#[cfg(unix)]
pub mod spiffe;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use keyless_oidc_dev::{DevIssuer, MintOptions, OidcDevConfig};
use serde_json::{json, Value};

/// A fresh directory under the system temp dir.
pub fn temp_dir(tag: &str) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "keyless-oidc-{tag}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Serve `app` on 127.0.0.1:0; returns `http://127.0.0.1:<port>`.
pub async fn serve(app: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    base
}

/// The development issuer, served in-process. `device_interval` is its
/// minimum device-flow polling interval in seconds.
pub async fn start_issuer(device_interval: u64) -> Arc<DevIssuer> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let mut cfg = OidcDevConfig::new(temp_dir("issuer"));
    cfg.device_poll_interval_secs = device_interval;
    let issuer = keyless_oidc_dev::open_for(cfg, &listener).unwrap();
    let app = keyless_oidc_dev::router(issuer.clone());
    tokio::spawn(async move { axum::serve(listener, app).await });
    issuer
}

/// Mint a token for a configured identity with an audience.
pub fn mint(issuer: &DevIssuer, identity: &str, audience: &str) -> String {
    issuer
        .mint(&MintOptions {
            identity: Some(identity.into()),
            audience: Some(audience.into()),
            ..Default::default()
        })
        .unwrap()
}

/// Decoded claims of a compact JWT.
pub fn claims(token: &str) -> Value {
    use base64::Engine;
    let p = token.split('.').nth(1).unwrap();
    serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(p)
            .unwrap(),
    )
    .unwrap()
}

/// One request a stand-in saw.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: Method,
    pub path: String,
    pub query: HashMap<String, String>,
    pub headers: HeaderMap,
    pub body: Bytes,
}

/// Loopback stand-ins for the token services ambient providers talk to,
/// speaking their real protocols, minting with the development issuer:
///
/// - GitHub Actions: `GET /gha/idtoken?api-version=2.0&audience=..` with
///   `Authorization: bearer <ACTIONS_ID_TOKEN_REQUEST_TOKEN>` → `{"count","value"}`
/// - GCE metadata: `GET /computeMetadata/v1/instance/service-accounts/default/identity`
///   and `.../default/token`, only with `Metadata-Flavor: Google`
/// - IAM Credentials: `POST /v1/projects/-/serviceAccounts/<sa>:generateIdToken`
///   with the metadata access token as bearer
pub struct StandIn {
    pub issuer: Arc<DevIssuer>,
    pub seen: Mutex<Vec<Seen>>,
}

pub const GHA_BEARER: &str = "gha-request-token";
pub const ACCESS_TOKEN: &str = "ya29.stand-in-access-token";
pub const SERVICE_ACCOUNT: &str = "signer@keyless-dev.iam.gserviceaccount.com";

impl StandIn {
    pub async fn start(issuer: Arc<DevIssuer>) -> (Arc<StandIn>, String) {
        let s = Arc::new(StandIn {
            issuer,
            seen: Mutex::new(Vec::new()),
        });
        let app = Router::new().fallback(handle).with_state(s.clone());
        (s, serve(app).await)
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

fn status(code: StatusCode, msg: &str) -> Response {
    (code, msg.to_string()).into_response()
}

async fn handle(State(s): State<Arc<StandIn>>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let body = axum::body::to_bytes(body, 1 << 20)
        .await
        .unwrap_or_default();
    let query: HashMap<String, String> =
        url::form_urlencoded::parse(parts.uri.query().unwrap_or("").as_bytes())
            .into_owned()
            .collect();
    let path = parts.uri.path().to_string();
    s.seen.lock().unwrap().push(Seen {
        method: parts.method.clone(),
        path: path.clone(),
        query: query.clone(),
        headers: parts.headers.clone(),
        body: body.clone(),
    });
    let bearer = parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let bearer_is = |want: &str| {
        bearer
            .split_once(' ')
            .is_some_and(|(scheme, value)| scheme.eq_ignore_ascii_case("bearer") && value == want)
    };
    let metadata_flavor = parts
        .headers
        .get("metadata-flavor")
        .and_then(|v| v.to_str().ok())
        == Some("Google");

    if parts.method == Method::GET && path == "/gha/idtoken" {
        if !bearer_is(GHA_BEARER) {
            return status(StatusCode::UNAUTHORIZED, "bad bearer");
        }
        if query.get("api-version").map(String::as_str) != Some("2.0") {
            return status(
                StatusCode::BAD_REQUEST,
                "the request URL's own query was lost",
            );
        }
        let aud = query
            .get("audience")
            .cloned()
            .unwrap_or_else(|| "https://github.com/keyless-dev".into());
        return Json(json!({"count": 1984, "value": mint(&s.issuer, "github", &aud)}))
            .into_response();
    }
    if let Some(rest) = path.strip_prefix("/computeMetadata/v1/instance/service-accounts/default/")
    {
        if parts.method != Method::GET {
            return status(StatusCode::METHOD_NOT_ALLOWED, "");
        }
        if !metadata_flavor {
            // What the real metadata server answers without the header.
            return status(
                StatusCode::FORBIDDEN,
                "Missing Metadata-Flavor:Google header.",
            );
        }
        let flavor = [("metadata-flavor", "Google")];
        return match rest {
            "identity" => {
                let Some(aud) = query.get("audience") else {
                    return status(StatusCode::BAD_REQUEST, "non-empty audience parameter required");
                };
                let token = s
                    .issuer
                    .mint(&MintOptions {
                        identity: Some("email".into()),
                        subject: Some(SERVICE_ACCOUNT.into()),
                        audience: Some(aud.clone()),
                        ..Default::default()
                    })
                    .unwrap();
                (flavor, token).into_response()
            }
            "token" => {
                (flavor, Json(json!({"access_token": ACCESS_TOKEN, "expires_in": 3599, "token_type": "Bearer"}))).into_response()
            }
            _ => status(StatusCode::NOT_FOUND, "no such metadata"),
        };
    }
    if let Some(rest) = path.strip_prefix("/v1/projects/-/serviceAccounts/") {
        let Some(sa) = rest.strip_suffix(":generateIdToken") else {
            return status(StatusCode::NOT_FOUND, "");
        };
        if parts.method != Method::POST {
            return status(StatusCode::METHOD_NOT_ALLOWED, "");
        }
        if !bearer_is(ACCESS_TOKEN) {
            return (
                StatusCode::UNAUTHORIZED,
                Json(json!({"error": {"code": 401, "status": "UNAUTHENTICATED"}})),
            )
                .into_response();
        }
        let Ok(req) = serde_json::from_slice::<Value>(&body) else {
            return status(StatusCode::BAD_REQUEST, "body is not JSON");
        };
        let Some(aud) = req["audience"].as_str() else {
            return status(StatusCode::BAD_REQUEST, "audience required");
        };
        let token = s
            .issuer
            .mint(&MintOptions {
                identity: Some("email".into()),
                subject: Some(sa.to_string()),
                audience: Some(aud.to_string()),
                ..Default::default()
            })
            .unwrap();
        return Json(json!({"token": token})).into_response();
    }
    status(StatusCode::NOT_FOUND, "not a stand-in route")
}
