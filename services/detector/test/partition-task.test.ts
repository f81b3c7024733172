import { beforeAll, describe, expect, it } from 'vitest';
import { createAlertCodec, createEventCodec } from '@sequor/model';
import type { SequorEvent } from '@sequor/model';
import { NORMALIZED_HEADERS } from '@sequor/pipeline';
import type { CompiledRule } from '@sequor/rules';
import { compileRule, loadBuiltinRules } from '@sequor/rules';
import type { Alert } from '@sequor/rules';
import { ALERT_HEADERS, LATE_HEADERS, singleObjectAlertEncoder } from '../src/outputs.js';
import type { PartitionTaskOptions, RecordObserver } from '../src/partition-task.js';
import { PartitionKeyMismatchError, PartitionTask } from '../src/partition-task.js';
import { decodeRestoreMetadata, encodeRestoreMetadata, restoreHorizonMs } from '@sequor/streams';
import { PoisonRecordError, PoisonRecordHandler } from '@sequor/kafka';
import type { FakeConsumedRecord } from './support/scenario.js';
import { asConsumed, normalizedScenario } from './support/scenario.js';

const LATENESS = 5_000;
const HOUR = 3_600_000;
let rules: CompiledRule[];
const codec = createEventCodec();
const alertEncoder = singleObjectAlertEncoder();

function task(
  startOffset: number,
  liveFrom: number,
  overrides: Partial<PartitionTaskOptions> = {},
): PartitionTask {
  return new PartitionTask({
    topic: 'events',
    partition: 0,
    rules,
    decode: (value) => codec.decode(value),
    alertEncoder,
    alertsTopic: 'alerts',
    lateEventsTopic: 'late',
    deadLetterTopic: 'dead',
    allowedLatenessMs: LATENESS,
    clock: () => 0,
    // The built-ins: 1 h span, 1 h join (counted twice), 1 min sequence.
    horizonMs: restoreHorizonMs(LATENESS, HOUR, HOUR),
    startOffset,
    liveFrom,
    partitionKeyFields: 'host.id,host.name,user.id',
    ...overrides,
  });
}

const alertIds = (records: readonly { topic: string; headers?: Record<string, unknown> }[]): string[] =>
  records.filter((r) => r.topic === 'alerts').map((r) => String(r.headers?.[ALERT_HEADERS.alertId]));

/** Runs `records` through a task in batches of `batch`, as the service would: the output and the commit of each batch. */
function runContinuously(
  records: readonly FakeConsumedRecord[],
  batch: number,
  overrides: Partial<PartitionTaskOptions> = {},
) {
  const t = task(0, 0, overrides);
  const commits: { offset: number; metadata: string; alertsBefore: number }[] = [];
  const alerts: { id: string; trigger: number }[] = [];
  for (let i = 0; i < records.length; i += batch) {
    const out = t.process(records.slice(i, i + batch));
    for (const r of out.records) {
      if (r.topic === 'alerts')
        alerts.push({
          id: String(r.headers?.[ALERT_HEADERS.alertId]),
          trigger: Number(r.headers?.[ALERT_HEADERS.triggerOffset]),
        });
    }
    commits.push({
      offset: out.commitOffset!,
      metadata: encodeRestoreMetadata(t.restorePoint()!),
      alertsBefore: alerts.length,
    });
  }
  return { commits, alerts };
}

