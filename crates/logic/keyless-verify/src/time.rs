//! Verified times: the points in time a transparency log or a timestamp
//! authority vouched for. Their own module because both the verifier and
//! the certificate step (which checks the chain at each of them) name them.

/// Where a verified time came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TimeSource {
    /// A Rekor v1 integrated time whose signed entry timestamp verified.
    IntegratedTime,
    /// An RFC 3161 timestamp from a trusted authority.
    Timestamp,
}

impl TimeSource {
    pub fn describe(self) -> &'static str {
        match self {
            Self::IntegratedTime => "log integrated time",
            Self::Timestamp => "RFC 3161 timestamp",
        }
    }
}

/// A point in time some trusted party vouched for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VerifiedTime {
    pub time: i64,
    pub source: TimeSource,
}
