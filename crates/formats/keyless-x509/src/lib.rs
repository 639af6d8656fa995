//! Fulcio certificate profile, RFC 5280 chain validation at a given time, and embedded SCTs.
