//! `keyless verify-bundles`: a JSON-lines manifest of good and bad
//! conformance bundles, verified on several threads with one trusted-root
//! load; one line per bundle, in manifest order, and a non-zero exit when
//! any failed.

use std::path::{Path, PathBuf};
use std::process::Command;

const ID: &str = "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main";
const ISSUER: &str = "https://token.actions.githubusercontent.com";
const A_TXT_SHA256: &str = "a0cfc71271d6e278e57cd332ff957c3f7043fdda354c4cbb190a30d56efa01bf";

fn assets() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../testdata/sigstore-conformance/assets/bundle-verify")
}

fn bundle(name: &str) -> String {
    assets()
        .join(name)
        .join("bundle.sigstore.json")
        .display()
        .to_string()
}

/// Run `keyless verify-bundles` over `lines` written to a fresh manifest.
fn run(tag: &str, lines: &[serde_json::Value], flags: &[&str]) -> (i32, String, String) {
    let dir = std::env::temp_dir().join(format!(
        "keyless-verify-bundles-{tag}-{}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let manifest = dir.join("manifest.jsonl");
    let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
    std::fs::write(&manifest, text).expect("manifest");
    let out = Command::new(env!("CARGO_BIN_EXE_keyless"))
        .args(["verify-bundles", "--jobs", "2", "--manifest"])
        .arg(&manifest)
        .args(flags)
        .output()
        .expect("run keyless");
    std::fs::remove_dir_all(&dir).ok();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn a_txt() -> String {
    assets().join("a.txt").display().to_string()
}

#[test]
fn good_and_bad_bundles_mixed() {
    let good = |name: &str, artifact: &str| serde_json::json!({"bundle": bundle(name), "artifact": artifact, "identity": ID, "issuer": ISSUER});
    let digest = format!("sha256:{A_TXT_SHA256}");
    let lines = vec![
        good("happy-path-v0.3", &a_txt()),
        good("signature-mismatch_fail", &a_txt()),
        good("happy-path-v0.2", &digest),
        good("checkpoint-wrong-roothash_fail", &a_txt()),
        // Right bundle, wrong signer.
        serde_json::json!({"bundle": bundle("happy-path-v0.1"), "artifact": a_txt(), "identity": "someone@example.com", "issuer": ISSUER}),
        good("happy-path-intoto-in-dsse-v3", &a_txt()),
        // No policy anywhere: never verified without one.
        serde_json::json!({"bundle": bundle("happy-path-v0.3"), "artifact": a_txt()}),
        serde_json::json!({"bundle": bundle("no-such-bundle"), "artifact": a_txt(), "identity": ID, "issuer": ISSUER}),
    ];
    let (code, out, err) = run("mixed", &lines, &[]);
    assert_eq!(code, 1, "{out}\n{err}");
    let verdicts: Vec<&str> = out.lines().map(|l| &l[..4]).collect();
    assert_eq!(
        verdicts,
        ["OK  ", "FAIL", "OK  ", "FAIL", "FAIL", "OK  ", "FAIL", "FAIL"],
        "{out}"
    );
    let report: Vec<&str> = out.lines().collect();
    assert!(
        report[0].starts_with("OK   1: ") && report[0].contains(ID),
        "{out}"
    );
    assert!(report[1].contains("signature-mismatch_fail"), "{out}");
    assert!(
        report[4].contains("none of the expected identities matched"),
        "{out}"
    );
    assert!(report[3].contains("checkpoint"), "{out}");
    assert!(report[6].contains("no policy"), "{out}");
    assert!(report[7].contains("reading bundle"), "{out}");
    assert!(err.contains("3 verified, 5 failed, of 8 bundles"), "{err}");
}

#[test]
fn all_good_with_policy_from_flags_exits_zero() {
    let lines: Vec<_> = [
        "happy-path-v0.1",
        "happy-path-v0.2",
        "happy-path-v0.3",
        "happy-path-v0.3-new-mediaType",
    ]
    .iter()
    .map(|n| serde_json::json!({"bundle": bundle(n), "artifact": a_txt()}))
    .collect();
    let (code, out, err) = run(
        "flags",
        &lines,
        &[
            "--certificate-identity",
            ID,
            "--certificate-oidc-issuer",
            ISSUER,
        ],
    );
    assert_eq!(code, 0, "{out}\n{err}");
    assert_eq!(
        out.lines().filter(|l| l.starts_with("OK ")).count(),
        4,
        "{out}"
    );
    assert!(err.contains("4 verified, 0 failed, of 4 bundles"), "{err}");

    // The same bundles under another identity from the flags all fail.
    let (code, out, _) = run(
        "flags-wrong",
        &lines,
        &[
            "--certificate-identity",
            "someone@example.com",
            "--certificate-oidc-issuer",
            ISSUER,
        ],
    );
    assert_eq!(code, 1, "{out}");
    assert_eq!(
        out.lines().filter(|l| l.starts_with("FAIL")).count(),
        4,
        "{out}"
    );
}

#[test]
fn a_malformed_line_fails_alone() {
    let dir =
        std::env::temp_dir().join(format!("keyless-verify-bundles-raw-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    // Relative paths are read from the manifest's directory.
    std::fs::copy(
        assets().join("happy-path-v0.3/bundle.sigstore.json"),
        dir.join("b.json"),
    )
    .expect("copy");
    std::fs::copy(assets().join("a.txt"), dir.join("a.txt")).expect("copy");
    let manifest = dir.join("m.jsonl");
    std::fs::write(
        &manifest,
        format!("{{\"bundle\": \"b.json\", \"artifact\": \"a.txt\", \"identity\": \"{ID}\", \"issuer\": \"{ISSUER}\"}}\nnot json\n"),
    )
    .expect("manifest");
    let out = Command::new(env!("CARGO_BIN_EXE_keyless"))
        .args(["verify-bundles", "--manifest"])
        .arg(&manifest)
        .output()
        .expect("run keyless");
    std::fs::remove_dir_all(&dir).ok();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(lines[0].starts_with("OK   1: b.json"), "{stdout}");
    assert!(
        lines[1].starts_with("FAIL 2: ") && lines[1].contains("not valid"),
        "{stdout}"
    );
}
