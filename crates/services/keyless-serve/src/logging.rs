//! Log setup for the servers: human-readable text or one JSON object per
//! line, for log shippers.

use std::str::FromStr;

use tracing_subscriber::EnvFilter;

/// How the servers write their logs (to stderr).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

/// A `--log-format` value other than `text` or `json`.
#[derive(Debug, thiserror::Error)]
#[error("unknown log format {0:?} (expected text or json)")]
pub struct UnknownLogFormat(String);

impl FromStr for LogFormat {
    type Err = UnknownLogFormat;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "text" => Ok(Self::Text),
            "json" => Ok(Self::Json),
            other => Err(UnknownLogFormat(other.into())),
        }
    }
}

/// Install the process's log subscriber: level from `RUST_LOG` (default
/// `info`), written to `writer`. Returns false if one was already installed
/// (which then stays). The services log identities and issuers, never
/// tokens, keys or PINs; this layer adds no request data of its own.
pub fn init_logging<W>(format: LogFormat, writer: W) -> bool
where
    W: for<'w> tracing_subscriber::fmt::MakeWriter<'w> + Send + Sync + 'static,
{
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer);
    match format {
        LogFormat::Text => builder.try_init().is_ok(),
        LogFormat::Json => builder.json().try_init().is_ok(),
    }
}
