//! Trust that fails closed, at the command line: a TUF cache that fails a
//! check stops the command (no fallback to the embedded root), a private
//! instance never reaches a public-good service it did not name, and `--key`
//! refuses identity flags it would ignore.

mod support;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use support::{keyless, temp_dir, text, DevStack};

/// `keyless` with a private HOME (its own `~/.sigstore`) and none of the
/// environment that picks an instance or a token.
fn keyless_at(home: &Path) -> Command {
    let mut c = keyless();
    c.env("HOME", home)
        .env_remove("SIGSTORE_TRUST_CONFIG")
        .env_remove("SIGSTORE_ROOT_FILE")
        .env_remove("SIGSTORE_ID_TOKEN")
        .env_remove("TUF_ROOT");
    c
}

fn code(o: &Output) -> i32 {
    o.status.code().unwrap_or(-1)
}

/// The embedded public-good trusted root (product data in the repo).
fn public_good_trusted_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../assets/public-good/trusted_root.json")
}

/// A private TUF repository published to `dir/mirror`, and the root.json
/// to initialize from. Its target is a trusted root that happens to be
/// public-good's: what matters is that the mirror is not the public one.
fn private_mirror(dir: &Path) -> (PathBuf, PathBuf) {
    let repo = dir.join("repo");
    let mirror = dir.join("mirror");
    for args in [
        vec![
            "tuf".into(),
            "init".into(),
            "--repo".into(),
            repo.display().to_string(),
        ],
        vec![
            "tuf".into(),
            "add-target".into(),
            "--repo".into(),
            repo.display().to_string(),
            "--name".into(),
            "trusted_root.json".into(),
            public_good_trusted_root().display().to_string(),
        ],
        vec![
            "tuf".into(),
            "sign".into(),
            "--repo".into(),
            repo.display().to_string(),
        ],
        vec![
            "tuf".into(),
            "publish".into(),
            "--repo".into(),
            repo.display().to_string(),
            "--out".into(),
            mirror.display().to_string(),
        ],
    ] {
        let out = keyless().args(&args).output().expect("keyless tuf");
        assert!(out.status.success(), "keyless {args:?}: {}", text(&out));
    }
    let root = mirror.join("root.json");
    assert!(root.is_file(), "the published repository has a root.json");
    (mirror, root)
}

/// `initialize` from a file:// mirror into `home`; returns the cache
/// directory of that mirror.
fn initialize(home: &Path, mirror: &Path, root: &Path) -> PathBuf {
    let url = format!("file://{}", mirror.display());
    let out = keyless_at(home)
        .args(["initialize", "--mirror", &url, "--root"])
        .arg(root)
        .output()
        .expect("initialize");
    assert!(out.status.success(), "initialize: {}", text(&out));
    let cache_root = home.join(".sigstore/root");
    let dirs: Vec<PathBuf> = std::fs::read_dir(&cache_root)
        .expect("cache root")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("root.json").is_file())
        .collect();
    assert_eq!(
        dirs.len(),
        1,
        "one mirror cache in {}",
        cache_root.display()
    );
    dirs[0].clone()
}

/// Every file under `dir` with its bytes, to show that nothing was rewritten.
fn snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).expect("read dir").flatten() {
            let p = e.path();
            if p.is_dir() {
                todo.push(p);
            } else {
                out.push((p.clone(), std::fs::read(&p).expect("read")));
            }
        }
    }
    out.sort();
    out
}

/// A verify-blob that gets as far as resolving trust: the bundle is never
/// reached when trust cannot be settled.
fn verify_blob(home: &Path, dir: &Path) -> Output {
    let bundle = dir.join("bundle.json");
    let artifact = dir.join("artifact.txt");
    std::fs::write(&bundle, b"{}").expect("bundle");
    std::fs::write(&artifact, b"hello").expect("artifact");
    keyless_at(home)
        .args([
            "verify-blob",
            "--certificate-identity",
            "a@example.com",
            "--certificate-oidc-issuer",
            "https://issuer.example",
        ])
        .arg("--bundle")
        .arg(&bundle)
        .arg(&artifact)
        .output()
        .expect("verify-blob")
}

/// The command stopped on the TUF error: exit 11, one `Error:` naming TUF,
/// a hint to re-initialize, no cause printed twice, no fallback.
fn assert_stopped_on_tuf(out: &Output, what: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(
        code(out),
        11,
        "{what}: exit code for unusable trust; stderr:\n{stderr}"
    );
    assert!(
        !stderr.contains("embedded public-good"),
        "{what}: fell back to the embedded root:\n{stderr}"
    );
    let errors: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("Error: "))
        .collect();
    assert_eq!(errors.len(), 1, "{what}: one Error line:\n{stderr}");
    assert!(
        errors[0].contains("TUF"),
        "{what}: the error names TUF:\n{stderr}"
    );
    let segments: Vec<&str> = errors[0]
        .trim_start_matches("Error: ")
        .split(": ")
        .filter(|s| s.len() > 12)
        .collect();
    for (i, s) in segments.iter().enumerate() {
        assert!(
            !segments[i + 1..].contains(s),
            "{what}: the cause {s:?} is printed twice:\n{stderr}"
        );
    }
    assert!(
        stderr
            .lines()
            .any(|l| l.starts_with("hint: ") && l.contains("keyless initialize")),
        "{what}: a hint to re-run keyless initialize:\n{stderr}"
    );
}

