#!/usr/bin/env bash
# Grafana 11.3.0's published dashboard types (@grafana/schema) and the TypeScript compiler, for
# tests/unit/dashboards/test_grafana_schema.py. Needs node and npm (Debian's nodejs and npm). Idempotent.
set -euo pipefail
DIR="$(cd "$(dirname "$0")/../.." && pwd)/tests/unit/dashboards/grafana_schema"
if ! command -v npm >/dev/null 2>&1; then
  if [[ "$(id -u)" != 0 ]]; then
    echo "[grafana-schema] npm missing; install it as root: apt-get install -y nodejs npm" >&2
    exit 1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nodejs npm
fi
STAMP="$DIR/node_modules/.installed-from-lock"
if [[ -f "$STAMP" ]] && cmp -s "$DIR/package-lock.json" "$STAMP"; then
  echo "[grafana-schema] installed"
  exit 0
fi
echo "[grafana-schema] npm ci in $DIR"
npm ci --prefix "$DIR" --no-audit --no-fund --loglevel=error
cp "$DIR/package-lock.json" "$STAMP"
