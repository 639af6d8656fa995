//! Fulcio-compatible certificate authority and the CT log it submits precertificates to.
