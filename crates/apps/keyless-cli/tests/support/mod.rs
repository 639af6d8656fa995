//! Running `keyless server --dev` as a child process for end-to-end tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

mod entries;
mod fake_logs;
mod files_server;
mod registry;
mod tls_stack;

// Each test binary uses only some of these.
#[allow(unused_imports)]
pub use entries::{
    acknowledged, check_acknowledged, hash32, hashedrekord_v002_request, hashes, log_checkpoint,
    ServedProof,
};
#[allow(unused_imports)]
pub use fake_logs::{fake_log_signer, hash_tiles, signed_checkpoint, EntryKeys};
#[allow(unused_imports)]
pub use files_server::{serve_files, Files};
#[allow(unused_imports)]
pub use registry::Registry;
#[allow(unused_imports)]
pub use tls_stack::{parse_metrics, throwaway_pki, TlsDevStack};

pub fn keyless() -> Command {
    Command::new(env!("CARGO_BIN_EXE_keyless"))
}

pub fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("keyless-test-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("temp dir");
    d
}

/// A base port with the six after it free right now (the stack uses seven).
pub fn free_base_port() -> u16 {
    for _ in 0..50 {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let base = l.local_addr().expect("addr").port();
        drop(l);
        if base > 65000 {
            continue;
        }
        if (0..7).all(|i| std::net::TcpListener::bind(("127.0.0.1", base + i)).is_ok()) {
            return base;
        }
    }
    panic!("no free port range");
}

/// A running dev stack; killed when dropped.
pub struct DevStack {
    pub dir: PathBuf,
    child: Child,
    pub stack: serde_json::Value,
}

impl DevStack {
    pub fn start(dir: &Path, port: u16) -> Self {
        Self::start_with_args(dir, port, &[])
    }

