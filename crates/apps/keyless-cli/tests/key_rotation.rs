//! Key rotation without breaking old bundles, with real processes: the
//! development OIDC issuer, CA, transparency log and TSA each run as
//! `keyless server …`, their trusted root is distributed by a TUF
//! repository (`keyless tuf …`) that clients read through `keyless
//! initialize`. Sign; rotate the CA (a new intermediate under the same
//! root), the TSA and the log (a new shard);
//! sign again. Every bundle from before and after verifies with the
//! refreshed trusted root, and a bundle signed by each retired key after
//! its cut-over is refused, for the reason that key's `validFor` gives.

mod support;

use std::path::{Path, PathBuf};
use std::process::Child;
use std::time::Duration;

use support::*;

/// A `keyless server …` child process, killed when dropped.
struct Service {
    child: Child,
}

impl Service {
    fn start(name: &'static str, port: u16, args: &[&str]) -> Self {
        Self {
            child: start_server(args, port, name),
        }
    }

    fn stop(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        // Wait until the port is free again for a restart.
        std::thread::sleep(Duration::from_millis(200));
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn path(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

fn ok(o: &std::process::Output, what: &str) -> String {
    let t = text(o);
    assert!(o.status.success(), "{what}: {t}");
    t
}

/// A trusted root to sign with that trusts every key it lists at every
/// time (the `validFor` ends removed): the signer checks its own result,
/// and a late bundle is exactly one a verifier with the published root
/// must refuse.
fn permissive(published: &Path, out: &Path) {
    let mut v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(published).unwrap()).unwrap();
    for list in ["certificateAuthorities", "timestampAuthorities"] {
        for e in v[list].as_array_mut().unwrap() {
            e["validFor"].as_object_mut().unwrap().remove("end");
        }
    }
    for e in v["tlogs"].as_array_mut().unwrap() {
        e["publicKey"]["validFor"]
            .as_object_mut()
            .unwrap()
            .remove("end");
    }
    std::fs::write(out, serde_json::to_vec(&v).unwrap()).unwrap();
}

struct Urls {
    oidc: String,
    ca: String,
    log1: String,
    log2: String,
    tsa: String,
    tsa2: String,
}

struct Env {
    dir: PathBuf,
    urls: Urls,
    artifact: PathBuf,
    sign_home: PathBuf,
    verify_home: PathBuf,
}

impl Env {
    fn sign(&self, name: &str, trusted_root: &Path, ca: &str, log: &str, tsa: &str) -> PathBuf {
        let token = ok(
            &run(keyless()
                .args(["dev-token", "--subject", "alice@example.com", "--data-dir"])
                .arg(&self.dir)),
            "dev-token",
        );
        let bundle = self.dir.join(format!("{name}.sigstore.json"));
        let o = run(keyless()
            .env("HOME", &self.sign_home)
            .env_remove("SIGSTORE_TRUST_CONFIG")
            .args(["sign-blob", "--yes", "--identity-token", token.trim()])
            .args(["--trusted-root", path(trusted_root)])
            .args([
                "--fulcio-url",
                ca,
                "--rekor-url",
                log,
                "--rekor-version",
                "2",
            ])
            .args(["--timestamp-server-url", tsa, "--bundle", path(&bundle)])
            .arg(&self.artifact));
        ok(&o, &format!("signing {name}"));
        bundle
    }

    /// (Re)initialize the verifying client from the TUF repository: the
    /// trusted root it then holds is the one fetched and checked by TUF.
    fn refresh(&self) {
        let out = self.dir.join("tuf");
        ok(
            &run(keyless()
                .env("HOME", &self.verify_home)
                .env_remove("SIGSTORE_TRUST_CONFIG")
                .args([
                    "initialize",
                    "--mirror",
                    &format!("file://{}", out.display()),
                ])
                .args(["--root", path(&out.join("1.root.json"))])),
            "keyless initialize",
        );
    }

    fn verify(&self, bundle: &Path) -> std::process::Output {
        run(keyless()
            .env("HOME", &self.verify_home)
            .env_remove("SIGSTORE_TRUST_CONFIG")
            .args(["verify-blob", "--certificate-identity", "alice@example.com"])
            .args(["--certificate-oidc-issuer", &self.urls.oidc])
            .args(["--bundle", path(bundle)])
            .arg(&self.artifact))
    }

    fn tuf(&self, command: &str, extra: &[&str]) -> String {
        ok(
            &run(keyless()
                .args(["tuf", command])
                .args(["--repo", path(&self.dir.join("tuf-repo"))])
                .args(["--out", path(&self.dir.join("tuf"))])
                .args(extra)),
            command,
        )
    }
}

/// The published `timestamp.json`'s version.
fn timestamp_version(out: &Path) -> u64 {
    let v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("timestamp.json")).unwrap()).unwrap();
    v["signed"]["version"].as_u64().unwrap()
}

