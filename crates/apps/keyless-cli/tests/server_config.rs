//! `keyless server --config FILE` and `--check-config FILE` (issue 18,
//! point 3): the example in docs/config/ lists every flag and only flags
//! and passes the check; problems are named; a service starts from a file
//! with the command line overriding it.

mod support;

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use keyless_cli::commands::server_config::{resolve_table, server_command, tables};
use support::*;

fn example_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../docs/config/keyless.example.toml")
}

fn example() -> String {
    std::fs::read_to_string(example_path()).expect("docs/config/keyless.example.toml")
}

/// The example with every commented `# key = value` line made live, by
/// table: what a reader may uncomment.
fn uncommented(text: &str) -> BTreeMap<String, String> {
    let mut tables: BTreeMap<String, String> = BTreeMap::new();
    let mut current = String::new();
    for line in text.lines() {
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            current = name.to_owned();
            tables.entry(current.clone()).or_default();
            continue;
        }
        let live = line.strip_prefix("# ").unwrap_or(line);
        let is_key = live.split_once(" = ").is_some_and(|(k, _)| {
            !k.is_empty()
                && k.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        });
        if is_key && !current.is_empty() {
            let body = tables.entry(current.clone()).or_default();
            body.push_str(live);
            body.push('\n');
        }
    }
    tables
}

#[test]
fn the_example_lists_every_flag_and_only_flags() {
    let tables_in_example = uncommented(&example());
    let server = server_command();
    for (name, args) in tables(&server) {
        let body = tables_in_example
            .get(&name)
            .unwrap_or_else(|| panic!("docs/config/keyless.example.toml has no [{name}] table"));
        let table: toml::Table = body
            .parse()
            .unwrap_or_else(|e| panic!("[{name}] uncommented is not TOML: {e}\n{body}"));
        // Every key is a flag, with a value the flag takes.
        if let Err(problems) = resolve_table(&name, &args, &table) {
            panic!("docs/config/keyless.example.toml: {problems:?}");
        }
        // Every flag is in the example (set or commented).
        // Global flags (tls-cert, log-format, …) in [server]; a service's
        // table may repeat them.
        for arg in args
            .iter()
            .filter(|a| name == "server" || !a.is_global_set())
        {
            let long = arg.get_long().expect("keys are long flags");
            assert!(
                table.contains_key(long),
                "docs/config/keyless.example.toml: add `# {long} = …` to [{name}] (flag --{long} of `keyless server{}`)",
                if name == "server" { String::new() } else { format!(" {name}") }
            );
        }
    }
    assert_eq!(
        tables_in_example.len(),
        tables(&server).len(),
        "a table in the example that is no service"
    );
}

/// Self-signed certificate and key in PEM.
fn tls_pair(dir: &Path, name: &str) {
    let ck = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).expect("rcgen");
    std::fs::write(dir.join(format!("{name}.pem")), ck.cert.pem()).expect("cert");
    let key = dir.join(format!("{name}.key"));
    std::fs::write(&key, ck.signing_key.serialize_pem()).expect("key");
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).expect("chmod");
}

fn check(path: &Path) -> (i32, String) {
    let o = run(keyless()
        .args(["server", "--check-config"])
        .arg(path)
        .env_remove("KEYLESS_CONFIG"));
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into_owned(),
    )
}