#[test]
fn a_tuf_cache_that_fails_a_check_stops_the_command() {
    let dir = temp_dir("fail-closed-tuf");
    let (mirror, root) = private_mirror(&dir);

    // The cached root.json is damaged.
    let home = dir.join("home-root");
    let cache = initialize(&home, &mirror, &root);
    std::fs::write(cache.join("root.json"), b"{\"signed\": ").expect("damage root.json");
    assert_stopped_on_tuf(&verify_blob(&home, &dir), "damaged cached root");

    // The cache was stale and the mirror now serves a timestamp.json whose
    // signature does not verify: a refused update, not "offline".
    let home = dir.join("home-forged");
    let cache = initialize(&home, &mirror, &root);
    let forged_mirror = dir.join("forged-mirror");
    copy_dir(&mirror, &forged_mirror);
    let ts_path = forged_mirror.join("timestamp.json");
    let mut ts: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&ts_path).expect("timestamp")).expect("json");
    let sig = ts["signatures"][0]["sig"]
        .as_str()
        .expect("sig")
        .to_string();
    let flipped = match sig.strip_prefix('0') {
        Some(rest) => format!("1{rest}"),
        None => format!("0{}", &sig[1..]),
    };
    ts["signatures"][0]["sig"] = flipped.into();
    std::fs::write(&ts_path, serde_json::to_vec(&ts).expect("json"))
        .expect("write forged timestamp");
    // The same cache now points at the forged mirror (as if the mirror's
    // content had changed) and is two days old, so it must be refreshed.
    let mirror_file = home.join(".sigstore/root/keyless-mirror");
    std::fs::write(&mirror_file, format!("file://{}", forged_mirror.display()))
        .expect("mirror file");
    let forged_cache = home
        .join(".sigstore/root")
        .join(cache_dir_name(&forged_mirror));
    copy_dir(&cache, &forged_cache);
    let old = SystemTime::now() - Duration::from_secs(2 * 24 * 3600);
    for f in [
        "root.json",
        "timestamp.json",
        "snapshot.json",
        "targets.json",
    ] {
        let file = std::fs::File::options()
            .append(true)
            .open(forged_cache.join(f))
            .expect("cached metadata");
        file.set_modified(old).expect("age the cache");
    }
    let before = snapshot(&forged_cache);
    assert_stopped_on_tuf(
        &verify_blob(&home, &dir),
        "forged timestamp from the mirror",
    );
    let after = snapshot(&forged_cache);
    assert_eq!(
        before.len(),
        after.len(),
        "no file was added to or removed from the cache"
    );
    for ((p, a), (_, b)) in before.iter().zip(&after) {
        assert_eq!(a, b, "{} was rewritten after a refused update", p.display());
    }

    // `keyless initialize` was run, but the mirror's cache is gone.
    let home = dir.join("home-missing");
    let cache = initialize(&home, &mirror, &root);
    std::fs::remove_dir_all(&cache).expect("remove cache");
    assert_stopped_on_tuf(&verify_blob(&home, &dir), "missing cache");

    // A signing command stops the same way, before any service is asked.
    let home = dir.join("home-sign");
    let cache = initialize(&home, &mirror, &root);
    std::fs::write(cache.join("root.json"), b"not json").expect("damage root.json");
    let artifact = dir.join("artifact.txt");
    let out = keyless_at(&home)
        .args([
            "sign-blob",
            "--yes",
            "--identity-token",
            "a.b.c",
            "--bundle",
        ])
        .arg(dir.join("out.json"))
        .arg(&artifact)
        .output()
        .expect("sign-blob");
    assert_stopped_on_tuf(&out, "sign-blob with a damaged cache");
    assert!(!dir.join("out.json").exists(), "no bundle was written");

    // Control: with no cache at all, the embedded root is used (cosign's
    // behaviour), and the (empty) bundle is what fails.
    let out = verify_blob(&dir.join("home-none"), &dir);
    assert_eq!(
        code(&out),
        10,
        "no TUF cache: the embedded root, then a malformed bundle: {}",
        text(&out)
    );
}

fn cache_dir_name(mirror: &Path) -> String {
    keyless_tuf::sigstore::mirror_dir_name(&format!("file://{}", mirror.display()))
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for e in std::fs::read_dir(from).expect("read dir").flatten() {
        let p = e.path();
        let dest = to.join(e.file_name());
        if p.is_dir() {
            copy_dir(&p, &dest);
        } else {
            std::fs::copy(&p, &dest).expect("copy");
        }
    }
}

/// An HTTPS proxy on loopback that records the first line of every
/// request (`CONNECT host:443 HTTP/1.1`) and refuses it.
fn recording_proxy() -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind proxy");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = seen.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
            let mut line = String::new();
            if BufReader::new(&stream).read_line(&mut line).is_ok() && !line.is_empty() {
                record.lock().expect("lock").push(line.trim().to_string());
            }
            let _ = (&stream).write_all(
                b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            );
        }
    });
    (url, seen)
}

