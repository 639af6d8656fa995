//! The TUF client: the update workflow of specification §5, its local
//! metadata store, and delegation resolution.

pub mod cache;
pub mod delegation;
pub mod update;

pub use cache::MetadataStore;
pub use update::{verify_target, Updater, UpdaterConfig};
