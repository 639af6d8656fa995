//! Container images end to end: a real registry (Debian's docker-registry,
//! started here on loopback), a test image pushed by the test, and
//! `keyless sign` / `verify` / `attest` / `verify-attestation` against the
//! dev stack, with cosign's messages for the failure cases.

mod support;

use support::*;

#[test]
fn sign_and_verify_images_in_a_real_registry() {
    let registry = Registry::start();
    let image = registry.push_as("demo/app:1.0", "app");

    let dir = temp_dir("image");
    let stack = DevStack::start(&dir, free_base_port());
    let issuer = stack.url("oidcIssuer");
    let tc = stack.trust_config();
    let k = |args: &[&str]| run(keyless().env("SIGSTORE_TRUST_CONFIG", &tc).args(args));
    let verify = |who: &str| {
        k(&[
            "verify",
            "--allow-insecure-registry",
            "--certificate-identity",
            who,
            "--certificate-oidc-issuer",
            &issuer,
            &image,
        ])
    };

    let o = verify("alice@example.com");
    assert_eq!(o.status.code(), Some(23), "{}", text(&o));
    assert!(
        text(&o).contains("Error: no signatures found for image"),
        "{}",
        text(&o)
    );

    let token = stack.token("alice@example.com");
    let o = k(&[
        "sign",
        "--yes",
        "--allow-insecure-registry",
        "--identity-token",
        &token,
        &image,
    ]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains("Pushing signature to: ") && text(&o).contains(".sig"),
        "{}",
        text(&o)
    );

    let o = verify("alice@example.com");
    assert!(o.status.success(), "{}", text(&o));
    let payloads: serde_json::Value =
        serde_json::from_slice(&o.stdout).expect("JSON payloads on stdout");
    // The dev stack's log is Rekor v2, so the classic .sig layer carries
    // no SET: what verifies is the cosign v3 referrer (a sign/v1
    // statement), printed in cosign's shape.
    assert_eq!(
        payloads[0]["critical"]["type"],
        "https://sigstore.dev/cosign/sign/v1"
    );
    assert!(
        text(&o).contains("The following checks were performed"),
        "{}",
        text(&o)
    );

    let o = verify("mallory@example.com");
    assert_eq!(o.status.code(), Some(22), "{}", text(&o));
    assert!(
        text(&o).contains(&format!(
            "Error: no matching signatures: none of the expected identities matched what was in the certificate, got subjects [alice@example.com] with issuer {issuer}"
        )),
        "{}",
        text(&o)
    );

    // A second signer appends; both signatures stay.
    let token = stack.token("bob@example.com");
    let o = k(&[
        "sign",
        "--yes",
        "--allow-insecure-registry",
        "--identity-token",
        &token,
        &image,
    ]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        verify("alice@example.com").status.success(),
        "the first signature survives a second signer"
    );
    assert!(verify("bob@example.com").status.success());

    // The read limits: over each one, a clear error naming the image, what
    // was over, the limit and the flag; at the limit, verification passes.
    let limited = |flag: &str, value: &str| {
        k(&[
            "verify",
            "--allow-insecure-registry",
            flag,
            value,
            "--certificate-identity",
            "alice@example.com",
            "--certificate-oidc-issuer",
            &issuer,
            &image,
        ])
    };
    for (flag, value, says) in [
        ("--max-signatures", "1", "lists 2 signature layers, over the limit of 1 signature layers per .sig/.att manifest (raise it with --max-signatures)"),
        ("--max-referrers", "1", "over the limit of 1 referrers per image (raise it with --max-referrers)"),
        ("--max-fetch-bytes", "1000", "over the limit of 1000 bytes fetched per verification (raise it with --max-fetch-bytes)"),
    ] {
        let o = limited(flag, value);
        assert_eq!(o.status.code(), Some(1), "{flag}: {}", text(&o));
        assert!(text(&o).contains("Error: reading the signatures of ") && text(&o).contains("/demo/app@sha256:"), "{flag}: {}", text(&o));
        assert!(text(&o).contains(says), "{flag}: {}", text(&o));
    }
    assert!(
        limited("--max-signatures", "2").status.success(),
        "two signatures are within --max-signatures 2"
    );

    // Attestations.
    let predicate = dir.join("predicate.json");
    std::fs::write(&predicate, br#"{"buildType":"https://example.com/build"}"#).unwrap();
    let token = stack.token("alice@example.com");
    let o = k(&[
        "attest",
        "--yes",
        "--allow-insecure-registry",
        "--identity-token",
        &token,
        "--type",
        "slsaprovenance1",
        "--predicate",
        predicate.to_str().unwrap(),
        &image,
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let va = |t: &str| {
        k(&[
            "verify-attestation",
            "--allow-insecure-registry",
            "--type",
            t,
            "--certificate-identity",
            "alice@example.com",
            "--certificate-oidc-issuer",
            &issuer,
            &image,
        ])
    };
    let o = va("slsaprovenance1");
    assert!(o.status.success(), "{}", text(&o));
    let statements: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        statements[0]["predicateType"],
        "https://slsa.dev/provenance/v1"
    );
    assert!(
        !va("spdx").status.success(),
        "wrong predicate type must not match"
    );
    stack.stop();
    drop(registry);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn read_limits_are_documented_in_help() {
    for command in ["verify", "verify-attestation"] {
        let o = run(keyless().args([command, "--help"]));
        assert!(o.status.success(), "{}", text(&o));
        let help = text(&o);
        for flag in [
            "--max-signatures <N>",
            "--max-referrers <N>",
            "--max-fetch-bytes <BYTES>",
            "[default: 1000]",
            "[default: 268435456]",
        ] {
            assert!(help.contains(flag), "{command} --help lacks {flag}: {help}");
        }
    }
}
