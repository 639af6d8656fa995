//! Size and count caps on bundles, in a module of their own (not lib.rs,
//! which re-exports them) so that bundle.rs can use them without importing
//! lib.rs.

/// Largest bundle we accept, in bytes. Real bundles are a few KiB; the cap
/// stops a hostile file from costing memory before anything is checked.
pub const MAX_BUNDLE_BYTES: usize = 4 * 1024 * 1024;
/// Most transparency-log entries and RFC 3161 timestamps in one bundle
/// (sigstore-go uses the same caps).
pub const MAX_TLOG_ENTRIES: usize = 32;
pub const MAX_TIMESTAMPS: usize = 32;
/// Longest certificate chain carried in a bundle.
pub const MAX_CHAIN_LEN: usize = 10;
