//! The stand-in's shared state and what it records: what the handlers in
//! `http` and the [`ReferrersRegistry`](super::ReferrersRegistry) handle in
//! the parent module both read and write. Its own module so that neither of
//! those imports the other.

use std::sync::{Mutex, MutexGuard};

use keyless_oci::Digest;

use super::store::Store;

/// What the stand-in supports. [`Behaviour::default`] is a full OCI 1.1
/// registry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Behaviour {
    /// Serve the referrers API and answer subject-bearing manifest PUTs with
    /// `OCI-Subject`. Off: 404 on the endpoint, no header.
    pub referrers_api: bool,
    /// Apply `?artifactType=` (and say so with `OCI-Filters-Applied`).
    pub filter: bool,
    /// At most this many descriptors per referrers response, the rest
    /// reachable through `Link` headers.
    pub page_size: Option<usize>,
}

impl Default for Behaviour {
    fn default() -> Self {
        Self {
            referrers_api: true,
            filter: true,
            page_size: None,
        }
    }
}

/// A manifest PUT as the stand-in saw and answered it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestPut {
    pub repository: String,
    /// The tag or digest in the URL.
    pub reference: String,
    pub media_type: String,
    pub digest: Digest,
    /// The manifest's `subject` digest.
    pub subject: Option<Digest>,
    /// The `OCI-Subject` header sent back.
    pub oci_subject: Option<String>,
}

/// A referrers API request as the stand-in saw and answered it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReferrersCall {
    pub repository: String,
    pub subject: String,
    /// The `artifactType` query parameter, decoded.
    pub artifact_type: Option<String>,
    /// Whether `OCI-Filters-Applied: artifactType` was sent back.
    pub filter_applied: bool,
    pub status: u16,
    /// How many descriptors the response listed.
    pub listed: usize,
    /// Whether a `Link: rel="next"` header was sent back.
    pub has_next: bool,
}

#[derive(Debug, Default)]
pub(super) struct Log {
    pub(super) manifest_puts: Vec<ManifestPut>,
    pub(super) referrers_calls: Vec<ReferrersCall>,
}

#[derive(Debug)]
pub(super) struct Inner {
    pub(super) behaviour: Mutex<Behaviour>,
    pub(super) store: Mutex<Store>,
    pub(super) log: Mutex<Log>,
}

/// Lock, ignoring poisoning: a panicking handler leaves only test state.
pub(super) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}
