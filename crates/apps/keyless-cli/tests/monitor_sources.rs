//! `keyless monitor` on the other kinds of log it reads: the CA's CT log
//! of the dev stack (`--ct-log`: every certificate issued for the watched
//! identity), and a log with only the Rekor v1 API (no tiles), served here
//! from memory, which also rewrites its history once.

mod support;

use std::io::{Read, Write};
use std::path::Path;

use base64::Engine;
use keyless_crypto::{KeyAlgorithm, SigningKey};
use keyless_tlog::{
    consistency_proof, inclusion_proof, leaf_hash, root_from_leaves, NoteSigner, TileId, TileKind,
};
use support::*;

fn lines(o: &std::process::Output) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l:?}: {e}")))
        .collect()
}

/// The leaf certificate's serial number (hex) in a bundle.
fn bundle_serial(bundle: &Path) -> String {
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(bundle).unwrap()).unwrap();
    let vm = &v["verificationMaterial"];
    let raw = vm["certificate"]["rawBytes"]
        .as_str()
        .or_else(|| vm["x509CertificateChain"]["certificates"][0]["rawBytes"].as_str())
        .expect("a certificate in the bundle");
    let der = base64::engine::general_purpose::STANDARD
        .decode(raw)
        .unwrap();
    let cert = keyless_x509::Certificate::from_der(&der).unwrap();
    hex::encode(cert.inner().tbs_certificate.serial_number.as_bytes())
}

/// The status of a GET (the body may be binary).
fn status(url: &str) -> u16 {
    let rest = url.strip_prefix("http://").unwrap();
    let (host, path) = rest.split_once('/').unwrap();
    let mut c = std::net::TcpStream::connect(host).unwrap();
    write!(c, "GET /{path} HTTP/1.0\r\nHost: {host}\r\n\r\n").unwrap();
    let mut out = Vec::new();
    let _ = c.read_to_end(&mut out);
    String::from_utf8_lossy(&out[..out.len().min(64)])
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

#[test]
fn ct_log_reports_exactly_the_watched_identitys_certificates() {
    let dir = temp_dir("monitor-ct");
    let stack = DevStack::start(&dir, free_base_port());
    let issuer = stack.url("oidcIssuer");
    let ca = stack.url("caUrl");
    let monitor = |state: &str, extra: &[&str]| {
        run(keyless()
            .env("SIGSTORE_TRUST_CONFIG", stack.trust_config())
            .args(["monitor", "--ct-log", &ca, "--state"])
            .arg(dir.join(state))
            .args(["--once", "--issuer", &issuer])
            .args(extra))
    };
    stack.sign_blob("alice@example.com", "a1");
    stack.sign_blob("bob@example.com", "b1");
    stack.sign_blob("alice@example.com", "a2");

    let o = monitor(
        "alice",
        &["--identity", "alice@example.com", "--from-index", "0"],
    );
    assert!(o.status.success(), "{}", text(&o));
    let first = lines(&o);
    let serials: Vec<String> = ["a1", "a2"]
        .iter()
        .map(|n| bundle_serial(&dir.join(format!("{n}.sigstore.json"))))
        .collect();
    assert_eq!(first.len(), 2, "{}", text(&o));
    for (l, serial) in first.iter().zip(&serials) {
        assert_eq!(l["log"], "ct", "{l}");
        assert_eq!(l["identity"], "alice@example.com", "{l}");
        assert_eq!(l["issuer"], issuer.as_str(), "{l}");
        assert_eq!(l["entryType"], "precert", "{l}");
        assert_eq!(&l["serial"], serial.as_str(), "{l}");
        assert!(
            l["fingerprint"].as_str().unwrap().starts_with("sha256:"),
            "{l}"
        );
        assert!(l["timestamp"].as_u64().unwrap() > 1_600_000_000_000, "{l}");
        let url = l["entryUrl"].as_str().unwrap();
        assert!(url.starts_with(&format!("{ca}/ct/tile/")), "{l}");
        assert_eq!(status(url), 200, "{url} is served");
    }
    // Bob's certificate, by regexp, is the one between them.
    let o = monitor("bob", &["--identity-regexp", "bob@.*", "--from-index", "0"]);
    let bob = lines(&o);
    assert_eq!(bob.len(), 1, "{}", text(&o));
    assert_eq!(bob[0]["identity"], "bob@example.com");
    assert!(first[0]["logIndex"].as_u64() < bob[0]["logIndex"].as_u64());

    // Resumes from its state: only the new certificate, once.
    stack.sign_blob("bob@example.com", "b2");
    stack.sign_blob("alice@example.com", "a3");
    let o = monitor("alice", &["--identity", "alice@example.com"]);
    let next = lines(&o);
    assert_eq!(next.len(), 1, "{}", text(&o));
    assert_eq!(
        next[0]["serial"],
        bundle_serial(&dir.join("a3.sigstore.json")).as_str()
    );
    let o = monitor("alice", &["--identity", "alice@example.com"]);
    assert!(o.status.success() && lines(&o).is_empty(), "{}", text(&o));
    assert!(dir.join("alice.ct").exists(), "the CT state file");

    // With --log too: the Rekor entries and the certificates, one run.
    let o = run(keyless()
        .env("SIGSTORE_TRUST_CONFIG", stack.trust_config())
        .args(["monitor", "--log", &stack.url("logUrl"), "--ct-log", &ca])
        .args([
            "--identity",
            "alice@example.com",
            "--once",
            "--from-index",
            "0",
        ])
        .arg("--state")
        .arg(dir.join("both")));
    let both = lines(&o);
    let ct = both.iter().filter(|l| l["log"] == "ct").count();
    assert_eq!((both.len(), ct), (6, 3), "{}", text(&o));
}

/// A proxy in front of `log` (http://host:port) that hides its tiles:
/// `/checkpoint` and `/tile/...` answer 404, everything else is passed on.
fn without_tiles(log: &str) -> String {
    let upstream = log.strip_prefix("http://").unwrap().to_string();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for s in listener.incoming() {
            let Ok(mut s) = s else { continue };
            let mut buf = [0u8; 8192];
            let n = s.read(&mut buf).unwrap_or(0);
            let req = String::from_utf8_lossy(&buf[..n]).to_string();
            let path = req.split_whitespace().nth(1).unwrap_or("/").to_string();
            if path.starts_with("/checkpoint") || path.starts_with("/tile/") {
                let _ = s.write_all(
                    b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                );
                continue;
            }
            let Ok(mut up) = std::net::TcpStream::connect(&upstream) else {
                continue;
            };
            let _ = write!(up, "GET {path} HTTP/1.0\r\nHost: {upstream}\r\n\r\n");
            let mut answer = Vec::new();
            let _ = up.read_to_end(&mut answer);
            let _ = s.write_all(&answer);
        }
    });
    url
}

