//! `/healthz` and `/readyz`.

use std::sync::Arc;

use axum::http::StatusCode;

/// A service's readiness check, run on every `GET /readyz`. `Ok` means it
/// can serve (storage reachable, keys loaded); `Err` carries a short reason
/// for the operator, sent as the 503 body, so it must not hold secrets.
/// It runs on the blocking pool, so it may do I/O.
#[derive(Clone)]
pub struct Readiness(Arc<dyn Fn() -> Result<(), String> + Send + Sync>);

impl Readiness {
    pub fn new(check: impl Fn() -> Result<(), String> + Send + Sync + 'static) -> Self {
        Self(Arc::new(check))
    }

    /// For a service whose start-up already opened its storage and loaded
    /// its keys, and that holds them while it runs: ready once serving.
    pub fn always() -> Self {
        Self::new(|| Ok(()))
    }

    /// Runs the check on the blocking pool: it may query storage.
    pub(crate) async fn check(self) -> (StatusCode, String) {
        let check = self.0;
        let result = tokio::task::spawn_blocking(move || check())
            .await
            .unwrap_or_else(|_| Err("readiness check failed".into()));
        match result {
            Ok(()) => (StatusCode::OK, "ready\n".into()),
            Err(reason) => (
                StatusCode::SERVICE_UNAVAILABLE,
                format!("not ready: {reason}\n"),
            ),
        }
    }
}

impl std::fmt::Debug for Readiness {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Readiness(..)")
    }
}
