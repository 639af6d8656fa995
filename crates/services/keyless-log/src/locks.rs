//! Lock helpers shared by the log's parts: a leaf module, so that the
//! entry index, the sequencer and the log handle need not import each
//! other for them.

use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};

pub(crate) fn read<T>(l: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    // Writers never leave these structures half-updated across a panic
    // point that matters, so a poisoned lock's data is still consistent.
    l.read().unwrap_or_else(|p| p.into_inner())
}

pub(crate) fn write<T>(l: &RwLock<T>) -> RwLockWriteGuard<'_, T> {
    l.write().unwrap_or_else(|p| p.into_inner())
}