    /// [`DevStack::start`] with more `keyless server --dev` arguments.
    pub fn start_with_args(dir: &Path, port: u16, extra: &[&str]) -> Self {
        let _ = std::fs::remove_file(dir.join("stack.json"));
        let child = keyless()
            .args([
                "server",
                "--dev",
                "--listen",
                &format!("127.0.0.1:{port}"),
                "--data-dir",
            ])
            .arg(dir)
            .args(extra)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start keyless server --dev");
        let deadline = Instant::now() + Duration::from_secs(60);
        let stack = loop {
            if let Ok(bytes) = std::fs::read(dir.join("stack.json")) {
                if let Ok(v) = serde_json::from_slice::<serde_json::Value>(&bytes) {
                    break v;
                }
            }
            assert!(
                Instant::now() < deadline,
                "the dev stack did not write stack.json"
            );
            std::thread::sleep(Duration::from_millis(50));
        };
        let health = stack["healthUrl"].as_str().expect("healthUrl").to_string();
        let deadline = Instant::now() + Duration::from_secs(30);
        while !http_ok(&health) {
            assert!(
                Instant::now() < deadline,
                "the dev stack never became healthy"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Self {
            dir: dir.to_path_buf(),
            child,
            stack,
        }
    }

    pub fn trust_config(&self) -> PathBuf {
        self.dir.join("trust_config.json")
    }

    pub fn url(&self, key: &str) -> String {
        self.stack[key]
            .as_str()
            .unwrap_or_else(|| panic!("{key} in stack.json"))
            .to_string()
    }

    pub fn token(&self, subject: &str) -> String {
        dev_token(&self.dir, subject)
    }

    /// Write the artifact `<dir>/<name>` and sign it as `who` with
    /// `keyless sign-blob`, the bundle at `<dir>/<name>.sigstore.json`.
    pub fn sign_blob(&self, who: &str, name: &str) {
        let artifact = self.dir.join(name);
        std::fs::write(&artifact, format!("{name} by {who}\n")).unwrap();
        let token = self.token(who);
        let o = run(keyless()
            .env("SIGSTORE_TRUST_CONFIG", self.trust_config())
            .args(["sign-blob", "--yes", "--identity-token", &token, "--bundle"])
            .arg(self.dir.join(format!("{name}.sigstore.json")))
            .arg(&artifact));
        assert!(o.status.success(), "{}", text(&o));
    }

    pub fn stop(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A token for `subject` from the dev OIDC issuer of the stack in
/// `data_dir` (`keyless dev-token`).
pub fn dev_token(data_dir: &Path, subject: &str) -> String {
    let out = keyless()
        .args(["dev-token", "--subject", subject, "--data-dir"])
        .arg(data_dir)
        .output()
        .expect("dev-token");
    assert!(
        out.status.success(),
        "dev-token failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .expect("utf8")
        .trim()
        .to_string()
}

impl Drop for DevStack {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One HTTP/1.0 request on loopback (std only; the tests must not depend
/// on the client under test), so the answer is never chunked: the status
/// code and the body, or `None` if nothing sensible came back within
/// `timeout`.
pub fn http_exchange(
    method: &str,
    url: &str,
    body: &[u8],
    timeout: Duration,
) -> Option<(u16, String)> {
    use std::io::{Read, Write};
    let rest = url.strip_prefix("http://")?;
    let (host, path) = rest
        .split_once('/')
        .map_or((rest, "/".to_string()), |(h, p)| (h, format!("/{p}")));
    let mut s = std::net::TcpStream::connect(host).ok()?;
    s.set_read_timeout(Some(timeout)).ok()?;
    let content_type = if body.is_empty() {
        ""
    } else {
        "Content-Type: application/json\r\n"
    };
    let head = format!(
        "{method} {path} HTTP/1.0\r\nHost: {host}\r\n{content_type}Content-Length: {}\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).ok()?;
    // The server may answer (413) and close before it reads the body.
    let _ = s.write_all(body);
    let mut buf = String::new();
    let _ = s.read_to_string(&mut buf);
    let status = buf.split_whitespace().nth(1)?.parse().ok()?;
    let body = buf
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    Some((status, body))
}

/// The body of a GET on loopback; empty on failure.
pub fn http_get(url: &str) -> String {
    http_exchange("GET", url, b"", Duration::from_secs(5))
        .map(|(_, b)| b)
        .unwrap_or_default()
}

/// True on a 200 to a GET on loopback.
pub fn http_ok(url: &str) -> bool {
    http_exchange("GET", url, b"", Duration::from_secs(2)).is_some_and(|(status, _)| status == 200)
}

/// Start `cmd` and wait (up to 60 s) until `url` answers 200: the
/// process `what` is serving.
/// A process that exits first fails the test at once, with its status.
pub fn spawn_until_ok(cmd: &mut Command, url: &str, what: &str) -> Child {
    spawn_until(cmd, &format!("{what} (until {url} answers)"), || {
        http_ok(url)
    })
}

/// Start `cmd` and wait (up to 60 s) until `ready()` holds. A process
/// that exits first fails the test at once, with its status.
pub fn spawn_until(cmd: &mut Command, what: &str, ready: impl Fn() -> bool) -> Child {
    let mut child = cmd.spawn().unwrap_or_else(|e| panic!("{what}: {e}"));
    let deadline = Instant::now() + Duration::from_secs(60);
    while !ready() {
        if let Ok(Some(status)) = child.try_wait() {
            panic!("{what} exited ({status}) before it was ready");
        }
        assert!(Instant::now() < deadline, "{what} did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    child
}

/// Wait up to `within` for `child` to exit; past that it is killed and
/// the test fails, naming `what`.
pub fn wait_exit(child: &mut Child, within: Duration, what: &str) -> std::process::ExitStatus {
    let deadline = Instant::now() + within;
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{what} did not exit within {within:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// `keyless server ARGS --listen 127.0.0.1:PORT` (output discarded) once
/// it answers `/healthz`.
pub fn start_server(args: &[&str], port: u16, what: &str) -> Child {
    spawn_until_ok(
        keyless()
            .arg("server")
            .args(args)
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null()),
        &format!("http://127.0.0.1:{port}/healthz"),
        what,
    )
}

/// `keyless server ct` on `port`, accepting chains to `roots`, once it
/// serves its checkpoint.
pub fn start_ct(dir: &Path, roots: &Path, port: u16, extra: &[&str]) -> Child {
    spawn_until_ok(
        keyless()
            .args(["server", "ct", "--data-dir"])
            .arg(dir)
            .args(["--addr", &format!("127.0.0.1:{port}"), "--roots"])
            .arg(roots)
            .args(extra)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null()),
        &format!("http://127.0.0.1:{port}/ct/checkpoint"),
        "keyless server ct",
    )
}

/// A CA's chain as DER, (intermediate, root): the intermediate is a
/// certificate (not a precertificate) that chains to the root, which is
/// what a CT log's `add-chain` takes.
pub fn ca_chain_der(material: &keyless_ca::CaMaterial) -> (Vec<u8>, Vec<u8>) {
    let pems = material.chain_pem();
    let der = |pem: &str| {
        keyless_x509::Certificate::from_pem(pem)
            .expect("the CA's certificate")
            .der()
            .to_vec()
    };
    (der(&pems[0]), der(&pems[1]))
}

pub fn run(cmd: &mut Command) -> Output {
    cmd.output().expect("run command")
}

pub fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// sigstore-python from the venv `scripts/ci/install-python-sigstore.sh` makes.
pub fn sigstore_python() -> PathBuf {
    let p =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../target/sigstore-venv/bin/sigstore");
    assert!(
        p.exists(),
        "sigstore-python not found at {}: run scripts/ci/install-python-sigstore.sh",
        p.display()
    );
    p
}

/// A `keyless witness` process on 127.0.0.1:`port`, configured with
/// `config` (the JSON configuration, written to `<dir>/witness.json`) and
/// keeping its key and state in `<dir>/witness`; killed when dropped.
pub struct WitnessProcess {
    child: Child,
    /// The cosignature/v1 vkey it printed on start.
    pub vkey: String,
    /// Its tlog-witness submission prefix.
    pub url: String,
}

impl WitnessProcess {
    /// `keyless witness` on `port`, serving plain HTTP.
    pub fn start(dir: &Path, config: &serde_json::Value, port: u16) -> Self {
        Self::spawn(dir, config, port, None)
    }

    /// `keyless witness --tls-cert CERT --tls-key KEY` on `port`.
    pub fn start_tls(
        dir: &Path,
        config: &serde_json::Value,
        port: u16,
        cert: &Path,
        key: &Path,
    ) -> Self {
        Self::spawn(dir, config, port, Some((cert, key)))
    }

    fn spawn(
        dir: &Path,
        config: &serde_json::Value,
        port: u16,
        tls: Option<(&Path, &Path)>,
    ) -> Self {
        use std::io::{BufRead, BufReader};
        let path = dir.join("witness.json");
        std::fs::write(&path, config.to_string()).expect("witness.json");
        let mut cmd = keyless();
        cmd.args(["witness", "--listen", &format!("127.0.0.1:{port}")])
            .arg("--config")
            .arg(&path)
            .arg("--data-dir")
            .arg(dir.join("witness"));
        if let Some((cert, key)) = tls {
            cmd.arg("--tls-cert").arg(cert).arg("--tls-key").arg(key);
        }
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start keyless witness");
        let mut vkey = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut vkey)
            .expect("the witness prints its vkey");
        let scheme = if tls.is_some() { "https" } else { "http" };
        Self {
            child,
            vkey: vkey.trim().to_string(),
            url: format!("{scheme}://127.0.0.1:{port}"),
        }
    }

    /// The `--witness URL=VKEY` value naming it.
    pub fn flag(&self) -> String {
        format!("{}={}", self.url, self.vkey)
    }

    pub fn stop(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for WitnessProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Poll `url` (a checkpoint) until it carries a cosignature that verifies
/// with `vkey` over a tree of at least `size`; the note, or a panic after
/// 30 s naming what was served.
pub fn wait_cosigned(url: &str, vkey: &str, size: u64) -> keyless_tlog::SignedNote {
    let verifier = keyless_tlog::CosignatureVerifier::from_vkey(vkey).expect("vkey");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let text = http_get(url);
        if let Ok(note) = keyless_tlog::SignedNote::parse(&text) {
            let cosigned = note
                .signatures()
                .iter()
                .any(|s| verifier.verify(note.body(), s).is_ok());
            let big_enough = note
                .body()
                .lines()
                .nth(1)
                .and_then(|l| l.parse::<u64>().ok())
                .is_some_and(|n| n >= size);
            if cosigned && big_enough {
                return note;
            }
        }
        assert!(
            Instant::now() < deadline,
            "no cosignature by {vkey} on a tree of {size} at {url}: {text}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}
