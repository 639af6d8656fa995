#!/usr/bin/env bash
# cargo-fuzz, which the fuzz step of scripts/test.sh (fuzz/ci.sh) runs.
# Pinned, built from crates.io with its own lock file; skipped when that
# version is already installed. About a minute on 2 cores.
set -euo pipefail
CARGO_FUZZ_VERSION=0.13.2
if cargo fuzz --version 2>/dev/null | grep -qx "cargo-fuzz $CARGO_FUZZ_VERSION"; then
  exit 0
fi
cargo install --locked --version "$CARGO_FUZZ_VERSION" cargo-fuzz
cargo fuzz --version
