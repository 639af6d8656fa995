//! What the log records for `/metrics`, through the `metrics` facade:
//! without an installed recorder (a process that serves no `/metrics`, or
//! the load generator's runs without it) each call is a no-op.
//!
//! The names are the contract with dashboards; histograms whose names end
//! in `_seconds` or `_batch_size` get buckets from the exporter
//! (keyless-serve), the rest of a histogram's shape is the exporter's.

use std::time::Duration;

/// Time from `Log::submit` to the durable, signed checkpoint covering the
/// entry (the client's append latency, less HTTP), in seconds.
pub const APPEND_SECONDS: &str = "keyless_log_append_seconds";
/// Entries per committed batch (group commit).
pub const BATCH_SIZE: &str = "keyless_log_batch_size";
/// Time to make one batch durable: the storage commit (writes, then the
/// fsync round, checkpoint last), in seconds.
pub const FSYNC_SECONDS: &str = "keyless_log_fsync_seconds";
/// Unix time at which the latest checkpoint was published.
pub const CHECKPOINT_TIMESTAMP: &str = "keyless_log_checkpoint_published_timestamp_seconds";
/// Hash-tile cache (proof reads): tiles found in memory, and tiles read
/// from storage.
pub const TILE_CACHE_HITS: &str = "keyless_log_tile_cache_hits_total";
pub const TILE_CACHE_MISSES: &str = "keyless_log_tile_cache_misses_total";

pub(crate) fn append(elapsed: Duration) {
    metrics::histogram!(APPEND_SECONDS).record(elapsed.as_secs_f64());
}

/// One batch committed: its size, its commit time, and when it was
/// published (`unix_now`, seconds).
pub(crate) fn committed(entries: usize, commit: Duration, unix_now: f64) {
    metrics::histogram!(BATCH_SIZE).record(entries as f64);
    metrics::histogram!(FSYNC_SECONDS).record(commit.as_secs_f64());
    metrics::gauge!(CHECKPOINT_TIMESTAMP).set(unix_now);
}

pub(crate) fn tile_cache(hit: bool) {
    if hit {
        metrics::counter!(TILE_CACHE_HITS).increment(1);
    } else {
        metrics::counter!(TILE_CACHE_MISSES).increment(1);
    }
}
