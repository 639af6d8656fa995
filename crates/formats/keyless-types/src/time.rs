//! RFC 3339 timestamps as Unix seconds. Every time in keyless's public APIs
//! is an `i64` of seconds since the epoch; sub-second parts are dropped
//! (rounded down), which keeps closed-interval comparisons exact for the
//! whole-second times that logs and certificates carry.

use ::time::format_description::well_known::Rfc3339;
use ::time::OffsetDateTime;

/// A string that is not an RFC 3339 time: the text and the parser's
/// error. The parser's error is shown in the message rather than returned
/// as `source()`, because `time`'s own error already repeats its source
/// (a printed chain would say it twice).
#[derive(Debug, Clone, thiserror::Error)]
#[error("invalid RFC 3339 time {text:?}: {reason}")]
pub struct TimeError {
    pub text: String,
    pub reason: ::time::error::Parse,
}

/// Parse an RFC 3339 timestamp to Unix seconds.
pub fn parse_rfc3339(s: &str) -> Result<i64, TimeError> {
    OffsetDateTime::parse(s, &Rfc3339)
        .map(|t| t.unix_timestamp())
        .map_err(|reason| TimeError {
            text: s.to_string(),
            reason,
        })
}

/// Format Unix seconds as RFC 3339 (UTC, `Z`).
pub fn format_rfc3339(secs: i64) -> String {
    OffsetDateTime::from_unix_timestamp(secs)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_else(|| secs.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fractional_seconds_round_down() {
        assert_eq!(
            parse_rfc3339("2022-12-31T23:59:59.999Z").unwrap(),
            1672531199
        );
        assert_eq!(parse_rfc3339("2022-12-31T23:59:59Z").unwrap(), 1672531199);
        assert_eq!(format_rfc3339(1672531199), "2022-12-31T23:59:59Z");
        assert!(parse_rfc3339("yesterday").is_err());
    }
}
