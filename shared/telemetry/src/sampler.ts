import type { Attributes, Context, Link, SpanKind } from '@opentelemetry/api';
import type { Sampler, SamplingResult } from '@opentelemetry/sdk-trace';
import type { SamplerConfig } from './config.js';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  ParentBasedSampler,
  SamplingDecision,
  TraceIdRatioBasedSampler,
} from './otel.js';
import { ATTR_SEQUOR_ALERT } from './semconv.js';

const RECORD_AND_SAMPLED: SamplingResult = Object.freeze({ decision: SamplingDecision.RECORD_AND_SAMPLED });

/**
 * Delegates every decision to the configured sampler, except for spans started with the attribute
 * `sequor.alert=true`, which are always recorded and sampled: an alert is rare and is the thing an
 * analyst opens the trace viewer for, so it must never be lost to a 1 % ratio. Its links to the evidence
 * spans are part of the alert span, so they are kept too (the evidence spans themselves follow their own
 * trace's decision).
 *
 * ```ts
 * new AlertAlwaysSampledSampler(new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(0.01) }))
 * ```
 */
export class AlertAlwaysSampledSampler implements Sampler {
  constructor(readonly delegate: Sampler) {}

  shouldSample(
    context: Context,
    traceId: string,
    spanName: string,
    spanKind: SpanKind,
    attributes: Attributes,
    links: Link[],
  ): SamplingResult {
    if (attributes[ATTR_SEQUOR_ALERT] === true) return RECORD_AND_SAMPLED;
    return this.delegate.shouldSample(context, traceId, spanName, spanKind, attributes, links);
  }

  toString(): string {
    return `AlertAlwaysSampled{${this.delegate.toString()}}`;
  }
}

/** The sampler `OTEL_TRACES_SAMPLER`/`_ARG` name, wrapped so that alert spans are always sampled. */
export function createSampler(config: SamplerConfig): AlertAlwaysSampledSampler {
  return new AlertAlwaysSampledSampler(baseSampler(config));
}

function baseSampler(config: SamplerConfig): Sampler {
  switch (config.name) {
    case 'always_on':
      return new AlwaysOnSampler();
    case 'always_off':
      return new AlwaysOffSampler();
    case 'traceidratio':
      return new TraceIdRatioBasedSampler(config.ratio);
    case 'parentbased_always_on':
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
    case 'parentbased_always_off':
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case 'parentbased_traceidratio':
      return new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(config.ratio) });
    default: {
      const unknown: never = config.name;
      throw new Error(`unhandled sampler ${String(unknown)}`);
    }
  }
}
