// The detector's telemetry seam on a real (in-process) OpenTelemetry SDK: spans of a PartitionTask run,
// alert spans linked to their evidence, and what /metrics shows after batches commit.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEventCodec } from '@sequor/model';
import type { SequorEvent } from '@sequor/model';
import type { CompiledRule } from '@sequor/rules';
import { compileRule, loadBuiltinRules } from '@sequor/rules';
import type { SpanContext, Telemetry } from '@sequor/telemetry';
import type { InMemorySpanExporter, ReadableSpan } from '@sequor/telemetry/testing';
import { parsePrometheus, sampleValue, startTestTelemetry } from '@sequor/telemetry/testing';
import { singleObjectAlertEncoder } from '../src/outputs.js';
import { PartitionTask } from '../src/partition-task.js';
import type { DetectionStats } from '@sequor/pipeline';
import { restoreHorizonMs } from '@sequor/streams';
import type { DetectorTelemetry } from '../src/telemetry.js';
import { detectorTelemetry } from '../src/telemetry.js';
import type { FakeConsumedRecord } from './support/scenario.js';
import { asConsumed, normalizedScenario } from './support/scenario.js';

const TOPICS = {
  groupId: 'detector-test',
  alertsTopic: 'alerts',
  lateEventsTopic: 'late',
  deadLetterTopic: 'dead',
};
let exporter: InMemorySpanExporter;
const codec = createEventCodec();
let telemetry: Telemetry;
let hooks: DetectorTelemetry;
let rules: CompiledRule[];
/** Records of one partition, each carrying the trace context of an upstream (normalizer) send span. */
let records: FakeConsumedRecord[];
const upstream = new Map<string, SpanContext>();

function task(liveFrom: number): PartitionTask {
  return new PartitionTask({
    topic: 'events',
    partition: 0,
    rules,
    decode: (value) => codec.decode(value),
    alertEncoder: singleObjectAlertEncoder(),
    alertsTopic: TOPICS.alertsTopic,
    lateEventsTopic: TOPICS.lateEventsTopic,
    deadLetterTopic: TOPICS.deadLetterTopic,
    allowedLatenessMs: 5_000,
    clock: () => 1_800_000_000_000,
    horizonMs: restoreHorizonMs(5_000, 3_600_000, 3_600_000),
    startOffset: 0,
    liveFrom,
    partitionKeyFields: 'host.id,host.name,user.id',
  });
}

async function scrape(): Promise<ReturnType<typeof parsePrometheus>> {
  const response = await fetch(`http://127.0.0.1:${telemetry.port}/metrics`);
  return parsePrometheus(await response.text());
}

beforeAll(async () => {
  ({ telemetry, exporter } = await startTestTelemetry('detector-telemetry-test'));
  hooks = detectorTelemetry(telemetry, TOPICS);
  rules = (await loadBuiltinRules()).map((r) => compileRule(r));
  const scenario = normalizedScenario(
    { seed: 5, events: 4_000, rate: 0.5, hosts: 6, users: 10, scenarios: 6 },
    1,
  );
  // exporter.reset() in the tests must not drop these while they are still being exported.
  records = asConsumed(scenario.records).map((record) => {
    const headers = { ...record.headers };
    const send = telemetry.tracing.startSend('events', record.key, headers);
    send.end();
    upstream.set(record.offset, send.spanContext());
    return { ...record, headers };
  });
  await telemetry.flush();
}, 60_000);

afterAll(async () => {
  await telemetry?.shutdown();
});

/** Which record each evidence event id came from, for the records given. */
function offsetsByEventId(from: readonly FakeConsumedRecord[]): Map<string, string> {
  const byId = new Map<string, string>();
  for (const record of from) byId.set((codec.decode(record.value!) as SequorEvent).event.id, record.offset);
  return byId;
}