describe('PartitionTask: restore by bounded replay', () => {
  let partitions: FakeConsumedRecord[][];

  beforeAll(async () => {
    rules = (await loadBuiltinRules()).map((r) => compileRule(r));
    // 6.7 hours of event time (one event every 2 s) with attacks spread over it, on 2 partitions: the replay
    // horizon (2 h + 5 s) is a fraction of the stream, so restores really start mid-stream.
    const scenario = normalizedScenario(
      { seed: 11, events: 12_000, rate: 0.5, hosts: 12, users: 30, scenarios: 8 },
      2,
    );
    partitions = [0, 1].map((p) => asConsumed(scenario.records.filter((r) => r.partition === p)));
  }, 60_000);

  it('a new owner restored at any commit raises exactly the alerts the first owner would have raised after it', () => {
    let restoresMidStream = 0;
    let alertsChecked = 0;
    for (const records of partitions) {
      const continuous = runContinuously(records, 499);
      expect(continuous.alerts.length).toBeGreaterThan(4);
      // Every 3rd commit is a failover point.
      for (let c = 0; c < continuous.commits.length - 1; c += 3) {
        const commit = continuous.commits[c]!;
        const point = decodeRestoreMetadata(commit.metadata)!;
        if (point.offset > 0) restoresMidStream++;
        const restored = task(point.offset, commit.offset);
        const replay = restored.process(records.slice(point.offset, commit.offset));
        expect(replay.records).toEqual([]);
        expect(replay.commitOffset).toBeNull();
        expect(replay.restored).toMatchObject({
          fromOffset: point.offset,
          toOffset: commit.offset,
          replayedRecords: commit.offset - point.offset,
        });
        const after: string[] = [];
        for (let i = commit.offset; i < records.length; i += 1500)
          after.push(...alertIds(restored.process(records.slice(i, i + 1500)).records));
        const expected = continuous.alerts.slice(commit.alertsBefore).map((a) => a.id);
        expect(after).toEqual(expected);
        alertsChecked += expected.length;
      }
    }
    expect(restoresMidStream).toBeGreaterThan(3);
    expect(alertsChecked).toBeGreaterThan(20);
  }, 60_000);

  it('a new owner that does not replay misses alerts: the check above has teeth', () => {
    let differs = 0;
    for (const records of partitions) {
      const continuous = runContinuously(records, 499);
      for (let c = 0; c < continuous.commits.length - 1; c += 3) {
        const commit = continuous.commits[c]!;
        const cold = task(commit.offset, commit.offset);
        const after = alertIds(cold.process(records.slice(commit.offset)).records);
        if (
          after.join() !==
          continuous.alerts
            .slice(commit.alertsBefore)
            .map((a) => a.id)
            .join()
        )
          differs++;
      }
    }
    expect(differs).toBeGreaterThan(0);
  }, 60_000);

  it('attributes each alert to the record whose processing raised it, so a commit splits them cleanly', () => {
    const { commits, alerts } = runContinuously(partitions[0]!, 499);
    let previous = 0;
    for (const commit of commits) {
      for (const a of alerts.slice(previous, commit.alertsBefore))
        expect(a.trigger).toBeLessThan(commit.offset);
      previous = commit.alertsBefore;
    }
    expect(new Set(alerts.map((a) => a.id)).size).toBe(alerts.length);
  });

  it('dead-letters a year-9999 event against its record timestamp: every alert still raised, restores still exact', () => {
    // As the normalizer produces them: each record stamped (produce time) a little after its event time.
    const clean = partitions[0]!.map((r) => ({
      ...r,
      timestamp: String(codec.decode(r.value!).timestamp + 2_000),
    }));
    const victim = codec.decode(clean[5]!.value!);
    const bogus = {
      ...clean[5]!,
      value: codec.encodeSingleObject({
        ...victim,
        timestamp: Date.UTC(9999, 0, 1),
        event: { ...victim.event, id: 'bogus' },
      }),
    };
    const hostile = [...clean.slice(0, 5), bogus, ...clean.slice(5)].map((r, i) => ({
      ...r,
      offset: String(i),
    }));
    const guard = { maxFutureSkewMs: HOUR };
    const expected = alertIds(task(0, 0, guard).process(clean).records);
    expect(expected.length).toBeGreaterThan(4);

    const out = task(0, 0, guard).process(hostile);
    expect(alertIds(out.records)).toEqual(expected);
    const dead = out.records.filter((r) => r.topic === 'dead');
    expect(dead.map((d) => [d.headers?.['error.reason'], d.headers?.['origin.offset']])).toEqual([
      ['future-timestamp', '5'],
    ]);
    expect(out).toMatchObject({ deadLetters: 1, deadLetterReasons: { 'future-timestamp': 1 }, late: 0 });
    // Without the guard the bogus event owns stream time: the rest of the partition is late.
    const blind = task(0, 0).process(hostile);
    expect(alertIds(blind.records).length).toBeLessThan(expected.length);
    expect(blind.late).toBeGreaterThan(1000);

    // The decision rests on the record timestamp only: a restore from any commit decides the same.
    const continuous = runContinuously(hostile, 499, guard);
    for (let c = 0; c < continuous.commits.length - 1; c += 2) {
      const commit = continuous.commits[c]!;
      const point = decodeRestoreMetadata(commit.metadata)!;
      expect(point.eventTime).toBeLessThan(Date.UTC(9000, 0, 1));
      const restored = task(point.offset, commit.offset, guard);
      expect(restored.process(hostile.slice(point.offset, commit.offset)).records).toEqual([]);
      const after = alertIds(restored.process(hostile.slice(commit.offset)).records);
      expect(after).toEqual(continuous.alerts.slice(commit.alertsBefore).map((a) => a.id));
    }
  }, 60_000);

  it('skips records it already processed (a redelivery after a stale committed offset)', () => {
    const records = partitions[0]!.slice(0, 3000);
    const once = task(0, 0);
    const first = once.process(records.slice(0, 2000));
    const again = once.process(records.slice(1000, 3000));
    expect(again.skipped).toBe(1000);
    expect(again.live).toBe(1000);
    expect(again.commitOffset).toBe(3000);
    const straight = task(0, 0);
    const ids = alertIds(straight.process(records).records);
    expect([...alertIds(first.records), ...alertIds(again.records)]).toEqual(ids);
  });
});

