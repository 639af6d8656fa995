//! Running a Rekor log on a listener, and checking one from the outside.

use std::future::Future;

use keyless_log::{IntegrityError, IntegrityReport};
use keyless_tlog::NoteVerifier;
use keyless_types::rekor::EntryBody;

use crate::api::router_with;
use crate::config::RekorConfig;
use crate::error::ServeError;

/// Open the log described by `config` and serve it on `listener` until
/// the process ends.
pub async fn serve(
    config: RekorConfig,
    listener: tokio::net::TcpListener,
) -> Result<(), ServeError> {
    serve_with_shutdown(config, listener, std::future::pending()).await
}

/// Like [`serve`], stopping gracefully when `shutdown` completes.
pub async fn serve_with_shutdown(
    config: RekorConfig,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let (_, app) = open_app(config).await?;
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
        .map_err(ServeError::Http)
}

/// Open the log described by `config` and build what [`serve`] serves
/// (the APIs, and witnessing if configured), for callers that serve it
/// their own way (e.g. behind TLS and metrics); the log handle is for
/// their readiness checks.
pub async fn open_app(config: RekorConfig) -> Result<(keyless_log::Log, axum::Router), ServeError> {
    let RekorConfig {
        log,
        limits,
        witnesses,
    } = config;
    let log = tokio::task::spawn_blocking(move || keyless_log::open_from_config(log))
        .await
        .map_err(ServeError::OpenTask)?
        .map_err(ServeError::Open)?;
    tracing::info!(
        origin = log.origin(),
        size = log.published().size,
        "transparency log open"
    );
    let mut app = router_with(log.clone(), limits);
    if !witnesses.is_empty() {
        app = crate::witnessing::attach(
            app,
            crate::witnessing::Witnessing::start(log.clone(), witnesses),
        );
    }
    Ok((log, app))
}

/// [`keyless_log::check_log`] for a Rekor log: also every entry body must
/// parse as one of the kinds Rekor v1/v2 store.
pub async fn check_log(
    url: &str,
    verifier: &NoteVerifier,
    seen: &[String],
) -> Result<IntegrityReport, IntegrityError> {
    keyless_log::check_log_with(url, verifier, seen, &|body| {
        EntryBody::parse(body)
            .map(|_| ())
            .map_err(|e| Box::new(e) as Box<dyn std::error::Error + Send + Sync>)
    })
    .await
}
