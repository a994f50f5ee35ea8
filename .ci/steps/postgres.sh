#!/usr/bin/env bash
# PostgreSQL 15 server binaries for the store's integration tests (tests/harness/postgres.py
# runs initdb into a temporary directory; no system cluster is started). Idempotent.
set -euo pipefail
PG_BIN="${RICECODER_PG_BIN:-/usr/lib/postgresql/15/bin}"
if [[ -x "$PG_BIN/initdb" && -x "$PG_BIN/postgres" ]] && id postgres >/dev/null 2>&1; then
  echo "[postgres] server binaries present in $PG_BIN"
  exit 0
fi
if [[ "$(id -u)" != 0 ]]; then
  echo "[postgres] $PG_BIN/initdb missing; install PostgreSQL 15 as root: apt-get install -y postgresql-15" >&2
  exit 1
fi
echo "[postgres] installing postgresql-15"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql-15 postgresql-client-15
# The package starts a system cluster we do not use; stop it so it holds no port or memory.
if command -v pg_ctlcluster >/dev/null 2>&1; then
  pg_ctlcluster 15 main stop >/dev/null 2>&1 || true
fi
test -x "$PG_BIN/initdb"
