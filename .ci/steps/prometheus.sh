#!/usr/bin/env bash
# Install Debian's Prometheus (promtool) and Alertmanager (amtool) if missing, and wrk, the load
# generator of the requests-per-second benchmark (benchmarks/overhead/rps.py). Idempotent.
# Nothing is started here: tests start their own instances on loopback ports.
set -euo pipefail
missing=()
command -v prometheus >/dev/null 2>&1 && command -v promtool >/dev/null 2>&1 || missing+=(prometheus)
command -v prometheus-alertmanager >/dev/null 2>&1 && command -v amtool >/dev/null 2>&1 || missing+=(prometheus-alertmanager)
command -v wrk >/dev/null 2>&1 || missing+=(wrk)
if [ ${#missing[@]} -gt 0 ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
prometheus --version 2>&1 | head -1
amtool --version 2>&1 | head -1
wrk --version 2>&1 | head -1 || true
