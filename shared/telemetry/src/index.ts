// @sequor/telemetry: the only package that imports the OpenTelemetry SDK. Services see these.
export * from './config.js';
export * from './semconv.js';
export { AlertAlwaysSampledSampler, createSampler } from './sampler.js';
export {
  extractContext,
  injectContext,
  kafkaHeaderGetter,
  kafkaHeaderSetter,
  spanContextFromHeaders,
} from './headers.js';
export { BatchTrace, KafkaTracing, NOOP_SPAN, isSampled, recordFailure } from './kafka-tracing.js';
export type { AlertSpanSubject, KafkaTracingOptions, TracedBatch, TracedRecord } from './kafka-tracing.js';
export { UnsampledRemoteSpan, hasUnsampledTraceparent } from './unsampled-span.js';
export { SpanContextRegistry } from './span-registry.js';
export type { SpanContextRegistryOptions } from './span-registry.js';
export {
  ALERT_LATENCY_BUCKETS_SECONDS,
  Count,
  METRIC_NAMES,
  SequorMetrics,
  consumerLagAfter,
} from './metrics.js';
export type { EngineStatsEntry, EngineStatsLike, RuleCatalogMetrics } from './metrics.js';
export { Readiness, TelemetryServer, TelemetryServerError } from './server.js';
export type { MetricsHandler } from './server.js';
export { Telemetry, start } from './telemetry.js';
export type { StartOptions } from './telemetry.js';
export type { Span, SpanContext } from '@opentelemetry/api';
