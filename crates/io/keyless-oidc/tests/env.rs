//! Everything that reads the process environment: `detect_ambient`, the
//! CI agents found on `PATH`, and `get_token`'s order of sources. Every
//! test here holds [`ENV`] while it changes variables and restores them
//! before letting go, so the tests of this binary never see each other's
//! environment.

mod support;

use std::ffi::OsString;
use std::path::Path;

use keyless_oidc::{
    detect_ambient, get_token, AmbientProvider, InteractiveOptions, OidcError, TokenOptions,
    TokenSource, SIGSTORE_AUDIENCE,
};
use support::{StandIn, GHA_BEARER};

static ENV: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Every variable the crate reads.
const VARS: &[&str] = &[
    "SIGSTORE_ID_TOKEN",
    "ACTIONS_ID_TOKEN_REQUEST_URL",
    "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
    "BUILDKITE",
    "CIRCLECI",
    "SPIFFE_ENDPOINT_SOCKET",
    "GOOGLE_SERVICE_ACCOUNT_NAME",
    "GCE_METADATA_HOST",
    "GOOGLE_IAMCREDENTIALS_ENDPOINT",
    "PATH",
];

/// Clears the crate's variables (a CI running these tests sets some of
/// them) and puts the saved values back on drop.
struct EnvGuard {
    saved: Vec<(&'static str, Option<OsString>)>,
}

impl EnvGuard {
    fn clean() -> Self {
        let saved = VARS.iter().map(|k| (*k, std::env::var_os(k))).collect();
        for k in VARS.iter().filter(|k| **k != "PATH") {
            std::env::remove_var(k);
        }
        Self { saved }
    }

    fn set(&self, k: &str, v: impl AsRef<std::ffi::OsStr>) -> &Self {
        assert!(VARS.contains(&k), "{k} would not be restored");
        std::env::set_var(k, v);
        self
    }

