//! The browser (authorization code + PKCE, loopback redirect) and device
//! flows against the development issuer, with the test playing the person.

mod support;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Form, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use keyless_oidc::{browser_flow, device_flow, discover, InteractiveOptions, OidcError};
use keyless_oidc_dev::{DevIssuer, MintOptions};
use serde_json::json;
use tokio::sync::oneshot;

type Opener = Arc<dyn Fn(String) + Send + Sync>;

/// A browser: follows redirects (to the loopback callback) and reports the
/// final page.
fn browser() -> (Opener, oneshot::Receiver<(u16, String)>) {
    let (tx, rx) = oneshot::channel();
    let tx = Arc::new(Mutex::new(Some(tx)));
    let open = move |url: String| {
        let tx = tx.clone();
        tokio::spawn(async move {
            let resp = reqwest::Client::new().get(url).send().await.unwrap();
            let status = resp.status().as_u16();
            let page = resp.text().await.unwrap();
            if let Some(tx) = tx.lock().unwrap().take() {
                let _ = tx.send((status, page));
            }
        });
    };
    (Arc::new(open), rx)
}

/// A browser that lets `rewrite` turn the authorization URL into the
/// callback URL it visits instead (forged or failed redirects).
fn scripted(rewrite: impl Fn(url::Url) -> String + Send + Sync + 'static) -> Opener {
    let rewrite = Arc::new(rewrite);
    Arc::new(move |url: String| {
        let rewrite = rewrite.clone();
        tokio::spawn(async move {
            let target = rewrite(url::Url::parse(&url).unwrap());
            let _ = reqwest::Client::new().get(target).send().await;
        });
    })
}

fn query(u: &url::Url) -> HashMap<String, String> {
    u.query_pairs().into_owned().collect()
}

fn options(issuer: &str, open: Opener) -> InteractiveOptions {
    let mut o = InteractiveOptions::new(issuer);
    o.open_url = Some(open);
    o
}

#[tokio::test]
async fn browser_flow_returns_the_dev_identity() {
    let issuer = support::start_issuer(5).await;
    let (open, page) = browser();
    let t = browser_flow(&options(&issuer.base_url, open))
        .await
        .unwrap();
    assert_eq!(t.claims().iss, issuer.base_url);
    assert_eq!(t.identity(), "dev@keyless.test");
    assert_eq!(t.challenge(), "dev@keyless.test");
    assert_eq!(t.claims().aud, vec!["sigstore"]);
    assert!(t.claims().nonce.as_deref().is_some_and(|n| n.len() >= 16));
    let (status, page) = tokio::time::timeout(Duration::from_secs(10), page)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(status, 200);
    assert!(page.contains("Signed in"), "{page}");
    // Debug never shows the token.
    assert!(!format!("{t:?}").contains(t.raw()));
}

/// `--oidc-redirect-url` with a loopback URL: the flow listens on its port
/// and path, and sends it as the redirect_uri.
#[tokio::test]
async fn browser_flow_listens_where_the_redirect_url_says() {
    let issuer = support::start_issuer(5).await;
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let redirect = format!("http://127.0.0.1:{port}/custom/done");
    let seen = Arc::new(Mutex::new(None));
    let seen2 = seen.clone();
    let (follow, page) = browser();
    let open: Opener = Arc::new(move |url: String| {
        *seen2.lock().unwrap() = Some(url.clone());
        follow(url);
    });
    let mut o = options(&issuer.base_url, open);
    o.redirect_url = Some(redirect.clone());
    let t = browser_flow(&o).await.unwrap();
    assert_eq!(t.identity(), "dev@keyless.test");
    let url = url::Url::parse(seen.lock().unwrap().as_deref().unwrap()).unwrap();
    assert_eq!(query(&url)["redirect_uri"], redirect);
    let (status, page) = tokio::time::timeout(Duration::from_secs(10), page)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(status, 200, "{page}");

    // A URL the flow cannot use fails before any browser is opened.
    let (open, _page) = browser();
    let mut o = options(&issuer.base_url, open);
    o.redirect_url = Some("ftp://127.0.0.1/cb".into());
    let e = browser_flow(&o).await.unwrap_err();
    assert!(matches!(e, OidcError::RedirectUrl { .. }), "{e}");
}

