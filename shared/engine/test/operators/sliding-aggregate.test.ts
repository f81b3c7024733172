import { Subject } from 'rxjs';
import { describe, expect, it } from 'vitest';
import {
  CorrelationSpecError,
  CorrelationStats,
  matchSlidingAggregate,
  reorderByEventTime,
  runCorrelation,
  runCorrelationDetailed,
  type CorrelationThreshold,
  type Match,
  type SlidingAggregateSpec,
  type SlidingMeasure,
} from '../../src/index.js';
import { MINUTE, SECOND, T0, byKey, eventTime, ev, ids, isType, type TestEvent } from './fixtures.js';

interface ValuedEvent extends TestEvent {
  readonly value?: string | number | null;
}

const inOrder = { allowedLatenessMs: 0 };

function valued(
  type: string,
  offsetMs: number,
  value: string | number | null,
  key: string | null = 'k1',
  id?: string,
): ValuedEvent {
  return { ...ev(type, offsetMs, key, id), value };
}

function aggregateOf(
  threshold: CorrelationThreshold,
  options: {
    windowMs?: number;
    measure?: SlidingMeasure;
    types?: readonly string[];
    maxEvidence?: number;
  } = {},
): SlidingAggregateSpec<ValuedEvent> {
  const measure = options.measure ?? 'count';
  return {
    kind: 'slidingAggregate',
    windowMs: options.windowMs ?? 10 * SECOND,
    measure,
    inputs: (options.types ?? ['fail']).map((type) => ({
      predicate: isType(type),
      key: byKey,
      keyValues: (event: ValuedEvent) => [event.key ?? null],
      value: measure === 'count' ? null : (event: ValuedEvent) => event.value ?? null,
    })),
    threshold,
    maxEvidence: options.maxEvidence ?? 10,
  };
}

