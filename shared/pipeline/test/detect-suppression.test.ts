import { describe, expect, it } from 'vitest';
import type { AlertUpdate, SequorEvent } from '@sequor/model';
import type { Alert, CompiledRule, Rule } from '@sequor/rules';
import { compileRule, decodeTestEvents, loadBuiltinRules } from '@sequor/rules';
import { generateScenario } from '@sequor/scenarios';
import { parseSourceBindings } from '@sequor/formats';
import {
  createDetectionProcessor,
  createNormalizeProcessor,
  InMemoryTransport,
  singleObjectEventEncoder,
  sumDetectionStats,
  type DetectionStats,
} from '../src/index.js';

const rules: readonly Rule[] = await loadBuiltinRules();
const HOUR = 3_600_000;
const suppressed = (
  rule: Rule,
  by: string[],
  ms: number,
  missing: 'suppress' | 'alert' = 'suppress',
): Rule => ({
  ...rule,
  suppress: { by, window: { text: `${ms}ms`, ms }, missing },
});

interface Detection {
  readonly alerts: Alert[];
  readonly updates: AlertUpdate[];
  readonly stats: DetectionStats;
}

function detectAll(compiled: readonly CompiledRule[], partitions: Map<number, SequorEvent[]>): Detection {
  const alerts: Alert[] = [];
  const updates: AlertUpdate[] = [];
  const stats: DetectionStats[] = [];
  for (const [partition, events] of partitions) {
    const processor = createDetectionProcessor({
      rules: compiled,
      partition,
      allowedLatenessMs: 24 * HOUR,
      clock: () => 0,
      onAlert: (alert) => alerts.push(alert),
      onAlertUpdate: (update) => updates.push(update),
    });
    for (const event of events) processor.push(event);
    processor.flush();
    stats.push(processor.stats());
  }
  return { alerts, updates, stats: sumDetectionStats(stats) };
}

