//! Ambient providers that speak HTTP or gRPC, each constructed explicitly
//! (no process environment) and pointed at a loopback stand-in that mints
//! with the development issuer.

mod support;

use keyless_oidc::{AmbientProvider, OidcError, SIGSTORE_AUDIENCE};
use support::{StandIn, ACCESS_TOKEN, GHA_BEARER, SERVICE_ACCOUNT};

fn host(base: &str) -> String {
    base.strip_prefix("http://").unwrap().to_string()
}

#[tokio::test]
async fn github_actions_requests_with_bearer_and_audience() {
    let issuer = support::start_issuer(5).await;
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
    let issuer = support::start_issuer(5).await;
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
    let issuer = support::start_issuer(5).await;
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
    let issuer = support::start_issuer(5).await;
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

#[cfg(unix)]
mod spiffe {
    use super::*;
    use keyless_oidc::SpiffeError;
    use support::spiffe::{WorkloadApi, SPIFFE_ID};

    fn provider(endpoint: impl Into<String>) -> AmbientProvider {
        AmbientProvider::Spiffe {
            endpoint: endpoint.into(),
        }
    }

    #[tokio::test]
    async fn fetches_a_jwt_svid_for_the_audience() {
        let issuer = support::start_issuer(5).await;
        let api = WorkloadApi::start(issuer.clone()).await;
        let socket = api.socket.display().to_string();

        // The spec's URI form, its one-slash form, and cosign's bare path.
        for endpoint in [
            format!("unix://{socket}"),
            format!("unix:{socket}"),
            socket.clone(),
        ] {
            let p = provider(&endpoint);
            assert_eq!(p.name(), "spiffe");
            let t = p.fetch(SIGSTORE_AUDIENCE).await.unwrap();
            assert_eq!(
                t.raw(),
                api.issued().last().unwrap(),
                "exactly the SVID the agent returned ({endpoint})"
            );
            assert_eq!(t.claims().iss, issuer.base_url);
            assert_eq!(t.identity(), SPIFFE_ID);
            assert_eq!(t.claims().aud, vec!["sigstore"]);
        }
        let seen = api.seen();
        assert_eq!(seen.len(), 3);
        for call in &seen {
            assert_eq!(call.path, "/SpiffeWorkloadAPI/FetchJWTSVID");
            assert_eq!(call.security_header.as_deref(), Some("true"));
            assert_eq!(call.audience, vec!["sigstore"]);
        }

        // The audience is the caller's, as for the other providers.
        let t = provider(&socket)
            .fetch("https://fulcio.test")
            .await
            .unwrap();
        assert_eq!(t.claims().aud, vec!["https://fulcio.test"]);
    }

    #[tokio::test]
    async fn stand_in_refuses_calls_without_the_security_header() {
        // The stand-in must hold the client to the header, as SPIRE does;
        // a raw tonic client without it gets InvalidArgument.
        let issuer = support::start_issuer(5).await;
        let api = WorkloadApi::start(issuer).await;
        let socket = api.socket.clone();
        let channel = tonic::transport::Endpoint::from_static("http://localhost")
            .connect_with_connector(tower::service_fn(move |_: http::Uri| {
                let socket = socket.clone();
                async move {
                    tokio::net::UnixStream::connect(socket)
                        .await
                        .map(hyper_util::rt::TokioIo::new)
                }
            }))
            .await
            .unwrap();
        let mut grpc = tonic::client::Grpc::new(channel);
        grpc.ready().await.unwrap();
        let req = tonic::Request::new(support::spiffe::JwtSvidRequest {
            audience: vec!["sigstore".into()],
            spiffe_id: String::new(),
        });
        let status = grpc
            .unary::<_, support::spiffe::JwtSvidResponse, _>(
                req,
                http::uri::PathAndQuery::from_static("/SpiffeWorkloadAPI/FetchJWTSVID"),
                tonic_prost::ProstCodec::default(),
            )
            .await
            .unwrap_err();
        assert_eq!(status.code(), tonic::Code::InvalidArgument);
        assert_eq!(status.message(), "security header missing from request");
        assert_eq!(api.seen()[0].security_header, None);
    }

    #[tokio::test]
    async fn agent_errors_name_the_socket() {
        let issuer = support::start_issuer(5).await;
        let api = WorkloadApi::start(issuer).await;
        let socket = api.socket.display().to_string();

        // No registration entry matches: the agent's gRPC status comes through.
        let e = provider(&socket).fetch("denied").await.unwrap_err();
        assert!(
            matches!(&e, OidcError::Spiffe { socket: s, problem: SpiffeError::Status { code, message } }
                if *s == socket && code == "PermissionDenied" && message == "no identity issued"),
            "{e}"
        );
        assert!(e.to_string().contains(&socket), "{e}");

        // An answer with no SVID in it.
        let e = provider(&socket).fetch("none").await.unwrap_err();
        assert!(
            matches!(&e, OidcError::Spiffe { problem: SpiffeError::NoSvid { audience }, .. } if audience == "none"),
            "{e}"
        );

        // No agent: nothing at the path.
        let missing = support::temp_dir("spiffe-none").join("agent.sock");
        let missing = missing.display().to_string();
        let e = provider(format!("unix://{missing}"))
            .fetch(SIGSTORE_AUDIENCE)
            .await
            .unwrap_err();
        assert!(
            matches!(&e, OidcError::Spiffe { socket, problem: SpiffeError::NoSocket } if *socket == missing),
            "{e}"
        );
        assert!(e.to_string().contains(&missing), "{e}");

        // A stale socket file whose agent is gone: connection refused.
        let stale = support::temp_dir("spiffe-stale").join("agent.sock");
        drop(std::os::unix::net::UnixListener::bind(&stale).unwrap());
        let e = provider(stale.display().to_string())
            .fetch(SIGSTORE_AUDIENCE)
            .await
            .unwrap_err();
        assert!(
            matches!(&e, OidcError::Spiffe { problem: SpiffeError::Connect(io), .. }
                if io.kind() == std::io::ErrorKind::ConnectionRefused),
            "{e}"
        );

        // An address this client cannot use.
        let e = provider("tcp://127.0.0.1:8081")
            .fetch(SIGSTORE_AUDIENCE)
            .await
            .unwrap_err();
        assert!(
            matches!(&e, OidcError::Spiffe { socket, problem: SpiffeError::BadAddress(_) } if socket == "tcp://127.0.0.1:8081"),
            "{e}"
        );
    }

    #[tokio::test]
    async fn a_silent_agent_times_out() {
        // Something listens but never answers: the fetch gives up after
        // its timeout instead of hanging the signer.
        let dir = support::temp_dir("spiffe-silent");
        let socket = dir.join("agent.sock");
        let _listener = tokio::net::UnixListener::bind(&socket).unwrap();
        let started = std::time::Instant::now();
        let e = provider(socket.display().to_string())
            .fetch(SIGSTORE_AUDIENCE)
            .await
            .unwrap_err();
        assert!(
            matches!(
                &e,
                OidcError::Spiffe {
                    problem: SpiffeError::Timeout(_),
                    ..
                }
            ),
            "{e}"
        );
        let waited = started.elapsed();
        assert!(
            waited >= std::time::Duration::from_secs(4)
                && waited < std::time::Duration::from_secs(15),
            "{waited:?}"
        );
    }
}
