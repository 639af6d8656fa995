//! Test support shared by the keyless crates' tests, benches and examples.
//!
//! Only ever a dev-dependency: nothing here is part of a shipped library, and
//! helpers that several crates' tests need live here instead of being reached
//! across crates with `#[path]`.
//!
//! - [`registry`]: a real registry (Debian's `docker-registry`) on a loopback
//!   port, and a small image to push to it.
//! - [`referrers_registry`]: an in-process stand-in for registries with the
//!   OCI 1.1 referrers API, which the real registry lacks.
//! - [`pg`]: a throwaway PostgreSQL cluster on a loopback port.
//! - [`backend`]: a test log's home on either storage driver, and
//!   [`both_backends!`] to run one test on both.
//! - [`minted`]: an in-process CA and transparency log minting real bundles.
//! - [`cosign_images`]: cosign-format signature layers and bundles from it.
//! - [`conformance`]: the sigstore-conformance cases with their verdicts.
//! - [`mutator`]: a reproducible structure-aware mutator for bundle JSON.
//! - [`softhsm`]: a private SoftHSM2 token directory for PKCS#11 tests.
//! - [`tsa_pki`]: a throw-away TSA PKI (root, intermediate, two signing
//!   leaves) and token builders for its leaves.

pub mod backend;
pub mod conformance;
pub mod cosign_images;
pub mod imports;
pub mod minted;
pub mod mutator;
pub mod pg;
pub mod pg_failover;
pub mod referrers_registry;
pub mod registry;
pub mod softhsm;
pub mod tsa_pki;
