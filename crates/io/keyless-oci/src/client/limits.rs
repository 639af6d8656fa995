//! The read limits of one verification: signature layers per manifest,
//! referrers per image and bytes fetched in all. A hostile registry decides
//! how much it lists and sends; these bound what one verification reads.

use std::sync::atomic::{AtomicU64, Ordering};

use reqwest::Response;

use super::response::read_capped;
use super::RegistryClient;
use crate::error::{ContentError, Error, Operation, ReadLimit};

impl RegistryClient {
    /// A fresh set of read limits for reading what is stored for `image`.
    pub(crate) fn read_budget(&self, image: String) -> ReadBudget {
        ReadBudget {
            image,
            max_signatures: self.max_signatures,
            max_referrers: self.max_referrers,
            max_fetch_bytes: self.max_fetch_bytes,
            fetched: AtomicU64::new(0),
        }
    }
}

/// The limits of one verification's reads from the registry: how many
/// signature layers per manifest and referrers it lists, and how many bytes
/// are fetched in all. Made fresh for each top-level read (so the client can
/// be shared) and threaded through every request of it.
#[derive(Debug)]
pub(crate) struct ReadBudget {
    /// The image being read, for error messages.
    image: String,
    max_signatures: u64,
    max_referrers: u64,
    max_fetch_bytes: u64,
    fetched: AtomicU64,
}

impl ReadBudget {
    /// Bytes that may still be fetched.
    pub(crate) fn remaining(&self) -> u64 {
        self.max_fetch_bytes
            .saturating_sub(self.fetched.load(Ordering::Relaxed))
    }

    fn charge(&self, bytes: u64) {
        self.fetched.fetch_add(bytes, Ordering::Relaxed);
    }

    fn exceeded(&self, limit: ReadLimit, cap: u64, what: String) -> Error {
        Error::LimitExceeded {
            image: self.image.clone(),
            limit,
            cap,
            what,
        }
    }

    /// The error for a read of `what` that does not fit in what is left.
    pub(crate) fn over_bytes(&self, what: &str) -> Error {
        let fetched = self.fetched.load(Ordering::Relaxed);
        self.exceeded(
            ReadLimit::FetchBytes,
            self.max_fetch_bytes,
            format!(
                "{what} does not fit in the {} bytes left ({fetched} already fetched)",
                self.remaining()
            ),
        )
    }

    /// Refuse a manifest (`what`) listing more than the signature limit.
    pub(crate) fn check_signatures(&self, count: usize, what: &str) -> Result<(), Error> {
        if count as u64 > self.max_signatures {
            return Err(self.exceeded(
                ReadLimit::Signatures,
                self.max_signatures,
                format!("{what} lists {count} signature layers"),
            ));
        }
        Ok(())
    }

    /// Refuse a referrers listing (`what`) with more than the referrers
    /// limit (counted so far, so pagination stops at the first page over).
    pub(crate) fn check_referrers(&self, count: usize, what: &str) -> Result<(), Error> {
        if count as u64 > self.max_referrers {
            return Err(self.exceeded(
                ReadLimit::Referrers,
                self.max_referrers,
                format!("{what} lists more than {} manifests", self.max_referrers),
            ));
        }
        Ok(())
    }
}

/// [`read_capped`] at the smaller of `item_limit` and what `budget` has left,
/// charging what was read. Going over the budget (rather than the item's own
/// limit) is reported as [`Error::LimitExceeded`], which names the flag that
/// raises it.
pub(crate) async fn read_within(
    response: Response,
    op: Operation,
    url: &str,
    item_limit: u64,
    budget: Option<&ReadBudget>,
) -> Result<Vec<u8>, Error> {
    let Some(budget) = budget else {
        return read_capped(response, op, url, item_limit).await;
    };
    let remaining = budget.remaining();
    let limit = item_limit.min(remaining);
    match read_capped(response, op, url, limit).await {
        Ok(bytes) => {
            budget.charge(bytes.len() as u64);
            Ok(bytes)
        }
        Err(Error::Content(ContentError::TooLarge { .. })) if remaining < item_limit => {
            Err(budget.over_bytes(&format!("{op} {url}")))
        }
        Err(e) => Err(e),
    }
}