describe('matchSlidingAggregate (lower bounds: sliding, on the crossing event)', () => {
  it('matches events exactly windowMs apart (inclusive), not one millisecond more', () => {
    const spec = aggregateOf({ gte: 3 });
    const exact = [ev('fail', 0, 'k1', 'a'), ev('fail', 5 * SECOND), ev('fail', 10 * SECOND, 'k1', 'c')];
    const matches = runCorrelation(spec, eventTime, inOrder, exact);
    expect(ids(matches)).toEqual([['a', expect.any(String), 'c']]);
    expect(matches[0]).toMatchObject({
      kind: 'slidingAggregate',
      count: 3,
      value: 3,
      firstTime: T0,
      lastTime: T0 + 10 * SECOND,
      keyValues: ['k1'],
    });
    expect(matches[0]!.bucketStart).toBeUndefined();

    const over = [ev('fail', 0), ev('fail', 5 * SECOND), ev('fail', 10 * SECOND + 1)];
    expect(runCorrelation(spec, eventTime, inOrder, over)).toEqual([]);
  });

  it('slides: the window ends at each event, not at a bucket boundary', () => {
    // Fixed 10 s buckets would split these 3 events (9 s, 11 s, 12 s) into 1 + 2.
    const spec = aggregateOf({ gte: 3 });
    const events = [ev('fail', 9 * SECOND), ev('fail', 11 * SECOND), ev('fail', 12 * SECOND, 'k1', 'third')];
    expect(ids(runCorrelation(spec, eventTime, inOrder, events))).toEqual([
      [expect.any(String), expect.any(String), 'third'],
    ]);
  });

  it('alerts once per burst: again only after the threshold stopped holding', () => {
    const spec = aggregateOf({ gt: 2 });
    const burst = (at: number, tag: string) =>
      [0, 1, 2, 3, 4].map((i) => ev('fail', at + i * SECOND, 'k1', `${tag}${i}`));
    const matches = runCorrelation(spec, eventTime, inOrder, [...burst(0, 'x'), ...burst(MINUTE, 'y')]);
    expect(ids(matches)).toEqual([
      ['x0', 'x1', 'x2'],
      ['y0', 'y1', 'y2'],
    ]);
  });

  it('fireWhileHeld (inside a chain): a match on every event at which the threshold holds', () => {
    const spec = { ...aggregateOf({ gt: 2 }), fireWhileHeld: true };
    const events = [0, 1, 2, 3].map((i) => ev('fail', i * SECOND, 'k1', `x${i}`));
    events.push(ev('fail', MINUTE, 'k1', 'y0')); // the window holds one event: none
    expect(ids(runCorrelation(spec, eventTime, inOrder, events))).toEqual([
      ['x0', 'x1', 'x2'],
      ['x0', 'x1', 'x2', 'x3'],
    ]);
  });

  it('keeps groups apart, and a missing group-by field joins no group', () => {
    const spec = aggregateOf({ gte: 2 });
    const events = [
      ev('fail', 0, 'u1', 'u1a'),
      ev('fail', 1, 'u2'),
      ev('fail', 2, null),
      ev('fail', 3, null),
      ev('fail', 4, 'u1', 'u1b'),
      ev('other', 5, 'u2'),
    ];
    const run = runCorrelationDetailed(spec, eventTime, inOrder, events);
    expect(ids(run.matches)).toEqual([['u1a', 'u1b']]);
  });

  it('carries the latest maxEvidence events and the full count', () => {
    const spec = aggregateOf({ gte: 6 }, { maxEvidence: 2 });
    const events = [0, 1, 2, 3, 4, 5].map((i) => ev('fail', i * SECOND, 'k1', `e${i}`));
    const matches = runCorrelation(spec, eventTime, inOrder, events);
    expect(ids(matches)).toEqual([['e4', 'e5']]);
    expect(matches[0]).toMatchObject({ count: 6, value: 6, firstTime: T0 + 4 * SECOND });
  });

  it('counts an event once, under the first input it matches', () => {
    const spec = aggregateOf({ gte: 2 }, { types: ['fail', 'fail'] });
    expect(runCorrelation(spec, eventTime, inOrder, [ev('fail', 0)])).toEqual([]);
  });

  it('value_count: distinct values of the field; repeats and missing values do not count', () => {
    const spec = aggregateOf({ gte: 3 }, { measure: 'distinct' });
    const events = [
      valued('fail', 0, 'alice'),
      valued('fail', 1, 'alice'),
      valued('fail', 2, null),
      valued('fail', 3, 'bob'),
      valued('fail', 4, 1),
      valued('fail', 5, '1', 'k1', 'fourth'),
    ];
    const matches = runCorrelation(spec, eventTime, inOrder, events);
    // 'alice', 'bob', 1 -> 3 distinct at the number 1 (typed: 1 and '1' differ).
    expect(matches).toHaveLength(1);
    expect(matches[0]).toMatchObject({ value: 3, count: 4 });
  });

  it('value_sum and value_avg over numbers; non-numbers are not counted', () => {
    const sum = aggregateOf({ gt: 100 }, { measure: 'sum' });
    const events = [
      valued('fail', 0, 60),
      valued('fail', 1, 'x'),
      valued('fail', 2, 30),
      valued('fail', 3, 20, 'k1', 'over'),
    ];
    const matches = runCorrelation(sum, eventTime, inOrder, events);
    expect(matches.map((m) => [m.value, m.count, m.events.at(-1)!.id])).toEqual([[110, 3, 'over']]);

    const avg = aggregateOf({ gte: 50 }, { measure: 'avg' });
    const avgEvents = [valued('fail', 0, 10), valued('fail', 1, 40), valued('fail', 2, 130, 'k1', 'up')];
    expect(
      runCorrelation(avg, eventTime, inOrder, avgEvents).map((m) => [m.value, m.events.at(-1)!.id]),
    ).toEqual([[60, 'up']]);
  });

  it('out of order within the lateness gives what the sorted input gives', () => {
    const spec = aggregateOf({ gte: 3 });
    const sorted = [0, 2, 4, 6, 30, 31, 32].map((s, i) => ({
      ...ev('fail', s * SECOND, i % 2 === 0 ? 'a' : 'b', `e${s}`),
      seq: i,
    }));
    const shuffled = [sorted[1]!, sorted[0]!, sorted[3]!, sorted[2]!, sorted[6]!, sorted[4]!, sorted[5]!];
    const lax = { allowedLatenessMs: 5 * SECOND };
    expect(ids(runCorrelation(spec, eventTime, lax, shuffled))).toEqual(
      ids(runCorrelation(spec, eventTime, lax, sorted)),
    );
  });

  it('late beyond the lateness: dropped to the side channel, not counted', () => {
    const spec = aggregateOf({ gte: 2 });
    const events = [
      ev('fail', 10 * SECOND, 'k1'),
      ev('other', 20 * SECOND),
      ev('fail', 9 * SECOND, 'k1', 'late'),
    ];
    const run = runCorrelationDetailed(spec, eventTime, { allowedLatenessMs: SECOND }, events);
    expect(run.matches).toEqual([]);
    expect(run.late.map((l) => [l.event.id, l.reason])).toEqual([['late', 'late']]);
  });

  it("latePolicy 'process': a late event is not counted (it would rewrite windows already decided)", () => {
    const spec = aggregateOf({ gte: 2 });
    const events = [
      ev('fail', 10 * SECOND, 'k1'),
      ev('other', 20 * SECOND),
      ev('fail', 9 * SECOND, 'k1', 'late'),
    ];
    const run = runCorrelationDetailed(
      spec,
      eventTime,
      { allowedLatenessMs: SECOND, latePolicy: 'process' },
      events,
    );
    expect(run.matches).toEqual([]);
    expect(run.late.map((l) => l.event.id)).toEqual(['late']);
  });

  it('evicts by watermark, and bounds the state by count (oldest first, counted)', () => {
    const stats = new CorrelationStats();
    const input = new Subject<ValuedEvent>();
    const matches: Match<ValuedEvent>[] = [];
    input
      .pipe(
        reorderByEventTime(eventTime, { allowedLatenessMs: 0, stats }),
        matchSlidingAggregate(aggregateOf({ gte: 100 }), { stats, maxOpenPartials: 3 }),
      )
      .subscribe((m) => matches.push(m));
    for (let i = 0; i < 5; i++) input.next(ev('fail', i, `g${i % 2}`));
    // The last event waits in the reorder stage (lateness 0: released once the watermark passes it).
    expect(stats).toMatchObject({ openPartials: 3, evictedByCap: 1 });
    input.next(ev('other', 10 * SECOND + 5));
    expect(stats).toMatchObject({ openPartials: 0, keys: 0, evictedByCap: 2, evictedByWindow: 3 });
    expect(matches).toEqual([]);
    expect(stats.stateBytes).toBe(0);
  });

  it('a replay from 2 * windowMs + lateness before a cut raises what the uninterrupted run raised after it', () => {
    const spec = aggregateOf({ gte: 3 });
    const lateness = 2 * SECOND;
    let seed = 7;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const events: ValuedEvent[] = [];
    let t = 0;
    for (let i = 0; i < 600; i++) {
      t += Math.floor(random() * 4 * SECOND);
      events.push({ ...ev('fail', t, `g${Math.floor(random() * 3)}`, `e${i}`), seq: i });
    }
    const key = (m: Match<ValuedEvent>) => m.events.map((e) => e.id).join(',');
    const full = runCorrelation(spec, eventTime, { allowedLatenessMs: lateness }, events);
    for (const cut of [100, 250, 400, 555]) {
      const cutTime = events[cut]!.ts;
      const from = events.findIndex((e) => e.ts >= cutTime - lateness - 2 * spec.windowMs);
      const replay = runCorrelation(spec, eventTime, { allowedLatenessMs: lateness }, events.slice(from));
      const after = (m: Match<ValuedEvent>) => m.lastTime >= cutTime;
      expect(replay.filter(after).map(key)).toEqual(full.filter(after).map(key));
      expect(full.filter(after).length).toBeGreaterThan(0);
    }
  });
});