#[test]
fn rotate_ca_tsa_and_log_without_breaking_old_bundles() {
    let dir = temp_dir("key-rotation");
    let base = free_base_port();
    let port = |i: u16| base + i;
    let url = |i: u16| format!("http://127.0.0.1:{}", port(i));
    let urls = Urls {
        oidc: url(0),
        ca: url(1),
        log1: url(2),
        tsa: format!("{}/api/v1/timestamp", url(3)),
        log2: url(4),
        tsa2: format!("{}/api/v1/timestamp", url(5)),
    };
    let d = |name: &str| dir.join(name);
    let _oidc = Service::start("oidc", port(0), &["oidc", "--data-dir", path(&d("oidc"))]);
    let mut issuer = serde_json::Map::new();
    issuer.insert(
        urls.oidc.clone(),
        serde_json::json!({"IssuerURL": urls.oidc, "ClientID": "sigstore", "Type": "email"}),
    );
    let issuers = serde_json::json!({ "OIDCIssuers": issuer });
    std::fs::write(d("issuers.json"), issuers.to_string()).unwrap();
    let (ca_dir, issuers_file, tsa_dir) = (d("ca"), d("issuers.json"), d("tsa"));
    let ca_args = [
        "ca",
        "--data-dir",
        path(&ca_dir),
        "--issuers",
        path(&issuers_file),
        "--intermediate-key-algorithm",
        "p256",
    ];
    let ca = Service::start("ca", port(1), &ca_args);
    let _log1 = Service::start("log", port(2), &["log", "--data-dir", path(&d("log1"))]);
    let tsa_args = ["tsa", "--data-dir", path(&tsa_dir)];
    let tsa = Service::start("tsa", port(3), &tsa_args);

    // The instance's trusted root, into a new TUF repository.
    let tr0 = d("trusted_root.0.json");
    ok(
        &run(keyless().args(["tuf", "trusted-root"]).args([
            "--ca-data-dir",
            path(&d("ca")),
            "--ca-url",
            &urls.ca,
            "--log-data-dir",
            path(&d("log1")),
            "--log-url",
            &urls.log1,
            "--tsa-data-dir",
            path(&d("tsa")),
            "--tsa-url",
            &urls.tsa,
            "--out",
            path(&tr0),
        ])),
        "tuf trusted-root",
    );
    let repo = d("tuf-repo");
    let out = d("tuf");
    ok(
        &run(keyless().args(["tuf", "init", "--repo", path(&repo)])),
        "tuf init",
    );
    ok(
        &run(keyless()
            .args([
                "tuf",
                "add-target",
                "--repo",
                path(&repo),
                "--name",
                "trusted_root.json",
            ])
            .arg(&tr0)),
        "tuf add-target",
    );
    let service = |url: &str| {
        serde_json::json!({"url": url, "majorApiVersion": 1, "operator": "test",
            "validFor": {"start": "1970-01-01T00:00:00Z"}})
    };
    let mut log_service = service(&urls.log1);
    log_service["majorApiVersion"] = 2.into();
    let signing_config = serde_json::json!({
        "mediaType": "application/vnd.dev.sigstore.signingconfig.v0.2+json",
        "caUrls": [service(&urls.ca)],
        "oidcUrls": [service(&urls.oidc)],
        "rekorTlogUrls": [log_service],
        "rekorTlogConfig": {"selector": "ANY"},
        "tsaUrls": [service(&urls.tsa)],
        "tsaConfig": {"selector": "ANY"},
    });
    std::fs::write(d("signing_config.json"), signing_config.to_string()).unwrap();
    ok(
        &run(keyless()
            .args(["tuf", "add-target", "--repo", path(&repo)])
            .args(["--name", "signing_config.v0.2.json"])
            .arg(d("signing_config.json"))),
        "tuf add-target signing config",
    );
    ok(
        &run(keyless().args(["tuf", "sign", "--repo", path(&repo)])),
        "tuf sign",
    );
    ok(
        &run(keyless().args(["tuf", "publish", "--repo", path(&repo), "--out", path(&out)])),
        "tuf publish",
    );
    let first_timestamp = timestamp_version(&out);

    let env = Env {
        artifact: d("artifact.txt"),
        sign_home: d("sign-home"),
        verify_home: d("verify-home"),
        dir: dir.clone(),
        urls,
    };
    std::fs::write(&env.artifact, b"release 1.0\n").unwrap();
    std::fs::create_dir_all(&env.sign_home).unwrap();
    std::fs::create_dir_all(&env.verify_home).unwrap();
    let u = &env.urls;

    // Before: sign with the first keys; it verifies through TUF.
    let before = env.sign("before", &tr0, &u.ca, &u.log1, &u.tsa);
    env.refresh();
    ok(&env.verify(&before), "verifying the first bundle");

    // Rotate all three. The old CA and TSA processes keep their old keys
    // in memory, which lets the test sign with retired keys afterwards.
    let rotated = env.tuf(
        "rotate-ca",
        &[
            "--data-dir",
            path(&d("ca")),
            "--intermediate-key-algorithm",
            "p256",
            "--keep-root",
        ],
    );
    assert!(rotated.contains("Rotated the CA intermediate"), "{rotated}");
    env.tuf("rotate-tsa", &["--data-dir", path(&d("tsa"))]);
    let rotated = env.tuf(
        "rotate-log",
        &["--data-dir", path(&d("log2")), "--url", &u.log2],
    );
    assert!(
        rotated.contains(&format!("new shard {}", u.log2)),
        "{rotated}"
    );
    assert_eq!(
        timestamp_version(&out),
        first_timestamp + 3,
        "each rotation publishes new TUF metadata"
    );
    // Rotating a TSA the trusted root does not list fails and changes
    // nothing: its old chain is moved back, the repository is untouched.
    ok(
        &run(keyless().args(["tuf", "trusted-root"]).args([
            "--ca-data-dir",
            path(&d("ca")),
            "--ca-url",
            &u.ca,
            "--log-data-dir",
            path(&d("log1")),
            "--log-url",
            &u.log1,
            "--tsa-data-dir",
            path(&d("tsa-other")),
            "--tsa-url",
            &u.tsa,
            "--out",
            path(&d("other.json")),
        ])),
        "a trusted root for another TSA",
    );
    let state = std::fs::read(repo.join("state.json")).unwrap();
    let other_chain = std::fs::read(d("tsa-other/signing.pem")).unwrap();
    let o = run(keyless()
        .args([
            "tuf",
            "rotate-tsa",
            "--repo",
            path(&repo),
            "--out",
            path(&out),
        ])
        .args(["--data-dir", path(&d("tsa-other"))]));
    assert!(!o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains("is it the right data directory?"),
        "{}",
        text(&o)
    );
    assert_eq!(std::fs::read(repo.join("state.json")).unwrap(), state);
    assert_eq!(
        std::fs::read(d("tsa-other/signing.pem")).unwrap(),
        other_chain
    );
    assert_eq!(timestamp_version(&out), first_timestamp + 3);
    // The cut-over is in the past for every late signature below.
    std::thread::sleep(Duration::from_millis(1100));

    let published = out.join("targets/trusted_root.json");
    let root: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&published).unwrap()).unwrap();
    for (list, n) in [
        ("certificateAuthorities", 2),
        ("timestampAuthorities", 2),
        ("tlogs", 2),
    ] {
        let entries = root[list].as_array().unwrap();
        assert_eq!(entries.len(), n, "{list}: {root}");
        let window = |e: &serde_json::Value| {
            if list == "tlogs" {
                e["publicKey"]["validFor"].clone()
            } else {
                e["validFor"].clone()
            }
        };
        let (old, new) = (window(&entries[0]), window(&entries[1]));
        assert!(
            old["end"].is_string(),
            "{list}: the old entry is retired: {old}"
        );
        assert_eq!(
            old["end"], new["start"],
            "{list}: the new one starts at the cut-over"
        );
        assert!(new["end"].is_null(), "{list}: {new}");
    }
    // --keep-root: a new intermediate under the same root.
    let cas = root["certificateAuthorities"].as_array().unwrap();
    let chain = |i: usize| cas[i]["certChain"]["certificates"].clone();
    assert_ne!(chain(0)[0], chain(1)[0]);
    assert_eq!(chain(0)[1], chain(1)[1]);
    // Clients that sign by the signing config go to the new shard.
    let config: serde_json::Value = serde_json::from_slice(
        &std::fs::read(out.join("targets/signing_config.v0.2.json")).unwrap(),
    )
    .unwrap();
    let logs = config["rekorTlogUrls"].as_array().unwrap();
    assert_eq!(logs.len(), 2, "{config}");
    assert_eq!(logs[0]["url"], u.log2.as_str());
    assert_eq!(logs[0]["validFor"]["start"], logs[1]["validFor"]["end"]);
    assert_eq!(logs[1]["url"], u.log1.as_str());
    let permissive_root = d("permissive.json");
    permissive(&published, &permissive_root);

    // New shard and new TSA up; the old ones still answer.
    let _log2 = Service::start(
        "log shard 2",
        port(4),
        &["log", "--data-dir", path(&d("log2"))],
    );
    let _tsa2 = Service::start("tsa 2", port(5), &tsa_args);
    env.refresh();

    // The retired CA after its cut-over: refused.
    let late_ca = env.sign("late-ca", &permissive_root, &u.ca, &u.log2, &u.tsa2);
    let o = env.verify(&late_ca);
    assert!(
        !o.status.success(),
        "a retired CA's certificate after its end: {}",
        text(&o)
    );
    assert!(
        text(&o).contains("does not verify to any trusted Fulcio CA"),
        "{}",
        text(&o)
    );

    ca.stop();
    let _ca = Service::start("ca (new intermediate)", port(1), &ca_args);

    // The retired TSA after its cut-over: refused.
    let late_tsa = env.sign("late-tsa", &permissive_root, &u.ca, &u.log2, &u.tsa);
    let o = env.verify(&late_tsa);
    assert!(
        !o.status.success(),
        "a retired TSA's timestamp after its end: {}",
        text(&o)
    );
    assert!(
        text(&o).contains("outside the validity of timestamp authority"),
        "{}",
        text(&o)
    );
    tsa.stop();

    // The retired log shard after its cut-over: refused. It still answers
    // (its entries stay readable).
    let late_log = env.sign("late-log", &permissive_root, &u.ca, &u.log1, &u.tsa2);
    let o = env.verify(&late_log);
    assert!(
        !o.status.success(),
        "a retired shard's checkpoint after its end: {}",
        text(&o)
    );
    assert!(
        text(&o).contains(&format!("the key of {}", u.log1)),
        "{}",
        text(&o)
    );
    assert!(
        http_ok(&format!("{}/checkpoint", u.log1)),
        "the old shard stays readable"
    );

    // After: the new keys, signing with the published trusted root itself.
    let after = env.sign("after", &published, &u.ca, &u.log2, &u.tsa2);
    for bundle in [&before, &after] {
        ok(
            &env.verify(bundle),
            &format!("verifying {}", bundle.display()),
        );
    }
    // Signed before the rotation, the first bundle still names the retired keys.
    let b: serde_json::Value = serde_json::from_slice(&std::fs::read(&before).unwrap()).unwrap();
    let a: serde_json::Value = serde_json::from_slice(&std::fs::read(&after).unwrap()).unwrap();
    assert_ne!(
        b["verificationMaterial"]["tlogEntries"][0]["logId"],
        a["verificationMaterial"]["tlogEntries"][0]["logId"]
    );
    let _ = std::fs::remove_dir_all(&dir);
}
