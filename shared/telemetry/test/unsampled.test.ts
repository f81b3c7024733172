import type { RecordHeaders } from '@sequor/model';
import { afterEach, describe, expect, it } from 'vitest';
import type { SamplerConfig, Telemetry } from '../src/index.js';
import {
  SpanContextRegistry,
  UnsampledRemoteSpan,
  hasUnsampledTraceparent,
  spanContextFromHeaders,
  start,
} from '../src/index.js';
import { InMemorySpanExporter } from '../src/testing.js';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN = '00f067aa0ba902b7';

describe('hasUnsampledTraceparent', () => {
  it('recognises a valid version-00 traceparent with the sampled flag off, as Buffer or string', () => {
    for (const flags of ['00', '02', 'fe']) {
      const value = `00-${TRACE}-${SPAN}-${flags}`;
      expect(hasUnsampledTraceparent({ traceparent: value })).toBe(true);
      expect(hasUnsampledTraceparent({ traceparent: Buffer.from(value) })).toBe(true);
      expect(hasUnsampledTraceparent({ traceparent: [Buffer.from(value), Buffer.from('junk')] })).toBe(true);
    }
  });

  it('says no for sampled, malformed, other versions and missing headers (those take the full path)', () => {
    const no = [
      `00-${TRACE}-${SPAN}-01`,
      `00-${TRACE}-${SPAN}-03`,
      `01-${TRACE}-${SPAN}-00`,
      `ff-${TRACE}-${SPAN}-00`,
      `00-${TRACE.toUpperCase()}-${SPAN}-00`,
      `00-${'0'.repeat(32)}-${SPAN}-00`,
      `00-${TRACE}-${'0'.repeat(16)}-00`,
      `00-${TRACE}-${SPAN}-0`,
      `00-${TRACE}-${SPAN}-00-`,
      `00_${TRACE}-${SPAN}-00`,
      `00-${TRACE.slice(0, 31)}g-${SPAN}-00`,
      `00-${TRACE.slice(0, 31)}\u0130-${SPAN}-00`,
      `00-${TRACE}-${SPAN}-0g`,
    ];
    for (const value of no) {
      expect(hasUnsampledTraceparent({ traceparent: value }), value).toBe(false);
      // As bytes (UTF-8, as a producer would send a string header).
      expect(hasUnsampledTraceparent({ traceparent: Buffer.from(value, 'utf8') }), value).toBe(false);
    }
    expect(hasUnsampledTraceparent(undefined)).toBe(false);
    expect(hasUnsampledTraceparent({})).toBe(false);
    expect(hasUnsampledTraceparent({ traceparent: [] })).toBe(false);
  });
});

let telemetry: Telemetry | undefined;
let exporter: InMemorySpanExporter;
afterEach(async () => {
  await telemetry?.shutdown();
  telemetry = undefined;
});

async function startWith(sampler: SamplerConfig): Promise<Telemetry> {
  exporter = new InMemorySpanExporter();
  telemetry = await start({
    serviceName: 'unsampled-test',
    spanExporter: exporter,
    sampler,
    metricsPort: 0,
    metricsHost: '127.0.0.1',
    env: {},
  });
  return telemetry;
}

