//! Docker config lookup and credential helpers, with real helper processes
//! (small shell scripts) and no network.

use std::path::Path;
use std::time::Duration;

use base64::Engine as _;

use super::*;
use crate::auth::{AuthError, Credentials};

fn cfg(json: &str) -> DockerConfig {
    DockerConfig::from_json(Path::new("/test/config.json"), json.as_bytes()).unwrap()
}

async fn lookup(c: &DockerConfig, registry: &str) -> Option<Credential> {
    c.credentials_for(registry)
        .await
        .unwrap()
        .map(|f| f.credential)
}

fn basic(u: &str, p: &str) -> Option<Credential> {
    Some(Credential::Basic(Credentials::new(u, p)))
}

#[tokio::test]
async fn auths_entries_and_key_forms() {
    let b64 = base64::engine::general_purpose::STANDARD.encode("alice:s3:cret");
    let c = cfg(&format!(
        r#"{{"auths":{{"https://ghcr.io/v2/":{{"auth":"{b64}"}},"https://index.docker.io/v1/":{{"auth":"{b64}"}},"127.0.0.1:5000":{{"username":"u","password":"p"}},"id.io":{{"identitytoken":"refresh-me"}}}}}}"#
    ));
    assert_eq!(lookup(&c, "ghcr.io").await, basic("alice", "s3:cret"));
    assert_eq!(
        lookup(&c, "index.docker.io").await,
        basic("alice", "s3:cret")
    );
    assert_eq!(lookup(&c, "docker.io").await, basic("alice", "s3:cret"));
    assert_eq!(lookup(&c, "127.0.0.1:5000").await, basic("u", "p"));
    assert_eq!(
        lookup(&c, "id.io").await,
        Some(Credential::IdentityToken("refresh-me".into()))
    );
    assert_eq!(lookup(&c, "quay.io").await, None);
    assert_eq!(lookup(&c, "127.0.0.1:5001").await, None, "the port matters");
    let found = c.credentials_for("ghcr.io").await.unwrap().unwrap();
    assert!(
        found.origin.contains("/test/config.json"),
        "{}",
        found.origin
    );
    let shown = format!("{found:?} {c:?} {:?}", lookup(&c, "id.io").await);
    assert!(!shown.contains("s3:cret") && !shown.contains("refresh-me") && !shown.contains(&b64));
}

#[tokio::test]
async fn bad_entries_and_files() {
    let c = cfg(r#"{"auths":{"a.io":{"auth":"%%%"},"b.io":{"auth":"bm9jb2xvbg=="}}}"#);
    for host in ["a.io", "b.io"] {
        assert!(matches!(
            c.credentials_for(host).await,
            Err(AuthError::BadAuthField { .. })
        ));
    }
    assert!(matches!(
        DockerConfig::from_json(Path::new("x"), b"{"),
        Err(AuthError::ParseConfig { .. })
    ));
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("config.json");
    let padding = " ".repeat(usize::try_from(MAX_CONFIG_BYTES).unwrap());
    std::fs::write(&big, format!("{{{padding}}}")).unwrap();
    assert!(matches!(
        DockerConfig::load(&big),
        Err(AuthError::ConfigTooLarge { .. })
    ));
}

#[tokio::test]
async fn discover_uses_docker_config_then_home() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("config.json"),
        r#"{"auths":{"h.io":{"username":"a","password":"b"}}}"#,
    )
    .unwrap();
    let d = dir.path().as_os_str().to_owned();
    let c = DockerConfig::discover(|k| (k == "DOCKER_CONFIG").then(|| d.clone())).unwrap();
    assert_eq!(lookup(&c, "h.io").await, basic("a", "b"));
    let home = tempfile::tempdir().unwrap();
    std::fs::create_dir(home.path().join(".docker")).unwrap();
    std::fs::copy(
        dir.path().join("config.json"),
        home.path().join(".docker/config.json"),
    )
    .unwrap();
    let h = home.path().as_os_str().to_owned();
    let c = DockerConfig::discover(|k| (k == "HOME").then(|| h.clone())).unwrap();
    assert_eq!(lookup(&c, "h.io").await, basic("a", "b"));
    let c = DockerConfig::discover(|_| None).unwrap();
    assert_eq!(lookup(&c, "h.io").await, None);
}

