import { describe, expect, it } from 'vitest';
import type { LateEvent } from '@sequor/engine';
import type { SequorEvent } from '@sequor/model';
import { createEventCodec } from '@sequor/model';
import type { Alert, CompiledRule, Rule } from '@sequor/rules';
import { compileRule, decodeTestEvents, loadBuiltinRules } from '@sequor/rules';
import { generateScenario } from '@sequor/scenarios';
import { parseSourceBindings } from '@sequor/formats';
import type { DetectionProcessor, DetectionProcessorOptions } from '../src/index.js';
import {
  createDetectionProcessor,
  createNormalizeProcessor,
  DetectionProcessorError,
  InMemoryTransport,
  singleObjectEventEncoder,
  sumDetectionStats,
} from '../src/index.js';

const rules: readonly Rule[] = await loadBuiltinRules();
const compiled: readonly CompiledRule[] = rules.map((r) => compileRule(r));
const ruleId = {
  car: 'dc985e9a-0bd4-4c6c-8141-dcb771529846',
  serviceCreation: '25212358-948e-11ec-ad47-acde48001122',
  elastic: '850d901a-2a3c-46c6-8b22-55398a01aad8',
  remcos: 'f2a1615a-1d63-11ec-97d2-acde48001122',
} as const;
const byId = (id: string): Rule => rules.find((r) => r.id === id) as Rule;
const DETECTED_AT = Date.UTC(2024, 5, 1);

interface Run {
  readonly processor: DetectionProcessor;
  readonly alerts: Alert[];
  readonly late: LateEvent<SequorEvent>[];
}

function run(options: Partial<DetectionProcessorOptions> = {}): Run {
  const alerts: Alert[] = [];
  const late: LateEvent<SequorEvent>[] = [];
  const processor = createDetectionProcessor({
    rules: compiled,
    clock: () => DETECTED_AT,
    onAlert: (alert) => alerts.push(alert),
    onLate: (l) => late.push(l),
    ...options,
  });
  return { processor, alerts, late };
}

const evidenceOf = (alerts: readonly Alert[], id?: string): string[][] =>
  alerts.filter((a) => id === undefined || a.rule.id === id).map((a) => a.evidence.map((e) => e.event_id));

/** The positive case of a rule (its first test), decoded as `rules test` decodes it. */
function positiveCase(id: string): { events: SequorEvent[]; expected: string[][] } {
  const rule = byId(id);
  const testCase = rule.tests[0]!;
  return { events: decodeTestEvents(rule, testCase), expected: testCase.expect.map((e) => [...e.evidence]) };
}

