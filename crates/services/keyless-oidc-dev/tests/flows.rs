//! The development issuer's flows over HTTP: discovery, JWKS, auth code +
//! PKCE with a loopback redirect, the device grant, the mint grant.

use base64::Engine;
use keyless_oidc_dev::{OidcDevConfig, DEVICE_CODE_GRANT, DEV_MINT_GRANT};
use serde_json::Value;

async fn start(interval: u64) -> (String, std::path::PathBuf) {
    let dir = std::env::temp_dir().join(format!(
        "keyless-oidc-test-{}-{}",
        std::process::id(),
        interval
    ));
    let _ = std::fs::remove_dir_all(&dir);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let mut cfg = OidcDevConfig::new(&dir);
    cfg.device_poll_interval_secs = interval;
    let issuer = keyless_oidc_dev::open_for(cfg, &listener).unwrap();
    let base = issuer.base_url.clone();
    tokio::spawn(async move { axum::serve(listener, keyless_oidc_dev::router(issuer)).await });
    (base, dir)
}

fn claims(token: &str) -> Value {
    let p = token.split('.').nth(1).unwrap();
    serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(p)
            .unwrap(),
    )
    .unwrap()
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

#[tokio::test]
async fn discovery_jwks_and_auth_code_with_pkce() {
    let (base, dir) = start(5).await;
    let c = client();
    let disc: Value = c
        .get(format!("{base}/.well-known/openid-configuration"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(disc["issuer"], base.as_str());
    assert_eq!(disc["code_challenge_methods_supported"][0], "S256");
    let jwks: Value = c
        .get(disc["jwks_uri"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(jwks["keys"][0]["kty"], "EC");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.join(keyless_oidc_dev::keys::SIGNING_KEY_FILE))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    let verifier = "a".repeat(43) + "-verifier-with-enough-entropy";
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(keyless_crypto::sha256(verifier.as_bytes()));
    let redirect = "http://127.0.0.1:9/callback";
    let auth = format!(
        "{base}/authorize?response_type=code&client_id=sigstore&redirect_uri={redirect}&code_challenge={challenge}&code_challenge_method=S256&state=xyz&nonce=n1"
    );
    let resp = c.get(&auth).send().await.unwrap();
    assert_eq!(resp.status(), 302);
    let loc = url::Url::parse(resp.headers()["location"].to_str().unwrap()).unwrap();
    assert!(loc.as_str().starts_with(redirect));
    let q: std::collections::HashMap<_, _> = loc.query_pairs().into_owned().collect();
    assert_eq!(q["state"], "xyz");
    let code = q["code"].clone();

    // Wrong verifier fails and burns the code.
    let bad = c
        .post(format!("{base}/token"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("code_verifier", &"b".repeat(50)),
            ("redirect_uri", redirect),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    // A fresh code with the right verifier.
    let resp = c.get(&auth).send().await.unwrap();
    let loc = url::Url::parse(resp.headers()["location"].to_str().unwrap()).unwrap();
    let code = loc
        .query_pairs()
        .find(|(k, _)| k == "code")
        .unwrap()
        .1
        .into_owned();
    let tok: Value = c
        .post(format!("{base}/token"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("code_verifier", &verifier),
            ("redirect_uri", redirect),
            ("client_id", "sigstore"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = claims(tok["id_token"].as_str().unwrap());
    assert_eq!(id["iss"], base.as_str());
    assert_eq!(id["aud"], "sigstore");
    assert_eq!(id["email_verified"], true);
    assert_eq!(id["nonce"], "n1");
    // Codes are single-use.
    let again = c
        .post(format!("{base}/token"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("code_verifier", &verifier),
            ("redirect_uri", redirect),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 400);
    // Non-loopback redirects and plain PKCE are refused.
    let evil = auth.replace("127.0.0.1:9", "evil.example");
    assert_eq!(c.get(&evil).send().await.unwrap().status(), 400);
    let plain = auth.replace("S256", "plain");
    assert_eq!(c.get(&plain).send().await.unwrap().status(), 400);

    // keyless dev-token without a server, from the remembered URL.
    let t = keyless_oidc_dev::mint_token(
        &dir,
        None,
        &keyless_oidc_dev::MintOptions {
            subject: Some("x@keyless.test".into()),
            ..Default::default()
        },
    )
    .unwrap();
    let cl = claims(&t);
    assert_eq!(cl["email"], "x@keyless.test");
    assert_eq!(cl["iss"], base.as_str());
}

#[tokio::test]
async fn device_flow_pending_slow_down_and_approval() {
    let (base, _dir) = start(1).await;
    let c = client();
    let dev: Value = c
        .post(format!("{base}/github/device/code"))
        .form(&[("client_id", "sigstore")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let device_code = dev["device_code"].as_str().unwrap().to_string();
    let user_code = dev["user_code"].as_str().unwrap().to_string();
    assert!(dev["verification_uri"]
        .as_str()
        .unwrap()
        .ends_with("/github/device"));
    let poll = || {
        c.post(format!("{base}/github/token"))
            .form(&[
                ("grant_type", DEVICE_CODE_GRANT),
                ("device_code", device_code.as_str()),
                ("client_id", "sigstore"),
            ])
            .send()
    };
    let r: Value = poll().await.unwrap().json().await.unwrap();
    assert_eq!(r["error"], "authorization_pending");
    let r: Value = poll().await.unwrap().json().await.unwrap();
    assert_eq!(r["error"], "slow_down");
    let page = c
        .get(format!("{base}/github/device?user_code={user_code}"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("Development only"));
    let ok = c
        .post(format!("{base}/github/device"))
        .form(&[("user_code", user_code.as_str()), ("action", "approve")])
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    tokio::time::sleep(std::time::Duration::from_millis(6100)).await; // interval grew by 5 s
    let r: Value = poll().await.unwrap().json().await.unwrap();
    let id = claims(r["id_token"].as_str().expect("token after approval"));
    assert_eq!(id["iss"], format!("{base}/github"));
    assert_eq!(
        id["job_workflow_ref"],
        "keyless-dev/widgets/.github/workflows/release.yml@refs/heads/main"
    );

    // The mint grant.
    let r: Value = c
        .post(format!("{base}/buildkite/token"))
        .form(&[("grant_type", DEV_MINT_GRANT), ("identity", "buildkite")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        claims(r["id_token"].as_str().unwrap())["organization_slug"],
        "acme"
    );
}