#[tokio::test]
async fn browser_flow_with_ci_issuer_path_and_custom_client() {
    let issuer = support::start_issuer(5).await;
    let (open, _page) = browser();
    let mut o = options(&format!("{}/github", issuer.base_url), open);
    o.client_id = "keyless-test".into();
    let t = browser_flow(&o).await.unwrap();
    assert_eq!(t.claims().iss, format!("{}/github", issuer.base_url));
    assert_eq!(
        t.claims().aud,
        vec!["keyless-test"],
        "the dev issuer addresses tokens to the client"
    );
    assert_eq!(t.identity(), "repo:keyless-dev/widgets:ref:refs/heads/main");
}

#[tokio::test]
async fn browser_flow_sends_pkce_state_nonce_and_loopback_redirect() {
    let issuer = support::start_issuer(5).await;
    let seen = Arc::new(Mutex::new(None));
    let seen2 = seen.clone();
    let open: Opener = Arc::new(move |url: String| {
        *seen2.lock().unwrap() = Some(url.clone());
        tokio::spawn(async move {
            let _ = reqwest::Client::new().get(url).send().await;
        });
    });
    browser_flow(&options(&issuer.base_url, open))
        .await
        .unwrap();
    let url = url::Url::parse(seen.lock().unwrap().as_deref().unwrap()).unwrap();
    assert!(url
        .as_str()
        .starts_with(&format!("{}/authorize?", issuer.base_url)));
    let q = query(&url);
    assert_eq!(q["response_type"], "code");
    assert_eq!(q["client_id"], "sigstore");
    assert_eq!(q["code_challenge_method"], "S256");
    assert_eq!(q["code_challenge"].len(), 43);
    assert!(q["state"].len() >= 16 && q["nonce"].len() >= 16 && q["state"] != q["nonce"]);
    let redirect = url::Url::parse(&q["redirect_uri"]).unwrap();
    assert_eq!(redirect.scheme(), "http");
    assert_eq!(redirect.host_str(), Some("localhost"));
    assert_eq!(redirect.path(), "/auth/callback");
    let scopes: Vec<&str> = q["scope"].split(' ').collect();
    assert!(scopes.contains(&"openid") && scopes.contains(&"email"));
}

#[tokio::test]
async fn browser_flow_rejects_a_state_mismatch() {
    let issuer = support::start_issuer(5).await;
    // Follow the issuer's redirect by hand, with a forged state.
    let open: Opener = Arc::new(move |url: String| {
        tokio::spawn(async move {
            let c = reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap();
            let resp = c.get(url).send().await.unwrap();
            assert_eq!(resp.status(), 302);
            let mut loc =
                url::Url::parse(resp.headers()[header::LOCATION].to_str().unwrap()).unwrap();
            let q: Vec<(String, String)> = loc
                .query_pairs()
                .into_owned()
                .map(|(k, v)| {
                    if k == "state" {
                        (k, "forged".into())
                    } else {
                        (k, v)
                    }
                })
                .collect();
            loc.query_pairs_mut().clear().extend_pairs(q);
            let page = c.get(loc).send().await.unwrap().text().await.unwrap();
            assert!(page.contains("failed"), "{page}");
        });
    });
    let e = browser_flow(&options(&issuer.base_url, open))
        .await
        .unwrap_err();
    assert!(
        matches!(&e, OidcError::Authorization(m) if m.contains("state mismatch")),
        "{e}"
    );
}

#[tokio::test]
async fn browser_flow_rejects_a_redirect_without_state() {
    let issuer = support::start_issuer(5).await;
    let open = scripted(|u| {
        let q = query(&u);
        format!("{}?code=abc", q["redirect_uri"])
    });
    let e = browser_flow(&options(&issuer.base_url, open))
        .await
        .unwrap_err();
    assert!(
        matches!(&e, OidcError::Authorization(m) if m.contains("state mismatch")),
        "{e}"
    );
}

