/**
 * A rule that throws on one record's event: the record is dead-lettered once as `rule-error` (the rule
 * named), every other rule still sees it, and the partition goes on and commits. Before, the task failed
 * and the same record failed it again after every restore: the partition never moved.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { createEventCodec } from '@sequor/model';
import type { SequorEvent } from '@sequor/model';
import { NORMALIZED_HEADERS } from '@sequor/pipeline';
import type { CompiledRule } from '@sequor/rules';
import { compileRule, loadBuiltinRules } from '@sequor/rules';
import { eventCountRuleOf, filterRuleOf } from '@sequor/rules/testing';
import { ALERT_HEADERS } from '../src/outputs.js';
import type { RecordObserver } from '../src/partition-task.js';
import type { FakeConsumedRecord } from './support/scenario.js';
import { testPartitionTask } from './support/partition-task.js';

const codec = createEventCodec();
const bug = new TypeError('cannot read the rule field');

const event = (id: string, timestamp: number, offset: number): SequorEvent =>
  ({
    ...(codec.type.random() as unknown as SequorEvent),
    timestamp,
    // Where the normalizer read the raw record (what a dead letter of a released event points at).
    origin: { format: 'winlogbeat', topic: 'raw', partition: 1, offset: 100 + offset },
    event: { ...(codec.type.random() as unknown as SequorEvent).event, id },
    host: { id: 'name:ws1', name: 'WS1', ip: null, hostname: null, domain: null },
  }) as SequorEvent;

const record = (offset: number, id: string): FakeConsumedRecord => ({
  key: Buffer.from('name:ws1'),
  value: codec.encodeSingleObject(event(id, 1_700_000_000_000 + offset * 1_000, offset)),
  headers: { [NORMALIZED_HEADERS.partitionKeyFields]: Buffer.from('host.id,host.name,user.id') },
  offset: String(offset),
  timestamp: String(1_700_000_000_000 + offset * 1_000),
});

/** A live task over `rules` (5 s of lateness), alerts and dead letters to `alerts` and `dead`. */
const taskOf = (rules: readonly CompiledRule[], startOffset: number, liveFrom: number) =>
  testPartitionTask({ rules, allowedLatenessMs: 5_000, horizonMs: 10_000, startOffset, liveFrom });

describe('PartitionTask: a rule that throws', () => {
  let rules: CompiledRule[];

  beforeAll(async () => {
    const base = (await loadBuiltinRules()).map((r) => compileRule(r))[0]!;
    rules = [
      filterRuleOf(base, 'every-event', () => true),
      filterRuleOf(base, 'throwing-rule', (e) => {
        if (e.event.id === 'bad') throw bug;
        return true;
      }),
      filterRuleOf(base, 'throwing-too', (e) => {
        if (e.event.id === 'bad') throw new Error('second bug');
        return false;
      }),
    ];
  });

  const task = (startOffset: number, liveFrom: number) => taskOf(rules, startOffset, liveFrom);

  const records = ['e0', 'e1', 'bad', 'e3', 'e4'].map((id, offset) => record(offset, id));
  /** The offsets of the records that raised each alert (the alert ids name the base rule alike). */
  const alertTriggers = (out: { records: readonly { topic: string; headers?: Record<string, unknown> }[] }) =>
    out.records
      .filter((r) => r.topic === 'alerts')
      .map((r) => String(r.headers?.[ALERT_HEADERS.triggerOffset]));

  it('dead-letters the record once as rule-error naming the rules; the others still alert on it, later records too', () => {
    const finished: unknown[] = [];
    const observer: RecordObserver = {
      recordStarted: () => {},
      eventDecoded: () => {},
      alertRaised: () => undefined,
      recordFinished: (error) => finished.push(error),
    };
    const out = task(0, 0).process(records, observer);
    expect(out).toMatchObject({
      deadLetters: 1,
      deadLetterReasons: { 'rule-error': 1 },
      live: 5,
      commitOffset: 5,
    });
    const dead = out.records.filter((r) => r.topic === 'dead');
    expect(dead).toHaveLength(1);
    expect(dead[0]!.headers).toMatchObject({
      'error.reason': 'rule-error',
      'error.rule-ids': 'throwing-rule,throwing-too',
      'origin.offset': '2',
    });
    // The rules threw on this record's own event: nothing else to fetch.
    expect(dead[0]!.headers?.['error.released-origins']).toBeUndefined();
    expect(String(dead[0]!.headers?.['error.message'])).toContain(
      'rule throwing-rule: TypeError: cannot read the rule field',
    );
    expect(dead[0]!.value).toEqual(records[2]!.value);
    // every-event on each record, throwing-rule on every record but the bad one.
    expect(alertTriggers(out)).toEqual(['0', '0', '1', '1', '2', '3', '3', '4', '4']);
    expect(finished.map((e) => (e === undefined ? null : (e as Error).name))).toEqual([
      null,
      null,
      'RuleEvaluationError',
      null,
      null,
    ]);
  });

  it('says nothing of it when the record is replayed, and the replay rebuilds the same state', () => {
    const out = task(0, 3).process(records);
    expect(out).toMatchObject({
      deadLetters: 0,
      deadLetterReasons: null,
      replayed: 3,
      live: 2,
      commitOffset: 5,
    });
    expect(out.records.filter((r) => r.topic === 'dead')).toEqual([]);
  });
});

