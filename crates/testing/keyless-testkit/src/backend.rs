//! Storage tests that run against both of the log's drivers: where a test
//! log lives (a directory and, for PostgreSQL, a throwaway cluster), and
//! [`both_backends!`](crate::both_backends), which makes one test of each
//! driver from one async function.

use std::sync::Arc;

use crate::pg::PgCluster;

/// Which storage driver a test runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Files,
    Postgres,
}

/// Where a test log lives: a directory (the key, and with files the log)
/// and, for PostgreSQL, a throwaway cluster that outlives log restarts.
pub struct Store {
    pub dir: tempfile::TempDir,
    pub pg: Option<Arc<PgCluster>>,
}

impl Store {
    /// Blocking for PostgreSQL (initdb + start).
    pub fn new(backend: Backend) -> Self {
        Self {
            dir: tempfile::tempdir().expect("a temporary directory"),
            pg: (backend == Backend::Postgres).then(|| Arc::new(PgCluster::start())),
        }
    }
}

/// Generate `files::NAME` and `postgres::NAME` tests calling the async
/// `NAME(Backend)` of the module it is invoked in, so every
/// storage-dependent test runs on both drivers.
#[macro_export]
macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {
        mod files {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::backend::Backend::Files).await
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::backend::Backend::Postgres).await
                }
            )*
        }
    };
}
