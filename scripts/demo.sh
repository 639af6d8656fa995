#!/usr/bin/env bash
# The main job, on a fresh machine: start the local keyless stack (OIDC
# issuer, CA + CT log, transparency log, TSA, TUF) on embedded defaults,
# sign a file and a container image in a local registry keylessly with a
# development identity, verify both, and show the log entry. Finally,
# verify a real bundle from the public Sigstore instance offline.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/ci/install-registry.sh
cargo build --release --locked -p keyless-cli
cargo build --release --locked -p keyless-oci --example push_image
KEYLESS=$PWD/target/release/keyless
PUSH_IMAGE=$PWD/target/release/examples/push_image

WORK=$(mktemp -d)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

echo "==> starting the local stack (keyless server --dev)"
BASE=$(( ($(free_port) % 20000) + 20000 ))
RUST_LOG=warn "$KEYLESS" server --dev --data-dir "$WORK/stack" --listen "127.0.0.1:$BASE" > "$WORK/stack.env" 2> "$WORK/stack.log" &
PIDS+=($!)
for _ in $(seq 1 200); do [ -s "$WORK/stack.env" ] && break; sleep 0.05; done
[ -s "$WORK/stack.env" ] || { cat "$WORK/stack.log"; echo "stack did not start" >&2; exit 1; }
cat "$WORK/stack.log"
cat "$WORK/stack.env"
eval "$(cat "$WORK/stack.env")"   # export SIGSTORE_TRUST_CONFIG=…
ISSUER=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["oidcIssuer"])' "$WORK/stack/stack.json")
LOG_URL=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["logUrl"])' "$WORK/stack/stack.json")

echo; echo "==> keyless sign-blob with a development identity"
echo "keyless demo artifact $(date -u +%FT%TZ)" > "$WORK/artifact.txt"
TOKEN=$("$KEYLESS" dev-token --data-dir "$WORK/stack" --subject demo@keyless.test)
"$KEYLESS" sign-blob --yes --identity-token "$TOKEN" --bundle "$WORK/artifact.sigstore.json" "$WORK/artifact.txt"

echo; echo "==> keyless verify-blob"
"$KEYLESS" verify-blob --bundle "$WORK/artifact.sigstore.json" \
  --certificate-identity demo@keyless.test --certificate-oidc-issuer "$ISSUER" "$WORK/artifact.txt"

echo; echo "==> the log entry: keyless log get / checkpoint (proof and checkpoint signature verified)"
INDEX=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["verificationMaterial"]["tlogEntries"][0]["logIndex"])' "$WORK/artifact.sigstore.json")
"$KEYLESS" log get --url "$LOG_URL" --index "$INDEX"
"$KEYLESS" log checkpoint --url "$LOG_URL"

echo; echo "==> keyless monitor: every entry by demo@keyless.test (one pass)"
"$KEYLESS" monitor --log "$LOG_URL" --identity demo@keyless.test --issuer "$ISSUER" \
  --state "$WORK/monitor.state" --from-index 0 --once

echo "==> a local OCI registry (Debian's docker-registry) and a test image"
RPORT=$(free_port)
mkdir -p "$WORK/registry"
cat > "$WORK/registry/config.yml" <<YML
version: 0.1
storage:
  filesystem:
    rootdirectory: $WORK/registry/data
http:
  addr: 127.0.0.1:$RPORT
YML
docker-registry serve "$WORK/registry/config.yml" > "$WORK/registry.log" 2>&1 &
PIDS+=($!)
IMAGE=127.0.0.1:$RPORT/demo/hello:1.0
for _ in $(seq 1 100); do "$PUSH_IMAGE" "$IMAGE" > "$WORK/pushed" 2>/dev/null && break; sleep 0.1; done
echo "pushed $(cat "$WORK/pushed")"

echo; echo "==> keyless sign IMAGE"
TOKEN=$("$KEYLESS" dev-token --data-dir "$WORK/stack" --subject demo@keyless.test)
"$KEYLESS" sign --yes --allow-insecure-registry --identity-token "$TOKEN" "$IMAGE"

echo; echo "==> keyless verify IMAGE"
"$KEYLESS" verify --allow-insecure-registry \
  --certificate-identity demo@keyless.test --certificate-oidc-issuer "$ISSUER" "$IMAGE"

echo; echo "==> a different identity is refused"
if "$KEYLESS" verify --allow-insecure-registry \
  --certificate-identity someone-else@keyless.test --certificate-oidc-issuer "$ISSUER" "$IMAGE"; then
  echo "unexpected: wrong identity verified" >&2; exit 1
fi

echo; echo "==> offline verification of a real public-good Sigstore bundle (embedded production root)"
CASES=testdata/sigstore-conformance/assets/bundle-verify
if [ -d "$CASES" ]; then
  env -u SIGSTORE_TRUST_CONFIG "$KEYLESS" verify-blob --bundle "$CASES/happy-path-v0.3/bundle.sigstore.json" \
    --certificate-identity https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main \
    --certificate-oidc-issuer https://token.actions.githubusercontent.com "$CASES/a.txt"
fi
echo; echo "==> done"
