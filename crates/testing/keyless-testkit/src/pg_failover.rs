//! A PostgreSQL primary with a synchronous standby on loopback, for
//! failover tests: `initdb` the primary (`synchronous_commit = on`,
//! `synchronous_standby_names = standby1`), `pg_basebackup -R` the
//! standby from it, start both and wait until the primary reports the
//! standby `sync`. [`PgPair::kill_primary`] SIGKILLs the primary's
//! postmaster and its backends; [`PgPair::promote`] runs `pg_ctl promote`
//! on the standby. Binaries as in [`crate::pg`] (Debian's `postgresql`,
//! `scripts/ci/install-postgres.sh`); missing ones fail the test.

use std::process::Command;
use std::time::{Duration, Instant};

use crate::pg::PgCluster;

/// The standby's `application_name`, the one the primary waits for.
pub const STANDBY_NAME: &str = "standby1";

/// A primary and its synchronous standby, both stopped on drop.
pub struct PgPair {
    pub primary: PgCluster,
    pub standby: PgCluster,
}

impl PgPair {
    /// Start both and wait (up to 60 s) until replication is synchronous.
    pub fn start() -> Self {
        let mut primary = PgCluster::unstarted("keyless-pg-primary");
        primary.initdb();
        primary.start_server(&format!(
            "-c wal_level=replica -c max_wal_senders=4 -c synchronous_commit=on \
             -c synchronous_standby_names={STANDBY_NAME}"
        ));
        let mut standby = PgCluster::unstarted("keyless-pg-standby");
        let data = standby.data_dir();
        let conninfo = format!(
            "host=127.0.0.1 port={} user=keyless application_name={STANDBY_NAME}",
            primary.port
        );
        standby.run(
            "pg_basebackup",
            &[
                "-d",
                &conninfo,
                "-D",
                data.to_str().unwrap(),
                "-R",
                "-X",
                "stream",
                "--no-sync",
            ],
        );
        // -R wrote standby.signal and a primary_conninfo; name the standby
        // so that the primary's synchronous_standby_names matches it.
        let auto = data.join("postgresql.auto.conf");
        let mut conf = std::fs::read_to_string(&auto).unwrap_or_default();
        conf.push_str(&format!("\nprimary_conninfo = '{conninfo}'\n"));
        std::fs::write(&auto, conf).unwrap();
        // Promoted, it has no standby of its own: commits must not wait.
        standby.start_server("-c synchronous_standby_names=''");
        let pair = Self { primary, standby };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let state = pair.psql(
                &pair.primary,
                "SELECT sync_state FROM pg_stat_replication WHERE application_name = 'standby1'",
            );
            if state.trim() == "sync" {
                return pair;
            }
            assert!(
                Instant::now() < deadline,
                "the standby did not become synchronous (state {state:?})"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// One value from `sql` run with `psql` on `node` (empty on error).
    pub fn psql(&self, node: &PgCluster, sql: &str) -> String {
        let port = node.port.to_string();
        let out = node.try_run(
            "psql",
            &[
                "-h",
                "127.0.0.1",
                "-p",
                &port,
                "-U",
                "keyless",
                "-d",
                "postgres",
                "-Atc",
                sql,
            ],
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// The multi-host connection string (primary first) that finds
    /// whichever server accepts writes.
    pub fn failover_url(&self) -> String {
        format!(
            "host=127.0.0.1,127.0.0.1 port={},{} user=keyless dbname=postgres \
             target_session_attrs=read-write connect_timeout=5",
            self.primary.port, self.standby.port
        )
    }

    /// SIGKILL the primary's postmaster and every backend it started, as
    /// a crashed machine would stop them (no shutdown, no goodbye to
    /// clients beyond the sockets closing).
    pub fn kill_primary(&self) {
        let pid_file = self.primary.data_dir().join("postmaster.pid");
        let text = std::fs::read_to_string(&pid_file).expect("the primary's postmaster.pid");
        let pid: u32 = text
            .lines()
            .next()
            .and_then(|l| l.trim().parse().ok())
            .expect("a pid in postmaster.pid");
        let mut pids = vec![pid];
        for e in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
            let Some(child) = e.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) else {
                continue;
            };
            let stat = std::fs::read_to_string(e.path().join("stat")).unwrap_or_default();
            // pid (comm) state ppid ...: the fields after the last ')'.
            let ppid = stat
                .rsplit_once(')')
                .and_then(|(_, rest)| rest.split_whitespace().nth(1))
                .and_then(|p| p.parse::<u32>().ok());
            if ppid == Some(pid) {
                pids.push(child);
            }
        }
        let status = Command::new("kill")
            .arg("-KILL")
            .args(pids.iter().map(u32::to_string))
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -KILL {pids:?} failed");
    }

    /// `pg_ctl promote` the standby and wait until it accepts writes.
    pub fn promote(&self) {
        let data = self.standby.data_dir();
        self.standby.run(
            "pg_ctl",
            &["-D", data.to_str().unwrap(), "-w", "-t", "60", "promote"],
        );
        let deadline = Instant::now() + Duration::from_secs(60);
        while self
            .psql(&self.standby, "SELECT pg_is_in_recovery()")
            .trim()
            != "f"
        {
            assert!(Instant::now() < deadline, "the standby was not promoted");
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}
