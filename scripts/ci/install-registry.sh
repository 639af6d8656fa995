#!/usr/bin/env bash
# Installs Debian's `docker-registry` (the CNCF distribution registry v2.8) for
# the keyless-oci integration tests. The tests start their own registry on a
# free loopback port with a temporary config, so the packaged system service
# (which would listen on :5000) is stopped and disabled if it was started.
# Idempotent: running it twice is a no-op the second time.
set -euo pipefail

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  SUDO="sudo"
fi

if ! command -v docker-registry >/dev/null 2>&1; then
  echo "installing docker-registry (Debian package)"
  # policy-rc.d exit 101 keeps the package's postinst from starting the service.
  policy=/usr/sbin/policy-rc.d
  created_policy=0
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null
    $SUDO chmod +x "$policy"
    created_policy=1
  fi
  $SUDO apt-get update
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends docker-registry
  if [ "$created_policy" = 1 ]; then
    $SUDO rm -f "$policy"
  fi
fi

# Never leave a system instance running: tests bring their own.
if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
  $SUDO systemctl disable --now docker-registry >/dev/null 2>&1 || true
fi
if command -v service >/dev/null 2>&1; then
  $SUDO service docker-registry stop >/dev/null 2>&1 || true
fi
# A service started without an init system shows up as a plain process
# running the packaged config; stop exactly that one, by its pid.
for pid in $(pgrep -x docker-registry 2>/dev/null || true); do
  if tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q '/etc/docker/registry/config.yml'; then
    $SUDO kill "$pid" 2>/dev/null || true
  fi
done

command -v docker-registry >/dev/null
echo "docker-registry: $(docker-registry --version 2>/dev/null || echo installed)"
