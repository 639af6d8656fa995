//! `keyless verify-blob`'s user-facing contract: cosign's flags and
//! wording, exit codes per failure kind.

use std::path::{Path, PathBuf};
use std::process::Command;

const ID: &str = "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main";
const ISSUER: &str = "https://token.actions.githubusercontent.com";

fn case(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../testdata/sigstore-conformance/assets/bundle-verify")
        .join(name)
}

fn keyless(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_keyless"))
        .args(args)
        .output()
        .expect("run keyless");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn bundle(name: &str) -> String {
    case(name)
        .join("bundle.sigstore.json")
        .display()
        .to_string()
}

fn artifact() -> String {
    case("a.txt").display().to_string()
}

#[test]
fn verifies_public_good_bundle_with_embedded_root() {
    let (code, err) = keyless(&[
        "verify-blob",
        "--bundle",
        &bundle("happy-path-v0.3"),
        "--certificate-identity",
        ID,
        "--certificate-oidc-issuer",
        ISSUER,
        &artifact(),
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("Verified OK"), "{err}");
    assert!(err.contains(&format!("Certificate subject: {ID}")), "{err}");
}

#[test]
fn identity_mismatch_uses_cosign_wording() {
    let (code, err) = keyless(&[
        "verify-blob",
        "--bundle",
        &bundle("happy-path-v0.3"),
        "--certificate-identity",
        "someone@example.com",
        "--certificate-oidc-issuer",
        ISSUER,
        &artifact(),
    ]);
    assert_eq!(code, 22, "{err}");
    assert!(
        err.contains(&format!(
            "Error: none of the expected identities matched what was in the certificate, got subjects [{ID}] with issuer {ISSUER}"
        )),
        "{err}"
    );
    assert!(
        err.contains("hint: "),
        "a failure carries a hint line: {err}"
    );
}

#[test]
fn regexp_identity_is_anchored() {
    let (code, err) = keyless(&[
        "verify-blob",
        "--bundle",
        &bundle("happy-path-v0.3"),
        "--certificate-identity-regexp",
        "https://github\\.com/sigstore-conformance/.*",
        "--certificate-oidc-issuer",
        ISSUER,
        &artifact(),
    ]);
    assert_eq!(code, 0, "{err}");
    // A pattern matching only a substring must not be enough.
    let (code, err) = keyless(&[
        "verify-blob",
        "--bundle",
        &bundle("happy-path-v0.3"),
        "--certificate-identity-regexp",
        "sigstore-conformance",
        "--certificate-oidc-issuer",
        ISSUER,
        &artifact(),
    ]);
    assert_eq!(code, 22, "{err}");
}

#[test]
fn wrong_issuer_is_rejected() {
    let (code, err) = keyless(&[
        "verify-blob",
        "--bundle",
        &bundle("happy-path-v0.3"),
        "--certificate-identity",
        ID,
        "--certificate-oidc-issuer",
        "https://accounts.google.com",
        &artifact(),
    ]);
    assert_eq!(code, 22, "{err}");
}

#[test]
fn missing_policy_is_a_usage_error() {
    let (code, err) = keyless(&[
        "verify-blob",
        "--bundle",
        &bundle("happy-path-v0.3"),
        &artifact(),
    ]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("--certificate-identity"), "{err}");
}

#[test]
fn help_lists_exit_codes() {
    let out = Command::new(env!("CARGO_BIN_EXE_keyless"))
        .args(["verify-blob", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(
        help.contains("Exit codes:") && help.contains("--certificate-oidc-issuer"),
        "{help}"
    );
}
