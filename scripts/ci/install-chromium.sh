#!/usr/bin/env bash
# Installs Debian's `chromium` and `chromium-driver` for the log explorer's
# browser test (crates/apps/keyless-cli/tests/explorer.rs), which drives
# headless Chromium through chromedriver (WebDriver).
# Idempotent: a no-op when both are already installed.
set -euo pipefail

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  SUDO="sudo -n"
fi

if command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1; then
  echo "Chromium already installed: $(chromium --version 2>/dev/null || echo 'version unknown')"
  exit 0
fi

echo "installing chromium and chromium-driver (Debian packages)"
$SUDO apt-get update
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends chromium chromium-driver

for bin in chromium chromedriver; do
  if ! command -v "$bin" >/dev/null 2>&1; then
    echo "install-chromium.sh: packages installed but $bin is missing" >&2
    exit 1
  fi
done
echo "Chromium: $(chromium --version 2>/dev/null || echo 'version unknown')"