#[test]
fn the_dev_stacks_log_is_followed_through_its_v1_api_alone() {
    let dir = temp_dir("monitor-v1-dev");
    let stack = DevStack::start(&dir, free_base_port());
    let log = stack.url("logUrl");
    let proxy = without_tiles(&log);
    assert!(!http_ok(&format!("{proxy}/checkpoint")));
    std::fs::write(
        dir.join("log.pub"),
        http_get(&format!("{log}/api/v1/log/publicKey")),
    )
    .unwrap();
    stack.sign_blob("alice@example.com", "a1");
    stack.sign_blob("bob@example.com", "b1");
    stack.sign_blob("alice@example.com", "a2");
    let monitor = |extra: &[&str]| {
        let o = run(keyless()
            .args([
                "monitor",
                "--log",
                &proxy,
                "--identity",
                "alice@example.com",
            ])
            .args(["--once", "--log-public-key"])
            .arg(dir.join("log.pub"))
            .arg("--state")
            .arg(dir.join("alice"))
            .args(extra));
        assert!(o.status.success(), "{}", text(&o));
        lines(&o)
    };
    let first = monitor(&["--from-index", "0"]);
    assert_eq!(first.len(), 2, "{first:?}");
    assert!(first.iter().all(|l| l["identity"] == "alice@example.com"));
    stack.sign_blob("bob@example.com", "b2");
    stack.sign_blob("alice@example.com", "a3");
    let next = monitor(&[]);
    assert_eq!(next.len(), 1, "{next:?}");
    assert!(next[0]["logIndex"].as_u64() > first[1]["logIndex"].as_u64());
    assert!(monitor(&[]).is_empty());
}

/// A log with only the Rekor v1 API, served from memory.
#[derive(Clone, Default)]
struct V1Log(Files);

impl V1Log {
    fn start(&self) -> String {
        serve_files(self.0.clone())
    }

