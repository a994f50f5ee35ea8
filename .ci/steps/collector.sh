#!/usr/bin/env bash
# Build the ricecoder collector (collector-config/builder-config.yaml) with ocb through the
# Go module proxy, unless the binary for this manifest is already cached under
# ~/.cache/ricecoder/collector/<manifest sha256>/. Idempotent; the first build takes many minutes.
set -euo pipefail
cd "$(dirname "$0")/../.."
VENV="${RICECODER_VENV:-$HOME/.cache/ricecoder/venv}"
PY="$VENV/bin/python"
[ -x "$PY" ] || PY=python3
if ! command -v go >/dev/null 2>&1; then
  [ -x /usr/local/go/bin/go ] && export PATH="/usr/local/go/bin:$PATH"
fi
command -v go >/dev/null 2>&1 || { echo "collector.sh: the Go toolchain is required to build the collector" >&2; exit 1; }
PYTHONPATH=src "$PY" -m ricecoder_otel.cli collector build