#[tokio::test]
async fn browser_flow_reports_an_error_redirect() {
    let issuer = support::start_issuer(5).await;
    let open = scripted(|u| {
        let q = query(&u);
        let mut cb = url::Url::parse(&q["redirect_uri"]).unwrap();
        cb.query_pairs_mut()
            .append_pair("error", "access_denied")
            .append_pair("error_description", "the user said no")
            .append_pair("state", &q["state"]);
        cb.to_string()
    });
    let e = browser_flow(&options(&issuer.base_url, open))
        .await
        .unwrap_err();
    assert!(
        matches!(&e, OidcError::Authorization(m) if m.contains("access_denied")),
        "{e}"
    );
}

#[tokio::test]
async fn browser_flow_rejects_a_code_the_issuer_does_not_know() {
    let issuer = support::start_issuer(5).await;
    let open = scripted(|u| {
        let q = query(&u);
        let mut cb = url::Url::parse(&q["redirect_uri"]).unwrap();
        cb.query_pairs_mut()
            .append_pair("code", "made-up")
            .append_pair("state", &q["state"]);
        cb.to_string()
    });
    let e = browser_flow(&options(&issuer.base_url, open))
        .await
        .unwrap_err();
    assert!(
        matches!(&e, OidcError::Authorization(m) if m.contains("invalid_grant")),
        "{e}"
    );
}

/// An issuer whose /authorize approves at once and whose token endpoint
/// returns a dev-minted token with a chosen nonce (or none), to check that
/// the client ties the token to its own login.
async fn nonce_issuer(dev: Arc<DevIssuer>, nonce: Option<&'static str>) -> String {
    #[derive(Clone)]
    struct S {
        dev: Arc<DevIssuer>,
        nonce: Option<&'static str>,
        base: Arc<Mutex<String>>,
    }
    async fn disc(State(s): State<S>) -> Json<serde_json::Value> {
        let b = s.base.lock().unwrap().clone();
        Json(
            json!({"issuer": b, "authorization_endpoint": format!("{b}/authorize"), "token_endpoint": format!("{b}/token")}),
        )
    }
    async fn authorize(Query(q): Query<HashMap<String, String>>) -> Response {
        let mut cb = url::Url::parse(&q["redirect_uri"]).unwrap();
        cb.query_pairs_mut()
            .append_pair("code", "c")
            .append_pair("state", &q["state"]);
        (StatusCode::FOUND, [(header::LOCATION, cb.to_string())]).into_response()
    }
    async fn token(
        State(s): State<S>,
        Form(_f): Form<HashMap<String, String>>,
    ) -> Json<serde_json::Value> {
        let t = s
            .dev
            .mint(&MintOptions {
                nonce: s.nonce.map(String::from),
                ..Default::default()
            })
            .unwrap();
        Json(json!({"id_token": t, "token_type": "Bearer"}))
    }
    let base = Arc::new(Mutex::new(String::new()));
    let app = Router::new()
        .route("/.well-known/openid-configuration", get(disc))
        .route("/authorize", get(authorize))
        .route("/token", post(token))
        .with_state(S {
            dev,
            nonce,
            base: base.clone(),
        });
    let url = support::serve(app).await;
    *base.lock().unwrap() = url.clone();
    url
}

#[tokio::test]
async fn browser_flow_checks_the_nonce() {
    let dev = support::start_issuer(5).await;
    for nonce in [Some("someone-elses-login"), None] {
        let base = nonce_issuer(dev.clone(), nonce).await;
        let (open, _) = browser();
        let e = browser_flow(&options(&base, open)).await.unwrap_err();
        assert!(
            matches!(&e, OidcError::Authorization(m) if m.contains("nonce")),
            "{nonce:?}: {e}"
        );
    }
}

#[tokio::test]
async fn discovery_checks_the_issuer() {
    let issuer = support::start_issuer(5).await;
    let d = discover(&format!("{}/", issuer.base_url)).await.unwrap();
    assert_eq!(d.issuer, issuer.base_url);
    assert_eq!(
        d.device_authorization_endpoint.as_deref(),
        Some(format!("{}/device/code", issuer.base_url).as_str())
    );
    // The document of one issuer path served as another's: refused.
    let app = Router::new().route(
        "/.well-known/openid-configuration",
        get(|| async { Json(json!({"issuer": "https://evil.test", "authorization_endpoint": "x", "token_endpoint": "y"})) }),
    );
    let base = support::serve(app).await;
    assert!(matches!(
        discover(&base).await,
        Err(OidcError::Discovery { .. })
    ));
    // No discovery document at all.
    let base = support::serve(Router::new()).await;
    assert!(matches!(
        discover(&base).await,
        Err(OidcError::Discovery { .. })
    ));
    let (open, _) = browser();
    assert!(matches!(
        browser_flow(&options(&base, open)).await,
        Err(OidcError::Discovery { .. })
    ));
}

