#!/usr/bin/env bash
# The main job, on a fresh machine: build keyless and verify real bundles
# made by the public Sigstore instance, offline, against the embedded
# production trusted root — then show a tampered artifact being refused.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --release --locked -p keyless-cli
KEYLESS=target/release/keyless
CASES=../shared/conformance/assets/bundle-verify
ID=https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main
ISSUER=https://token.actions.githubusercontent.com

echo "==> verify a public-good bundle (Rekor v1, Fulcio, CT) with the embedded root"
"$KEYLESS" verify-blob --bundle "$CASES/happy-path-v0.3/bundle.sigstore.json" \
  --certificate-identity "$ID" --certificate-oidc-issuer "$ISSUER" "$CASES/a.txt"

echo "==> verify a Rekor v2 bundle with an RFC 3161 timestamp (staging trusted root)"
"$KEYLESS" verify-blob --bundle "$CASES/rekor2-happy-path/bundle.sigstore.json" \
  --trusted-root "$CASES/rekor2-happy-path/trusted_root.json" \
  --certificate-identity "$ID" --certificate-oidc-issuer "$ISSUER" "$CASES/a.txt"

echo "==> a different artifact is refused"
tmp=$(mktemp); echo "not the signed file" > "$tmp"
if "$KEYLESS" verify-blob --bundle "$CASES/happy-path-v0.3/bundle.sigstore.json" \
  --certificate-identity "$ID" --certificate-oidc-issuer "$ISSUER" "$tmp"; then
  echo "unexpected: tampered artifact verified" >&2; rm -f "$tmp"; exit 1
fi
rm -f "$tmp"
echo "==> done"
