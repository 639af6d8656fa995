//! Hex for error messages, in a module of its own (not lib.rs) so that
//! the modules lib.rs re-exports can use it without importing lib.rs.

/// Lower-case hex of a byte string, for error messages.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