/// A person at the issuer's verification page: opens the link, reads the
/// page, and approves (or denies) the code shown.
fn device_person(action: &'static str) -> Opener {
    Arc::new(move |link: String| {
        tokio::spawn(async move {
            let c = reqwest::Client::new();
            let u = url::Url::parse(&link).unwrap();
            let code = query(&u)["user_code"].clone();
            let page = c.get(u.clone()).send().await.unwrap().text().await.unwrap();
            assert!(
                page.contains("Development only") && page.contains(&code),
                "{page}"
            );
            let mut post_to = u.clone();
            post_to.set_query(None);
            let resp = c
                .post(post_to)
                .form(&[("user_code", code.as_str()), ("action", action)])
                .send()
                .await
                .unwrap();
            assert_eq!(resp.status(), 200);
        });
    })
}

#[tokio::test]
async fn device_flow_approved_at_the_verification_page() {
    let issuer = support::start_issuer(1).await;
    let t = device_flow(&options(&issuer.base_url, device_person("approve")))
        .await
        .unwrap();
    assert_eq!(t.claims().iss, issuer.base_url);
    assert_eq!(t.identity(), "dev@keyless.test");
    assert_eq!(t.claims().aud, vec!["sigstore"]);

    let t = device_flow(&options(
        &format!("{}/github", issuer.base_url),
        device_person("approve"),
    ))
    .await
    .unwrap();
    assert_eq!(t.claims().iss, format!("{}/github", issuer.base_url));
    assert_eq!(t.identity(), "repo:keyless-dev/widgets:ref:refs/heads/main");
}

#[tokio::test]
async fn device_flow_denied() {
    let issuer = support::start_issuer(1).await;
    let e = device_flow(&options(&issuer.base_url, device_person("deny")))
        .await
        .unwrap_err();
    assert!(
        matches!(&e, OidcError::Authorization(m) if m.contains("access_denied")),
        "{e}"
    );
}

/// A device-flow issuer that never gets approved, answering each poll with
/// `answer` (`authorization_pending` runs into the client's deadline).
async fn device_issuer(
    answer: &'static str,
    expires_in: u64,
) -> (String, Arc<Mutex<Vec<Instant>>>) {
    #[derive(Clone)]
    struct S {
        base: Arc<Mutex<String>>,
        polls: Arc<Mutex<Vec<Instant>>>,
        answer: &'static str,
        expires_in: u64,
    }
    async fn disc(State(s): State<S>) -> Json<serde_json::Value> {
        let b = s.base.lock().unwrap().clone();
        Json(json!({
            "issuer": b, "authorization_endpoint": format!("{b}/authorize"), "token_endpoint": format!("{b}/token"),
            "device_authorization_endpoint": format!("{b}/device/code"),
        }))
    }
    async fn code(State(s): State<S>) -> Json<serde_json::Value> {
        let b = s.base.lock().unwrap().clone();
        Json(
            json!({"device_code": "d", "user_code": "BCDF-GHJK", "verification_uri": format!("{b}/device"),
                    "expires_in": s.expires_in, "interval": 1}),
        )
    }
    async fn token(State(s): State<S>) -> Response {
        s.polls.lock().unwrap().push(Instant::now());
        (StatusCode::BAD_REQUEST, Json(json!({"error": s.answer}))).into_response()
    }
    let base = Arc::new(Mutex::new(String::new()));
    let polls = Arc::new(Mutex::new(Vec::new()));
    let app = Router::new()
        .route("/.well-known/openid-configuration", get(disc))
        .route("/device/code", post(code))
        .route("/token", post(token))
        .with_state(S {
            base: base.clone(),
            polls: polls.clone(),
            answer,
            expires_in,
        });
    let url = support::serve(app).await;
    *base.lock().unwrap() = url.clone();
    (url, polls)
}

