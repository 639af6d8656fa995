#!/usr/bin/env bash
# A Python virtualenv with sigstore-python (the peer client the interop
# tests sign and verify with). Idempotent; the venv lives in target/ so a
# clean clone builds its own.
set -euo pipefail
cd "$(dirname "$0")/../.."
VENV=target/sigstore-venv
SIGSTORE_VERSION=4.5.1
if [ -x "$VENV/bin/sigstore" ] && "$VENV/bin/python" -c "import sigstore, sys; sys.exit(sigstore.__version__ != '$SIGSTORE_VERSION')" 2>/dev/null; then
  exit 0
fi
python3 -m venv "$VENV"
"$VENV/bin/pip" install --quiet --disable-pip-version-check "sigstore==$SIGSTORE_VERSION"
"$VENV/bin/sigstore" --version