    /// Serve `entries` through /api/v1/log, /api/v1/log/entries?logIndex=
    /// and /api/v1/log/proof, and nothing else (no checkpoint, no tiles).
    fn serve(&self, signer: &NoteSigner, entries: &[Vec<u8>]) {
        let leaves: Vec<_> = entries.iter().map(|e| leaf_hash(e)).collect();
        let n = entries.len() as u64;
        let root = root_from_leaves(&leaves);
        let note = signed_checkpoint(signer, &leaves);
        let hexes = |hs: Vec<[u8; 32]>| hs.iter().map(hex::encode).collect::<Vec<_>>();
        let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
        let mut files = self.0.lock().unwrap();
        files.clear();
        let info = serde_json::json!({"signedTreeHead": note, "treeSize": n, "rootHash": hex::encode(root)});
        files.insert("api/v1/log".into(), info.to_string().into_bytes());
        for (i, body) in entries.iter().enumerate() {
            let uuid = hex::encode(leaves[i]);
            let entry = serde_json::json!({ uuid: {
            "body": b64(body), "logIndex": i, "integratedTime": 1_700_000_000,
            "verification": {"inclusionProof": {
                "logIndex": i, "treeSize": n, "rootHash": hex::encode(root),
                "hashes": hexes(inclusion_proof(&leaves, i as u64).unwrap()),
                "checkpoint": note,
            }}}});
            files.insert(
                format!("api/v1/log/entries?logIndex={i}"),
                entry.to_string().into_bytes(),
            );
        }
        for m in 1..n {
            let proof = serde_json::json!({"rootHash": hex::encode(root),
                "hashes": hexes(consistency_proof(&leaves, m).unwrap())});
            files.insert(
                format!("api/v1/log/proof?firstSize={m}&lastSize={n}"),
                proof.to_string().into_bytes(),
            );
        }
    }
}

impl V1Log {
    /// Serve a CT log of `n` precert entries (TBS `<tag><i>`) in the
    /// static-ct-api layout: checkpoint, hash tiles, data tiles.
    fn serve_ct(&self, signer: &NoteSigner, tag: &str, n: usize) {
        let mut data = Vec::new();
        let mut leaves = Vec::new();
        for i in 0..n {
            let tbs = format!("{tag}{i}").into_bytes();
            let mut te = (i as u64).to_be_bytes().to_vec();
            te.extend_from_slice(&[0, 1]);
            te.extend_from_slice(&[9; 32]);
            te.extend_from_slice(&(tbs.len() as u32).to_be_bytes()[1..]);
            te.extend_from_slice(&tbs);
            te.extend_from_slice(&[0, 0]);
            leaves.push(leaf_hash(&[&[0u8, 0][..], &te].concat()));
            let mut tile_leaf = te;
            tile_leaf.extend_from_slice(&[0, 0, 1, b'p', 0, 0]);
            data.push(tile_leaf);
        }
        let mut files = self.0.lock().unwrap();
        files.clear();
        let note = signed_checkpoint(signer, &leaves);
        files.insert("ct/checkpoint".into(), note.into_bytes());
        for (path, tile) in hash_tiles(leaves) {
            files.insert(format!("ct/{path}"), tile);
        }
        for (t, chunk) in data.chunks(256).enumerate() {
            let id = TileId {
                kind: TileKind::Entries,
                index: t as u64,
                width: chunk.len() as u16,
            };
            let path = id.path().replace("tile/entries/", "tile/data/");
            files.insert(format!("ct/{path}"), chunk.concat());
        }
    }
}