fn through_proxy(mut c: Command, proxy: &str) -> Command {
    c.env("HTTPS_PROXY", proxy)
        .env("https_proxy", proxy)
        .env_remove("NO_PROXY")
        .env_remove("no_proxy");
    c
}

#[test]
fn a_private_instance_never_reaches_public_good_services() {
    let dir = temp_dir("fail-closed-services");
    let stack = DevStack::start(&dir.join("stack"), support::free_base_port());
    let token = stack.token("signer@example.com");
    let trusted_root = stack.dir.join("trusted_root.json");
    let artifact = dir.join("artifact.txt");
    std::fs::write(&artifact, b"private").expect("artifact");
    let (proxy, seen) = recording_proxy();
    let home = dir.join("home");
    std::fs::create_dir_all(&home).expect("home");
    let sign = |extra: &[&str]| {
        let mut c = through_proxy(keyless_at(&home), &proxy);
        c.args(["sign-blob", "--yes", "--identity-token", &token, "--bundle"])
            .arg(dir.join("out.json"))
            .args(extra)
            .arg(&artifact);
        c.output().expect("sign-blob")
    };

    // Control: with public-good trust (no cache, no flags) the public
    // services are the default, and the proxy sees the request.
    let out = sign(&[]);
    assert_ne!(
        code(&out),
        0,
        "public-good services are unreachable here: {}",
        text(&out)
    );
    let recorded = seen.lock().expect("lock").clone();
    assert!(
        recorded
            .iter()
            .any(|l| l.starts_with("CONNECT ") && l.contains("sigstore.dev")),
        "the recording proxy sees a public-good request: {recorded:?}\n{}",
        text(&out)
    );
    seen.lock().expect("lock").clear();
    let nothing_recorded = || {
        assert_eq!(
            *seen.lock().expect("lock"),
            Vec::<String>::new(),
            "no request left for a host the user did not name"
        )
    };
    // A refusal before any request: exit 1, stderr naming every needle.
    let refused = |out: &Output, needles: &[&str]| {
        let stderr = String::from_utf8_lossy(&out.stderr).to_string();
        assert_eq!(code(out), 1, "{stderr}");
        for needle in needles {
            assert!(stderr.contains(needle), "{needle:?} in: {stderr}");
        }
    };

    // A private trusted root and no signing config: no CA to use.
    let out = sign(&["--trusted-root", &trusted_root.display().to_string()]);
    // The error says why no default applies ("not public-good").
    refused(
        &out,
        &[
            "no certificate authority",
            "--fulcio-url",
            "not public-good",
        ],
    );
    nothing_recorded();

    // The private CA and log given by flags, no TSA: the public TSA is not
    // used; a Rekor v2 log needs a timestamp, so signing stops up front.
    let out = sign(&[
        "--trusted-root",
        &trusted_root.display().to_string(),
        "--fulcio-url",
        &stack.url("caUrl"),
        "--rekor-url",
        &stack.url("logUrl"),
        "--rekor-version",
        "2",
    ]);
    refused(
        &out,
        &["timestamp authority is required", "--timestamp-server-url"],
    );
    nothing_recorded();

    // The same with public-good trust: naming a private CA and log means
    // the rest is not filled in from the public instance either.
    let out = sign(&[
        "--fulcio-url",
        &stack.url("caUrl"),
        "--rekor-url",
        &stack.url("logUrl"),
        "--rekor-version",
        "2",
    ]);
    refused(&out, &["timestamp authority is required"]);
    nothing_recorded();

    // Naming the TSA too signs against the private instance alone.
    let out = sign(&[
        "--trusted-root",
        &trusted_root.display().to_string(),
        "--fulcio-url",
        &stack.url("caUrl"),
        "--rekor-url",
        &stack.url("logUrl"),
        "--rekor-version",
        "2",
        "--timestamp-server-url",
        &stack.url("tsaUrl"),
    ]);
    assert_eq!(code(&out), 0, "private instance by flags: {}", text(&out));
    nothing_recorded();
    stack.stop();
}

#[test]
fn key_with_identity_flags_is_a_usage_error() {
    let dir = temp_dir("fail-closed-key");
    let key = dir.join("key.pub");
    std::fs::write(&key, b"not read: the flags are checked first").expect("key");
    for flags in [
        ["--certificate-oidc-issuer", "https://issuer.example"],
        ["--certificate-oidc-issuer-regexp", ".*"],
        ["--certificate-identity", "a@example.com"],
        ["--certificate-identity-regexp", ".*"],
    ] {
        let out = keyless_at(&dir)
            .args(["verify-blob", "--bundle", "b.json", "--key"])
            .arg(&key)
            .args(flags)
            .arg("file")
            .output()
            .expect("run");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(code(&out), 1, "{flags:?}: {stderr}");
        assert!(
            stderr.contains(&format!("--key cannot be used with {}", flags[0])),
            "{flags:?}: {stderr}"
        );
    }
}
