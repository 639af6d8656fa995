//! A throwaway PostgreSQL cluster for tests: `initdb` into a temporary
//! directory, `pg_ctl start` on a free loopback port with the socket in
//! that directory, `pg_ctl stop` and removal on drop. The binaries come
//! from Debian's `postgresql` package (`scripts/ci/install-postgres.sh`);
//! if they are missing the test fails rather than skips.
//!
//! keyless-log's PostgreSQL backend tests and the CLI's `--postgres` dev-stack
//! test both need a real server; it lives here so neither reaches into the
//! other's test folder.
//!
//! `initdb` refuses to run as root, so under root the cluster runs as the
//! `postgres` user (or `nobody`) in a directory chowned to it.

use std::net::TcpListener;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A running cluster, stopped on drop (its directory is then removed).
pub struct PgCluster {
    dir: tempfile::TempDir,
    bin: PathBuf,
    run_as: Option<String>,
    pub port: u16,
}

pub(crate) const INSTALL_HINT: &str =
    "PostgreSQL server binaries (initdb, pg_ctl) were not found in \
    /usr/lib/postgresql/*/bin or on PATH; install them with scripts/ci/install-postgres.sh \
    (CI runs it before the tests)";

pub(crate) fn find_bin_dir() -> Option<PathBuf> {
    let mut dirs: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let v = e.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = e.path().join("bin");
            (bin.join("initdb").exists() && bin.join("pg_ctl").exists()).then_some((v, bin))
        })
        .collect();
    dirs.sort();
    if let Some((_, bin)) = dirs.pop() {
        return Some(bin);
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).find(|d| d.join("initdb").exists() && d.join("pg_ctl").exists())
}

fn id(user: &str, flag: &str) -> Option<u32> {
    let out = Command::new("id").args([flag, user]).output().ok()?;
    out.status.success().then_some(())?;
    String::from_utf8(out.stdout).ok()?.trim().parse().ok()
}

pub(crate) fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl PgCluster {
    /// A cluster directory (owned by the user the server runs as), not
    /// yet initialized; dropped with its directory.
    pub(crate) fn unstarted(prefix: &str) -> Self {
        let bin = find_bin_dir().unwrap_or_else(|| panic!("{INSTALL_HINT}"));
        let dir = tempfile::Builder::new().prefix(prefix).tempdir().unwrap();
        let is_root = std::fs::metadata(dir.path()).unwrap().uid() == 0;
        let run_as = if is_root {
            let user = ["postgres", "nobody"]
                .into_iter()
                .find(|u| id(u, "-u").is_some())
                .expect("running as root, and neither a postgres nor a nobody user exists to run initdb as");
            let (uid, gid) = (id(user, "-u").unwrap(), id(user, "-g").unwrap());
            std::os::unix::fs::chown(dir.path(), Some(uid), Some(gid)).unwrap();
            Some(user.to_string())
        } else {
            None
        };
        Self {
            dir,
            bin,
            run_as,
            port: 0,
        }
    }

    /// `initdb` the data directory, superuser `keyless`, trust auth.
    pub(crate) fn initdb(&self) {
        let data = self.data_dir();
        self.run(
            "initdb",
            &[
                "-D",
                data.to_str().unwrap(),
                "-U",
                "keyless",
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--no-locale",
                "--no-sync",
            ],
        );
    }

    /// Create and start a cluster; panics (naming the install script) if
    /// PostgreSQL is not installed.
    pub fn start() -> Self {
        let mut cluster = Self::unstarted("keyless-log-pg");
        cluster.initdb();
        cluster.start_server("");
        cluster
    }

    /// `pg_ctl start` on a free loopback port (tried three times), with
    /// `extra` server options (`-c name=value ...`).
    pub(crate) fn start_server(&mut self, extra: &str) {
        let cluster = self;
        let data = cluster.data_dir();
        let mut last = String::new();
        for _ in 0..3 {
            let port = free_port();
            let opts = format!(
                "-p {port} -k {} -c listen_addresses=127.0.0.1 -c max_connections=20 -c shared_buffers=16MB {extra}",
                cluster.dir.path().display()
            );
            let log = cluster.dir.path().join("server.log");
            let out = cluster.try_run(
                "pg_ctl",
                &[
                    "-D",
                    data.to_str().unwrap(),
                    "-l",
                    log.to_str().unwrap(),
                    "-w",
                    "-t",
                    "60",
                    "-o",
                    &opts,
                    "start",
                ],
            );
            if out.status.success() {
                cluster.port = port;
                return;
            }
            last = format!(
                "{}{}\n{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr),
                std::fs::read_to_string(&log).unwrap_or_default()
            );
        }
        panic!("pg_ctl start failed three times: {last}");
    }

    pub(crate) fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// Connection string for the cluster's `postgres` database over TCP loopback.
    pub fn url(&self) -> String {
        format!(
            "host=127.0.0.1 port={} user=keyless dbname=postgres",
            self.port
        )
    }

    fn command(&self, tool: &str) -> Command {
        let exe = self.bin.join(tool);
        match &self.run_as {
            Some(user) => {
                let mut c = Command::new("runuser");
                c.args(["-u", user, "--"]).arg(exe);
                c
            }
            None => Command::new(exe),
        }
    }

    pub(crate) fn try_run(&self, tool: &str, args: &[&str]) -> Output {
        self.command(tool)
            .args(args)
            .current_dir(self.dir.path())
            .output()
            .unwrap_or_else(|e| panic!("running {tool}: {e}"))
    }

    pub(crate) fn run(&self, tool: &str, args: &[&str]) {
        let out = self.try_run(tool, args);
        assert!(
            out.status.success(),
            "{tool} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for PgCluster {
    fn drop(&mut self) {
        let data = self.data_dir();
        let _ = self.try_run(
            "pg_ctl",
            &[
                "-D",
                data.to_str().unwrap(),
                "-m",
                "immediate",
                "-w",
                "stop",
            ],
        );
    }
}
