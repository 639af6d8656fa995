//! The transparency log's gauges, shared by `keyless server log` and the
//! dev stack ([`crate::stack`]), which `keyless server` starts.

/// The log's size, queue and checkpoint age as gauges, refreshed every
/// second off the request path (reading them is a lock and a load).
/// `keyless_log_checkpoint_age_seconds` is the time since the published
/// checkpoint last changed as this loop saw it (since start-up for the
/// checkpoint the log opened with), so within a second of the truth.
pub(crate) fn spawn_log_gauges(log: keyless_log::Log) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(1));
        let mut seen = log.published();
        let mut since = tokio::time::Instant::now();
        loop {
            tick.tick().await;
            let published = log.published();
            if !std::sync::Arc::ptr_eq(&published, &seen) {
                seen = published;
                since = tokio::time::Instant::now();
            }
            keyless_serve::metrics::gauge!("keyless_log_size").set(seen.size as f64);
            keyless_serve::metrics::gauge!("keyless_log_queued_entries").set(log.queued() as f64);
            keyless_serve::metrics::gauge!("keyless_log_checkpoint_age_seconds")
                .set(since.elapsed().as_secs_f64());
        }
    });
}
