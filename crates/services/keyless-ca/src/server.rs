//! `keyless server ca`: the CA's HTTP server on a listener.

use crate::api::router;
use crate::error::SetupError;
use crate::state::{CaConfig, CaState};

/// Serve the CA on `listener` until the process ends.
pub async fn serve(config: CaConfig, listener: tokio::net::TcpListener) -> Result<(), SetupError> {
    serve_with_shutdown(config, listener, std::future::pending()).await
}

/// Serve the CA on `listener` until `shutdown` completes.
pub async fn serve_with_shutdown(
    config: CaConfig,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), SetupError> {
    let addr = listener.local_addr().map_err(|source| SetupError::Io {
        path: "listener".into(),
        source,
    })?;
    let public_url = config
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{addr}"));
    let state = CaState::new(&config, &public_url)?;
    tracing::info!(%addr, url = %public_url, "keyless CA listening");
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown)
        .await
        .map_err(|source| SetupError::Io {
            path: addr.to_string(),
            source,
        })
}
