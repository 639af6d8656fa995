//! Token serial numbers. RFC 3161 §2.4.2: "unique for each TimeStampToken
//! issued by a given TSA". A random 63-bit prefix chosen at start, followed
//! by a 64-bit counter: unique within a process by construction, and across
//! restarts with overwhelming probability, without any shared state on disk.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::PkiError;

#[derive(Debug)]
pub(crate) struct Serials {
    prefix: u64,
    counter: AtomicU64,
}

impl Serials {
    pub(crate) fn new() -> Result<Self, PkiError> {
        let mut bytes = [0u8; 8];
        aws_lc_rs::rand::fill(&mut bytes).map_err(|_| PkiError::Random)?;
        // Non-zero top byte and positive: every serial has the same length.
        let prefix = (u64::from_be_bytes(bytes) & 0x7fff_ffff_ffff_ffff) | 0x0100_0000_0000_0000;
        Ok(Self {
            prefix,
            counter: AtomicU64::new(0),
        })
    }

    /// The next serial, as 16 big-endian bytes.
    pub(crate) fn next(&self) -> [u8; 16] {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        let mut out = [0u8; 16];
        out[..8].copy_from_slice(&self.prefix.to_be_bytes());
        out[8..].copy_from_slice(&n.to_be_bytes());
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serials_are_distinct() {
        let s = Serials::new().unwrap();
        let a = s.next();
        let b = s.next();
        assert_ne!(a, b);
        assert_eq!(a[..8], b[..8]);
        assert!(a[0] >= 1 && a[0] < 0x80);
    }
}
