//! Serving one dev stack service: shared by the stack's services and its
//! witness (`super::witness`), so neither imports the other.

use tokio::net::TcpListener;

/// Serve `app` on `listener` (over TLS with `tls`) until the process ends.
pub(super) fn spawn_serve(
    listener: TcpListener,
    app: axum::Router,
    tls: &Option<keyless_serve::TlsFiles>,
) {
    let tls = tls.clone();
    tokio::spawn(async move {
        if let Err(e) =
            keyless_serve::serve(listener, app, tls.as_ref(), std::future::pending()).await
        {
            tracing::error!(error = %e, "a dev stack service stopped");
        }
    });
}

/// Every dev service opens its keys and storage before it serves, so it is
/// ready once it answers. All of them share the process's `/metrics`.
pub(super) fn ready() -> keyless_serve::Readiness {
    keyless_serve::Readiness::always()
}
