//! The cosign flags and environment variables keyless promises (issue 15,
//! items 4–6), checked three ways: each is an option of the commands it
//! belongs to (`keyless <cmd> --help`), each is in the README, and each is
//! exercised by at least one other CLI test in this directory.

mod support;

use std::collections::BTreeSet;
use std::path::Path;

use support::*;

const SIGNERS: &[&str] = &["sign", "attest", "sign-blob", "attest-blob"];
const IMAGE_SIGNERS: &[&str] = &["sign", "attest"];
const VERIFIERS: &[&str] = &[
    "verify",
    "verify-attestation",
    "verify-blob",
    "verify-blob-attestation",
];
const IMAGE_VERIFIERS: &[&str] = &["verify", "verify-attestation"];

/// `(flag, commands that must list it)`.
fn flags() -> Vec<(&'static str, &'static [&'static str])> {
    vec![
        // Item 4: services.
        ("--rekor-url", SIGNERS),
        ("--rekor-version", SIGNERS),
        ("--fulcio-url", SIGNERS),
        ("--timestamp-server-url", SIGNERS),
        // Item 5: signing.
        ("--output-certificate", &["sign", "attest", "sign-blob"]),
        ("--output-signature", &["sign", "attest", "sign-blob"]),
        ("--annotations", &["sign"]),
        ("--tlog-upload", SIGNERS),
        ("--recursive", IMAGE_SIGNERS),
        ("--registry-referrers-mode", IMAGE_SIGNERS),
        ("--new-bundle-format", IMAGE_SIGNERS),
        // Item 5: verifying.
        ("--certificate", VERIFIERS),
        ("--certificate-chain", VERIFIERS),
        ("--signature", &["verify-blob"]),
        ("--insecure-ignore-tlog", VERIFIERS),
        ("--insecure-ignore-sct", VERIFIERS),
        ("--offline", VERIFIERS),
        ("--new-bundle-format", VERIFIERS),
        ("--certificate-github-workflow-trigger", VERIFIERS),
        ("--certificate-github-workflow-sha", VERIFIERS),
        ("--certificate-github-workflow-name", VERIFIERS),
        ("--certificate-github-workflow-repository", VERIFIERS),
        ("--certificate-github-workflow-ref", VERIFIERS),
        ("--rekor-url", VERIFIERS),
        ("--output", IMAGE_VERIFIERS),
        ("--type", &["verify-blob-attestation", "verify-attestation"]),
        // Item 6: token sources.
        ("--oidc-client-secret-file", SIGNERS),
        ("--oidc-provider", SIGNERS),
        ("--oidc-redirect-url", SIGNERS),
        ("--oidc-disable-ambient-providers", SIGNERS),
    ]
}

/// `(variable, commands whose --help names it)`.
fn variables() -> Vec<(&'static str, &'static [&'static str])> {
    let all: &'static [&'static str] = &[
        "sign",
        "attest",
        "sign-blob",
        "attest-blob",
        "verify",
        "verify-attestation",
        "verify-blob",
        "verify-blob-attestation",
    ];
    vec![
        ("SIGSTORE_REKOR_PUBLIC_KEY", all),
        ("SIGSTORE_CT_LOG_PUBLIC_KEY_FILE", all),
        ("SIGSTORE_TSA_CERTIFICATE_FILE", all),
        ("TUF_ROOT", all),
        ("COSIGN_EXPERIMENTAL", all),
        ("COSIGN_YES", SIGNERS),
    ]
}

fn help(command: &str) -> String {
    let o = run(keyless().args([command, "--help"]));
    assert!(o.status.success(), "{command} --help: {}", text(&o));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// The long options an option line of `--help` declares (`-a, --annotations
/// <KEY=VALUE>`, `--offline`), not flags merely mentioned in prose.
fn declared(help: &str) -> BTreeSet<String> {
    help.lines()
        .filter_map(|line| {
            let trimmed = line.trim_start();
            // Option lines are indented 2–6 columns; wrapped prose 10.
            if line.len() - trimmed.len() > 6 {
                return None;
            }
            let long = if trimmed.starts_with("--") {
                trimmed
            } else if trimmed.starts_with('-') {
                trimmed.split_once(", ")?.1
            } else {
                return None;
            };
            let name: String = long
                .strip_prefix("--")?
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
                .collect();
            Some(format!("--{name}"))
        })
        .collect()
}

/// The README lists the GitHub workflow flags as
/// `--certificate-github-workflow-{trigger,sha,name,repository,ref}`.
fn in_readme(readme: &str, item: &str) -> bool {
    if readme.contains(item) {
        return true;
    }
    item.strip_prefix("--certificate-github-workflow-")
        .is_some_and(|suffix| {
            readme.contains("--certificate-github-workflow-{trigger,sha,name,repository,ref}")
                && ["trigger", "sha", "name", "repository", "ref"].contains(&suffix)
        })
}

/// The other CLI tests' sources (this file excluded).
fn other_tests() -> String {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    let mut all = String::new();
    for entry in std::fs::read_dir(&dir).expect("tests dir") {
        let path = entry.expect("entry").path();
        let is_this = path.file_name().is_some_and(|n| n == "flag_checklist.rs");
        if path.extension().is_some_and(|e| e == "rs") && !is_this {
            all.push_str(&std::fs::read_to_string(&path).expect("test source"));
        }
    }
    all
}

/// A test uses `item`: literally (`"--offline"`), or for the workflow flags
/// through the loop `format!("--certificate-github-workflow-{flag}")` over
/// the suffixes.
fn in_tests(tests: &str, item: &str) -> bool {
    if tests.contains(&format!("\"{item}\"")) || tests.contains(&format!("\"{item}=")) {
        return true;
    }
    if item.starts_with("COSIGN_") || item.starts_with("SIGSTORE_") || item == "TUF_ROOT" {
        return tests.contains(item);
    }
    item.strip_prefix("--certificate-github-workflow-")
        .is_some_and(|suffix| {
            tests.contains("\"--certificate-github-workflow-{flag}\"")
                && tests.contains(&format!("\"{suffix}\""))
        })
}

#[test]
fn every_cosign_flag_and_variable_is_in_help_readme_and_a_test() {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../README.md"))
            .expect("README.md");
    let tests = other_tests();
    let commands: BTreeSet<&str> = flags()
        .iter()
        .chain(variables().iter())
        .flat_map(|(_, cmds)| cmds.iter().copied())
        .collect();
    let helps: std::collections::BTreeMap<&str, String> =
        commands.iter().map(|c| (*c, help(c))).collect();

    let mut missing = Vec::new();
    for (flag, cmds) in flags() {
        for cmd in cmds {
            if !declared(&helps[cmd]).contains(flag) {
                missing.push(format!("{cmd} --help does not declare {flag}"));
            }
        }
        if !in_readme(&readme, flag) {
            missing.push(format!("README does not mention {flag}"));
        }
        if !in_tests(&tests, flag) {
            missing.push(format!("no CLI test uses {flag}"));
        }
    }
    // -a is --annotations' short form, as in cosign.
    if !helps["sign"].contains("-a, --annotations") {
        missing.push("sign --help has no -a".into());
    }
    for (var, cmds) in variables() {
        for cmd in cmds {
            if !helps[cmd].contains(var) {
                missing.push(format!("{cmd} --help does not name {var}"));
            }
        }
        if !in_readme(&readme, var) {
            missing.push(format!("README does not mention {var}"));
        }
        if !in_tests(&tests, var) {
            missing.push(format!("no CLI test uses {var}"));
        }
    }
    assert!(missing.is_empty(), "missing:\n{}", missing.join("\n"));
}

#[test]
fn declared_reads_option_lines_only() {
    let help = "Usage: x\n\nOptions:\n  -a, --annotations <KEY=VALUE>\n          claims; see --offline\n          --rekor-url wrapped into prose\n      --offline\n      --new-bundle-format[=<BOOL>]\n";
    let got = declared(help);
    assert!(got.contains("--annotations") && got.contains("--offline"));
    assert!(got.contains("--new-bundle-format"));
    assert_eq!(got.len(), 3, "{got:?}");
}
