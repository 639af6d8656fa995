//! Identity token sources.
