import type { RecordHeaders } from '@sequor/model';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Telemetry } from '../src/index.js';
import {
  ATTR_MESSAGING_CONSUMER_GROUP_NAME,
  ATTR_MESSAGING_DESTINATION_NAME,
  ATTR_MESSAGING_DESTINATION_PARTITION_ID,
  ATTR_MESSAGING_KAFKA_MESSAGE_KEY,
  ATTR_MESSAGING_KAFKA_OFFSET,
  ATTR_MESSAGING_OPERATION_TYPE,
  ATTR_MESSAGING_SYSTEM,
  ATTR_SEQUOR_ALERT,
  ATTR_SEQUOR_EVIDENCE_EVENT_ID,
  ATTR_SEQUOR_RULE_NAME,
  NOOP_SPAN,
  SpanContextRegistry,
  extractContext,
  injectContext,
  spanContextFromHeaders,
} from '../src/index.js';
import type { InMemorySpanExporter, ReadableSpan } from '../src/testing.js';
import { ROOT_CONTEXT, SpanKind, startTestTelemetry, trace } from '../src/testing.js';

let exporter: InMemorySpanExporter;
let telemetry: Telemetry;

beforeAll(async () => {
  ({ telemetry, exporter } = await startTestTelemetry('telemetry-unit'));
});
afterAll(async () => {
  await telemetry.shutdown();
});
afterEach(async () => {
  await telemetry.flush();
  exporter.reset();
});

async function finished(name: string): Promise<ReadableSpan[]> {
  // The resource's host/process detectors resolve asynchronously; the processor exports after them.
  await telemetry.flush();
  return exporter.getFinishedSpans().filter((span) => span.name === name);
}

async function only(name: string): Promise<ReadableSpan> {
  const spans = await finished(name);
  expect(spans, `spans named ${name}`).toHaveLength(1);
  return spans[0]!;
}

/** What the consumer sees: every header value a Buffer. */
function asConsumed(headers: RecordHeaders): RecordHeaders {
  const consumed: RecordHeaders = {};
  for (const [key, value] of Object.entries(headers)) {
    consumed[key] = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
  }
  return consumed;
}

describe('trace context in record headers', () => {
  it('round-trips a span context through string headers and through consumed Buffer headers', async () => {
    const span = telemetry.tracing.startSend('raw', 'host-1', {}, undefined);
    const headers: RecordHeaders = {};
    injectContext(headers, trace.setSpan(ROOT_CONTEXT, span));
    span.end();
    expect(typeof headers.traceparent).toBe('string');
    expect(headers.traceparent).toBe(`00-${span.spanContext().traceId}-${span.spanContext().spanId}-01`);

    for (const carrier of [headers, asConsumed(headers)]) {
      const extracted = spanContextFromHeaders(carrier);
      expect(extracted).toMatchObject({
        traceId: span.spanContext().traceId,
        spanId: span.spanContext().spanId,
        traceFlags: 1,
        isRemote: true,
      });
    }
  });

  it('carries tracestate along, and takes the first of a repeated traceparent header', async () => {
    const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    const headers: RecordHeaders = {
      traceparent: [
        Buffer.from(traceparent),
        Buffer.from('00-11111111111111111111111111111111-2222222222222222-01'),
      ],
      tracestate: Buffer.from('vendor=abc'),
    };
    const extracted = spanContextFromHeaders(headers);
    expect(extracted?.traceId).toBe('0af7651916cd43dd8448eb211c80319c');
    expect(extracted?.traceState?.get('vendor')).toBe('abc');

    const out: RecordHeaders = {};
    injectContext(out, extractContext(headers));
    expect(out).toMatchObject({ traceparent, tracestate: 'vendor=abc' });
  });

  it('gives the root context for records without headers or with a malformed traceparent', async () => {
    expect(extractContext(undefined)).toBe(ROOT_CONTEXT);
    expect(spanContextFromHeaders({})).toBeUndefined();
    expect(spanContextFromHeaders({ traceparent: Buffer.from('00-not-a-trace-01') })).toBeUndefined();
    expect(
      spanContextFromHeaders({ traceparent: '00-00000000000000000000000000000000-b7ad6b7169203331-01' }),
    ).toBeUndefined();
  });

  it('keeps other headers untouched on inject', async () => {
    const headers: RecordHeaders = { 'content-type': Buffer.from('avro') };
    injectContext(
      headers,
      trace.setSpanContext(ROOT_CONTEXT, {
        traceId: '0af7651916cd43dd8448eb211c80319c',
        spanId: 'b7ad6b7169203331',
        traceFlags: 0,
      }),
    );
    expect(Object.keys(headers).sort()).toEqual(['content-type', 'traceparent']);
    expect(headers.traceparent).toBe('00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00');
  });
});

