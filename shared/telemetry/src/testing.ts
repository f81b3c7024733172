// @sequor/telemetry/testing: what tests need to look at spans, without importing the OpenTelemetry SDK
// themselves (only this package does).
import { InMemorySpanExporter as InMemorySpanExporterClass } from './otel.js';

/** Keeps finished spans in memory: pass it as `start({ spanExporter })`, read `getFinishedSpans()`. */
export const InMemorySpanExporter = InMemorySpanExporterClass;
export type InMemorySpanExporter = InstanceType<typeof InMemorySpanExporterClass>;
export type { ReadableSpan } from '@opentelemetry/sdk-trace';
export { ROOT_CONTEXT, SamplingDecision, SpanKind, TraceFlags, trace } from './otel.js';