#[test]
fn a_ct_log_that_rewrites_history_is_an_alarm() {
    let dir = temp_dir("monitor-ct-fork");
    let key = SigningKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
    let pub_pem = dir.join("ct.pub");
    std::fs::write(&pub_pem, key.public_key().to_pem()).unwrap();
    let signer = NoteSigner::new("ct.fork.example", key).unwrap();
    let log = V1Log::default();
    let url = log.start();
    let monitor = || {
        run(keyless()
            .args(["monitor", "--ct-log", &url, "--identity", "x@example.com"])
            .args(["--once", "--from-index", "0", "--ct-log-public-key"])
            .arg(&pub_pem)
            .arg("--state")
            .arg(dir.join("m")))
    };
    // Across a full data tile and into the next one.
    log.serve_ct(&signer, "good", 300);
    let o = monitor();
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("read 300 entries"), "{}", text(&o));
    // Their TBS are not certificates: counted and said, never matched.
    assert!(
        text(&o).contains("WARNING: 300 entries did not decode"),
        "{}",
        text(&o)
    );
    let saved = std::fs::read_to_string(dir.join("m.ct")).unwrap();
    // --ct-from-index starts the CT log where it says, over --from-index;
    // beyond the log it is refused.
    let late = |from: &str| {
        run(keyless()
            .args(["monitor", "--ct-log", &url, "--identity", "x@example.com"])
            .args(["--once", "--from-index", "0", "--ct-from-index", from])
            .arg("--ct-log-public-key")
            .arg(&pub_pem)
            .arg("--state")
            .arg(dir.join(format!("late-{from}"))))
    };
    let o = late("295");
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("read 5 entries"), "{}", text(&o));
    let o = late("301");
    assert!(!o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains("301, is beyond the log's 300 entries"),
        "{}",
        text(&o)
    );
    log.serve_ct(&signer, "good", 310);
    let o = monitor();
    assert!(text(&o).contains("read 10 entries"), "{}", text(&o));
    std::fs::write(dir.join("m.ct"), &saved).unwrap();
    log.serve_ct(&signer, "fork", 310);
    let o = monitor();
    let out = text(&o);
    assert_eq!(o.status.code(), Some(3), "{out}");
    assert!(
        out.contains("ALARM") && out.contains("size 300, root "),
        "{out}"
    );
    assert_eq!(std::fs::read_to_string(dir.join("m.ct")).unwrap(), saved);
}

#[test]
fn a_log_without_tiles_is_followed_through_the_v1_api() {
    let dir = temp_dir("monitor-v1");
    let (pub_pem, signer) = fake_log_signer(&dir, "v1.test.example");
    let keys = EntryKeys::new(&dir);
    let watched_pem = keys.watched_pem.clone();
    let entry = |tag: &str, i: usize| keys.hashedrekord(i % 3 == 1, format!("{tag}{i}").as_bytes());
    let entries = |tag: &str, n: usize| (0..n).map(|i| entry(tag, i)).collect::<Vec<_>>();
    let log = V1Log::default();
    let url = log.start();
    assert!(!http_ok(&format!("{url}/checkpoint")), "no tiles here");
    let monitor = |state: &str, extra: &[&str]| {
        run(keyless()
            .args(["monitor", "--log", &url, "--once", "--key"])
            .arg(&watched_pem)
            .arg("--log-public-key")
            .arg(&pub_pem)
            .arg("--state")
            .arg(dir.join(state))
            .args(extra))
    };
    let indices = |o: &std::process::Output| -> Vec<u64> {
        assert!(o.status.success(), "{}", text(o));
        lines(o)
            .iter()
            .map(|l| l["logIndex"].as_u64().unwrap())
            .collect()
    };

    log.serve(&signer, &entries("good", 8));
    assert_eq!(indices(&monitor("m", &["--from-index", "0"])), [1, 4, 7]);
    // Starting mid-log (the frontier seeded from an inclusion proof).
    assert_eq!(indices(&monitor("mid", &["--from-index", "5"])), [7]);
    // A consistent extension: only the new ones, from either state.
    log.serve(&signer, &entries("good", 14));
    assert_eq!(indices(&monitor("m", &[])), [10, 13]);
    assert_eq!(indices(&monitor("mid", &[])), [10, 13]);
    assert!(indices(&monitor("m", &[])).is_empty());
    // A fresh monitor at the head reads nothing, and then follows.
    assert!(indices(&monitor("head", &[])).is_empty());
    log.serve(&signer, &entries("good", 17));
    assert_eq!(indices(&monitor("head", &[])), [16]);

    // History rewritten behind the stored checkpoint: an alarm, every time.
    let saved = std::fs::read_to_string(dir.join("m")).unwrap();
    log.serve(&signer, &entries("fork", 20));
    for _ in 0..2 {
        let o = monitor("m", &[]);
        let out = text(&o);
        assert_eq!(o.status.code(), Some(3), "{out}");
        assert!(
            out.contains("ALARM") && out.contains("size 14, root ") && out.contains("size 20"),
            "{out}"
        );
        assert_eq!(std::fs::read_to_string(dir.join("m")).unwrap(), saved);
    }
}
