#!/usr/bin/env bash
# Debian's Chromium for the dashboard browser tests (tests/browser/, benchmarks/dashboards/).
# Playwright (the `dev` extra) drives /usr/bin/chromium; it never downloads a browser of its own
# (`playwright install` is not used). Idempotent.
set -euo pipefail
if [[ -x /usr/bin/chromium ]]; then
  echo "[chromium] $(/usr/bin/chromium --version 2>/dev/null || echo present)"
  exit 0
fi
if [[ "$(id -u)" != 0 ]]; then
  echo "[chromium] /usr/bin/chromium missing; install it as root: apt-get install -y chromium" >&2
  exit 1
fi
echo "[chromium] installing Debian's chromium"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core
test -x /usr/bin/chromium
