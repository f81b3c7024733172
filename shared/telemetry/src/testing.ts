// @sequor/telemetry/testing: what tests need to look at spans, without importing the OpenTelemetry SDK
// themselves (only this package does).
export { InMemorySpanExporter } from './otel.js';
export type { ReadableSpan } from '@opentelemetry/sdk-trace';
export { ROOT_CONTEXT, SamplingDecision, SpanKind, TraceFlags, trace } from './otel.js';
