//! Sigstore bundle verification: trust material + policy + artifact -> verified or a precise error.