describe('DetectionProcessor', () => {
  it("raises every built-in rule's embedded test expectations with all four rules in one processor", () => {
    for (const rule of rules) {
      for (const testCase of rule.tests) {
        const events = decodeTestEvents(rule, testCase).sort((a, b) => a.timestamp - b.timestamp);
        const { processor, alerts } = run({ allowedLatenessMs: 0 });
        for (const e of events) processor.push(e);
        processor.flush();
        expect(evidenceOf(alerts, rule.id), `${rule.name}: ${testCase.name}`).toEqual(
          testCase.expect.map((x) => [...x.evidence]),
        );
      }
    }
  });

  it('builds alerts with the injected detection time, the rule and the evidence origin', () => {
    const { events } = positiveCase(ruleId.elastic);
    const { processor, alerts } = run();
    for (const e of events) processor.push(e);
    processor.flush();
    expect(alerts).toHaveLength(1);
    const alert = alerts[0]!;
    expect(alert.timestamp).toBe(DETECTED_AT);
    expect(alert.rule.id).toBe(ruleId.elastic);
    expect(alert.evidence.map((e) => [e.event_id, e.origin.format, e.origin.offset])).toEqual([
      ['sam-logon', 'ecs', 0],
      ['sam-hive', 'ecs', 1],
    ]);
    expect(processor.stats().rules.find((r) => r.ruleId === ruleId.elastic)?.alerts).toBe(1);
  });

  it('hands the sink the pushed event objects themselves, in the order of alert.evidence', () => {
    const { events } = positiveCase(ruleId.elastic);
    const seen: (readonly SequorEvent[])[] = [];
    const { processor } = run({ onAlert: (_alert, _rule, evidence) => seen.push(evidence) });
    for (const e of events) processor.push(e);
    processor.flush();
    expect(seen).toHaveLength(1);
    // Identity, not equality: callers key side tables (the span registry) on these objects.
    expect(seen[0]!.length).toBe(events.length);
    seen[0]!.forEach((event, i) => expect(event).toBe(events[i]));
  });

  it('reorders within the allowed lateness: the second step arriving first still completes the sequence', () => {
    const { events, expected } = positiveCase(ruleId.elastic);
    const { processor, alerts } = run({ allowedLatenessMs: 60_000 });
    for (const e of [...events].reverse()) processor.push(e);
    expect(alerts).toEqual([]); // still waiting for the watermark
    expect(processor.stats().buffered).toBe(2);
    processor.flush();
    expect(evidenceOf(alerts)).toEqual(expected);
  });

  it('raises a completed sequence when stream time is advanced without an event, and not before', () => {
    const { events, expected } = positiveCase(ruleId.elastic);
    const { processor, alerts } = run({ allowedLatenessMs: 5_000 });
    for (const e of events) processor.push(e);
    const last = Math.max(...events.map((e) => e.timestamp));
    expect(processor.streamTime).toBe(last);
    expect(processor.earliestBuffered).toBe(last); // the closing step waits for the watermark
    expect(alerts).toEqual([]);
    // A watermark exactly at the last event does not pass it (release is strictly below the watermark).
    expect(processor.advanceStreamTime(last + 5_000)).toBe(true);
    expect(alerts).toEqual([]);
    expect(processor.advanceStreamTime(last + 5_001)).toBe(true);
    expect(evidenceOf(alerts)).toEqual(expected);
    expect(processor.earliestBuffered).toBe(Number.POSITIVE_INFINITY);
    expect(processor.stats()).toMatchObject({ streamTime: last + 5_001, watermark: last + 1, buffered: 0 });
    expect(processor.advanceStreamTime(last)).toBe(false); // never back
    processor.close();
    expect(processor.advanceStreamTime(last + 60_000)).toBe(false);
  });

  it('refuses a year-9999 event as future-timestamp against the record timestamp, first event included', () => {
    const { events, expected } = positiveCase(ruleId.elastic);
    const [logon, hive] = events as [SequorEvent, SequorEvent];
    const bogus: SequorEvent = {
      ...logon,
      timestamp: Date.UTC(9999, 0, 1),
      event: { ...logon.event, id: 'bogus' },
    };
    const recordTime = hive.timestamp + 1_000;
    const guarded = run({ allowedLatenessMs: 5_000, maxFutureSkewMs: 3_600_000 });
    for (const e of [bogus, logon, hive]) guarded.processor.push(e, recordTime, 500);
    guarded.processor.flush();
    expect(evidenceOf(guarded.alerts)).toEqual(expected);
    expect(guarded.late.map((l) => [l.event.event.id, l.reason])).toEqual([['bogus', 'future-timestamp']]);
    expect(guarded.processor.stats()).toMatchObject({ futureTime: 1, late: 0 });
    // Without the guard the bogus event owns stream time and both real events are late: no alert.
    const blind = run({ allowedLatenessMs: 5_000 });
    for (const e of [bogus, logon, hive]) blind.processor.push(e, recordTime, 500);
    blind.processor.flush();
    expect(blind.alerts).toEqual([]);
    expect(blind.processor.stats().late).toBe(2);
  });

  it('keeps the reorder buffer under its byte bound and counts the early releases', () => {
    const { events } = positiveCase(ruleId.elastic);
    const logon = events[0]!;
    const { processor } = run({ allowedLatenessMs: 3_600_000, maxBufferedBytes: 100_000 });
    for (let i = 0; i < 1_000; i++) {
      processor.push({ ...logon, event: { ...logon.event, id: `same-${i}` } }, Number.NaN, 600);
      expect(processor.stats().bufferedBytes).toBeLessThanOrEqual(100_000);
    }
    const stats = processor.stats();
    expect(stats.forcedReleases).toBeGreaterThan(900);
    expect(stats.buffered).toBeLessThan(100);
    processor.flush();
    expect(processor.stats().bufferedBytes).toBe(0);
  });

  it('decides lateness once per event for all rules (one watermark), reports it, and drops the event', () => {
    const { events } = positiveCase(ruleId.elastic);
    const [logon, hive] = events as [SequorEvent, SequorEvent];
    const { processor, alerts, late } = run({ allowedLatenessMs: 1_000 });
    processor.push(hive); // 30 s after the logon: the watermark passes the logon's time
    processor.push(logon);
    processor.flush();
    expect(alerts).toEqual([]);
    expect(late.map((l) => [l.event.event.id, l.reason])).toEqual([['sam-logon', 'late']]);
    const stats = processor.stats();
    expect([stats.eventsIn, stats.late, stats.buffered]).toEqual([2, 1, 0]);
    expect(stats.watermark).toBe(hive.timestamp - 1_000);
  });

  it('counts open partials, and flush emits what the buffered events complete; close emits nothing', () => {
    const { events, expected } = positiveCase(ruleId.elastic);
    const flushed = run({ allowedLatenessMs: 120_000 });
    flushed.processor.push(events[0]!);
    expect(flushed.processor.stats().openPartials).toBe(0); // still in the reorder buffer
    flushed.processor.push(events[1]!);
    flushed.processor.flush();
    expect(evidenceOf(flushed.alerts)).toEqual(expected);
    expect(flushed.processor.state).toBe('flushed');

    const open = run({ allowedLatenessMs: 0 });
    open.processor.push(events[0]!);
    open.processor.push({
      ...events[0]!,
      timestamp: events[0]!.timestamp + 1,
      event: { ...events[0]!.event, id: 'tick' },
    });
    expect(open.processor.stats().openPartials).toBeGreaterThan(0);
    open.processor.close();
    expect(open.processor.state).toBe('closed');
    expect(open.alerts).toEqual([]);
    expect(() => open.processor.push(events[1]!)).toThrow(DetectionProcessorError);
    expect(() => flushed.processor.flush()).toThrow(/flush after flushed/);
  });

  it('surfaces an error thrown by the alert sink from push, unchanged', () => {
    const failure = new Error('stdout closed');
    const { events } = positiveCase(ruleId.car);
    const { processor } = run({
      allowedLatenessMs: 0,
      onAlert: () => {
        throw failure;
      },
    });
    expect(() => {
      for (const e of events) processor.push(e);
      processor.flush();
    }).toThrow(failure);
    expect(processor.state).toBe('closed');
  });

  it('sums per-partition stats: counters add, the watermark is the slowest partition', () => {
    const a = run({ partition: 0 });
    const b = run({ partition: 1 });
    const { events } = positiveCase(ruleId.serviceCreation);
    for (const e of events) a.processor.push(e);
    b.processor.push(events[0]!);
    const sum = sumDetectionStats([a.processor.stats(), b.processor.stats()]);
    expect(sum.eventsIn).toBe(events.length + 1);
    expect(sum.watermark).toBe(Math.min(a.processor.stats().watermark, b.processor.stats().watermark));
    expect(sum.rules.map((r) => r.ruleId).sort()).toEqual(rules.map((r) => r.id).sort());
  });
});

