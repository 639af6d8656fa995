//! Test-only helpers shared by integration tests (not part of the library).
//!
//! [`referrers_registry`] is an in-process stand-in for registries that
//! implement the OCI distribution spec 1.1 referrers API (zot, Harbor,
//! registry 3.x). The real-registry tests use Debian's `docker-registry`
//! (distribution 2.8, see `keyless_oci::testing`), which has no referrers API,
//! so without this stand-in only the referrers *tag schema* fallback would be
//! exercised.

pub mod referrers_registry;