describe('DetectionProcessor with suppress', () => {
  it('publishes fewer alerts, and published + suppressed counts = every alert, over the generated scenario', () => {
    const scenario = generateScenario({ seed: 11, events: 3000 });
    const files = scenario.groundTruth.files;
    const bindings = parseSourceBindings(
      files.map((f) => `${f.format}:${f.path.replace(/[^A-Za-z0-9._-]/g, '_')}`).join(','),
    );
    const normalize = createNormalizeProcessor({ bindings, encoder: singleObjectEventEncoder() });
    const topic = new InMemoryTransport().createTopic<SequorEvent>('events', 3);
    files.forEach((file, i) => {
      (scenario.files.get(file.path) as string).split('\n').forEach((line, offset) => {
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
    const partitions = new Map<number, SequorEvent[]>();
    for (const batch of topic.consumer().poll(Number.MAX_SAFE_INTEGER))
      partitions.set(
        batch.partition,
        batch.records.map((r) => r.value),
      );

    const plain = detectAll(
      rules.map((r) => compileRule(r)),
      partitions,
    );
    const quiet = detectAll(
      rules.map((r) => compileRule(suppressed(r, ['host.id'], 6 * HOUR))),
      partitions,
    );
    const counted = quiet.updates.reduce((sum, u) => sum + u.suppression.count, 0);
    expect(counted).toBeGreaterThan(0);
    expect(quiet.alerts.length).toBeLessThan(plain.alerts.length);
    expect(quiet.alerts.length + counted).toBe(plain.alerts.length);
    expect(quiet.stats.suppressed).toBe(counted);
    expect(quiet.stats.alertUpdates).toBe(quiet.updates.length);
    // Every update names a published alert; published alerts are a subset of the unsuppressed run's.
    const published = new Set(quiet.alerts.map((a) => a.alert.id));
    for (const update of quiet.updates) expect(published.has(update.alert.id)).toBe(true);
    const all = new Set(plain.alerts.map((a) => a.alert.id));
    for (const alert of quiet.alerts) expect(all.has(alert.alert.id)).toBe(true);
  }, 120_000);

  it('suppresses a filter per host in event time and reports the count when the watermark passes the window end', () => {
    const car = rules.find((r) => r.id === 'dc985e9a-0bd4-4c6c-8141-dcb771529846')!;
    const template = car.tests[0]!.events[0] as Record<string, unknown>;
    const doc = (id: string, minute: number, host: string | null) => ({
      ...template,
      '@timestamp': new Date(Date.UTC(2024, 2, 4, 10, minute)).toISOString(),
      event: { id, category: ['network'] },
      host: host === null ? {} : { id: host },
    });
    const events = decodeTestEvents(car, {
      name: 'suppression',
      events: [
        doc('h1-a', 0, 'h1'),
        doc('h2-a', 1, 'h2'),
        doc('h1-b', 5, 'h1'),
        doc('none-a', 6, null),
        doc('none-b', 7, null),
        doc('h1-c', 9, 'h1'),
        doc('h1-d', 10, 'h1'), // exactly the window end: a new alert
        doc('h2-b', 30, 'h2'),
      ],
      expect: [],
    });
    const compiled = compileRule(suppressed(car, ['host.id'], 10 * 60_000));
    const log: string[] = [];
    const processor = createDetectionProcessor({
      rules: [compiled],
      allowedLatenessMs: 0,
      clock: () => 0,
      onAlert: (alert) => log.push(`A ${alert.evidence[0]!.event_id}`),
      onAlertUpdate: (update, _rule, opening) => {
        expect(update.alert.id).toBe(opening.alert.id);
        log.push(
          `U ${opening.evidence[0]!.event_id} +${update.suppression.count} last ${update.last_evidence.join()}`,
        );
      },
    });
    for (const event of events) processor.push(event);
    processor.flush();
    expect(log).toEqual([
      'A h1-a',
      'A h2-a',
      'A none-a',
      'U h1-a +2 last h1-c', // the watermark reaches 10:10, the end of both windows
      'U none-a +1 last none-b',
      'A h1-d',
      'A h2-b', // past h2's window: published (released at the end of input, grace 0)
    ]);
    expect(processor.stats().rules[0]).toMatchObject({ alerts: 5, suppressed: 3, alertUpdates: 2 });
  });

  describe('at a rule change (replaceRules)', () => {
    const car = rules.find((r) => r.id === 'dc985e9a-0bd4-4c6c-8141-dcb771529846')!;
    const template = car.tests[0]!.events[0] as Record<string, unknown>;
    const events = decodeTestEvents(car, {
      name: 'rule change',
      events: ['h1-a', 'h1-b', 'h1-c', 'h1-d'].map((id, minute) => ({
        ...template,
        '@timestamp': new Date(Date.UTC(2024, 2, 4, 10, minute)).toISOString(),
        event: { id, category: ['network'] },
        host: { id: 'h1' },
      })),
      expect: [],
    });
    const first = compileRule(suppressed(car, ['host.id'], HOUR));

    /** Three events, the change, the fourth; alerts `A id revision`, updates `U opening +count closed_by revision`. */
    function run(next: (running: readonly CompiledRule[]) => readonly CompiledRule[]): string[] {
      const log: string[] = [];
      const processor = createDetectionProcessor({
        rules: [first],
        allowedLatenessMs: 0,
        replaceable: true,
        clock: () => 0,
        onAlert: (alert) => log.push(`A ${alert.evidence[0]!.event_id} ${alert.rule.revision}`),
        onAlertUpdate: (update, _rule, opening) => {
          expect(update.alert.id).toBe(opening.alert.id);
          log.push(
            `U ${opening.evidence[0]!.event_id} +${update.suppression.count} ${update.suppression.closed_by} ${opening.rule.revision}`,
          );
        },
      });
      events.slice(0, 3).forEach((event) => processor.push(event));
      processor.advanceStreamTime(events[2]!.timestamp + 1); // the rule before the change saw all three
      processor.replaceRules(next(processor.rules));
      processor.push(events[3]!);
      processor.flush();
      return log;
    }

    it('a changed rule publishes its open window at the change, with the count so far; the new revision starts fresh', () => {
      expect(run(() => [compileRule(suppressed(car, ['host.id'], HOUR), { revision: 'r2' })])).toEqual([
        'A h1-a null',
        'U h1-a +2 rule-change null', // the update of the alert the old revision published
        'A h1-d r2',
      ]);
    });

    it('a removed rule publishes its open window at the change', () => {
      expect(run(() => [])).toEqual(['A h1-a null', 'U h1-a +2 rule-change null']);
    });

    it('a sink that throws on an update closed by the change surfaces from replaceRules', () => {
      const processor = createDetectionProcessor({
        rules: [first],
        allowedLatenessMs: 0,
        replaceable: true,
        onAlert: () => {},
        onAlertUpdate: () => {
          throw new Error('output closed');
        },
      });
      events.slice(0, 3).forEach((event) => processor.push(event));
      processor.advanceStreamTime(events[2]!.timestamp + 1);
      expect(() => processor.replaceRules([])).toThrow('output closed');
      expect(processor.state).toBe('closed');
    });

    it('a rule that stays keeps its window open: one update at its close, with every count', () => {
      expect(run((running) => [...running])).toEqual(['A h1-a null', 'U h1-a +3 end null']);
    });
  });
});
