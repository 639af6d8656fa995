//! A registry that needs a login: Debian's docker-registry with htpasswd
//! (bcrypt) Basic auth on loopback, and `keyless sign` / `verify` reaching
//! it with credentials from a Docker `config.json` (`auths`), from a
//! credential helper script on `PATH` (`credHelpers`, then `credsStore`),
//! and from `--registry-username`/`--registry-password`. Wrong credentials
//! are an `Error:` naming the registry, with a `hint:`, and no output ever
//! contains a password or token.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use base64::Engine as _;
use support::*;

const USER: &str = "ci-bot";
const PASSWORD: &str = "Corr3ct-Horse-Battery";
const WRONG: &str = "Wr0ng-Staple-Guess";
const TOKEN: &str = "not-a-real-Registry-Token";

fn htpasswd() -> String {
    let hash = bcrypt::hash_with_result(PASSWORD, 4)
        .expect("bcrypt")
        .format_for_version(bcrypt::Version::TwoY);
    format!("{USER}:{hash}\n")
}

/// A `DOCKER_CONFIG` directory holding `config`.
fn docker_config(root: &Path, name: &str, config: &serde_json::Value) -> PathBuf {
    let dir = root.join(name);
    std::fs::create_dir_all(&dir).expect("config dir");
    std::fs::write(dir.join("config.json"), config.to_string()).expect("config.json");
    dir
}

/// `docker-credential-keylesstest`: answers `get` for exactly `host` with the
/// right credentials, and records each call so the test sees it ran.
fn install_helper(bin: &Path, host: &str, calls: &Path) {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::create_dir_all(bin).expect("bin dir");
    let script = format!(
        r#"#!/bin/sh
[ "$1" = get ] || {{ echo "unsupported verb $1"; exit 1; }}
url=$(cat)
echo "$url" >> '{calls}'
if [ "$url" = '{host}' ]; then
  printf '{{"ServerURL":"%s","Username":"{USER}","Secret":"{PASSWORD}"}}\n' "$url"
else
  echo "credentials not found in native keychain"
  exit 1
fi
"#,
        calls = calls.display(),
    );
    let path = bin.join("docker-credential-keylesstest");
    std::fs::write(&path, script).expect("helper script");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
}

