// Trace context across two real Kafka hops, with the helpers the services use: a producer sends "raw"
// records with a send span injected; hop 1 consumes them (process span = child of the producer's span),
// produces a derived record carrying its own send span; hop 2 consumes the derived records, remembers
// each decoded event's span, and raises an alert whose span links to both evidence spans. Each link
// must lead back, through the headers and the broker, to the trace of its raw record.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConsumerRunner, KeyedProducer, ProducerRecord, RecordBatch } from '@sequor/kafka';
import { createConsumerRunner, createKeyedProducer } from '@sequor/kafka';
import { KafkaTestKit, uniqueGroup } from '@sequor/kafka/testing';
import type { SpanContext, Telemetry } from '@sequor/telemetry';
import type { InMemorySpanExporter, ReadableSpan } from '@sequor/telemetry/testing';
import { startTestTelemetry } from '@sequor/telemetry/testing';

interface DerivedEvent {
  readonly id: string;
  readonly host: string;
}

let exporter: InMemorySpanExporter;
let telemetry: Telemetry;
let kit: KafkaTestKit;
let producer: KeyedProducer;
const runners: ConsumerRunner[] = [];

beforeAll(async () => {
  ({ telemetry, exporter } = await startTestTelemetry('telemetry-e2e-hops'));
  kit = await KafkaTestKit.connect();
  producer = await createKeyedProducer(kit.client, {
    name: 'telemetry-e2e',
    logger: kit.logger,
    lingerMs: 0,
  });
});
afterAll(async () => {
  await Promise.all(runners.map((runner) => runner.stop()));
  await producer?.disconnect();
  await kit?.close();
  await telemetry?.shutdown();
});

describe('trace context through Kafka record headers', () => {
  it('links an alert to the spans of its evidence, each in the trace of its raw record', async () => {
    const rawTopic = await kit.createTopic('telemetry-raw', { partitions: 2 });
    const derivedTopic = await kit.createTopic('telemetry-derived', { partitions: 2 });
    const tracing = telemetry.tracing;

    // The shipper: one send span per raw record, injected into its headers.
    const rawSends = new Map<string, SpanContext>();
    const rawRecords = ['host-a', 'host-b'].map((host, i) => {
      const headers = {};
      const span = tracing.startSend(rawTopic, host, headers);
      span.end();
      rawSends.set(`raw-${i}`, span.spanContext());
      return { key: host, value: Buffer.from(JSON.stringify({ id: `raw-${i}`, host })), headers };
    });

    // Hop 1 (a normalizer): process each raw record, produce one derived record carrying the send span.
    const hop1Group = uniqueGroup('telemetry-hop1');
    const hop1 = createConsumerRunner(kit.client, {
      groupId: hop1Group,
      topics: [rawTopic],
      fromBeginning: true,
      maxWaitTimeMs: 100,
      logger: kit.logger,
      processBatch: async (batch: RecordBatch) => {
        const batchTrace = tracing.startReceive(batch, hop1Group);
        const out: ProducerRecord[] = [];
        for (const record of batch.records) {
          const span = batchTrace.startProcess(record);
          const raw = JSON.parse(record.value!.toString('utf8')) as DerivedEvent;
          const headers = {};
          tracing.startSend(derivedTopic, raw.host, headers, span).end();
          out.push({ topic: derivedTopic, key: raw.host, value: Buffer.from(JSON.stringify(raw)), headers });
          span.end();
        }
        await producer.sendAll(out);
        batchTrace.end();
      },
    });

    // Hop 2 (a detector): remember each decoded event's span; alert once both events are in.
    // By event id: a redelivery after a rebalance must not make a third piece of evidence.
    const evidence = new Map<string, DerivedEvent>();
    let raised = false;
    let alertRaised!: (alertSpan: SpanContext) => void;
    const alerted = new Promise<SpanContext>((resolve) => (alertRaised = resolve));
    const hop2Group = uniqueGroup('telemetry-hop2');
    const hop2 = createConsumerRunner(kit.client, {
      groupId: hop2Group,
      topics: [derivedTopic],
      fromBeginning: true,
      maxWaitTimeMs: 100,
      logger: kit.logger,
      processBatch: async (batch: RecordBatch) => {
        const batchTrace = tracing.startReceive(batch, hop2Group);
        for (const record of batch.records) {
          const span = batchTrace.startProcess(record);
          const event = JSON.parse(record.value!.toString('utf8')) as DerivedEvent;
          telemetry.spans.remember(event, span);
          evidence.set(event.id, event);
          span.end();
        }
        batchTrace.end();
        if (evidence.size === 2 && !raised) {
          raised = true;
          const ordered = [...evidence.values()].sort((a, b) => a.id.localeCompare(b.id));
          const alert = {
            alert: { id: 'alert-e2e' },
            rule: { id: 'rule-e2e', name: 'two hosts', version: 1, severity: 'low' },
            evidence: ordered.map((event) => ({ event_id: event.id })),
          };
          const alertSpan = tracing.startAlertSpan(alert, telemetry.spans.contextsOf(ordered));
          alertSpan.end();
          alertRaised(alertSpan.spanContext());
        }
      },
    });
    runners.push(hop1, hop2);
    await hop1.start();
    await hop2.start();
    await producer.sendAll(rawRecords.map((record) => ({ ...record, topic: rawTopic })));

    const alertContext = await alerted;
    await telemetry.flush();
    const spans = exporter.getFinishedSpans();
    const byId = new Map(spans.map((span) => [span.spanContext().spanId, span]));
    const parentOf = (span: ReadableSpan): ReadableSpan => {
      const parentId = span.parentSpanContext?.spanId;
      const parent = parentId === undefined ? undefined : byId.get(parentId);
      if (parent === undefined) throw new Error(`${span.name} has no recorded parent`);
      return parent;
    };

    const alertSpan = spans.find((span) => span.spanContext().spanId === alertContext.spanId)!;
    expect(alertSpan.name).toBe('alert two hosts');
    expect(alertSpan.parentSpanContext).toBeUndefined();
    expect(alertSpan.links).toHaveLength(2);
    expect(alertSpan.links.map((link) => link.attributes?.['sequor.evidence.event_id'])).toEqual([
      'raw-0',
      'raw-1',
    ]);

    for (const link of alertSpan.links) {
      const eventId = link.attributes?.['sequor.evidence.event_id'] as string;
      const rawSend = rawSends.get(eventId)!;
      // The linked span is hop 2's process span of that event, in the raw record's trace ...
      const hop2Process = byId.get(link.context.spanId)!;
      expect(hop2Process.name).toBe(`process ${derivedTopic}`);
      expect(hop2Process.attributes['messaging.consumer.group.name']).toBe(hop2Group);
      expect(link.context.traceId).toBe(rawSend.traceId);
      expect(hop2Process.spanContext().traceId).toBe(rawSend.traceId);
      // ... reached through hop 1's send span, hop 1's process span, and the raw record's send span.
      const hop1Send = parentOf(hop2Process);
      expect(hop1Send.name).toBe(`send ${derivedTopic}`);
      const hop1Process = parentOf(hop1Send);
      expect(hop1Process.name).toBe(`process ${rawTopic}`);
      expect(hop1Process.attributes['messaging.consumer.group.name']).toBe(hop1Group);
      expect(hop1Process.parentSpanContext?.spanId).toBe(rawSend.spanId);
      expect(parentOf(hop1Process).name).toBe(`send ${rawTopic}`);
    }
    // The two evidence events came from two raw records: two different traces.
    expect(new Set(alertSpan.links.map((link) => link.context.traceId)).size).toBe(2);
  });
});
