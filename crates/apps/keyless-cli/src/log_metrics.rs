//! The transparency log's gauges, shared by `keyless server log` and the
//! dev stack ([`crate::stack`]), which `keyless server` starts.

/// The log's size and queue as gauges, refreshed every second off the
/// request path (reading them is a lock and a load).
pub(crate) fn spawn_log_gauges(log: keyless_log::Log) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(1));
        loop {
            tick.tick().await;
            keyless_serve::metrics::gauge!("keyless_log_size").set(log.published().size as f64);
            keyless_serve::metrics::gauge!("keyless_log_queued_entries").set(log.queued() as f64);
        }
    });
}
