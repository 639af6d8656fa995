//! RFC 3161 time-stamp tokens: parse and verify against trusted TSA chains.
