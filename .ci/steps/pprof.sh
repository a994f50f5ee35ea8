#!/usr/bin/env bash
# `go tool pprof` reads the pprof profiles `ricecoder-otel perf profile --format pprof` writes
# (tests/unit/performance/test_cli.py, test_pprof.py). The machine image ships Go under
# /usr/local/go; the first `go tool pprof` builds pprof from Go's own sources (no network), which
# takes about a minute on two cores: do it here, once, so tests do not pay for it. Idempotent.
set -euo pipefail
if ! command -v go >/dev/null 2>&1; then
  [ -x /usr/local/go/bin/go ] && export PATH="/usr/local/go/bin:$PATH"
fi
command -v go >/dev/null 2>&1 || { echo "pprof.sh: the Go toolchain is required (go tool pprof checks pprof output)" >&2; exit 1; }
started=$(date +%s)
go tool pprof -h >/dev/null 2>&1 || true  # builds and caches pprof; -h exits non-zero on some versions
go tool -n pprof >/dev/null || { echo "pprof.sh: go tool pprof is unavailable ($(go env GOVERSION))" >&2; exit 1; }
echo "pprof.sh: go tool pprof ready ($(go env GOVERSION), $(( $(date +%s) - started )) s)" >&2
