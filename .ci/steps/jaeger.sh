#!/usr/bin/env bash
# Build Jaeger v2 (github.com/jaegertracing/jaeger cmd/jaeger) through the Go module proxy and
# cache the binary under ~/.cache/ricecoder/jaeger/<version>/jaeger (or $RICECODER_CACHE_DIR).
# `go install module@version` refuses the module (its go.mod has replace directives), so the
# binary is built as a tool dependency of a throwaway module. Idempotent: a cached binary is
# reused; the first build takes minutes on two cores. Used by tests/harness/jaeger.py.
set -euo pipefail
VERSION="${JAEGER_VERSION:-v1.76.0}"
MODULE="github.com/jaegertracing/jaeger"
ROOT="${RICECODER_CACHE_DIR:-$HOME/.cache/ricecoder}/jaeger/$VERSION"
TARGET="$ROOT/jaeger"
if ! command -v go >/dev/null 2>&1; then
  [ -x /usr/local/go/bin/go ] && export PATH="/usr/local/go/bin:$PATH"
fi
mkdir -p "$ROOT"
exec 9>"$ROOT/.lock"
flock 9  # two builds of one version wait for each other instead of racing
if [ -x "$TARGET" ]; then
  echo "jaeger.sh: using cached Jaeger $VERSION at $TARGET" >&2
  exit 0
fi
command -v go >/dev/null 2>&1 || { echo "jaeger.sh: the Go toolchain is required to build Jaeger" >&2; exit 1; }
NICE=(); command -v nice >/dev/null 2>&1 && NICE=(nice -n 10)
WORK="$(mktemp -d "$ROOT/build.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
started=$(date +%s)
cd "$WORK"
echo "jaeger.sh: resolving $MODULE@$VERSION through the Go module proxy" >&2
go mod init jaegerbuild >/dev/null 2>&1
set +e
GOFLAGS=-mod=mod "${NICE[@]}" go get -tool "$MODULE/cmd/jaeger@$VERSION" > "$WORK/get.log" 2>&1
rc=$?
set -e
grep -v -e '^go: downloading' -e '^go: added' "$WORK/get.log" >&2 || true
[ "$rc" -eq 0 ] && grep -q "$MODULE/cmd/jaeger" go.mod || { echo "jaeger.sh: go get -tool failed (exit $rc)" >&2; exit 1; }
echo "jaeger.sh: resolved $(grep -c '^go: added' "$WORK/get.log") modules in $(( $(date +%s) - started )) s" >&2
echo "jaeger.sh: compiling cmd/jaeger (takes minutes on a cold Go cache)" >&2
( while sleep 30; do echo "jaeger.sh: still compiling ($(( $(date +%s) - started )) s)" >&2; done ) &
beat=$!
set +e
GOFLAGS=-mod=mod "${NICE[@]}" go build -trimpath -o "$WORK/jaeger" "$MODULE/cmd/jaeger" >&2
rc=$?
set -e
kill "$beat" 2>/dev/null || true
[ "$rc" -eq 0 ] || { echo "jaeger.sh: go build failed (exit $rc)" >&2; exit "$rc"; }
mv "$WORK/jaeger" "$TARGET"
seconds=$(( $(date +%s) - started ))
printf '{"version": "%s", "seconds": %d, "go": "%s"}\n' "$VERSION" "$seconds" "$(go env GOVERSION)" > "$ROOT/build.json"
echo "jaeger.sh: built $TARGET in $seconds s" >&2