describe('the fast path agrees with the W3C propagator', () => {
  it('accepts only what the propagator parses as an unsampled context (random mutations)', async () => {
    await startWith({ name: 'parentbased_traceidratio', ratio: 0.01 });
    const alphabet = '0123456789abcdefABx-';
    let seed = 7;
    const random = (n: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    let fast = 0;
    for (let i = 0; i < 5000; i++) {
      const chars = [...`00-${TRACE}-${SPAN}-0${random(4)}`];
      for (let m = random(3); m > 0; m--) chars[random(chars.length)] = alphabet[random(alphabet.length)]!;
      const value = chars.join('');
      const headers = { traceparent: Buffer.from(value) };
      const parsed = spanContextFromHeaders(headers);
      if (hasUnsampledTraceparent(headers)) {
        fast++;
        expect(parsed, value).toBeDefined();
        expect(parsed!.traceFlags & 1, value).toBe(0);
      } else if (parsed !== undefined && value.startsWith('00-') && value.length === 55) {
        expect(parsed.traceFlags & 1, value).toBe(1);
      }
    }
    expect(fast).toBeGreaterThan(100);
  });
});

describe('unsampled records under a parent-based sampler', () => {
  it('record nothing and pass the producer context on verbatim, parsed only when an alert asks', async () => {
    const t = await startWith({ name: 'parentbased_traceidratio', ratio: 1 });
    const traceparent = Buffer.from(`00-${TRACE}-${SPAN}-00`);
    const record = {
      key: Buffer.from('ws-1'),
      offset: '5',
      headers: { traceparent, tracestate: Buffer.from('v=1') },
    };
    const batchTrace = t.tracing.startReceive({ topic: 'normalized', partition: 0, records: [record] }, 'g');
    const span = batchTrace.startProcess(record);
    expect(span).toBeInstanceOf(UnsampledRemoteSpan);
    expect(span.isRecording()).toBe(false);

    const out: RecordHeaders = {};
    const send = t.tracing.startSend('alerts', 'k', out, span);
    expect(send).toBe(span);
    expect(out.traceparent).toBe(traceparent);
    expect(out.tracestate).toEqual(Buffer.from('v=1'));

    // By default unsampled evidence is not remembered (no span to link to, and it costs a WeakMap entry).
    const event = {};
    const sampledOnly = new SpanContextRegistry();
    sampledOnly.remember(event, span);
    expect(sampledOnly.get(event)).toBeUndefined();
    const registry = new SpanContextRegistry({ includeUnsampled: true });
    registry.remember(event, span);
    expect(registry.get(event)).toMatchObject({
      traceId: TRACE,
      spanId: SPAN,
      traceFlags: 0,
      isRemote: true,
    });

    const alertSpan = t.tracing.startAlertSpan(
      { alert: { id: 'a' }, rule: { id: 'r', name: 'r' } },
      registry.contextsOf([event]),
    );
    alertSpan.end();
    span.end();
    batchTrace.end();
    await t.flush();
    // Ratio 1: only the batch span (a root) and the alert span are recorded.
    const names = exporter
      .getFinishedSpans()
      .map((s) => s.name)
      .sort();
    expect(names).toEqual(['alert r', 'receive normalized']);
    const alert = exporter.getFinishedSpans().find((s) => s.name === 'alert r')!;
    expect(alert.links.map((link) => link.context.spanId)).toEqual([SPAN]);
  });

  it('give raw records of an unsampled batch the batch context, injected once per batch', async () => {
    const t = await startWith({ name: 'parentbased_traceidratio', ratio: 0 });
    const records = [0, 1].map((i) => ({ key: null, offset: String(i) }));
    const batchTrace = t.tracing.startReceive({ topic: 'raw', partition: 0, records }, 'g');
    expect(batchTrace.span.isRecording()).toBe(false);
    const headers = records.map((record) => {
      const span = batchTrace.startProcess(record);
      expect(span).toBe(batchTrace.span);
      const out: RecordHeaders = {};
      t.tracing.startSend('normalized', null, out, span).end();
      return out;
    });
    batchTrace.end();
    expect(headers[0]).toEqual(headers[1]);
    expect(spanContextFromHeaders(headers[0])).toMatchObject({
      traceId: batchTrace.span.spanContext().traceId,
      spanId: batchTrace.span.spanContext().spanId,
      traceFlags: 0,
    });
    await t.flush();
    expect(exporter.getFinishedSpans()).toEqual([]);
  });

  it('still record a sampled child of a sampled producer', async () => {
    const t = await startWith({ name: 'parentbased_traceidratio', ratio: 0 });
    const record = {
      key: null,
      offset: '0',
      headers: { traceparent: Buffer.from(`00-${TRACE}-${SPAN}-01`) },
    };
    const batchTrace = t.tracing.startReceive({ topic: 'normalized', partition: 0, records: [record] }, 'g');
    const span = batchTrace.startProcess(record);
    expect(span.isRecording()).toBe(true);
    span.end();
    batchTrace.end();
    await t.flush();
    expect(exporter.getFinishedSpans().map((s) => [s.name, s.parentSpanContext?.spanId])).toEqual([
      ['process normalized', SPAN],
    ]);
  });
});

describe('a sampler that is not parent-based', () => {
  it('decides for itself under an unsampled producer', async () => {
    const t = await startWith({ name: 'traceidratio', ratio: 1 });
    const record = {
      key: null,
      offset: '0',
      headers: { traceparent: Buffer.from(`00-${TRACE}-${SPAN}-00`) },
    };
    const batchTrace = t.tracing.startReceive({ topic: 'normalized', partition: 0, records: [record] }, 'g');
    const span = batchTrace.startProcess(record);
    expect(span).not.toBeInstanceOf(UnsampledRemoteSpan);
    expect(span.isRecording()).toBe(true);
    expect(span.spanContext().traceId).toBe(TRACE);
    span.end();
    batchTrace.end();
  });
});
