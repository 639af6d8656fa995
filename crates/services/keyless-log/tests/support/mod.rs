//! Shared helpers of the storage drivers' contract tests: where a test log
//! lives (a directory, and for PostgreSQL a throwaway cluster), and a macro
//! that runs a test against both drivers (both from keyless-testkit).
#![allow(dead_code)]

pub use keyless_testkit::backend::{Backend, Store};
// Each test binary uses only some of these.
#[allow(unused_imports)]
pub use keyless_testkit::{both_backends, pg};
