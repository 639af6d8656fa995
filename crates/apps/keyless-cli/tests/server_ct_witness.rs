//! `keyless server ct --witness URL=VKEY`: a `keyless witness` process,
//! configured with the CT log's ECDSA P-256 key (`public_key_pem`),
//! cosigns the CT log's checkpoints, and /ct/checkpoint carries a
//! cosignature line that verifies with the witness's vkey, over the
//! checkpoint that covers the certificate logged with `add-chain`. Also
//! over HTTPS: a witness serving a private CA's certificate is reached by
//! a log started with `--ca-bundle` (that CA) and by no other.

mod support;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use base64::Engine;
use keyless_tlog::CosignatureVerifier;
use support::*;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;
const ORIGIN: &str = "ct.test/log";

/// A CT log's data directory, port and roots, with its key made (by a
/// first start), and the chain it accepts.
struct CtLog {
    dir: PathBuf,
    roots: PathBuf,
    port: u16,
    public_pem: String,
    chain: serde_json::Value,
}

impl CtLog {
    fn new(dir: &Path) -> Self {
        let material = keyless_ca::CaMaterial::load_or_create(&dir.join("ca")).expect("CA");
        let roots = dir.join("roots.pem");
        std::fs::write(&roots, &material.chain_pem()[1]).unwrap();
        let (intermediate, root) = ca_chain_der(&material);
        let chain = serde_json::json!({ "chain": [B64.encode(intermediate), B64.encode(root)] });
        let ct_dir = dir.join("ct");
        let port = free_base_port();
        let mut ct = start_ct(&ct_dir, &roots, port, &["--origin", ORIGIN]);
        ct.kill().unwrap();
        ct.wait().unwrap();
        let public_pem = std::fs::read_to_string(ct_dir.join("ctlog.pub.pem")).unwrap();
        Self {
            dir: ct_dir,
            roots,
            port,
            public_pem,
            chain,
        }
    }

    /// The witness configuration that names this log.
    fn witness_config(&self, name: &str) -> serde_json::Value {
        serde_json::json!({
            "name": name,
            "logs": [{"origin": ORIGIN, "public_key_pem": self.public_pem}],
        })
    }

    /// `keyless server ct` for this log with `extra` flags, logging
    /// warnings to the file `stderr`.
    fn command(&self, extra: &[&std::ffi::OsStr], stderr: &Path) -> std::process::Command {
        let mut cmd = keyless();
        cmd.args(["server", "ct", "--data-dir"])
            .arg(&self.dir)
            .args(["--addr", &format!("127.0.0.1:{}", self.port), "--roots"])
            .arg(&self.roots)
            .args(["--origin", ORIGIN])
            .args(extra)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(stderr).unwrap());
        cmd
    }

    fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn add_chain(&self) {
        let (status, answer) = http_exchange(
            "POST",
            &format!("{}/ct/v1/add-chain", self.base()),
            self.chain.to_string().as_bytes(),
            Duration::from_secs(10),
        )
        .expect("add-chain answers");
        assert_eq!(status, 200, "{answer}");
    }
}

#[test]
fn server_ct_serves_the_checkpoint_cosigned_by_keyless_witness() {
    let dir = temp_dir("server-ct-witness");
    let log = CtLog::new(&dir);
    let witness = WitnessProcess::start(
        &dir,
        &log.witness_config("witness.test/ct"),
        free_base_port(),
    );
    let vkey = witness.vkey.clone();
    assert!(vkey.starts_with("witness.test/ct+"), "{vkey:?}");

    let flag = witness.flag();
    let mut ct = start_ct(
        &log.dir,
        &log.roots,
        log.port,
        &["--origin", ORIGIN, "--witness", &flag],
    );
    let base = log.base();
    log.add_chain();

    let verifier = CosignatureVerifier::from_vkey(&vkey).unwrap();
    let note = wait_cosigned(&format!("{base}/ct/checkpoint"), &vkey, 1);
    assert_eq!(note.body().lines().nth(1), Some("1"), "{}", note.body());
    // The log's own signature lines are still there: the core's note
    // signature and the RFC 6962 one, both named by the origin.
    let by_log = note
        .signatures()
        .iter()
        .filter(|s| s.name == ORIGIN)
        .count();
    assert_eq!(by_log, 2, "{}", note.body());

    // The log keeps only answers that verify: every other line served is
    // the witness's cosignature.
    for s in note.signatures().iter().filter(|s| s.name != ORIGIN) {
        verifier
            .verify(note.body(), s)
            .expect("only verified lines");
    }
    ct.kill().unwrap();
    ct.wait().unwrap();
    witness.stop();
    let _ = std::fs::remove_dir_all(&dir);
}

