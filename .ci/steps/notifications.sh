#!/usr/bin/env bash
# The notification tests make a self-signed certificate for the STARTTLS SMTP server with the
# openssl CLI, and talk to Debian's Alertmanager (installed by prometheus.sh). Idempotent.
set -euo pipefail
if ! command -v openssl >/dev/null 2>&1; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openssl >/dev/null
fi
openssl version
