//! Serving the dev stack's services, and stopping them together: shared
//! by the stack and its witness (`super::witness`), so neither imports the
//! other.

use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// The stack's servers and logs, so that they stop together: on
/// [`Services::stop`] every server stops accepting and answers the
/// requests it already has, then each log's queue is drained, as
/// `keyless server log|ca` do on SIGTERM.
pub(crate) struct Services {
    stop: watch::Sender<bool>,
    tasks: Mutex<Vec<JoinHandle<()>>>,
    logs: Mutex<Vec<keyless_log::Log>>,
}

impl std::fmt::Debug for Services {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Services")
            .field("servers", &locked(&self.tasks).len())
            .field("logs", &locked(&self.logs).len())
            .finish()
    }
}

/// A poisoned lock still holds a usable list (a panic elsewhere does not
/// make the handles wrong).
fn locked<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Services {
    pub(super) fn new() -> Self {
        Self {
            stop: watch::Sender::new(false),
            tasks: Mutex::new(Vec::new()),
            logs: Mutex::new(Vec::new()),
        }
    }

    /// Drain `log` when the stack stops.
    pub(super) fn drain_on_stop(&self, log: keyless_log::Log) {
        locked(&self.logs).push(log);
    }

    /// Serve `app` on `listener` (over TLS with `tls`) until [`Self::stop`].
    pub(super) fn spawn_serve(
        &self,
        listener: TcpListener,
        app: axum::Router,
        tls: &Option<keyless_serve::TlsFiles>,
    ) {
        let tls = tls.clone();
        let mut stop = self.stop.subscribe();
        let shutdown = async move {
            // An error means the sender is gone: stop as well.
            let _ = stop.wait_for(|stopping| *stopping).await;
        };
        let task = tokio::spawn(async move {
            if let Err(e) = keyless_serve::serve(listener, app, tls.as_ref(), shutdown).await {
                tracing::error!(error = %e, "a dev stack service stopped");
            }
        });
        locked(&self.tasks).push(task);
    }

    /// Stop accepting everywhere, wait (up to `limit` in all) for the
    /// servers to answer what they have, then for the logs' queues.
    pub(crate) async fn stop(&self, limit: Duration) {
        let deadline = tokio::time::Instant::now() + limit;
        self.stop.send_replace(true);
        let tasks = std::mem::take(&mut *locked(&self.tasks));
        for task in tasks {
            if tokio::time::timeout_at(deadline, task).await.is_err() {
                tracing::warn!("a dev stack service did not finish its requests in time");
            }
        }
        let logs = locked(&self.logs).clone();
        for log in logs {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            crate::shutdown::drain_log(&log, left).await;
        }
    }
}

/// Every dev service opens its keys and storage before it serves, so it is
/// ready once it answers. All of them share the process's `/metrics`.
pub(super) fn ready() -> keyless_serve::Readiness {
    keyless_serve::Readiness::always()
}