describe('detector telemetry: spans', () => {
  it('links each alert span to the process spans of its evidence, each in its upstream record trace', async () => {
    exporter.reset();
    const batch = { topic: 'events', partition: 0, records, highWatermark: String(records.length) };
    const observer = hooks.batchStarted!(batch)!;
    const out = task(0).process(records, observer);
    observer.end();
    expect(out.alerts).toBeGreaterThan(1);
    await telemetry.flush();

    const spans = exporter.getFinishedSpans();
    const byId = new Map(spans.map((s) => [s.spanContext().spanId, s]));
    const alertSpans = spans.filter((s) => s.name.startsWith('alert '));
    expect(alertSpans).toHaveLength(out.alerts);
    expect(spans.filter((s) => s.name === 'receive events')).toHaveLength(1);
    expect(spans.filter((s) => s.name === 'process events')).toHaveLength(records.length);
    const eventOffsets = offsetsByEventId(records);
    for (const [i, alert] of out.raisedAlerts.entries()) {
      const span = alertSpans.find((s) => s.attributes['sequor.alert.id'] === alert.alert.id)!;
      expect(alert.trace_id).toBe(span.spanContext().traceId);
      expect(span.links.map((l) => l.attributes?.['sequor.evidence.event_id'])).toEqual(
        alert.evidence.map((e) => e.event_id),
      );
      for (const link of span.links) {
        const offset = eventOffsets.get(link.attributes?.['sequor.evidence.event_id'] as string)!;
        const process = byId.get(link.context.spanId) as ReadableSpan;
        expect(process.name).toBe('process events');
        expect(process.attributes['messaging.kafka.offset']).toBe(Number(offset));
        expect(process.parentSpanContext?.spanId).toBe(upstream.get(offset)!.spanId);
        expect(link.context.traceId).toBe(upstream.get(offset)!.traceId);
      }
      // The alert record carries the alert trace: a consumer of the alerts topic continues it.
      const alertRecord = out.records.filter((r) => r.topic === 'alerts')[i]!;
      expect(String(alertRecord.headers?.traceparent)).toContain(span.spanContext().traceId);
    }
  });

  it('after a restore, links evidence that was replayed to its upstream span (no process span of its own)', async () => {
    exporter.reset();
    const liveFrom = Math.floor(records.length / 2);
    const t = task(liveFrom);
    const first = records.slice(0, liveFrom + 400);
    const observer = hooks.batchStarted!({
      topic: 'events',
      partition: 0,
      records: first,
      highWatermark: String(records.length),
    })!;
    const out = t.process(first, observer);
    observer.end();
    await telemetry.flush();
    const spans = exporter.getFinishedSpans();
    expect(spans.filter((s) => s.name === 'process events')).toHaveLength(400);
    const eventOffsets = offsetsByEventId(first);
    let replayedEvidence = 0;
    for (const alert of out.raisedAlerts) {
      const span = spans.find((s) => s.attributes['sequor.alert.id'] === alert.alert.id)!;
      expect(span.links).toHaveLength(alert.evidence.length);
      for (const link of span.links) {
        const offset = Number(eventOffsets.get(link.attributes?.['sequor.evidence.event_id'] as string));
        if (offset < liveFrom) {
          replayedEvidence++;
          expect(link.context.spanId).toBe(upstream.get(String(offset))!.spanId);
        }
        expect(link.context.traceId).toBe(upstream.get(String(offset))!.traceId);
      }
    }
    // The scenario has alerts whose first steps fall before the restore point's end.
    expect(replayedEvidence).toBeGreaterThan(0);
  });
});

describe('detector telemetry: metrics and readiness', () => {
  it('counts committed batches: records, outputs by topic, dead letters by reason, alerts by rule, lag', async () => {
    const out = task(0).process(records);
    const byRule = new Map<string, number>();
    for (const a of out.raisedAlerts) byRule.set(a.rule.name, (byRule.get(a.rule.name) ?? 0) + 1);
    hooks.batchCommitted!({
      topic: 'events',
      partition: 0,
      records: records.length,
      alerts: out.raisedAlerts,
      lateEvents: 3,
      deadLetters: 2,
      deadLetterReasons: { 'bad-magic': 2 },
      committedOffset: records.length,
      highWatermark: records.length + 25,
      durationMs: 5,
    });
    const samples = await scrape();
    expect(sampleValue(samples, 'sequor_records_in_total', { topic: 'events' })).toBe(records.length);
    expect(sampleValue(samples, 'sequor_records_out_total', { topic: 'alerts' })).toBe(out.alerts);
    expect(sampleValue(samples, 'sequor_records_out_total', { topic: 'late' })).toBe(3);
    expect(sampleValue(samples, 'sequor_records_out_total', { topic: 'dead' })).toBe(2);
    expect(sampleValue(samples, 'sequor_dead_letters_total', { reason: 'bad-magic' })).toBe(2);
    expect(sampleValue(samples, 'sequor_consumer_lag', { topic: 'events', partition: '0' })).toBe(25);
    expect(byRule.size).toBeGreaterThan(0);
    for (const [rule, n] of byRule) {
      expect(sampleValue(samples, 'sequor_alerts_total', { rule })).toBe(n);
      expect(sampleValue(samples, 'sequor_alert_latency_count', { rule })).toBe(n);
    }
    hooks.partitionsAssigned!([]);
    expect((await scrape()).filter((s) => s.name === 'sequor_consumer_lag')).toEqual([]);
  });

  it('engine counters keep what revoked partitions counted; gauges show only owned partitions', async () => {
    const owned: DetectionStats[] = [];
    hooks.watchEngine!(() => owned);
    const t = task(0);
    t.process(records.slice(0, 1_000));
    const stats = t.stats();
    owned.push(stats);
    const rule = stats.rules.find((r) => r.openPartials > 0)!;
    expect(rule).toBeDefined();
    const before = await scrape();
    expect(sampleValue(before, 'sequor_engine_open_partials', { rule: rule.ruleName })).toBe(
      rule.openPartials,
    );
    const evictedBefore = sampleValue(before, 'sequor_engine_evictions_total', {
      rule: rule.ruleName,
      cause: 'window',
    });
    expect(evictedBefore).toBe(rule.evictedByWindow);

    hooks.partitionClosed!(stats);
    owned.length = 0;
    const after = await scrape();
    expect(
      sampleValue(after, 'sequor_engine_evictions_total', { rule: rule.ruleName, cause: 'window' }),
    ).toBe(evictedBefore);
    expect(sampleValue(after, 'sequor_engine_open_partials', { rule: rule.ruleName })).toBe(0);
  });

  it('reports readiness to /readyz', async () => {
    hooks.readinessChanged!({ ready: false, reason: 'restoring 1 of 2 partitions: events[1]' });
    let response = await fetch(`http://127.0.0.1:${telemetry.port}/readyz`);
    expect(response.status).toBe(503);
    expect(await response.text()).toContain('restoring 1 of 2 partitions');
    hooks.readinessChanged!({ ready: true, reason: '2 partitions assigned, state restored' });
    response = await fetch(`http://127.0.0.1:${telemetry.port}/readyz`);
    expect(response.status).toBe(200);
  });
});
