#!/usr/bin/env bash
# The project's tests, on a fresh machine: installs what the tests need
# (scripts/ci/*.sh: Debian packages, a Python venv with sigstore,
# cargo-fuzz), then runs every test in the workspace, including the
# Sigstore conformance suite from testdata/, then a short fuzz run.
set -euo pipefail
cd "$(dirname "$0")/.."

# One build from scratch: incremental caches only take disk (about 5 GB
# for this workspace). Disk is what a CI machine runs out of: before the
# lean debug profile (Cargo.toml) a run peaked at about 31 GB.
export CARGO_INCREMENTAL=0
echo "==> disk: $(df -h --output=avail . | tail -n 1 | tr -d ' ') free for the build"

for setup in scripts/ci/*.sh; do
  [ -e "$setup" ] || continue
  echo "==> $setup"
  bash "$setup"
done

echo "==> cargo fmt --check"
cargo fmt --all --check
(cd fuzz && cargo fmt --check)

echo "==> cargo clippy --workspace --all-targets -D warnings"
cargo clippy --workspace --all-targets --locked -- -D warnings

echo "==> cargo test --workspace"
cargo test --workspace --locked

# Every cargo-fuzz target for a short time from its checked-in seed
# corpus (fuzz/corpus-seed/); fails on any crash, hang or leak.
echo "==> fuzz (fuzz/ci.sh)"
bash fuzz/ci.sh
echo "==> disk: target/ $(du -sh target | cut -f1), fuzz/target/ $(du -sh fuzz/target | cut -f1)"
