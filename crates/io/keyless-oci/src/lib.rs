//! OCI registry storage for signatures.
