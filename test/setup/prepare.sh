#!/usr/bin/env bash
# Runs before `npm test` (the root `pretest` script) so the README's test command works on a fresh clone
# by itself: the Python venv for the EQL and Sigma oracles and the Kafka jars are made when missing and reused
# otherwise. The broker itself is started by the integration project's global setup.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

if [[ -z "${SEQUOR_PYTHON:-}" ]]; then
  if ! .venv/bin/python -c 'import eql' >/dev/null 2>&1; then
    echo "[prepare] creating .venv for the Python eql oracle (test/oracle/requirements.txt)"
    python3 -m venv .venv
    .venv/bin/pip install --quiet --disable-pip-version-check -r test/oracle/requirements.txt
  fi
  # The Sigma oracle shares the venv; its requirements pin their whole closure (see the file for why --no-deps).
  if ! .venv/bin/python -c 'import sigma.backends.sqlite, sigma.pipelines.sysmon, sigma.pipelines.windows' >/dev/null 2>&1; then
    echo "[prepare] installing pySigma into .venv for the Sigma oracle (test/oracle/requirements-sigma.txt)"
    .venv/bin/pip install --quiet --disable-pip-version-check --no-deps -r test/oracle/requirements-sigma.txt
  fi
fi

if [[ -z "${KAFKA_BROKERS:-}" ]]; then
  bash deploy/kafka/kafka.sh fetch
fi

# The registry tests start Apicurio (Confluent-compatible API) unless SCHEMA_REGISTRY_URL is set.
if [[ -z "${SCHEMA_REGISTRY_URL:-}" ]]; then
  bash deploy/schema-registry/registry.sh fetch
fi

# The OTLP export test sends to a real OpenTelemetry Collector built from the Go module proxy.
bash deploy/otel/install-collector.sh >/dev/null

# The deploy checks (test/unit/deploy) render and lint deploy/ with tools from the Go module proxy and PyPI.
bash deploy/check/install-tools.sh >/dev/null

# Services and the CLI run from dist/ in the subprocess tests: build the workspace (turbo caches it, so
# this is quick when `turbo run test` has just built it).
npx turbo run build --output-logs=errors-only