    fn unset(&self, k: &str) -> &Self {
        std::env::remove_var(k);
        self
    }
}

impl Drop for EnvGuard {
    fn drop(&mut self) {
        for (k, v) in &self.saved {
            match v {
                Some(v) => std::env::set_var(k, v),
                None => std::env::remove_var(k),
            }
        }
    }
}

#[tokio::test]
async fn detect_ambient_reads_each_providers_variables() {
    let _lock = ENV.lock().await;
    let env = EnvGuard::clean();
    assert_eq!(detect_ambient(), None);

    env.set(
        "ACTIONS_ID_TOKEN_REQUEST_URL",
        "https://gha.test/idtoken?api-version=2.0",
    );
    assert_eq!(detect_ambient(), None, "the URL alone is not enough");
    env.set("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "");
    assert_eq!(detect_ambient(), None, "an empty request token is absent");
    env.set("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "bearer-value");
    assert_eq!(
        detect_ambient(),
        Some(AmbientProvider::GitHubActions {
            url: "https://gha.test/idtoken?api-version=2.0".into(),
            bearer: "bearer-value".into()
        })
    );
    // GitHub Actions comes first, even where other variables are set too.
    env.set("BUILDKITE", "true")
        .set("CIRCLECI", "true")
        .set("GCE_METADATA_HOST", "169.254.169.254");
    assert_eq!(detect_ambient().unwrap().name(), "github-actions");
    env.unset("ACTIONS_ID_TOKEN_REQUEST_URL");
    assert_eq!(detect_ambient(), Some(AmbientProvider::Buildkite));
    env.set("BUILDKITE", "false");
    assert_eq!(detect_ambient(), Some(AmbientProvider::CircleCi));
    // SPIFFE after the CI systems, before the Google providers.
    env.set(
        "SPIFFE_ENDPOINT_SOCKET",
        "unix:///run/spire/sockets/agent.sock",
    );
    assert_eq!(detect_ambient().unwrap().name(), "circleci");
    env.unset("CIRCLECI");
    assert_eq!(
        detect_ambient(),
        Some(AmbientProvider::Spiffe {
            endpoint: "unix:///run/spire/sockets/agent.sock".into()
        })
    );
    env.set(
        "GOOGLE_SERVICE_ACCOUNT_NAME",
        "sa@p.iam.gserviceaccount.com",
    );
    assert_eq!(detect_ambient().unwrap().name(), "spiffe");
    env.unset("GOOGLE_SERVICE_ACCOUNT_NAME");
    // Set but empty is unset (no default socket is probed).
    env.set("SPIFFE_ENDPOINT_SOCKET", "");
    assert_eq!(
        detect_ambient(),
        Some(AmbientProvider::GceMetadata {
            metadata_host: "169.254.169.254".into()
        })
    );

    env.set(
        "GOOGLE_SERVICE_ACCOUNT_NAME",
        "sa@p.iam.gserviceaccount.com",
    );
    assert_eq!(
        detect_ambient(),
        Some(AmbientProvider::GoogleImpersonation {
            service_account: "sa@p.iam.gserviceaccount.com".into(),
            metadata_host: "169.254.169.254".into(),
            iam_endpoint: "https://iamcredentials.googleapis.com".into(),
        })
    );
    env.unset("GCE_METADATA_HOST")
        .set("GOOGLE_IAMCREDENTIALS_ENDPOINT", "http://127.0.0.1:9");
    assert_eq!(
        detect_ambient(),
        Some(AmbientProvider::GoogleImpersonation {
            service_account: "sa@p.iam.gserviceaccount.com".into(),
            metadata_host: "metadata.google.internal".into(),
            iam_endpoint: "http://127.0.0.1:9".into(),
        })
    );
    drop(env);
}

#[cfg(unix)]
fn fake_agent(dir: &Path, program: &str, body: &str) {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join(program);
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// PATH with `dir` first, so the fake agent wins over any real one.
fn path_with(dir: &Path) -> OsString {
    let mut parts = vec![dir.to_path_buf()];
    parts.extend(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    ));
    std::env::join_paths(parts).unwrap()
}

#[cfg(unix)]
#[tokio::test]
async fn buildkite_and_circleci_run_their_agents() {
    let issuer = support::start_issuer(5).await;
    let dir = support::temp_dir("agents");
    let token = support::mint(&issuer, "buildkite", SIGSTORE_AUDIENCE);
    std::fs::write(dir.join("token"), format!("{token}\n")).unwrap();
    let (args, tok) = (dir.join("args"), dir.join("token"));
    let record = format!(
        "printf '%s\\n' \"$@\" > '{}'\ncat '{}'",
        args.display(),
        tok.display()
    );
    fake_agent(&dir, "buildkite-agent", &record);
    fake_agent(&dir, "circleci", &record);

    let _lock = ENV.lock().await;
    let env = EnvGuard::clean();
    env.set("PATH", path_with(&dir));

    let t = AmbientProvider::Buildkite
        .fetch(SIGSTORE_AUDIENCE)
        .await
        .unwrap();
    assert_eq!(t.raw(), token, "stdout, trimmed, is the token");
    assert_eq!(t.claims().iss, format!("{}/buildkite", issuer.base_url));
    assert_eq!(
        std::fs::read_to_string(&args).unwrap(),
        "oidc\nrequest-token\n--audience\nsigstore\n"
    );

    let t = AmbientProvider::CircleCi
        .fetch(SIGSTORE_AUDIENCE)
        .await
        .unwrap();
    assert_eq!(t.raw(), token);
    assert_eq!(
        std::fs::read_to_string(&args).unwrap(),
        "run\noidc\nget\n--claims\n{\"aud\":\"sigstore\"}\n"
    );
    // The claims argument is JSON, whatever the audience.
    let _ = AmbientProvider::CircleCi.fetch("a\"b").await.unwrap();
    let claims_arg = std::fs::read_to_string(&args).unwrap();
    let v: serde_json::Value = serde_json::from_str(claims_arg.lines().nth(4).unwrap()).unwrap();
    assert_eq!(v["aud"], "a\"b");

    // get_token uses the detected agent.
    env.set("BUILDKITE", "true");
    let (t, source) = get_token(&TokenOptions::default()).await.unwrap();
    assert_eq!(source, TokenSource::Ambient("buildkite-agent".into()));
    assert_eq!(t.raw(), token);
    env.unset("BUILDKITE");

    // An agent that fails, or prints something that is not a token.
    fake_agent(&dir, "buildkite-agent", "echo 'not authorized' >&2\nexit 3");
    let e = AmbientProvider::Buildkite
        .fetch(SIGSTORE_AUDIENCE)
        .await
        .unwrap_err();
    assert!(
        matches!(&e, OidcError::Ambient { provider: "buildkite-agent", problem, .. } if problem.contains("exit")),
        "{e}"
    );
    fake_agent(&dir, "circleci", "echo hello");
    assert!(matches!(
        AmbientProvider::CircleCi.fetch(SIGSTORE_AUDIENCE).await,
        Err(OidcError::Malformed(_))
    ));

    // No agent on PATH at all.
    let empty = support::temp_dir("empty-path");
    env.set("PATH", &empty);
    let e = AmbientProvider::Buildkite
        .fetch(SIGSTORE_AUDIENCE)
        .await
        .unwrap_err();
    assert!(
        matches!(&e, OidcError::Ambient { problem, .. } if problem.contains("cannot run buildkite-agent")),
        "{e}"
    );
    drop(env);
}

#[tokio::test]
async fn get_token_prefers_flag_then_environment_then_ambient() {
    let issuer = support::start_issuer(5).await;
    let (_stand, base) = StandIn::start(issuer.clone()).await;
    let flag = issuer
        .mint(&keyless_oidc_dev::MintOptions {
            subject: Some("flag@keyless.test".into()),
            ..Default::default()
        })
        .unwrap();
    let from_env = issuer
        .mint(&keyless_oidc_dev::MintOptions {
            subject: Some("env@keyless.test".into()),
            ..Default::default()
        })
        .unwrap();
    let file = support::temp_dir("flag").join("token");
    std::fs::write(&file, format!("{flag}\n")).unwrap();

    let _lock = ENV.lock().await;
    let env = EnvGuard::clean();
    env.set("SIGSTORE_ID_TOKEN", &from_env)
        .set(
            "ACTIONS_ID_TOKEN_REQUEST_URL",
            format!("{base}/gha/idtoken?api-version=2.0"),
        )
        .set("ACTIONS_ID_TOKEN_REQUEST_TOKEN", GHA_BEARER);

    // 1. The flag, as a token or as @file, beats everything.
    let (t, s) = get_token(&TokenOptions {
        explicit: Some(flag.clone()),
        ..Default::default()
    })
    .await
    .unwrap();
    assert_eq!((t.identity(), s), ("flag@keyless.test", TokenSource::Flag));
    let explicit = format!("@{}", file.display());
    let (t, s) = get_token(&TokenOptions {
        explicit: Some(explicit),
        ..Default::default()
    })
    .await
    .unwrap();
    assert_eq!((t.identity(), s), ("flag@keyless.test", TokenSource::Flag));
    let missing = format!("@{}", file.with_file_name("missing").display());
    assert!(matches!(
        get_token(&TokenOptions {
            explicit: Some(missing),
            ..Default::default()
        })
        .await,
        Err(OidcError::TokenFile { .. })
    ));
    // A bad flag is an error, not a reason to fall back to other sources.
    assert!(matches!(
        get_token(&TokenOptions {
            explicit: Some("not-a-jwt".into()),
            ..Default::default()
        })
        .await,
        Err(OidcError::Malformed(_))
    ));

    // 2. SIGSTORE_ID_TOKEN beats the ambient provider.
    let (t, s) = get_token(&TokenOptions::default()).await.unwrap();
    assert_eq!(
        (t.identity(), s),
        ("env@keyless.test", TokenSource::Environment)
    );
    // Blank counts as unset.
    env.set("SIGSTORE_ID_TOKEN", "  ");

    // 3. The ambient provider, with the Sigstore audience.
    let (t, s) = get_token(&TokenOptions::default()).await.unwrap();
    assert_eq!(s, TokenSource::Ambient("github-actions".into()));
    assert_eq!(t.claims().iss, format!("{}/github", issuer.base_url));
    assert_eq!(t.claims().aud, vec![SIGSTORE_AUDIENCE]);
    drop(env);
}

#[cfg(unix)]
#[tokio::test]
async fn get_token_uses_spiffe_after_sigstore_id_token() {
    let issuer = support::start_issuer(5).await;
    let api = support::spiffe::WorkloadApi::start(issuer.clone()).await;
    let from_env = issuer
        .mint(&keyless_oidc_dev::MintOptions {
            subject: Some("env@keyless.test".into()),
            ..Default::default()
        })
        .unwrap();

    let _lock = ENV.lock().await;
    let env = EnvGuard::clean();
    env.set(
        "SPIFFE_ENDPOINT_SOCKET",
        format!("unix://{}", api.socket.display()),
    )
    .set("SIGSTORE_ID_TOKEN", &from_env);

    // SIGSTORE_ID_TOKEN wins; the agent is not even asked.
    let (t, s) = get_token(&TokenOptions::default()).await.unwrap();
    assert_eq!((t.raw(), s), (from_env.as_str(), TokenSource::Environment));
    assert!(api.seen().is_empty());

    // Without it, the Workload API's SVID, for the Sigstore audience.
    env.unset("SIGSTORE_ID_TOKEN");
    let (t, s) = get_token(&TokenOptions::default()).await.unwrap();
    assert_eq!(s, TokenSource::Ambient("spiffe".into()));
    assert_eq!(t.raw(), api.issued()[0]);
    assert_eq!(t.identity(), support::spiffe::SPIFFE_ID);
    assert_eq!(api.seen()[0].audience, vec![SIGSTORE_AUDIENCE]);

    // A configured but absent agent is an error, not a silent fall-through
    // to an interactive sign-in as someone else.
    let gone = support::temp_dir("spiffe-gone").join("agent.sock");
    env.set("SPIFFE_ENDPOINT_SOCKET", &gone);
    let e = get_token(&TokenOptions::default()).await.unwrap_err();
    assert!(
        matches!(
            &e,
            OidcError::Spiffe {
                problem: keyless_oidc::SpiffeError::NoSocket,
                ..
            }
        ),
        "{e}"
    );
    drop(env);
}

#[tokio::test]
async fn get_token_without_sources() {
    let issuer = support::start_issuer(1).await;
    let _lock = ENV.lock().await;
    let env = EnvGuard::clean();
    // Nothing configured, nothing interactive.
    assert!(matches!(
        get_token(&TokenOptions::default()).await,
        Err(OidcError::NoToken)
    ));
    // Interactive options, but prompting is not allowed.
    let interactive = InteractiveOptions::new(&issuer.base_url);
    let opts = TokenOptions {
        interactive: Some(interactive.clone()),
        non_interactive: true,
        ..Default::default()
    };
    assert!(matches!(get_token(&opts).await, Err(OidcError::NoToken)));

    // 4. Interactive last: the device flow, approved by a person.
    let mut interactive = interactive;
    interactive.force_device_flow = true;
    interactive.open_url = Some(std::sync::Arc::new(|link: String| {
        tokio::spawn(async move {
            let u = url::Url::parse(&link).unwrap();
            let code: String = u
                .query_pairs()
                .find(|(k, _)| k == "user_code")
                .unwrap()
                .1
                .into_owned();
            let mut post_to = u.clone();
            post_to.set_query(None);
            let r = reqwest::Client::new()
                .post(post_to)
                .form(&[("user_code", code.as_str())])
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200);
        });
    }));
    let (t, s) = get_token(&TokenOptions {
        interactive: Some(interactive),
        ..Default::default()
    })
    .await
    .unwrap();
    assert_eq!(s, TokenSource::DeviceFlow);
    assert_eq!(t.identity(), "dev@keyless.test");
    drop(env);
}
