//! `/healthz` and `/readyz`.

use std::sync::Arc;

use axum::http::StatusCode;

/// A service's readiness check, run on every `GET /readyz`. `Ok` means it
/// can serve (storage reachable, keys loaded); `Err` carries a short reason
/// for the operator, sent as the 503 body, so it must not hold secrets.
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

    pub(crate) fn check(&self) -> (StatusCode, String) {
        match (self.0)() {
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
