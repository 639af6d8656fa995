//! `keyless server --dev --postgres`: the dev stack with its transparency
//! log in a real PostgreSQL cluster (Debian's `postgresql`, installed by
//! scripts/ci/install-postgres.sh, started on loopback by the test). Sign,
//! verify, restart, and check the log lives in the database, not in files.

mod support;

use keyless_testkit::pg;
use support::*;

#[test]
fn dev_stack_keeps_its_log_in_postgres() {
    let cluster = pg::PgCluster::start();
    let url = cluster.url();
    let dir = temp_dir("stack-pg");
    let port = free_base_port();
    let stack = DevStack::start_with_args(&dir, port, &["--postgres", &url]);
    let issuer = stack.url("oidcIssuer");
    let artifact = dir.join("artifact.txt");
    std::fs::write(&artifact, b"stored in postgres\n").unwrap();

    let sign = |stack: &DevStack, subject: &str, bundle: &std::path::Path| {
        let token = stack.token(subject);
        run(keyless()
            .env("SIGSTORE_TRUST_CONFIG", stack.trust_config())
            .args(["sign-blob", "--yes", "--identity-token", &token, "--bundle"])
            .arg(bundle)
            .arg(&artifact))
    };
    let verify = |stack: &DevStack, subject: &str, bundle: &std::path::Path| {
        run(keyless()
            .env("SIGSTORE_TRUST_CONFIG", stack.trust_config())
            .args([
                "verify-blob",
                "--certificate-identity",
                subject,
                "--certificate-oidc-issuer",
                &issuer,
                "--bundle",
            ])
            .arg(bundle)
            .arg(&artifact))
    };

    let first = dir.join("first.sigstore.json");
    let o = sign(&stack, "alice@example.com", &first);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains("tlog entry created with index: 0"),
        "{}",
        text(&o)
    );
    let o = verify(&stack, "alice@example.com", &first);
    assert!(o.status.success(), "{}", text(&o));
    // The files backend would have written tiles and a checkpoint here.
    assert!(
        !dir.join("log/checkpoint").exists(),
        "the log must not be kept in files"
    );
    assert!(
        !dir.join("log/tile").exists(),
        "the log must not be kept in files"
    );
    // Nor the CA's CT log: it is in the database too.
    assert!(
        !dir.join("ca/ct-log/checkpoint").exists(),
        "the CT log must not be kept in files"
    );
    assert!(
        !dir.join("ca/ct-log/tile").exists(),
        "the CT log must not be kept in files"
    );

    // Restart on the same database: the old bundle verifies, the log grows.
    stack.stop();
    let stack = DevStack::start_with_args(&dir, port, &["--postgres", &url]);
    let o = verify(&stack, "alice@example.com", &first);
    assert!(
        o.status.success(),
        "a bundle from before the restart: {}",
        text(&o)
    );
    let second = dir.join("second.sigstore.json");
    let o = sign(&stack, "bob@example.com", &second);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains("tlog entry created with index: 1"),
        "the log continues in the database: {}",
        text(&o)
    );
    let checkpoint = http_get(&format!("{}/checkpoint", stack.url("logUrl")));
    assert_eq!(
        checkpoint.lines().nth(1),
        Some("2"),
        "checkpoint covers both entries: {checkpoint}"
    );
    stack.stop();
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn postgres_needs_dev() {
    let o = keyless()
        .args(["server", "--postgres", "host=127.0.0.1"])
        .output()
        .unwrap();
    assert!(!o.status.success());
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("--dev"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}
