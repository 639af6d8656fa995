#!/usr/bin/env bash
# Installs Debian's `softhsm2` package for the keyless-ca PKCS#11 tests
# (crates/services/keyless-ca/tests/pkcs11.rs). It provides the PKCS#11
# module /usr/lib/softhsm/libsofthsm2.so and `softhsm2-util`. The tests
# create their own tokens in a temp dir (their own softhsm2.conf through
# SOFTHSM2_CONF), so the package's system-wide token directory is unused.
# Idempotent: quick and a no-op when the module is already there.
set -euo pipefail

MODULE=/usr/lib/softhsm/libsofthsm2.so

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  SUDO="sudo"
fi

if [ -e "$MODULE" ] && command -v softhsm2-util >/dev/null 2>&1; then
  echo "SoftHSM2 already installed: $MODULE ($(softhsm2-util --version 2>/dev/null || echo 'version unknown'))"
  exit 0
fi

echo "installing softhsm2 (Debian package)"
$SUDO apt-get update
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends softhsm2

if [ ! -e "$MODULE" ]; then
  echo "install-softhsm.sh: softhsm2 installed but $MODULE is missing" >&2
  exit 1
fi
echo "SoftHSM2: $MODULE ($(softhsm2-util --version 2>/dev/null || echo 'version unknown'))"
