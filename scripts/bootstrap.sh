#!/usr/bin/env bash
# Creates .venv (if needed) and installs ricecoder-otel with the extras given as arguments.
# Sourced by scripts/demo and scripts/test.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${RICECODER_VENV:-$ROOT/.venv}"
PYTHON="${PYTHON:-python3}"
EXTRAS="${1:-examples}"
if [ ! -x "$VENV/bin/python" ]; then
  echo "[bootstrap] creating $VENV"
  "$PYTHON" -m venv "$VENV"
  "$VENV/bin/python" -m pip install -q --upgrade pip
fi
echo "[bootstrap] installing ricecoder-otel[$EXTRAS] into $VENV"
"$VENV/bin/python" -m pip install -q -e "$ROOT[$EXTRAS]"
"$VENV/bin/python" -m pip check
export PATH="$VENV/bin:$PATH"
export RICECODER_VENV="$VENV"