describe('PartitionTask: records it cannot use', () => {
  beforeAll(async () => {
    rules ??= (await loadBuiltinRules()).map((r) => compileRule(r));
  });

  const event = (id: string, timestamp: number, hostId = 'name:ws1'): SequorEvent =>
    ({
      ...(codec.type.random() as unknown as SequorEvent),
      timestamp,
      event: {
        ...(codec.type.random() as unknown as SequorEvent).event,
        id,
        category: ['process'],
        type: ['start'],
      },
      host: { id: hostId, name: 'WS1', ip: null, hostname: null, domain: null },
    }) as SequorEvent;

  const record = (
    offset: number,
    value: Buffer | null,
    keyFields: string | null = 'host.id,host.name,user.id',
  ): FakeConsumedRecord => ({
    key: Buffer.from('name:ws1'),
    value,
    headers:
      keyFields === null
        ? {}
        : {
            [NORMALIZED_HEADERS.partitionKeyFields]: Buffer.from(keyFields),
            traceparent: Buffer.from('00-abc-def-01'),
          },
    offset: String(offset),
    timestamp: String(1_700_000_000_000 + offset),
  });

  it('dead-letters an undecodable live record with the codec reason, and says nothing about one in the replay', () => {
    const bad = Buffer.from('not avro');
    const t = task(0, 1);
    const out = t.process([record(0, bad), record(1, bad), record(2, null)]);
    const dead = out.records.filter((r) => r.topic === 'dead');
    expect(dead.map((d) => d.headers?.['error.reason'])).toEqual(['bad-magic', 'truncated']);
    expect(dead[0]!.headers?.['origin.offset']).toBe('1');
    expect(out).toMatchObject({ deadLetters: 2, replayed: 1, live: 2, commitOffset: 3 });
  });

  it('applies the poison-record policy it is given: fail stops at the live record that does not decode', () => {
    const bad = Buffer.from('not avro');
    const t = task(0, 1, { poison: new PoisonRecordHandler({ policy: 'fail', deadLetterTopic: 'dead' }) });
    // The replayed record was handled by the first run: the policy is not applied to it again.
    const error = (() => {
      try {
        t.process([record(0, bad), record(1, bad)]);
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(PoisonRecordError);
    expect(error).toMatchObject({ topic: 'events', partition: 0, offset: '1' });
  });

  it('publishes a late live event with its watermark, and suppresses one in the replay', () => {
    const t = task(0, 3);
    const on = (o: number, ts: number) => record(o, codec.encodeSingleObject(event(`e${o}`, ts)));
    // Offset 1 sets stream time to 60 s; offsets 2 and 3 are 10 s older than the watermark (55 s).
    const records = [on(0, 1_000), on(1, 60_000), on(2, 45_000), on(3, 45_000)];
    const out = t.process(records);
    const late = out.records.filter((r) => r.topic === 'late');
    expect(late).toHaveLength(1);
    expect(late[0]!.headers).toMatchObject({
      [LATE_HEADERS.reason]: 'late',
      [LATE_HEADERS.watermark]: '55000',
      [LATE_HEADERS.eventTime]: '45000',
      [LATE_HEADERS.originOffset]: '3',
      traceparent: Buffer.from('00-abc-def-01'),
    });
    expect(late[0]!.value).toBe(records[3]!.value);
    expect(late[0]!.key).toBe(records[3]!.key);
  });

  it('refuses records keyed by other fields than it was told, and counts records that do not say', () => {
    const t = task(0, 0);
    const value = codec.encodeSingleObject(event('e0', 1_000));
    t.process([record(0, value, null)]);
    expect(t.withoutKeyHeader).toBe(1);
    expect(() => t.process([record(1, value, 'user.id')])).toThrow(PartitionKeyMismatchError);
    expect(() => task(0, 0).process([record(0, value, 'user.id')])).toThrow(
      /PARTITION_KEY_FIELDS is "host.id,host.name,user.id"/,
    );
  });

  it('has no restore point before a timed record, then starts at the first record it saw', () => {
    const t = task(40, 40);
    expect(t.restorePoint()).toBeNull();
    expect(t.isLive).toBe(true);
    t.process([
      record(40, codec.encodeSingleObject(event('e0', 5_000))),
      record(41, codec.encodeSingleObject(event('e1', 6_000))),
    ]);
    expect(t.restorePoint()).toEqual({ offset: 40, eventTime: 5_000, streamTime: 6_000 });
  });
});

describe('PartitionTask: the record observer (where tracing hooks in)', () => {
  beforeAll(async () => {
    rules ??= (await loadBuiltinRules()).map((r) => compileRule(r));
  });

  it('follows every record in order, and hands each live alert its evidence objects; the alert record carries the trace', () => {
    const records = asConsumed(
      normalizedScenario({ seed: 5, events: 4_000, rate: 0.5, hosts: 6, users: 10, scenarios: 6 }, 1).records,
    );
    const liveFrom = Math.floor(records.length / 3);
    const steps: string[] = [];
    const decodedAt = new Map<SequorEvent, string>();
    const raised: { alert: Alert; evidence: readonly SequorEvent[] }[] = [];
    let open: string | null = null;
    const observer: RecordObserver = {
      recordStarted(record, live) {
        if (open !== null) throw new Error(`record ${record.offset} started while ${open} was open`);
        open = record.offset;
        steps.push(`${live ? 'live' : 'replay'} ${record.offset}`);
      },
      eventDecoded(event) {
        decodedAt.set(event, open!);
      },
      alertRaised(alert, evidence) {
        raised.push({ alert, evidence });
        return {
          traceId: `trace-${raised.length}`,
          headers: { traceparent: `00-span-of-alert-${raised.length}` },
        };
      },
      recordFinished() {
        open = null;
      },
    };
    const out = task(0, liveFrom).process(records, observer);

    expect(open).toBeNull();
    expect(steps).toEqual(records.map((r, i) => `${i < liveFrom ? 'replay' : 'live'} ${r.offset}`));
    // Only live alerts reach the observer: the replay's were committed by the previous owner.
    expect(raised.length).toBe(out.alerts);
    expect(raised.length).toBeGreaterThan(1);
    raised.forEach(({ alert, evidence }, i) => {
      expect(evidence.map((e) => e.event.id)).toEqual(alert.evidence.map((e) => e.event_id));
      // The very objects eventDecoded saw, so a WeakMap filled there finds them.
      for (const e of evidence) expect(decodedAt.has(e)).toBe(true);
      expect(out.raisedAlerts[i]!.trace_id).toBe(`trace-${i + 1}`);
    });
    const alertRecords = out.records.filter((r) => r.topic === 'alerts');
    expect(alertRecords.map((r) => r.headers?.traceparent)).toEqual(
      raised.map((_, i) => `00-span-of-alert-${i + 1}`),
    );
    const alertCodec = createAlertCodec();
    expect(alertRecords.map((r) => alertCodec.decode(r.value!).trace_id)).toEqual(
      raised.map((_, i) => `trace-${i + 1}`),
    );
  });

  it('finishes an undecodable record with its error, without a decode', () => {
    const calls: string[] = [];
    const observer: RecordObserver = {
      recordStarted: (record) => calls.push(`start ${record.offset}`),
      eventDecoded: () => calls.push('decoded'),
      alertRaised: () => undefined,
      recordFinished: (error) =>
        calls.push(`finish ${error instanceof Error ? error.constructor.name : 'ok'}`),
    };
    const out = task(0, 0).process(
      [{ key: null, value: Buffer.from('not avro'), headers: {}, offset: '0', timestamp: '0' }],
      observer,
    );
    expect(out.deadLetterReasons).toEqual({ 'bad-magic': 1 });
    expect(calls).toEqual(['start 0', 'finish CodecError']);
  });
});

describe('PartitionTask: idle partitions (stream time advanced on the wall clock, exact on replay)', () => {
  let records: FakeConsumedRecord[];

  beforeAll(async () => {
    rules ??= (await loadBuiltinRules()).map((r) => compileRule(r));
    // 3.3 hours of event time with attacks, out-of-order arrivals (within the lateness) and late events.
    const scenario = normalizedScenario(
      { seed: 23, events: 6_000, rate: 0.5, hosts: 8, users: 20, scenarios: 8, outOfOrder: 4_000 },
      1,
    );
    records = asConsumed(scenario.records);
  }, 60_000);

  /** What a transaction published, in order: alerts by id, late events by the offset they came from. */
  const published = (out: readonly { topic: string; headers?: Record<string, unknown> }[]): string[] =>
    out.flatMap((r) =>
      r.topic === 'alerts'
        ? [`alert ${String(r.headers?.[ALERT_HEADERS.alertId])}`]
        : r.topic === 'late'
          ? [`late @${String(r.headers?.[LATE_HEADERS.originOffset])}`]
          : [],
    );

  const BATCH = 150;
  const IDLE_MS = 30_000; // far more than the lateness: the events that follow an advance are partly late
  /** After which batches the partition goes quiet (the runner calls `advanceIdle`), as the first run saw it. */
  const quietAfter = (batchIndex: number): boolean => batchIndex % 4 === 2;

  /** The partition as the first owner saw it: batches, and quiet spells after some (the runner's idle calls). */
  type Step = { readonly batch: number } | { readonly idle: true };
  const steps = (): Step[] => {
    const out: Step[] = [];
    for (let i = 0, k = 0; i < records.length; i += BATCH, k++) {
      out.push({ batch: i });
      if (quietAfter(k)) out.push({ idle: true });
    }
    return out;
  };

  /**
   * Runs steps `from..` on `t`, each one transaction (a quiet spell that releases nothing commits
   * nothing, and is kept as a step so indexes line up): the commit after each step and what was
   * published up to it.
   */
  function firstRun(t: PartitionTask, from = 0, idleMs = IDLE_MS) {
    const commits: {
      offset: number;
      metadata: string;
      publishedBefore: number;
      step: number;
      advanced: boolean;
    }[] = [];
    const out: string[] = [];
    let idleAdvances = 0;
    const all = steps();
    for (let s = from; s < all.length; s++) {
      const step = all[s]!;
      const advancesBefore = t.idleAdvances;
      if ('batch' in step) {
        out.push(...published(t.process(records.slice(step.batch, step.batch + BATCH)).records));
      } else {
        const idle = t.advanceIdle(idleMs);
        if (idle !== null) {
          idleAdvances++;
          expect(idle.commitOffset).toBe(t.nextOffset);
          out.push(...published(idle.records));
        }
      }
      commits.push({
        offset: t.nextOffset,
        metadata: encodeRestoreMetadata(t.restorePoint()!),
        publishedBefore: out.length,
        step: s + 1,
        advanced: 'idle' in step && t.idleAdvances > advancesBefore,
      });
    }
    return { commits, out, idleAdvances };
  }

  it('advances only after the lateness has run out for a buffered event, and publishes what that releases', () => {
    const t = task(0, 0);
    const first = t.process(records.slice(0, 300));
    const streamTime = t.stats().streamTime;
    expect(t.stats().buffered).toBeGreaterThan(0);
    expect(t.advanceIdle(0)).toBeNull(); // no time passed: stream time would not move
    const out = t.advanceIdle(LATENESS + 1_000)!;
    expect(out).toMatchObject({ commitOffset: 300, live: 0, replayed: 0 });
    expect(t.stats()).toMatchObject({ streamTime: streamTime + LATENESS + 1_000, buffered: 0 });
    expect(t.restorePoint()?.advances).toEqual([{ offset: 300, streamTime: streamTime + LATENESS + 1_000 }]);
    // Nothing left to release: no second advance, however long the quiet.
    expect(t.advanceIdle(3_600_000)).toBeNull();
    expect(t.idleAdvances).toBe(1);
    expect(first.commitOffset).toBe(300);
    // Records reset the quiet: the next advance starts from the stream time they leave.
    t.process(records.slice(300, 400));
    expect(t.advanceIdle(LATENESS + 1_000)).not.toBeNull();
  });

  it('publishes a quiet partition’s pending sequence alert from the advance, naming the last record as its trigger', () => {
    // The first record that completes a sequence, with lateness: its alert is raised by the next records.
    const t = task(0, 0);
    let completedAt = -1;
    for (let i = 0; i < records.length && completedAt < 0; i++) {
      const probe = task(0, 0);
      probe.process(records.slice(0, i + 1));
      const out = probe.advanceIdle(LATENESS + 1);
      if (out !== null && out.alerts > 0) completedAt = i;
      if (i > 2_000) break;
    }
    expect(completedAt).toBeGreaterThan(0);
    const before = t.process(records.slice(0, completedAt + 1));
    expect(before.alerts).toBe(0);
    const out = t.advanceIdle(LATENESS + 1)!;
    const alert = out.records.find((r) => r.topic === 'alerts')!;
    expect(alert.headers).toMatchObject({
      [ALERT_HEADERS.triggerOffset]: String(completedAt),
      [ALERT_HEADERS.idleStreamTime]: String(t.stats().streamTime),
    });
    expect(out.raisedAlerts).toHaveLength(out.alerts);
  });

  it('sends an event the advance made late to the late-events topic, with the advanced watermark', () => {
    const t = task(0, 0);
    t.process(records.slice(0, 300));
    const streamTime = t.stats().streamTime;
    t.advanceIdle(LATENESS + 10_000);
    const watermark = streamTime + 10_000;
    // The next record, dated at the old stream time: on time before the advance, late after it.
    const value = codec.encodeSingleObject({ ...codec.decode(records[300]!.value!), timestamp: streamTime });
    const out = t.process([{ ...records[300]!, value }]);
    const late = out.records.filter((r) => r.topic === 'late');
    expect(late.map((r) => [r.headers?.[LATE_HEADERS.reason], r.headers?.[LATE_HEADERS.watermark]])).toEqual([
      ['late', String(watermark)],
    ]);
    expect(out.late).toBe(1);
  });

  it('a new owner replays the recorded advances at their offsets: the same late events and alerts, none twice, none missing', () => {
    const t = task(0, 0);
    const run = firstRun(t);
    expect(run.idleAdvances).toBeGreaterThan(5);
    expect(run.out.filter((o) => o.startsWith('alert')).length).toBeGreaterThan(4);
    // The advances made events late that continuous processing would have matched.
    const plain = task(0, 0);
    const plainLate = published(plain.process(records).records).filter((o) => o.startsWith('late')).length;
    const idleLate = run.out.filter((o) => o.startsWith('late')).length;
    expect(idleLate).toBeGreaterThan(plainLate);

    let restoredAcrossAnAdvance = 0;
    let teeth = 0;
    for (let c = 0; c < run.commits.length - 1; c += 2) {
      const commit = run.commits[c]!;
      const point = decodeRestoreMetadata(commit.metadata)!;
      // The hard case: advances between the restore point and the commit (the crash came before the
      // restore point passed them).
      if ((point.advances?.length ?? 0) > 0) restoredAcrossAnAdvance++;
      const restored = task(point.offset, commit.offset, { advances: point.advances });
      const replay = restored.process(records.slice(point.offset, commit.offset));
      expect(replay.records).toEqual([]);
      expect(restored.isLive).toBe(true);
      // Same state: the next commit's metadata is the first run's.
      expect(restored.restorePoint()).toEqual(point);
      const after = firstRun(restored, commit.step);
      expect(after.out).toEqual(run.out.slice(commit.publishedBefore));

      // Without the recorded advances the replay walks other watermarks and publishes something else.
      if ((point.advances?.length ?? 0) > 0) {
        const blind = task(point.offset, commit.offset);
        blind.process(records.slice(point.offset, commit.offset));
        const blindAfter = firstRun(blind, commit.step);
        if (blindAfter.out.join() !== after.out.join()) teeth++;
      }
    }
    expect(restoredAcrossAnAdvance).toBeGreaterThan(3);
    expect(teeth).toBeGreaterThan(0);
  }, 120_000);

  it('forgets an advance the next record moves past (short quiet spells), and restores stay exact', () => {
    const QUIET = 1_000; // the next event (2 s apart here) is mostly newer than the advance
    const run = firstRun(task(0, 0), 0, QUIET);
    expect(run.idleAdvances).toBeGreaterThan(1);
    let forgotten = 0;
    run.commits.forEach((commit, k) => {
      if (!commit.advanced) return;
      const advance = decodeRestoreMetadata(commit.metadata)!.advances!.at(-1)!;
      const next = decodeRestoreMetadata(run.commits[k + 1]?.metadata)?.advances ?? [];
      if (!next.some((a) => a.offset === advance.offset && a.streamTime === advance.streamTime)) forgotten++;
    });
    expect(forgotten).toBeGreaterThan(0);
    for (let c = 0; c < run.commits.length - 1; c++) {
      const commit = run.commits[c]!;
      const point = decodeRestoreMetadata(commit.metadata)!;
      const restored = task(point.offset, commit.offset, { advances: point.advances });
      expect(restored.process(records.slice(point.offset, commit.offset)).records).toEqual([]);
      expect(restored.restorePoint()).toEqual(point);
      expect(firstRun(restored, commit.step, QUIET).out).toEqual(run.out.slice(commit.publishedBefore));
    }
  }, 120_000);

  it('a restore point at an advance at the committed offset itself: applied on creation, nothing replayed, nothing published', () => {
    const t = task(0, 0);
    t.process(records.slice(0, 300));
    t.advanceIdle(LATENESS + 1_000);
    const point = t.restorePoint()!;
    const continued = published(t.process(records.slice(300, 600)).records);
    // A point with only that advance after it, as it would be much later in the partition's life.
    const atAdvance = { ...point, offset: 300, advances: point.advances };
    const restored = task(300, 300, { advances: atAdvance.advances });
    expect(restored.isLive).toBe(true);
    expect(restored.stats().streamTime).toBe(point.advances![0]!.streamTime);
    const out = published(restored.process(records.slice(300, 600)).records);
    // The same late decisions as the first owner made after its advance (state before 300 aside).
    expect(out.filter((o) => o.startsWith('late'))).toEqual(continued.filter((o) => o.startsWith('late')));
  });
});
