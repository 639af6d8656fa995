//! The Bearer token flow (challenge → token endpoint → retry) against a small
//! in-process fake: distribution 2.8 only does token auth with an external
//! token server and JWTs chained to a configured CA, so the protocol is
//! checked here and Basic auth against the real registry.

use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::response::Response;
use axum::Router;
use base64::Engine as _;
use keyless_oci::{
    AuthError, ClientOptions, CredentialSource, Credentials, Digest, DockerConfig, Error,
    Reference, RegistryClient,
};

const MANIFEST: &[u8] = br#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2},"layers":[]}"#;

#[derive(Default)]
struct Seen {
    token_queries: Vec<String>,
    /// Bodies of POSTs to the token endpoint (OAuth2 refresh-token grants).
    token_forms: Vec<String>,
}

#[derive(Clone)]
struct Fake {
    port: u16,
    seen: Arc<Mutex<Seen>>,
}

async fn handle(State(fake): State<Fake>, request: Request) -> Response {
    let path = request.uri().path().to_owned();
    let query = request.uri().query().unwrap_or("").to_owned();
    let headers: HeaderMap = request.headers().clone();
    let auth = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let reply = |status: StatusCode, body: Vec<u8>| {
        Response::builder()
            .status(status)
            .body(Body::from(body))
            .unwrap_or_default()
    };
    if path == "/token" && request.method() == Method::POST {
        let body = axum::body::to_bytes(request.into_body(), 64 * 1024)
            .await
            .unwrap_or_default();
        let form = String::from_utf8_lossy(&body).into_owned();
        let good = form.split('&').any(|kv| kv == "grant_type=refresh_token")
            && form.split('&').any(|kv| kv == "refresh_token=good-refresh");
        fake.seen.lock().map(|mut s| s.token_forms.push(form)).ok();
        if !good {
            return reply(StatusCode::UNAUTHORIZED, b"{}".to_vec());
        }
        return reply(
            StatusCode::OK,
            br#"{"access_token":"good-token","expires_in":300}"#.to_vec(),
        );
    }
    if path == "/token" {
        fake.seen
            .lock()
            .map(|mut s| s.token_queries.push(query))
            .ok();
        let good = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode("alice:pw")
        );
        if auth != good {
            return reply(StatusCode::UNAUTHORIZED, b"{}".to_vec());
        }
        return reply(
            StatusCode::OK,
            br#"{"token":"good-token","expires_in":300}"#.to_vec(),
        );
    }
    if auth != "Bearer good-token" {
        let challenge = format!(
            "Bearer realm=\"http://127.0.0.1:{}/token\",service=\"fake-registry\",scope=\"repository:app:pull\"",
            fake.port
        );
        return Response::builder()
            .status(StatusCode::UNAUTHORIZED)
            .header(header::WWW_AUTHENTICATE, challenge)
            .body(Body::empty())
            .unwrap_or_default();
    }
    match (request.method().clone(), path.as_str()) {
        (_, "/v2/") => reply(StatusCode::OK, b"{}".to_vec()),
        (m, "/v2/app/manifests/v1") => Response::builder()
            .status(StatusCode::OK)
            .header(
                header::CONTENT_TYPE,
                "application/vnd.oci.image.manifest.v1+json",
            )
            .header("docker-content-digest", Digest::of(MANIFEST).to_string())
            .header(header::CONTENT_LENGTH, MANIFEST.len())
            .body(if m == Method::HEAD {
                Body::empty()
            } else {
                Body::from(MANIFEST)
            })
            .unwrap_or_default(),
        _ => reply(StatusCode::NOT_FOUND, b"{}".to_vec()),
    }
}

async fn start() -> anyhow::Result<Fake> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let port = listener.local_addr()?.port();
    let fake = Fake {
        port,
        seen: Arc::new(Mutex::new(Seen::default())),
    };
    let app = Router::new().fallback(handle).with_state(fake.clone());
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok(fake)
}

fn client(password: &str) -> RegistryClient {
    RegistryClient::new(
        ClientOptions::new()
            .danger_allow_insecure_registry(true)
            .credentials(CredentialSource::Static(Credentials::new(
                "alice", password,
            ))),
    )
    .expect("client")
}