/// A witness serving HTTPS with a private CA's certificate: a CT log
/// started without `--ca-bundle` cannot reach it (a warning naming the
/// witness, no cosignature served), the same log started with the CA as
/// `--ca-bundle` gets its cosignature.
#[test]
fn server_ct_reaches_a_tls_witness_only_with_ca_bundle() {
    let dir = temp_dir("server-ct-witness-tls");
    let log = CtLog::new(&dir);
    let (ca, chain, key) = throwaway_pki();
    let (ca_pem, tls_pem, tls_key) = (dir.join("ca.pem"), dir.join("tls.pem"), dir.join("tls.key"));
    std::fs::write(&ca_pem, ca).unwrap();
    std::fs::write(&tls_pem, chain).unwrap();
    std::fs::write(&tls_key, key).unwrap();
    let witness = WitnessProcess::start_tls(
        &dir,
        &log.witness_config("witness.test/tls"),
        free_base_port(),
        &tls_pem,
        &tls_key,
    );
    assert!(witness.url.starts_with("https://"), "{}", witness.url);
    let flag = witness.flag();
    let verifier = CosignatureVerifier::from_vkey(&witness.vkey).unwrap();
    let checkpoint = format!("{}/ct/checkpoint", log.base());

    // Without the bundle the witness's certificate is not trusted.
    let stderr = dir.join("ct.stderr");
    let mut ct = spawn_until_ok(
        &mut log.command(&["--witness".as_ref(), flag.as_ref()], &stderr),
        &checkpoint,
        "keyless server ct",
    );
    log.add_chain();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let text = std::fs::read_to_string(&stderr).unwrap_or_default();
        if text.contains("no cosignature") && text.contains(&witness.url) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no warning about the witness: {text}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let note = keyless_tlog::SignedNote::parse(&http_get(&checkpoint)).unwrap();
    assert_eq!(note.body().lines().nth(1), Some("1"), "{}", note.body());
    assert!(
        !note
            .signatures()
            .iter()
            .any(|s| verifier.verify(note.body(), s).is_ok()),
        "cosigned by a witness the log does not trust: {}",
        note.body()
    );
    ct.kill().unwrap();
    ct.wait().unwrap();

    // With it, the same log gets the cosignature.
    let ca_bundle = ca_pem.to_str().expect("utf8");
    let mut ct = start_ct(
        &log.dir,
        &log.roots,
        log.port,
        &[
            "--origin",
            ORIGIN,
            "--witness",
            &flag,
            "--ca-bundle",
            ca_bundle,
        ],
    );
    let note = wait_cosigned(&checkpoint, &witness.vkey, 1);
    assert_eq!(note.body().lines().nth(1), Some("1"), "{}", note.body());
    ct.kill().unwrap();
    ct.wait().unwrap();
    witness.stop();
    let _ = std::fs::remove_dir_all(&dir);
}

/// `--witness-policy FILE`, the C2SP tlog-policy verifiers are given: its
/// witnesses with a URL are asked as with --witness; one without a URL is
/// named in a warning and not asked; a policy with no URL at all stops the
/// log at start.
#[test]
fn server_ct_asks_the_witnesses_of_a_policy_file() {
    use keyless_crypto::{KeyAlgorithm, SigningKey};
    let dir = temp_dir("server-ct-witness-policy");
    let log = CtLog::new(&dir);
    let witness = WitnessProcess::start(
        &dir,
        &log.witness_config("witness.test/asked"),
        free_base_port(),
    );
    let key = SigningKey::generate(KeyAlgorithm::Ed25519).unwrap();
    let unreachable = keyless_witness::Cosigner::new("witness.test/no-url", key)
        .unwrap()
        .vkey();
    let policy = dir.join("policy.txt");
    std::fs::write(
        &policy,
        format!(
            "witness asked {} {}\nwitness nourl {unreachable}\ngroup any-one any asked nourl\nquorum any-one\n",
            witness.vkey, witness.url
        ),
    )
    .unwrap();
    let ct_cmd = |policy: &Path, stderr: &Path| {
        log.command(&["--witness-policy".as_ref(), policy.as_ref()], stderr)
    };
    let checkpoint = format!("{}/ct/checkpoint", log.base());
    let stderr = dir.join("ct.stderr");
    let mut ct = spawn_until_ok(
        &mut ct_cmd(&policy, &stderr),
        &checkpoint,
        "keyless server ct",
    );
    log.add_chain();
    let note = wait_cosigned(&checkpoint, &witness.vkey, 1);
    assert_eq!(note.body().lines().nth(1), Some("1"), "{}", note.body());
    let warnings = std::fs::read_to_string(&stderr).unwrap();
    assert!(
        warnings.contains("nourl") && warnings.contains("no URL"),
        "{warnings}"
    );
    ct.kill().unwrap();
    ct.wait().unwrap();

    // Nobody to ask: refused at start, not a log that gathers nothing.
    std::fs::write(
        &policy,
        format!("witness nourl {unreachable}\nquorum nourl\n"),
    )
    .unwrap();
    let mut ct = ct_cmd(&policy, &stderr).spawn().unwrap();
    let status = wait_exit(
        &mut ct,
        Duration::from_secs(30),
        "keyless server ct with a policy naming no witness URL",
    );
    assert!(!status.success());
    let text = std::fs::read_to_string(&stderr).unwrap();
    assert!(
        text.contains("none of the policy's witnesses has a URL"),
        "{text}"
    );
    witness.stop();
    let _ = std::fs::remove_dir_all(&dir);
}
