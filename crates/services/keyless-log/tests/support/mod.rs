//! Shared helpers of the storage drivers' contract tests: where a test log
//! lives (a directory, and for PostgreSQL a throwaway cluster), and a macro
//! that runs a test against both drivers.
#![allow(dead_code)]

pub use keyless_testkit::pg;

use std::sync::Arc;

/// Which storage driver a test runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Files,
    Postgres,
}

/// Where a test log lives: a directory and, for PostgreSQL, a throwaway
/// cluster.
pub struct Store {
    pub dir: tempfile::TempDir,
    pub pg: Option<Arc<pg::PgCluster>>,
}

impl Store {
    /// Blocking for PostgreSQL (initdb + start).
    pub fn new(backend: Backend) -> Self {
        Self {
            dir: tempfile::tempdir().unwrap(),
            pg: (backend == Backend::Postgres).then(|| Arc::new(pg::PgCluster::start())),
        }
    }
}

/// Generate `files::NAME` and `postgres::NAME` tests calling the async
/// `NAME(Backend)`, so every driver test runs on both drivers.
#[macro_export]
macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {
        mod files {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::support::Backend::Files).await
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::support::Backend::Postgres).await
                }
            )*
        }
    };
}
