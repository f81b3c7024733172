// Every OpenTelemetry value this package uses, in one place: the SDK's surface Sequor depends on, and
// the only file to touch when an SDK release moves something.
export {
  INVALID_SPAN_CONTEXT,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  TraceFlags,
  context,
  metrics,
  propagation,
  trace,
} from '@opentelemetry/api';
export {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BatchSpanProcessor,
  InMemorySpanExporter,
  ParentBasedSampler,
  SamplingDecision,
  SimpleSpanProcessor,
  TraceIdRatioBasedSampler,
} from '@opentelemetry/sdk-trace';
export { AggregationTemporality, InstrumentType } from '@opentelemetry/sdk-metrics';
export { defaultResource, resourceFromAttributes } from '@opentelemetry/resources';
export { NodeSDK } from '@opentelemetry/sdk-node';
export { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
