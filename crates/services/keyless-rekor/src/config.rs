//! The Rekor personality's own limits, on top of the core's
//! [`keyless_log::LogConfig`].

use keyless_log::LogConfig;

/// Default request body cap: Rekor v2's 128 KiB.
pub const DEFAULT_MAX_BODY: usize = 128 * 1024;

/// Default [`Limits::max_search_results`]: enough for every entry of one
/// artifact or signing key in normal use, small enough that one search
/// reads a bounded number of entry bodies.
pub const DEFAULT_MAX_SEARCH_RESULTS: usize = 1000;

/// What the HTTP API accepts and answers at most.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// Largest request body accepted (bytes).
    pub max_body: usize,
    /// Most UUIDs one Rekor v1 search (`POST /api/v1/index/retrieve`)
    /// returns; a query matching more is refused with 422 (see
    /// `api::v1::search`), never answered with a truncated list.
    pub max_search_results: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_body: DEFAULT_MAX_BODY,
            max_search_results: DEFAULT_MAX_SEARCH_RESULTS,
        }
    }
}

/// A Rekor log: the core's configuration and the personality's limits.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RekorConfig {
    pub log: LogConfig,
    pub limits: Limits,
    /// Witnesses asked to cosign each checkpoint (none by default); see
    /// [`crate::witnessing`].
    pub witnesses: Vec<crate::witnessing::WitnessEndpoint>,
}

impl RekorConfig {
    /// `log` with the default limits.
    pub fn new(log: LogConfig) -> Self {
        Self {
            log,
            limits: Limits::default(),
            witnesses: Vec::new(),
        }
    }
}
