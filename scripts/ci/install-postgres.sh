#!/usr/bin/env bash
# Installs Debian's `postgresql` package for the keyless-log PostgreSQL
# backend tests. The tests create, start and remove their own throwaway
# cluster (initdb + pg_ctl on a free loopback port, socket in a temp dir),
# so the packaged cluster and its service are not needed: if the package's
# postinst created and started one, it is stopped and kept from starting.
# Idempotent: running it twice is a no-op the second time.
set -euo pipefail

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  SUDO="sudo"
fi

have_initdb() {
  command -v initdb >/dev/null 2>&1 && return 0
  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1
}

if have_initdb; then
  echo "PostgreSQL server binaries already installed:"
  ls -d /usr/lib/postgresql/*/bin 2>/dev/null || command -v initdb
  exit 0
fi

echo "installing postgresql (Debian package)"
# policy-rc.d exit 101 keeps the package's postinst from starting the service.
policy=/usr/sbin/policy-rc.d
created_policy=0
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null
  $SUDO chmod +x "$policy"
  created_policy=1
fi
cleanup() {
  if [ "$created_policy" = 1 ]; then
    $SUDO rm -f "$policy"
  fi
}
trap cleanup EXIT
$SUDO apt-get update
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends postgresql

# The packaged cluster is not used; make sure it is not running or required.
if command -v pg_lsclusters >/dev/null 2>&1; then
  pg_lsclusters --no-header 2>/dev/null | while read -r ver name _rest; do
    $SUDO pg_ctlcluster "$ver" "$name" stop 2>/dev/null || true
    # "manual": not started at boot by the postgresql service.
    if [ -f "/etc/postgresql/$ver/$name/start.conf" ]; then
      echo manual | $SUDO tee "/etc/postgresql/$ver/$name/start.conf" >/dev/null
    fi
  done
fi
if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
  $SUDO systemctl disable --now postgresql >/dev/null 2>&1 || true
fi

if ! have_initdb; then
  echo "install-postgres.sh: postgresql installed but no initdb found" >&2
  exit 1
fi
echo "PostgreSQL server binaries:"
ls -d /usr/lib/postgresql/*/bin
