//! The keyless signing flow.