describe('matchSlidingAggregate (upper bounds: fixed buckets, decided by the watermark)', () => {
  it('lt: decided when the watermark reaches the bucket end, per group', () => {
    const spec = aggregateOf({ lt: 3 }, { windowMs: MINUTE });
    const input = new Subject<ValuedEvent>();
    const matches: Match<ValuedEvent>[] = [];
    input
      .pipe(reorderByEventTime(eventTime, { allowedLatenessMs: 0 }), matchSlidingAggregate(spec))
      .subscribe((m) => matches.push(m));
    input.next(ev('fail', 0, 'few', 'f1'));
    input.next(ev('fail', 1, 'many'));
    input.next(ev('fail', 2, 'many'));
    input.next(ev('fail', 3, 'many'));
    input.next(ev('fail', 4, 'few', 'f2'));
    input.next(ev('other', MINUTE - 1));
    expect(matches).toEqual([]); // not decided before the window is over
    input.next(ev('other', MINUTE));
    expect(ids(matches)).toEqual([['f1', 'f2']]);
    expect(matches[0]).toMatchObject({ count: 2, value: 2, bucketStart: T0, keyValues: ['few'] });
  });

  it('ranges (gt and lte) and the end of input decides open buckets', () => {
    const spec = aggregateOf({ gt: 1, lte: 2 }, { windowMs: MINUTE });
    const events = [
      ev('fail', 0, 'one'),
      ev('fail', 0, 'two'),
      ev('fail', 0, 'three'),
      ev('fail', 1, 'two'),
      ev('fail', 1, 'three'),
      ev('fail', 2, 'three'),
    ];
    const matches = runCorrelation(spec, eventTime, inOrder, events);
    expect(matches.map((m) => m.keyValues)).toEqual([['two']]);
  });

  it('a bucket evicted early by a bound is not decided (its count would be partial)', () => {
    const spec = aggregateOf({ lt: 5 }, { windowMs: MINUTE });
    const run = runCorrelationDetailed(spec, eventTime, { allowedLatenessMs: 0, maxOpenPartials: 1 }, [
      ev('fail', 0, 'a'),
      ev('fail', 1, 'b'),
    ]);
    expect(run.matches.map((m) => m.keyValues)).toEqual([['b']]);
    expect(run.stats.evictedByCap).toBe(1);
  });
});

describe('slidingAggregate spec checks', () => {
  it('refuses an empty threshold, a zero window and a value measure without values, at build time', () => {
    expect(() => matchSlidingAggregate(aggregateOf({}))).toThrow(CorrelationSpecError);
    expect(() => matchSlidingAggregate(aggregateOf({ gt: 1 }, { windowMs: 0 }))).toThrow(
      CorrelationSpecError,
    );
    const noValue = { ...aggregateOf({ gt: 1 }, { measure: 'sum' }), inputs: aggregateOf({ gt: 1 }).inputs };
    expect(() => matchSlidingAggregate(noValue)).toThrow(/value extractor/);
  });
});