#[tokio::test]
async fn bearer_challenge_fetches_a_scoped_token_once() -> anyhow::Result<()> {
    let fake = start().await?;
    let image = Reference::parse(&format!("127.0.0.1:{}/app:v1", fake.port))?;
    let client = client("pw");
    let resolved = client.resolve(&image).await?;
    assert_eq!(resolved.digest, Digest::of(MANIFEST));
    let fetched = client
        .fetch_manifest(image.repository(), "v1")
        .await?
        .expect("manifest");
    assert_eq!(fetched.bytes, MANIFEST);
    let queries = fake
        .seen
        .lock()
        .map(|s| s.token_queries.clone())
        .unwrap_or_default();
    assert_eq!(queries.len(), 1, "token cached per scope: {queries:?}");
    assert!(queries[0].contains("service=fake-registry"), "{queries:?}");
    assert!(
        queries[0].contains("scope=repository%3Aapp%3Apull"),
        "{queries:?}"
    );
    Ok(())
}

#[tokio::test]
async fn bearer_with_wrong_password_is_rejected_at_the_token_endpoint() -> anyhow::Result<()> {
    let fake = start().await?;
    let image = Reference::parse(&format!("127.0.0.1:{}/app:v1", fake.port))?;
    let err = client("wrong")
        .resolve(&image)
        .await
        .expect_err("must fail");
    assert!(
        matches!(err, Error::Auth(AuthError::Rejected { .. })),
        "{err}"
    );
    assert!(err.to_string().contains("/token"), "{err}");
    Ok(())
}

fn client_with(source: CredentialSource) -> RegistryClient {
    RegistryClient::new(
        ClientOptions::new()
            .danger_allow_insecure_registry(true)
            .credentials(source),
    )
    .expect("client")
}

#[tokio::test]
async fn identity_token_is_exchanged_with_the_refresh_token_grant() -> anyhow::Result<()> {
    let fake = start().await?;
    let image = Reference::parse(&format!("127.0.0.1:{}/app:v1", fake.port))?;
    let dir = tempfile::tempdir()?;
    let config = dir.path().join("config.json");
    let write = |token: &str| {
        std::fs::write(
            &config,
            format!(
                r#"{{"auths":{{"127.0.0.1:{}":{{"identitytoken":"{token}"}}}}}}"#,
                fake.port
            ),
        )
    };
    write("good-refresh")?;
    let client = client_with(CredentialSource::DockerConfig(DockerConfig::load(&config)?));
    assert_eq!(client.resolve(&image).await?.digest, Digest::of(MANIFEST));
    let forms = fake
        .seen
        .lock()
        .map(|s| s.token_forms.clone())
        .unwrap_or_default();
    assert_eq!(forms.len(), 1, "{forms:?}");
    for part in [
        "grant_type=refresh_token",
        "service=fake-registry",
        "scope=repository%3Aapp%3Apull",
        "client_id=keyless",
    ] {
        assert!(
            forms[0].split('&').any(|kv| kv == part),
            "{part} in {forms:?}"
        );
    }

    write("stale-refresh")?;
    let client = client_with(CredentialSource::DockerConfig(DockerConfig::load(&config)?));
    let err = client.resolve(&image).await.expect_err("stale token");
    assert!(
        matches!(err, Error::Auth(AuthError::Rejected { .. })),
        "{err}"
    );
    let text = err.to_string();
    assert!(
        text.contains(&format!("registry 127.0.0.1:{}", fake.port)),
        "{text}"
    );
    assert!(
        text.contains("config.json") && !text.contains("stale-refresh"),
        "{text}"
    );
    Ok(())
}

#[tokio::test]
async fn registry_token_is_sent_as_it_is() -> anyhow::Result<()> {
    let fake = start().await?;
    let image = Reference::parse(&format!("127.0.0.1:{}/app:v1", fake.port))?;
    let client = client_with(CredentialSource::Token("good-token".into()));
    assert_eq!(client.resolve(&image).await?.digest, Digest::of(MANIFEST));
    let seen = fake
        .seen
        .lock()
        .map(|s| s.token_queries.len() + s.token_forms.len())
        .unwrap_or(usize::MAX);
    assert_eq!(seen, 0, "no token exchange for a registry token");

    let err = client_with(CredentialSource::Token("bad-token".into()))
        .resolve(&image)
        .await
        .expect_err("bad token");
    let text = err.to_string();
    assert!(
        text.contains("the registry token given") && !text.contains("bad-token"),
        "{text}"
    );
    Ok(())
}