describe('PartitionTask: a stateful rule that throws on a released event', () => {
  let rules: CompiledRule[];

  beforeAll(async () => {
    const base = (await loadBuiltinRules()).map((r) => compileRule(r))[0]!;
    // Two events of a host within a minute (as a Sigma event_count correlation runs), whose input's
    // predicate throws on `bad`.
    rules = [
      eventCountRuleOf(base, 'pairs', (e) => {
        if (e.event.id === 'bad') throw bug;
        return true;
      }),
    ];
  });

  const task = () => taskOf(rules, 0, 0);

  it('dead-letters the record whose push released it, naming the earlier event; the partition goes on', () => {
    // One record a second: `bad` (offset 2) is released once stream time is 5 s past it.
    const records = ['e0', 'e1', 'bad', 'e3', 'e4', 'e5', 'e6', 'e7', 'e8', 'e9'].map((id, o) =>
      record(o, id),
    );
    const out = task().process(records);
    expect(out).toMatchObject({
      deadLetters: 1,
      deadLetterReasons: { 'rule-error': 1 },
      live: 10,
      commitOffset: 10,
    });
    const dead = out.records.filter((r) => r.topic === 'dead');
    expect(dead).toHaveLength(1);
    const trigger = Number(dead[0]!.headers?.['origin.offset']);
    expect(trigger).toBeGreaterThan(2);
    expect(dead[0]!.value).toEqual(records[trigger]!.value);
    expect(dead[0]!.headers).toMatchObject({
      'error.reason': 'rule-error',
      'error.rule-ids': 'pairs',
      // `bad`'s own raw record: the one to fetch (this dead letter's value is the releasing record's).
      'error.released-origins': 'raw[1]@102',
    });
    expect(String(dead[0]!.headers?.['error.message'])).toContain(
      `rule pairs on the earlier event bad of ${new Date(1_700_000_002_000).toISOString()}, read from raw[1]@102`,
    );
    // The count still alerts.
    expect(out.records.filter((r) => r.topic === 'alerts').length).toBeGreaterThan(0);
  });

  it('dead-letters an idle advance’s trigger, the last record, once', () => {
    const records = ['e0', 'e1', 'bad', 'e3'].map((id, o) => record(o, id));
    const live = task();
    expect(live.process(records)).toMatchObject({ deadLetters: 0 });
    const advanced = live.advanceIdle(60_000);
    expect(advanced).toMatchObject({ deadLetters: 1, deadLetterReasons: { 'rule-error': 1 } });
    const dead = advanced!.records.filter((r) => r.topic === 'dead');
    expect(dead.map((r) => r.headers?.['origin.offset'])).toEqual(['3']);
    expect(dead[0]!.headers?.['error.released-origins']).toBe('raw[1]@102');
  });
});