#[tokio::test]
async fn device_flow_expired() {
    // The issuer says the code expired.
    let (base, _) = device_issuer("expired_token", 600).await;
    // No open_url: the link is printed and nobody opens it.
    assert!(matches!(
        device_flow(&InteractiveOptions::new(&base)).await,
        Err(OidcError::DeviceCodeExpired)
    ));

    // Nobody approves before expires_in runs out.
    let (base, polls) = device_issuer("authorization_pending", 2).await;
    let start = Instant::now();
    let mut o = InteractiveOptions::new(&base);
    o.force_device_flow = true;
    assert!(matches!(
        device_flow(&o).await,
        Err(OidcError::DeviceCodeExpired)
    ));
    assert!(start.elapsed() >= Duration::from_secs(2) && start.elapsed() < Duration::from_secs(10));
    assert!(!polls.lock().unwrap().is_empty());
}

#[tokio::test]
async fn device_flow_slows_down_when_told() {
    let (base, polls) = device_issuer("slow_down", 3).await;
    let o = InteractiveOptions::new(&base);
    assert!(matches!(
        device_flow(&o).await,
        Err(OidcError::DeviceCodeExpired)
    ));
    let polls = polls.lock().unwrap().clone();
    assert!(polls.len() >= 2, "{}", polls.len());
    // After one slow_down the 1 s interval becomes 6 s (RFC 8628 §3.5).
    assert!(
        polls[1] - polls[0] >= Duration::from_secs(6),
        "{:?}",
        polls[1] - polls[0]
    );
}

#[tokio::test]
async fn device_flow_needs_a_device_endpoint() {
    let dev = support::start_issuer(1).await;
    let base = nonce_issuer(dev, None).await; // its discovery has no device endpoint
    let e = device_flow(&InteractiveOptions::new(&base))
        .await
        .unwrap_err();
    assert!(
        matches!(&e, OidcError::Discovery { problem, .. } if problem.contains("device")),
        "{e}"
    );
}

/// Every error in `e`'s source chain, as one line.
fn chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut next = e.source();
    while let Some(s) = next {
        out.push_str(": ");
        out.push_str(&s.to_string());
        next = s.source();
    }
    out
}

/// An issuer's answers are read up to `MAX_ANSWER` bytes: a discovery
/// document and a device-authorization answer one byte longer are
/// refused, named as such, whether or not they say their length first.
#[tokio::test]
async fn oversized_answers_are_refused() {
    fn big() -> String {
        let pad = "x".repeat(keyless_oidc::MAX_ANSWER as usize);
        format!("{{\"pad\": \"{pad}\"}}")
    }
    fn streamed() -> axum::body::Body {
        let chunks = big()
            .into_bytes()
            .chunks(4096)
            .map(|c| Ok::<_, std::io::Error>(c.to_vec()))
            .collect::<Vec<_>>();
        axum::body::Body::from_stream(tokio_stream::iter(chunks))
    }
    for stream in [false, true] {
        let app = Router::new().route(
            "/.well-known/openid-configuration",
            get(move || async move {
                if stream {
                    streamed().into_response()
                } else {
                    big().into_response()
                }
            }),
        );
        let base = support::serve(app).await;
        let e = discover(&base).await.unwrap_err();
        assert!(matches!(e, OidcError::Discovery { .. }), "{e}");
        assert!(chain(&e).contains("larger than"), "{}", chain(&e));
    }

    // A device-authorization endpoint that answers too much: the flow
    // stops there.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let doc = json!({
        "issuer": base,
        "authorization_endpoint": format!("{base}/authorize"),
        "token_endpoint": format!("{base}/token"),
        "device_authorization_endpoint": format!("{base}/device"),
    });
    let app = Router::new()
        .route(
            "/.well-known/openid-configuration",
            get(move || async move { Json(doc) }),
        )
        .route("/device", post(|| async { big() }));
    tokio::spawn(async move { axum::serve(listener, app).await });
    let (open, _) = browser();
    let e = device_flow(&options(&base, open)).await.unwrap_err();
    assert!(
        matches!(
            e,
            OidcError::Answer {
                endpoint: "device authorization endpoint",
                ..
            }
        ),
        "{}",
        chain(&e)
    );
    assert!(chain(&e).contains("larger than"), "{}", chain(&e));
}