describe('DetectionProcessor over the in-memory transport', () => {
  // A small generated scenario: every rule fires at least once and near-misses are present.
  const scenario = generateScenario({ seed: 11, events: 3000 });
  const files = scenario.groundTruth.files;

  /** Raw lines -> NormalizeProcessor -> events topic keyed by host -> one processor per partition. */
  function detect(partitions: number, viaAvro: boolean): Alert[] {
    const bindings = parseSourceBindings(
      files.map((f) => `${f.format}:${f.path.replace(/[^A-Za-z0-9._-]/g, '_')}`).join(','),
    );
    const normalize = createNormalizeProcessor({ bindings, encoder: singleObjectEventEncoder() });
    const topic = new InMemoryTransport().createTopic<SequorEvent>('events', partitions);
    // Files one after the other, each in event time order (no jitter): fine with a lateness of a day.
    files.forEach((file, i) => {
      const lines = (scenario.files.get(file.path) as string).split('\n');
      lines.forEach((line, offset) => {
        if (line === '') return;
        const result = normalize.process({
          topic: bindings[i]!.topic,
          partition: 0,
          offset,
          value: Buffer.from(line),
        });
        for (const out of result.outputs)
          topic.send({ key: out.key, value: out.event, timestamp: out.event.timestamp });
      });
    });
    const codec = createEventCodec();
    const alerts: Alert[] = [];
    const group = topic.consumer();
    for (const batch of group.poll(Number.MAX_SAFE_INTEGER)) {
      const processor = createDetectionProcessor({
        rules: compiled,
        partition: batch.partition,
        allowedLatenessMs: 24 * 3600_000,
        clock: () => 0,
        onAlert: (a) => alerts.push(a),
      });
      for (const r of batch.records)
        processor.push(viaAvro ? codec.decode(codec.encodeSingleObject(r.value)) : r.value);
      processor.flush();
    }
    return alerts;
  }

  const ids = (alerts: readonly Alert[]): string[] => alerts.map((a) => a.alert.id).sort();

  it('finds the same alerts whatever the partition count, as many as the ground truth', () => {
    const one = detect(1, false);
    const four = detect(4, false);
    expect(ids(four)).toEqual(ids(one));
    expect(four).toHaveLength(scenario.groundTruth.counts.alerts);
    expect(four.length).toBeGreaterThanOrEqual(4);
  }, 120_000);

  it('gives the same alerts on events decoded from Avro as on the normalizer objects (the Kafka path)', () => {
    expect(ids(detect(3, true))).toEqual(ids(detect(3, false)));
  }, 120_000);
});
