import type { Attributes } from '@opentelemetry/api';
import { ROOT_CONTEXT, SamplingDecision, SpanKind, TraceFlags, trace } from '../src/testing.js';
import { describe, expect, it } from 'vitest';
import type { SamplerConfig } from '../src/index.js';
import { ATTR_SEQUOR_ALERT, createSampler } from '../src/index.js';

const TRACE_ID = '0af7651916cd43dd8448eb211c80319c';
const PARENT_SPAN_ID = 'b7ad6b7169203331';

function decide(config: SamplerConfig, attributes: Attributes = {}, parentFlags?: number): number {
  const context =
    parentFlags === undefined
      ? ROOT_CONTEXT
      : trace.setSpanContext(ROOT_CONTEXT, {
          traceId: TRACE_ID,
          spanId: PARENT_SPAN_ID,
          traceFlags: parentFlags,
          isRemote: true,
        });
  return createSampler(config).shouldSample(context, TRACE_ID, 'process t', SpanKind.CONSUMER, attributes, [])
    .decision;
}

describe('createSampler', () => {
  it('always records and samples alert spans, even where the configured sampler drops everything', () => {
    const alert = { [ATTR_SEQUOR_ALERT]: true };
    for (const name of ['always_off', 'parentbased_always_off'] as const) {
      expect(decide({ name, ratio: 0 }, alert)).toBe(SamplingDecision.RECORD_AND_SAMPLED);
    }
    expect(decide({ name: 'parentbased_traceidratio', ratio: 0 }, alert)).toBe(
      SamplingDecision.RECORD_AND_SAMPLED,
    );
    // An alert under an unsampled parent is still kept.
    expect(decide({ name: 'parentbased_traceidratio', ratio: 0 }, alert, TraceFlags.NONE)).toBe(
      SamplingDecision.RECORD_AND_SAMPLED,
    );
  });

  it('does not treat a truthy non-boolean sequor.alert as an alert', () => {
    expect(decide({ name: 'always_off', ratio: 0 }, { [ATTR_SEQUOR_ALERT]: 'true' })).toBe(
      SamplingDecision.NOT_RECORD,
    );
  });

  it('samples root spans by trace id ratio: 0 drops, 1 keeps', () => {
    expect(decide({ name: 'parentbased_traceidratio', ratio: 0 })).toBe(SamplingDecision.NOT_RECORD);
    expect(decide({ name: 'parentbased_traceidratio', ratio: 1 })).toBe(SamplingDecision.RECORD_AND_SAMPLED);
  });

  it('follows a remote parent (the producer of the record) whatever the ratio', () => {
    expect(decide({ name: 'parentbased_traceidratio', ratio: 0 }, {}, TraceFlags.SAMPLED)).toBe(
      SamplingDecision.RECORD_AND_SAMPLED,
    );
    expect(decide({ name: 'parentbased_traceidratio', ratio: 1 }, {}, TraceFlags.NONE)).toBe(
      SamplingDecision.NOT_RECORD,
    );
  });

  it('lets a non-parent-based ratio sampler decide by itself', () => {
    expect(decide({ name: 'traceidratio', ratio: 0 }, {}, TraceFlags.SAMPLED)).toBe(
      SamplingDecision.NOT_RECORD,
    );
  });

  it('decides by trace id, so every hop of one trace agrees at a fractional ratio', () => {
    const sampler = createSampler({ name: 'traceidratio', ratio: 0.5 });
    let kept = 0;
    for (let i = 0; i < 2000; i++) {
      const traceId = (i * 2654435761).toString(16).padStart(32, '0').slice(-32);
      const first = sampler.shouldSample(ROOT_CONTEXT, traceId, 'a', SpanKind.INTERNAL, {}, []).decision;
      const again = sampler.shouldSample(ROOT_CONTEXT, traceId, 'b', SpanKind.INTERNAL, {}, []).decision;
      expect(again).toBe(first);
      if (first === SamplingDecision.RECORD_AND_SAMPLED) kept++;
    }
    expect(kept).toBeGreaterThan(0);
    expect(kept).toBeLessThan(2000);
  });

  it('names itself with the delegate', () => {
    expect(createSampler({ name: 'parentbased_traceidratio', ratio: 0.01 }).toString()).toMatch(
      /^AlertAlwaysSampled\{ParentBased\{root=TraceIdRatioBased\{0\.01\}/,
    );
  });
});
