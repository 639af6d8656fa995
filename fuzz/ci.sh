#!/usr/bin/env bash
# The fuzz step of scripts/test.sh: build every cargo-fuzz target once
# (release, debug assertions on, so integer overflows panic), then run
# each one for FUZZ_SECONDS_PER_TARGET seconds (default 12) from a scratch
# copy of its checked-in seed corpus, fuzz/corpus-seed/<target>/. Exits
# non-zero on the first target that crashes, times out or leaks, and
# prints the path of the input that did it; other targets still run, so
# one report names every failing target.
#
# The run leaves the work tree clean: the corpus grows in a temporary
# directory, crashing inputs go under fuzz/artifacts/ (git-ignored), and
# fuzz/Cargo.lock (git-ignored) is seeded from the workspace's Cargo.lock
# so the fuzz build uses the versions the workspace tests.
#
# Needs cargo-fuzz (scripts/ci/install-cargo-fuzz.sh) and the nightly
# flags cargo-fuzz passes, enabled on the stable toolchain by
# RUSTC_BOOTSTRAP=1.
set -euo pipefail
cd "$(dirname "$0")"

PER_TARGET="${FUZZ_SECONDS_PER_TARGET:-12}"
export RUSTC_BOOTSTRAP=1
# Same flags for build and run, or `cargo fuzz run` rebuilds.
BUILD_FLAGS=(-O -a)

[ -f Cargo.lock ] || cp ../Cargo.lock Cargo.lock

mapfile -t targets < <(cargo fuzz list)
if [ "${#targets[@]}" -eq 0 ]; then
  echo "fuzz: cargo fuzz list found no target" >&2
  exit 1
fi
for t in "${targets[@]}"; do
  if ! compgen -G "corpus-seed/$t/*" >/dev/null; then
    echo "fuzz: target $t has no seed corpus in fuzz/corpus-seed/$t/" >&2
    exit 1
  fi
done

start=$SECONDS
cargo fuzz build "${BUILD_FLAGS[@]}"
echo "fuzz: built ${#targets[@]} targets in $((SECONDS - start)) s"

scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
run_id="ci-$(date -u +%Y%m%dT%H%M%SZ)-$$"
failed=()
start=$SECONDS
for t in "${targets[@]}"; do
  corpus="$scratch/$t"
  artifacts="artifacts/$run_id/$t"
  mkdir -p "$corpus" "$artifacts"
  cp corpus-seed/"$t"/* "$corpus"/
  echo "==> fuzz $t (${PER_TARGET} s, $(ls "$corpus" | wc -l) seeds)"
  # -timeout: one input running longer than 10 s is a hang, reported as a failure.
  if ! cargo fuzz run "${BUILD_FLAGS[@]}" "$t" "$corpus" -- \
      -max_total_time="$PER_TARGET" -timeout=10 -print_final_stats=1 \
      -artifact_prefix="$artifacts/" >"$scratch/$t.log" 2>&1; then
    cp "$scratch/$t.log" "$artifacts/fuzz.log"
    # The cause (panic message, sanitizer report, timeout), then the end.
    grep -E -A4 -m4 "panicked at|==ERROR|ERROR: libFuzzer" "$scratch/$t.log" >&2 || true
    tail -n 8 "$scratch/$t.log" >&2
    echo "fuzz: $t: full output in $(pwd)/$artifacts/fuzz.log" >&2
    failed+=("$t")
    for f in "$artifacts"/*; do
      if [ "$f" != "$artifacts/fuzz.log" ] && [ -e "$f" ]; then
        echo "fuzz: $t failed on input $(pwd)/$f" >&2
      fi
    done
  else
    grep -E '^(stat::number_of_executed_units|Done )' "$scratch/$t.log" || true
    rmdir "$artifacts" 2>/dev/null || true
  fi
done
rmdir "artifacts/$run_id" 2>/dev/null || true
echo "fuzz: ran ${#targets[@]} targets in $((SECONDS - start)) s"

if [ "${#failed[@]}" -gt 0 ]; then
  echo "fuzz: FAILED: ${failed[*]} (reproduce: cd fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz run ${BUILD_FLAGS[*]} <target> <input>)" >&2
  exit 1
fi
echo "fuzz: no crash in ${#targets[@]} targets"
