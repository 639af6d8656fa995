//! What every keyless server shares, so that an operator finds the same
//! endpoints and options on each of them:
//!
//! - `/metrics` in the Prometheus text format: request counts and latency
//!   histograms by service, route and status ([`instrument`]), plus what
//!   the services record through the `metrics` facade;
//! - `/healthz` (the process answers) and `/readyz` (the service's own
//!   check: storage reachable, keys loaded);
//! - TLS from PEM files, swapped in place on SIGHUP ([`TlsFiles`]);
//! - log setup, as text or JSON lines ([`LogFormat`]).

mod health;
mod http_metrics;
mod logging;
pub mod scrape;
mod serve;
mod tls;

/// The facade the services record their own metrics with.
pub use ::metrics;
pub use health::Readiness;
pub use http_metrics::{instrument, prometheus_handle, render_metrics};
pub use logging::{init_logging, LogFormat, UnknownLogFormat};
pub use serve::{serve, ServeError};
pub use tls::{TlsError, TlsFiles};