#[test]
fn check_config_passes_the_example_once_its_files_exist() {
    // As shipped: only the files it names are missing here.
    let (code, out) = check(&example_path());
    assert_eq!(code, 1, "{out}");
    let errors: Vec<&str> = out.lines().filter(|l| l.starts_with("error")).collect();
    assert!(!errors.is_empty(), "{out}");
    assert!(
        errors.iter().all(|l| l.ends_with("does not exist")),
        "{out}"
    );
    assert!(
        out.contains("ok     [log] `keyless server log --config FILE` parses"),
        "{out}"
    );

    // With /etc/keyless and /var/lib/keyless moved to a scratch directory
    // and the files made: valid, and the TLS pairs load.
    let dir = temp_dir("server-config-example");
    let etc = dir.join("etc");
    let tls = etc.join("tls");
    std::fs::create_dir_all(&tls).unwrap();
    for name in ["log", "ca", "tsa"] {
        tls_pair(&tls, name);
    }
    std::fs::write(etc.join("issuers.json"), br#"{"OIDCIssuers": {}}"#).unwrap();
    let var = dir.join("var");
    std::fs::create_dir_all(var.join("log")).unwrap();
    let log_key = var.join("log").join("log.key");
    std::fs::write(&log_key, b"not read by the check").unwrap();
    std::fs::set_permissions(&log_key, std::fs::Permissions::from_mode(0o600)).unwrap();
    let text = example()
        .replace("/etc/keyless", etc.to_str().unwrap())
        .replace("/var/lib/keyless", var.to_str().unwrap());
    let path = dir.join("keyless.toml");
    std::fs::write(&path, text).unwrap();
    let (code, out) = check(&path);
    assert_eq!(code, 0, "{out}");
    for expected in [
        "ok     valid TOML (",
        "ok     [ca] `keyless server ca --config FILE` parses",
        "] TLS certificate",
        "load and match",
        "log.key: key file, mode 0600",
        "[ca] data-dir",
        "does not exist yet (created on first start)",
        "[oidc] no keys: not checked",
        "configuration valid",
    ] {
        assert!(out.contains(expected), "no {expected:?} in\n{out}");
    }

    // One service's part only (what its host has).
    let o = run(keyless()
        .args(["server", "ca", "--check-config"])
        .arg(&path)
        .env_remove("KEYLESS_CONFIG"));
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(
        out.contains("[ca] `keyless server ca --config FILE` parses"),
        "{out}"
    );
    assert!(!out.contains("[log]") && !out.contains("[tsa]"), "{out}");

    // A key file others can read is refused.
    std::fs::set_permissions(&log_key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let (code, out) = check(&path);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("log.key: key file readable by group or others (mode 0644)"),
        "{out}"
    );
    let o = run(keyless()
        .args(["server", "ca", "--check-config"])
        .arg(&path)
        .env_remove("KEYLESS_CONFIG"));
    assert_eq!(
        o.status.code(),
        Some(0),
        "the log's key is not the CA host's concern"
    );
    let o = run(keyless()
        .args(["server", "log", "--check-config"])
        .arg(&path)
        .env_remove("KEYLESS_CONFIG"));
    assert_eq!(o.status.code(), Some(1));
}

#[test]
fn check_config_names_every_problem() {
    let dir = temp_dir("server-config-problems");
    let path = dir.join("bad.toml");
    std::fs::write(
        &path,
        "[log]\ndata_dir = \"x\"\nbatch-size = 0\nshards = 2\n[ledger]\nx = 1\n",
    )
    .unwrap();
    let (code, out) = check(&path);
    assert_eq!(code, 1, "{out}");
    for expected in [
        "unknown key `data_dir` in [log]: `keyless server log` has no flag --data_dir (did you mean `data-dir`?)",
        "[log] batch-size: invalid value '0'",
        "unknown key `shards` in [log]",
        "unknown table [ledger]",
        "problem(s) found",
    ] {
        assert!(out.contains(expected), "no {expected:?} in\n{out}");
    }

    std::fs::write(
        &path,
        "[log]\nlisten = \"127.0.0.1:1\"\ntls-cert = \"c.pem\"\n",
    )
    .unwrap();
    let (code, out) = check(&path);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("`keyless server log --config FILE` would not start"),
        "{out}"
    );
    assert!(out.contains("--data-dir"), "{out}");
    assert!(out.contains("--tls-key"), "{out}");

    // A password in the file makes the file a secret.
    std::fs::write(
        &path,
        "[log]\ndata-dir = \"d\"\npostgres = \"host=db user=keyless password=hunter2\"\n",
    )
    .unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let (code, out) = check(&path);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains(
            "[log] postgres holds a password and the file is readable by others (mode 0644)"
        ),
        "{out}"
    );
    assert!(!out.contains("hunter2"), "the password is printed: {out}");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
    let (code, out) = check(&path);
    assert_eq!(code, 0, "{out}");

    // The CT log's key (ctlog.key.pem) is a key file too.
    let ct = dir.join("ct");
    std::fs::create_dir_all(&ct).unwrap();
    let ct_key = ct.join("ctlog.key.pem");
    std::fs::write(&ct_key, b"-").unwrap();
    std::fs::set_permissions(&ct_key, std::fs::Permissions::from_mode(0o640)).unwrap();
    std::fs::write(&path, format!("[ct]\ndata-dir = \"{}\"\n", ct.display())).unwrap();
    let (code, out) = check(&path);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("ctlog.key.pem: key file readable by group or others (mode 0640)"),
        "{out}"
    );

    std::fs::write(&path, "[log\n").unwrap();
    let (code, out) = check(&path);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("is not valid TOML"), "{out}");
}

#[test]
fn a_service_starts_from_the_file_and_flags_override_it() {
    let dir = temp_dir("server-config-start");
    let port = free_base_port();
    let path = dir.join("keyless.toml");
    // The file's listen port is taken by this test, so the log starts only
    // if the command line's --listen wins.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    std::fs::write(
        &path,
        format!(
            "[server]\nlog-format = \"json\"\n[log]\ndata-dir = \"{}\"\nlisten = \"{}\"\norigin = \"config.example/log\"\n",
            dir.join("log").display(),
            taken.local_addr().unwrap()
        ),
    )
    .unwrap();
    let stderr = dir.join("stderr.log");
    let mut child = keyless()
        .args(["server", "log", "--listen"])
        .arg(format!("127.0.0.1:{port}"))
        .env("KEYLESS_CONFIG", &path)
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&stderr).unwrap())
        .spawn()
        .expect("keyless server log");
    let base = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(60);
    while !http_ok(&format!("{base}/healthz")) {
        if let Ok(Some(status)) = child.try_wait() {
            panic!(
                "the log exited ({status}): {}",
                std::fs::read_to_string(&stderr).unwrap_or_default()
            );
        }
        assert!(Instant::now() < deadline, "the log never answered");
        std::thread::sleep(Duration::from_millis(50));
    }
    let checkpoint = http_get(&format!("{base}/checkpoint"));
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        checkpoint.starts_with("config.example/log\n"),
        "origin from the file: {checkpoint}"
    );
    assert!(
        dir.join("log").join("log.key").exists(),
        "data-dir from the file"
    );
    let logged = std::fs::read_to_string(&stderr).unwrap();
    let first = logged.lines().next().unwrap_or_default();
    assert!(
        serde_json::from_str::<serde_json::Value>(first).is_ok(),
        "log-format from [server]: {logged}"
    );
}
