#!/usr/bin/env bash
# The project's tests, on a fresh machine: installs what the tests need
# (nothing outside Cargo yet), then runs every test in the workspace,
# including the Sigstore conformance suite from ../shared.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -f ../shared/conformance/cases.tsv ]; then
  echo "error: ../shared/conformance is missing; the conformance tests read it in place" >&2
  exit 1
fi

for setup in scripts/ci/*.sh; do
  [ -e "$setup" ] || continue
  echo "==> $setup"
  bash "$setup"
done

echo "==> cargo test --workspace"
cargo test --workspace --locked

# Every cargo-fuzz target for a short time from its checked-in seed
# corpus (fuzz/corpus-seed/); fails on any crash, hang or leak.
echo "==> fuzz (fuzz/ci.sh)"
bash fuzz/ci.sh
