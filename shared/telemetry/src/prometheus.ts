import type { PrometheusExporter as PrometheusExporterType } from '@opentelemetry/exporter-prometheus';
import type { InstrumentType as InstrumentTypeType } from '@opentelemetry/sdk-metrics';
import { AggregationTemporality, InstrumentType, PrometheusExporter } from './otel.js';

/**
 * The Prometheus exporter, except that observable gauges are collected with delta temporality.
 *
 * Why: with cumulative temporality the metrics SDK (2.x) keeps exporting every attribute set a gauge
 * callback ever observed, with its last value. A revoked partition's consumer lag, or the state size of
 * a rule no longer running, would then stay on /metrics forever, and a lag alert would never clear. The
 * specification says an SDK SHOULD NOT do that; delta temporality for gauges gives exactly "what the
 * last callback observed" (a gauge's value does not depend on temporality). Counters and histograms stay
 * cumulative, as Prometheus expects.
 */
class PrometheusExporterWithoutStaleGauges extends PrometheusExporter {
  override selectAggregationTemporality(instrumentType: InstrumentTypeType) {
    return instrumentType === InstrumentType.OBSERVABLE_GAUGE
      ? AggregationTemporality.DELTA
      : super.selectAggregationTemporality(instrumentType);
  }
}

/** A Prometheus reader that serves through `getMetricsRequestHandler`, never with its own server. */
export function createPrometheusReader(): PrometheusExporterType {
  return new PrometheusExporterWithoutStaleGauges({ preventServerStart: true });
}
