//! Serde models of Sigstore's formats: bundle v0.1-v0.3, trusted_root.json, signing config, DSSE, in-toto and log entry bodies.