#[test]
fn htpasswd_registry_through_config_helper_and_flags() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let registry = rt
        .block_on(keyless_testkit::registry::TestRegistry::start_with(
            keyless_testkit::registry::TestRegistryConfig {
                htpasswd: Some(htpasswd()),
            },
        ))
        .expect("start docker-registry (scripts/ci/install-registry.sh installs it)");
    let host = registry.host();
    let image = format!("{host}/private/app:1.0");
    rt.block_on(async {
        let client = keyless_oci::RegistryClient::new(
            keyless_oci::ClientOptions::new()
                .danger_allow_insecure_registry(true)
                .credentials(keyless_oci::CredentialSource::Static(
                    keyless_oci::Credentials::new(USER, PASSWORD),
                )),
        )
        .unwrap();
        keyless_testkit::registry::push_test_image(
            &client,
            &keyless_oci::Reference::parse(&image).unwrap(),
            "private",
        )
        .await
        .unwrap();
    });

    let dir = temp_dir("registry-auth");
    let stack = DevStack::start(&dir.join("stack"), free_base_port());
    let issuer = stack.url("oidcIssuer");
    let tc = stack.trust_config();

    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    let empty = docker_config(&dir, "empty", &serde_json::json!({}));
    let auths = docker_config(
        &dir,
        "auths",
        &serde_json::json!({"auths": {format!("http://{host}/v2/"): {"auth": b64(&format!("{USER}:{PASSWORD}"))}}}),
    );
    let wrong_auths = docker_config(
        &dir,
        "wrong",
        &serde_json::json!({"auths": {host.clone(): {"auth": b64(&format!("{USER}:{WRONG}"))}}}),
    );
    let helpers = docker_config(
        &dir,
        "helpers",
        &serde_json::json!({"credHelpers": {host.clone(): "keylesstest"}}),
    );
    let store = docker_config(
        &dir,
        "store",
        &serde_json::json!({"credsStore": "keylesstest"}),
    );
    let bin = dir.join("bin");
    let calls = dir.join("helper-calls.log");
    install_helper(&bin, &host, &calls);
    let path = std::env::join_paths(std::iter::once(bin.clone()).chain(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    )))
    .expect("PATH");

    // Every run's output, to check afterwards that no secret was printed.
    let mut outputs: Vec<String> = Vec::new();
    let mut k = |config: &Path, args: &[&str]| -> Output {
        let o = run(Command::new(env!("CARGO_BIN_EXE_keyless"))
            .env("SIGSTORE_TRUST_CONFIG", &tc)
            .env("DOCKER_CONFIG", config)
            .env("PATH", &path)
            .args(args));
        outputs.push(text(&o));
        o
    };
    let sign =
        |k: &mut dyn FnMut(&Path, &[&str]) -> Output, config: &Path, who: &str, extra: &[&str]| {
            let token = stack.token(who);
            let mut args = vec![
                "sign",
                "--yes",
                "--allow-insecure-registry",
                "--identity-token",
                &token,
            ];
            args.extend_from_slice(extra);
            args.push(&image);
            k(config, &args)
        };
    let verify =
        |k: &mut dyn FnMut(&Path, &[&str]) -> Output, config: &Path, who: &str, extra: &[&str]| {
            let mut args = vec![
                "verify",
                "--allow-insecure-registry",
                "--certificate-identity",
                who,
                "--certificate-oidc-issuer",
                &issuer,
            ];
            args.extend_from_slice(extra);
            args.push(&image);
            k(config, &args)
        };

    // Anonymous: refused, naming the registry and saying why.
    let o = verify(&mut k, &empty, "alice@example.com", &[]);
    assert!(!o.status.success(), "{}", text(&o));
    let t = text(&o);
    assert!(
        t.contains("Error: ") && t.contains(&format!("registry {host}")),
        "{t}"
    );
    assert!(t.contains("no credentials were configured"), "{t}");

    // (1) config.json `auths`, keyed in URL form as some tools write it.
    let o = sign(&mut k, &auths, "alice@example.com", &[]);
    assert!(o.status.success(), "sign via auths: {}", text(&o));
    let o = verify(&mut k, &auths, "alice@example.com", &[]);
    assert!(o.status.success(), "verify via auths: {}", text(&o));

    // (2) a credential helper on PATH, named by credHelpers.
    let o = sign(&mut k, &helpers, "bob@example.com", &[]);
    assert!(o.status.success(), "sign via helper: {}", text(&o));
    let o = verify(&mut k, &helpers, "bob@example.com", &[]);
    assert!(o.status.success(), "verify via helper: {}", text(&o));
    // The same helper as the credsStore, which serves every registry.
    let o = verify(&mut k, &store, "bob@example.com", &[]);
    assert!(o.status.success(), "verify via credsStore: {}", text(&o));
    let logged = std::fs::read_to_string(&calls).expect("the helper ran");
    assert!(logged.lines().all(|l| l == host), "asked for {logged:?}");
    // Once per registry per command, not once per request.
    assert_eq!(logged.lines().count(), 3, "{logged:?}");

    // (3) flags, which override the Docker config (here a wrong password).
    let flags = ["--registry-username", USER, "--registry-password", PASSWORD];
    let o = sign(&mut k, &wrong_auths, "carol@example.com", &flags);
    assert!(o.status.success(), "sign via flags: {}", text(&o));
    let o = verify(&mut k, &empty, "carol@example.com", &flags);
    assert!(o.status.success(), "verify via flags: {}", text(&o));
    // Everything signed above is there.
    for who in ["alice@example.com", "bob@example.com"] {
        let o = verify(&mut k, &auths, who, &[]);
        assert!(o.status.success(), "{who}: {}", text(&o));
    }

    // Wrong password from a flag, and from the Docker config: refused,
    // naming the registry and where the credentials came from.
    let o = verify(
        &mut k,
        &auths,
        "alice@example.com",
        &["--registry-username", USER, "--registry-password", WRONG],
    );
    assert!(!o.status.success(), "{}", text(&o));
    let t = text(&o);
    assert!(
        t.contains(&format!(
            "Error: registry {host} refused the username and password given"
        )),
        "{t}"
    );
    assert!(t.contains("check the username and password"), "{t}");
    assert!(
        t.contains("hint: registry credentials come from --registry-username"),
        "{t}"
    );
    let o = sign(&mut k, &wrong_auths, "mallory@example.com", &[]);
    assert!(!o.status.success(), "{}", text(&o));
    let t = text(&o);
    assert!(
        t.contains(&format!(
            "registry {host} refused the credentials from the Docker config"
        )),
        "{t}"
    );
    assert!(
        t.contains(&wrong_auths.join("config.json").display().to_string()),
        "{t}"
    );
    // A registry token is sent as given; this registry wants Basic auth.
    let o = verify(
        &mut k,
        &empty,
        "alice@example.com",
        &["--registry-token", TOKEN],
    );
    assert!(!o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains(&format!("registry {host} refused the registry token given")),
        "{}",
        text(&o)
    );
    // Half a login is a usage error, before any network access.
    let o = verify(
        &mut k,
        &empty,
        "alice@example.com",
        &["--registry-username", USER],
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("--registry-password"), "{}", text(&o));

    for out in &outputs {
        for secret in [PASSWORD, WRONG, TOKEN] {
            assert!(!out.contains(secret), "{secret} printed in:\n{out}");
        }
    }
    stack.stop();
    let _ = std::fs::remove_dir_all(&dir);
}
