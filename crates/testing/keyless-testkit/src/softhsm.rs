//! A private SoftHSM2 token directory for PKCS#11 tests (Debian's
//! `softhsm2`, installed by `scripts/ci/install-softhsm.sh`).
//!
//! SoftHSM2 reads its configuration (`SOFTHSM2_CONF`) once, at
//! `C_Initialize`, and a process initialises a module once. So a test
//! binary calls [`SoftHsm::init`] once (behind a `OnceLock`) before any
//! test loads the module: it writes a configuration pointing at a token
//! directory under a temporary directory, sets the variable, and
//! initialises the tokens asked for. If the module is missing it panics
//! and says how to install it: a PKCS#11 test that silently passes tests
//! nothing.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Debian's SoftHSM2 module.
pub const SOFTHSM2_MODULE: &str = "/usr/lib/softhsm/libsofthsm2.so";

/// The security officer PIN of every token [`SoftHsm::init`] creates.
pub const SO_PIN: &str = "so-pin-8642";

/// A SoftHSM2 token directory this process is configured to use.
#[derive(Debug)]
pub struct SoftHsm {
    /// Holds `softhsm2.conf` and the token directory.
    dir: tempfile::TempDir,
}

impl SoftHsm {
    /// Point `SOFTHSM2_CONF` at a fresh token directory and initialise one
    /// token per label, each with user PIN `pin`. Call once per process,
    /// before anything initialises the module.
    pub fn init(token_labels: &[&str], pin: &str) -> SoftHsm {
        assert!(
            Path::new(SOFTHSM2_MODULE).exists(),
            "SoftHSM2 is not installed: {SOFTHSM2_MODULE} is missing. Run scripts/ci/install-softhsm.sh \
             (scripts/test.sh and CI run it before cargo test); these tests do not skip themselves."
        );
        let dir = tempfile::Builder::new()
            .prefix("keyless-softhsm-")
            .tempdir()
            .expect("temporary directory");
        let tokens = dir.path().join("tokens");
        std::fs::create_dir_all(&tokens).expect("token dir");
        let conf = dir.path().join("softhsm2.conf");
        std::fs::write(
            &conf,
            format!(
                "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\n",
                tokens.display()
            ),
        )
        .expect("softhsm2.conf");
        std::env::set_var("SOFTHSM2_CONF", &conf);
        for label in token_labels {
            softhsm2_util(&[
                "--init-token",
                "--free",
                "--label",
                label,
                "--so-pin",
                SO_PIN,
                "--pin",
                pin,
            ]);
        }
        SoftHsm { dir }
    }

    /// The directory holding the configuration and the tokens.
    pub fn path(&self) -> PathBuf {
        self.dir.path().to_path_buf()
    }
}

/// Run `softhsm2-util` with `args`, panicking with its output on failure.
pub fn softhsm2_util(args: &[&str]) {
    let out = Command::new("softhsm2-util")
        .args(args)
        .output()
        .unwrap_or_else(|e| {
            panic!("running softhsm2-util (from Debian's softhsm2; scripts/ci/install-softhsm.sh): {e}")
        });
    assert!(
        out.status.success(),
        "softhsm2-util {:?} failed: {}\n{}",
        args.first(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