describe('KafkaTracing', () => {
  it('makes the process span a child of the producer span carried by the record, linked to the batch span', async () => {
    const headers: RecordHeaders = {};
    const send = telemetry.tracing.startSend('raw', 'host-1', headers);
    send.end();
    const batch = {
      topic: 'raw',
      partition: 3,
      records: [{ key: Buffer.from('host-1'), offset: '41', headers: asConsumed(headers) }],
    };

    const batchTrace = telemetry.tracing.startReceive(batch, 'normalizer');
    const process = batchTrace.startProcess(batch.records[0]!);
    process.end();
    batchTrace.end();

    const sendSpan = await only('send raw');
    const processSpan = await only('process raw');
    const receiveSpan = await only('receive raw');
    expect(processSpan.spanContext().traceId).toBe(sendSpan.spanContext().traceId);
    expect(processSpan.parentSpanContext?.spanId).toBe(sendSpan.spanContext().spanId);
    expect(processSpan.kind).toBe(SpanKind.CONSUMER);
    expect(processSpan.links.map((link) => link.context.spanId)).toEqual([receiveSpan.spanContext().spanId]);
    expect(processSpan.attributes).toMatchObject({
      [ATTR_MESSAGING_SYSTEM]: 'kafka',
      [ATTR_MESSAGING_OPERATION_TYPE]: 'process',
      [ATTR_MESSAGING_DESTINATION_NAME]: 'raw',
      [ATTR_MESSAGING_DESTINATION_PARTITION_ID]: '3',
      [ATTR_MESSAGING_CONSUMER_GROUP_NAME]: 'normalizer',
      [ATTR_MESSAGING_KAFKA_OFFSET]: 41,
      [ATTR_MESSAGING_KAFKA_MESSAGE_KEY]: 'host-1',
    });
    expect(receiveSpan.kind).toBe(SpanKind.CLIENT);
    expect(receiveSpan.parentSpanContext).toBeUndefined();
    expect(receiveSpan.attributes).toMatchObject({
      [ATTR_MESSAGING_OPERATION_TYPE]: 'receive',
      'messaging.batch.message_count': 1,
    });
    expect(sendSpan.kind).toBe(SpanKind.PRODUCER);
    expect(sendSpan.attributes).toMatchObject({
      [ATTR_MESSAGING_OPERATION_TYPE]: 'send',
      [ATTR_MESSAGING_DESTINATION_NAME]: 'raw',
    });
  });

  it('parents a record without trace context on the batch span', async () => {
    const batch = { topic: 'raw', partition: 0, records: [{ key: null, offset: '0' }] };
    const batchTrace = telemetry.tracing.startReceive(batch, 'normalizer');
    batchTrace.startProcess(batch.records[0]!).end();
    batchTrace.end();
    const processSpan = await only('process raw');
    expect(processSpan.parentSpanContext?.spanId).toBe((await only('receive raw')).spanContext().spanId);
    expect(processSpan.links).toEqual([]);
    expect(processSpan.attributes[ATTR_MESSAGING_KAFKA_MESSAGE_KEY]).toBeUndefined();
  });

  it('injects the send span into the outgoing headers, as a child of the process span', async () => {
    const batch = { topic: 'raw', partition: 0, records: [{ key: null, offset: '7' }] };
    const batchTrace = telemetry.tracing.startReceive(batch, 'normalizer');
    const process = batchTrace.startProcess(batch.records[0]!);
    const headers: RecordHeaders = {};
    const send = telemetry.tracing.startSend('normalized', 'host-9', headers, process);
    send.end();
    process.end();
    batchTrace.end();
    const sendSpan = await only('send normalized');
    expect(sendSpan.parentSpanContext?.spanId).toBe((await only('process raw')).spanContext().spanId);
    expect(spanContextFromHeaders(asConsumed(headers))?.spanId).toBe(sendSpan.spanContext().spanId);
  });

  it('starts an alert span as a new trace linked to every evidence span, skipping unknown evidence', async () => {
    const evidenceSpans = [1, 2].map((i) => {
      const span = telemetry.tracing.startSend('normalized', `host-${i}`, {});
      span.end();
      return span;
    });
    const registry = new SpanContextRegistry();
    const events = [{ id: 'e1' }, { id: 'e2' }, { id: 'e3' }];
    registry.remember(events[0]!, evidenceSpans[0]!);
    registry.remember(events[1]!, evidenceSpans[1]!.spanContext());
    const alert = {
      alert: { id: 'alert-1' },
      rule: { id: 'rule-uuid', name: 'lsass access then dump', version: 2, severity: 'high' },
      entity: { host: { name: 'ws-01' } },
      evidence: [{ event_id: 'e1' }, { event_id: 'e2' }, { event_id: 'e3' }],
    };
    const alertSpan = telemetry.tracing.startAlertSpan(alert, registry.contextsOf(events));
    const headers: RecordHeaders = {};
    telemetry.tracing.startSend('alerts', 'alert-1', headers, alertSpan).end();
    alertSpan.end();

    const span = await only('alert lsass access then dump');
    expect(span.parentSpanContext).toBeUndefined();
    expect(span.links.map((link) => link.context.spanId)).toEqual(
      evidenceSpans.map((s) => s.spanContext().spanId),
    );
    expect(span.links.map((link) => link.attributes?.[ATTR_SEQUOR_EVIDENCE_EVENT_ID])).toEqual(['e1', 'e2']);
    expect(span.attributes).toMatchObject({
      [ATTR_SEQUOR_ALERT]: true,
      [ATTR_SEQUOR_RULE_NAME]: 'lsass access then dump',
      'sequor.alert.id': 'alert-1',
      'sequor.rule.version': 2,
      'sequor.alert.evidence_count': 3,
      'sequor.alert.entity.host.name': 'ws-01',
    });
    const sendAlert = await only('send alerts');
    expect(sendAlert.parentSpanContext?.spanId).toBe(span.spanContext().spanId);
    expect(sendAlert.attributes[ATTR_SEQUOR_ALERT]).toBe(true);
    expect(spanContextFromHeaders(headers)?.traceId).toBe(span.spanContext().traceId);
  });

  it('ends a failed batch span with status ERROR and the exception', async () => {
    const batch = { topic: 'raw', partition: 0, records: [] };
    telemetry.tracing.startReceive(batch, 'g').end(new Error('broker gone'));
    const span = await only('receive raw');
    expect(span.status).toMatchObject({ code: 2, message: 'broker gone' });
    expect(span.events.map((event) => event.name)).toEqual(['exception']);
  });
});

describe('SpanContextRegistry', () => {
  it('ignores the no-op span, so disabled tracing stores nothing', async () => {
    const registry = new SpanContextRegistry();
    const event = {};
    registry.remember(event, NOOP_SPAN);
    expect(registry.get(event)).toBeUndefined();
    expect(registry.contextsOf([event, {}])).toEqual([undefined, undefined]);
  });
});
