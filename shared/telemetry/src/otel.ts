// Every OpenTelemetry value this package uses, loaded through `require` on purpose; types still come
// from the packages themselves (`import type`).
//
// Why: `@opentelemetry/api` exports a `module` condition pointing at an ESM build whose relative imports
// have no extensions (meant for bundlers), and the SDK packages' `module` fields point at ESM builds that
// import it. The root vitest config resolves with the `module` condition, so under vitest a plain
// `import` of any of them fails ("Cannot find module .../api/build/esm/baggage/utils"). `require` loads
// the CommonJS builds: what Node's own ESM resolution picks too (the `default` condition), and what the
// SDK packages load internally, so every runner (node, tsx, vitest) sees one API instance. Once the root
// vitest config drops `module` from its conditions, this file can become plain re-exports.
import { createRequire } from 'node:module';
import type * as OtelApi from '@opentelemetry/api';
import type * as PrometheusModule from '@opentelemetry/exporter-prometheus';
import type * as ResourcesModule from '@opentelemetry/resources';
import type * as SdkMetricsModule from '@opentelemetry/sdk-metrics';
import type * as SdkNodeModule from '@opentelemetry/sdk-node';
import type * as SdkTraceModule from '@opentelemetry/sdk-trace';

const require = createRequire(import.meta.url);

const api = require('@opentelemetry/api') as typeof OtelApi;
export const {
  INVALID_SPAN_CONTEXT,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  TraceFlags,
  context,
  metrics,
  propagation,
  trace,
} = api;

const sdkTrace = require('@opentelemetry/sdk-trace') as typeof SdkTraceModule;
export const {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BatchSpanProcessor,
  InMemorySpanExporter,
  ParentBasedSampler,
  SamplingDecision,
  SimpleSpanProcessor,
  TraceIdRatioBasedSampler,
} = sdkTrace;

const sdkMetrics = require('@opentelemetry/sdk-metrics') as typeof SdkMetricsModule;
export const { AggregationTemporality, InstrumentType } = sdkMetrics;

const resources = require('@opentelemetry/resources') as typeof ResourcesModule;
export const { defaultResource, resourceFromAttributes } = resources;

export const { NodeSDK } = require('@opentelemetry/sdk-node') as typeof SdkNodeModule;
export const { PrometheusExporter } =
  require('@opentelemetry/exporter-prometheus') as typeof PrometheusModule;