fn script(dir: &Path, name: &str, body: &str) {
    use std::os::unix::fs::PermissionsExt as _;
    let path = dir.join(format!("docker-credential-{name}"));
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o700)).unwrap();
}

/// Every helper case in one test: the scripts are all written before any is
/// run, so no script is still open for writing when a process starts.
#[tokio::test]
async fn credential_helpers() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // Answers only for the server URL it expects, and checks the verb.
    script(
        d,
        "good",
        r#"[ "$1" = get ] || exit 3
url=$(cat)
case "$url" in
  reg.example:5000) echo '{"ServerURL":"reg.example:5000","Username":"bob","Secret":"hunter2"}' ;;
  https://index.docker.io/v1/) echo '{"ServerURL":"x","Username":"<token>","Secret":"refresh"}' ;;
  *) echo "credentials not found in native keychain"; exit 1 ;;
esac"#,
    );
    script(d, "slow", "sleep 5");
    script(d, "chatty", "yes 0123456789abcdef");
    script(d, "broken", "echo 'keychain locked'; exit 1");
    script(
        d,
        "leaky",
        r#"echo '{"Username":"u","Secret":"do-not-echo"}'; exit 1"#,
    );
    script(d, "garbage", "echo not json");
    let c = |json: &str| cfg(json).helper_dir(d);

    // credHelpers by registry, with a key in URL form.
    let conf = c(r#"{"credHelpers":{"https://reg.example:5000":"good","docker.io":"good"}}"#);
    let found = conf
        .credentials_for("reg.example:5000")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(Some(found.credential), basic("bob", "hunter2"));
    assert!(
        found.origin.contains("docker-credential-good"),
        "{}",
        found.origin
    );
    // Docker Hub: the helper is asked for Docker's Hub URL; `<token>` means
    // an identity token.
    assert_eq!(
        lookup(&conf, "index.docker.io").await,
        Some(Credential::IdentityToken("refresh".into()))
    );
    // No credHelpers entry and no store: anonymous.
    assert_eq!(lookup(&conf, "other.example").await, None);

    // credsStore for every registry; "not found" is anonymous, and an auths
    // entry is not consulted (Docker keeps only the username there).
    let conf = c(r#"{"credsStore":"good","auths":{"other.example":{"auth":"dTpw"}}}"#);
    assert_eq!(
        lookup(&conf, "reg.example:5000").await,
        basic("bob", "hunter2")
    );
    assert_eq!(lookup(&conf, "other.example").await, None);
    // credHelpers wins over credsStore.
    let conf = c(r#"{"credsStore":"broken","credHelpers":{"reg.example:5000":"good"}}"#);
    assert_eq!(
        lookup(&conf, "reg.example:5000").await,
        basic("bob", "hunter2")
    );

    let err = |helper: &str, timeout: Duration| {
        let conf = c(&format!(r#"{{"credsStore":"{helper}"}}"#)).helper_timeout(timeout);
        async move {
            let e = conf.credentials_for("reg.example:5000").await.unwrap_err();
            assert!(matches!(e, AuthError::Helper { .. }), "{e}");
            let text = e.to_string();
            assert!(text.contains("reg.example:5000"), "{text}");
            text
        }
    };
    let started = std::time::Instant::now();
    let text = err("slow", Duration::from_millis(300)).await;
    assert!(text.contains("did not answer within"), "{text}");
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "killed at the timeout"
    );
    let text = err("chatty", HELPER_TIMEOUT).await;
    assert!(text.contains("over 65536 bytes"), "{text}");
    let text = err("broken", HELPER_TIMEOUT).await;
    assert!(text.contains("keychain locked"), "{text}");
    let text = err("leaky", HELPER_TIMEOUT).await;
    assert!(!text.contains("do-not-echo"), "{text}");
    let text = err("garbage", HELPER_TIMEOUT).await;
    assert!(text.contains("not the JSON object"), "{text}");
    let text = err("missing", HELPER_TIMEOUT).await;
    assert!(
        text.contains("docker-credential-missing is not on PATH"),
        "{text}"
    );
    let text = err("../good", HELPER_TIMEOUT).await;
    assert!(text.contains("not a plain program-name"), "{text}");
}
