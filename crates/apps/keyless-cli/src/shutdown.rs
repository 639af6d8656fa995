//! Graceful shutdown of the servers on SIGTERM (what service managers
//! send) or SIGINT (Ctrl-C).

/// Completes on the first SIGTERM or SIGINT. The handlers are installed
/// when this is called, not when the future is first polled, so a signal
/// that arrives while the server is still starting (it is already
/// answering health checks) is not lost to the default action, which
/// would kill the process mid-request. If a handler cannot be installed
/// (the runtime refused), this is logged and the other signal still
/// stops the server.
pub fn signal() -> impl std::future::Future<Output = ()> + Send + 'static {
    use tokio::signal::unix::{signal, SignalKind};
    let term = signal(SignalKind::terminate())
        .map_err(|e| tracing::warn!(error = %e, "no SIGTERM handler; stop with SIGINT"))
        .ok();
    let int = signal(SignalKind::interrupt())
        .map_err(|e| tracing::warn!(error = %e, "no SIGINT handler; stop with SIGTERM"))
        .ok();
    async move {
        let received = |s: Option<tokio::signal::unix::Signal>| async move {
            match s {
                Some(mut s) => {
                    s.recv().await;
                }
                None => std::future::pending::<()>().await,
            }
        };
        tokio::select! {
            _ = received(term) => tracing::info!("SIGTERM: finishing in-flight requests, then exiting"),
            _ = received(int) => tracing::info!("SIGINT: finishing in-flight requests, then exiting"),
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
