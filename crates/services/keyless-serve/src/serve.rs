//! Serving a service's router on a listener, over plain HTTP or TLS.

use std::future::Future;

use axum::Router;

use crate::tls::{TlsError, TlsFiles};

/// Why serving stopped or could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(transparent)]
    Tls(#[from] TlsError),
    #[error("serving HTTP")]
    Io(#[source] std::io::Error),
}

/// Serve `app` on `listener` until `shutdown` completes, then stop
/// accepting and let in-flight requests finish. With `tls`, every
/// connection is TLS (the certificate reloaded on SIGHUP); without it,
/// plain HTTP.
pub async fn serve(
    listener: tokio::net::TcpListener,
    app: Router,
    tls: Option<&TlsFiles>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let Some(tls) = tls else {
        return axum::serve(listener, app)
            .with_graceful_shutdown(shutdown)
            .await
            .map_err(ServeError::Io);
    };
    let config = tls.watch()?;
    let handle = axum_server::Handle::new();
    let stop = handle.clone();
    tokio::spawn(async move {
        shutdown.await;
        stop.graceful_shutdown(None);
    });
    let listener = listener.into_std().map_err(ServeError::Io)?;
    axum_server::from_tcp_rustls(listener, config)
        .map_err(ServeError::Io)?
        .handle(handle)
        .serve(app.into_make_service())
        .await
        .map_err(ServeError::Io)
}
