//! Ambient providers that speak HTTP, each constructed explicitly (no
//! process environment) and pointed at a loopback stand-in that mints with
//! the development issuer.

mod common;

use common::{StandIn, ACCESS_TOKEN, GHA_BEARER, SERVICE_ACCOUNT};
use keyless_oidc::{AmbientProvider, OidcError, SIGSTORE_AUDIENCE};

fn host(base: &str) -> String {
    base.strip_prefix("http://").unwrap().to_string()
}

#[tokio::test]
async fn github_actions_requests_with_bearer_and_audience() {
    let issuer = common::start_issuer(5).await;
    let (stand, base) = StandIn::start(issuer.clone()).await;
    // The real URL already carries a query (api-version); it must survive.
    let p = AmbientProvider::GitHubActions {
        url: format!("{base}/gha/idtoken?api-version=2.0"),
        bearer: GHA_BEARER.into(),
    };
    assert_eq!(p.name(), "github-actions");
    let t = p.fetch(SIGSTORE_AUDIENCE).await.unwrap();
    assert_eq!(t.claims().iss, format!("{}/github", issuer.base_url));
    assert_eq!(t.claims().aud, vec!["sigstore"]);
    assert_eq!(t.identity(), "repo:keyless-dev/widgets:ref:refs/heads/main");
    let seen = stand.seen();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].query["audience"], "sigstore");

    // A wrong request token is refused, and the error names the provider
    // without echoing the bearer.
    let p = AmbientProvider::GitHubActions {
        url: format!("{base}/gha/idtoken?api-version=2.0"),
        bearer: "wrong".into(),
    };
    let e = p.fetch(SIGSTORE_AUDIENCE).await.unwrap_err();
    assert!(
        matches!(
            e,
            OidcError::Ambient {
                provider: "github-actions",
                ..
            }
        ),
        "{e}"
    );
    assert!(
        e.to_string().contains("401") && !e.to_string().contains("wrong"),
        "{e}"
    );

    // A malformed URL is a clear error, not a panic.
    let p = AmbientProvider::GitHubActions {
        url: "not a url".into(),
        bearer: GHA_BEARER.into(),
    };
    assert!(matches!(
        p.fetch(SIGSTORE_AUDIENCE).await,
        Err(OidcError::Ambient { .. })
    ));
}

#[tokio::test]
async fn gce_metadata_identity_with_metadata_flavor() {
    let issuer = common::start_issuer(5).await;
    let (stand, base) = StandIn::start(issuer.clone()).await;
    let p = AmbientProvider::GceMetadata {
        metadata_host: host(&base),
    };
    assert_eq!(p.name(), "gce-metadata");
    let t = p.fetch(SIGSTORE_AUDIENCE).await.unwrap();
    assert_eq!(t.claims().iss, issuer.base_url);
    assert_eq!(t.identity(), SERVICE_ACCOUNT);
    assert_eq!(t.claims().aud, vec!["sigstore"]);
    let seen = stand.seen();
    assert_eq!(seen[0].headers["metadata-flavor"], "Google");
    assert_eq!(seen[0].query["format"], "full");

    // The audience is a query value: characters with meaning in a query
    // must arrive intact, not split into further parameters.
    let odd = "https://example.test/a?b=c&d=e f";
    let t = p.fetch(odd).await.unwrap();
    assert_eq!(t.claims().aud, vec![odd]);
    assert_eq!(stand.seen().last().unwrap().query["audience"], odd);

    // The stand-in, like the real server, refuses requests without the header.
    let resp = reqwest::get(format!(
        "{base}/computeMetadata/v1/instance/service-accounts/default/identity?audience=x"
    ))
    .await
    .unwrap();
    assert_eq!(resp.status(), 403);
}

#[tokio::test]
async fn gce_metadata_errors() {
    let issuer = common::start_issuer(5).await;
    let (_stand, base) = StandIn::start(issuer).await;
    // Nothing listens here: an HTTP error, not a hang or panic.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let p = AmbientProvider::GceMetadata {
        metadata_host: closed.to_string(),
    };
    assert!(matches!(
        p.fetch(SIGSTORE_AUDIENCE).await,
        Err(OidcError::Http(_))
    ));
    // A server that answers something that is not a JWT.
    let p = AmbientProvider::GceMetadata {
        metadata_host: format!("{}/nowhere", host(&base)),
    };
    let e = p.fetch(SIGSTORE_AUDIENCE).await.unwrap_err();
    assert!(
        matches!(
            e,
            OidcError::Ambient {
                provider: "gce-metadata",
                ..
            }
        ),
        "{e}"
    );
}

#[tokio::test]
async fn google_impersonation_access_token_then_generate_id_token() {
    let issuer = common::start_issuer(5).await;
    let (stand, base) = StandIn::start(issuer.clone()).await;
    let p = AmbientProvider::GoogleImpersonation {
        service_account: SERVICE_ACCOUNT.into(),
        metadata_host: host(&base),
        iam_endpoint: base.clone(),
    };
    assert_eq!(p.name(), "google-impersonation");
    let t = p.fetch(SIGSTORE_AUDIENCE).await.unwrap();
    assert_eq!(t.claims().iss, issuer.base_url);
    assert_eq!(t.identity(), SERVICE_ACCOUNT);
    assert_eq!(t.claims().aud, vec!["sigstore"]);

    let seen = stand.seen();
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert_eq!(
        seen[0].path,
        "/computeMetadata/v1/instance/service-accounts/default/token"
    );
    assert_eq!(seen[0].headers["metadata-flavor"], "Google");
    assert_eq!(seen[1].method, "POST");
    assert_eq!(
        seen[1].path,
        format!("/v1/projects/-/serviceAccounts/{SERVICE_ACCOUNT}:generateIdToken")
    );
    assert_eq!(
        seen[1].headers["authorization"]
            .to_str()
            .unwrap()
            .to_ascii_lowercase(),
        format!("bearer {ACCESS_TOKEN}").to_ascii_lowercase()
    );
    let body: serde_json::Value = serde_json::from_slice(&seen[1].body).unwrap();
    assert_eq!(
        body,
        serde_json::json!({"audience": "sigstore", "includeEmail": true})
    );

    // An IAM endpoint that refuses: the error says which step failed.
    let p = AmbientProvider::GoogleImpersonation {
        service_account: SERVICE_ACCOUNT.into(),
        metadata_host: host(&base),
        iam_endpoint: format!("{base}/elsewhere"),
    };
    let e = p.fetch(SIGSTORE_AUDIENCE).await.unwrap_err();
    assert!(
        matches!(
            e,
            OidcError::Ambient {
                provider: "google-impersonation",
                ..
            }
        ),
        "{e}"
    );
}
