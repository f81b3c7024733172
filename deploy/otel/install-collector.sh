#!/usr/bin/env bash
# Builds the OpenTelemetry Collector the telemetry tests export to, from the Go module proxy, with the
# OpenTelemetry Collector Builder and deploy/otel/builder-config.yaml (OTLP receiver; file and debug
# exporters). Skipped when the cached binary was built from the same manifest.
#
#   bash deploy/otel/install-collector.sh     prints the binary's path as the last stdout line
#
# Environment (defaults in brackets):
#   SEQUOR_CACHE   [$HOME/.cache/sequor] the binary goes to $SEQUOR_CACHE/otelcol/sequor-otelcol
#   GO             [go on PATH, else /usr/local/go/bin/go]
#
# Cost on a fresh 2-core machine: the builder and ~200 modules are downloaded (GOMODCACHE, ~520 MB) and
# compiled (GOCACHE, ~660 MB); see shared/telemetry/README.md for measured times. Both Go caches make a
# rebuild after a manifest change take a fraction of that.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
MANIFEST="$SCRIPT_DIR/builder-config.yaml"
CACHE_ROOT="${SEQUOR_CACHE:-$HOME/.cache/sequor}"
DEST="$CACHE_ROOT/otelcol"
BIN="$DEST/sequor-otelcol"
STAMP="$DEST/sequor-otelcol.manifest-sha256"

log() { echo "install-collector.sh: $*" >&2; }
die() { log "$*"; exit 1; }

# The builder's release is the collector release the manifest names (dist.version).
BUILDER_VERSION="v$(sed -n 's/^  version: *\([0-9][0-9.]*\).*/\1/p' "$MANIFEST" | head -1)"
[[ "$BUILDER_VERSION" != "v" ]] || die "no dist.version in $MANIFEST"
manifest_sum="$(sha256sum "$MANIFEST" | cut -d' ' -f1)"

installed() { [[ -x "$BIN" && -f "$STAMP" && "$(cat "$STAMP")" == "$manifest_sum" ]]; }

if installed; then
  log "up to date: $BIN"
  echo "$BIN"
  exit 0
fi

GO="${GO:-$(command -v go || true)}"
GO="${GO:-/usr/local/go/bin/go}"
[[ -x "$GO" ]] || die "the Go toolchain is needed (go on PATH or /usr/local/go/bin/go)"

mkdir -p "$DEST"
# One build at a time; a second caller waits, then finds the binary in place.
exec 8>"$DEST/.lock"
flock 8
if installed; then
  echo "$BIN"
  exit 0
fi

started=$(date +%s)
log "installing the collector builder $BUILDER_VERSION ($("$GO" version | cut -d' ' -f3))"
GOBIN="$DEST/tools" GOFLAGS=-buildvcs=false "$GO" install "go.opentelemetry.io/collector/cmd/builder@$BUILDER_VERSION"
builder_done=$(date +%s)

work="$(mktemp -d "$DEST/.build.XXXXXX")"
trap 'rm -rf "$work"' EXIT
cp "$MANIFEST" "$work/builder-config.yaml"
log "building the collector from $MANIFEST (this downloads and compiles its modules)"
# TMPDIR inside the scratch dir: the builder leaves an otelcol-distribution* dir in it.
mkdir -p "$work/tmp"
if ! (cd "$work" && TMPDIR="$work/tmp" GOFLAGS=-buildvcs=false PATH="$(dirname "$GO"):$PATH" \
    "$DEST/tools/builder" --config builder-config.yaml --ldflags="-s -w" >"$work/builder.log" 2>&1); then
  cat "$work/builder.log" >&2
  die "the collector build failed"
fi
mv "$work/build/sequor-otelcol" "$BIN.new"
mv "$BIN.new" "$BIN"
echo "$manifest_sum" >"$STAMP"
finished=$(date +%s)
log "built $BIN ($(( $(stat -c %s "$BIN") / 1024 / 1024 )) MiB) in $(( finished - started )) s" \
  "(builder $(( builder_done - started )) s, collector $(( finished - builder_done )) s)"
echo "$BIN"
