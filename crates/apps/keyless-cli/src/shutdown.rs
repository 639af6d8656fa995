//! Graceful shutdown of the servers on SIGTERM (what service managers
//! send) or SIGINT (Ctrl-C).

/// Completes on the first SIGTERM or SIGINT. Without a SIGTERM handler
/// (the runtime could not install one) only SIGINT stops the server, and
/// this is logged.
pub async fn signal() {
    use tokio::signal::unix::{signal, SignalKind};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => {
            tokio::select! {
                _ = term.recv() => tracing::info!("SIGTERM: finishing in-flight requests, then exiting"),
                _ = tokio::signal::ctrl_c() => tracing::info!("SIGINT: finishing in-flight requests, then exiting"),
            }
        }
        Err(e) => {
            tracing::warn!(error = %e, "no SIGTERM handler; stop with SIGINT");
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

/// After the listener closed and every request was answered: wait (up to
/// `limit`) until the log's queue is empty, so that no entry accepted
/// into it is left without its checkpoint, and log the last checkpoint.
pub async fn drain_log(log: &keyless_log::Log, limit: std::time::Duration) {
    let deadline = tokio::time::Instant::now() + limit;
    while log.queued() > 0 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    let published = log.published();
    tracing::info!(
        size = published.size,
        queued = log.queued(),
        "transparency log stopped; its last checkpoint is published"
    );
}
