import { Subject, take } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import {
  CorrelationSpecError,
  CorrelationStats,
  matchJoin,
  reorderByEventTime,
  runCorrelation,
  runCorrelationDetailed,
} from '../../src/index.js';
import { HOUR, MINUTE, T0, eventTime, ev, ids, joinOf, type TestEvent } from './fixtures.js';

const inOrder = { allowedLatenessMs: 0 };
const procReg = joinOf(['process', 'registry'], HOUR);

describe('matchJoin', () => {
  it('is order-free: items may arrive in any order; evidence comes out in event-time order', () => {
    const forward = [ev('process', 0, 'g1', 'p'), ev('registry', MINUTE, 'g1', 'r')];
    const backward = [ev('registry', 0, 'g1', 'r'), ev('process', MINUTE, 'g1', 'p')];
    expect(ids(runCorrelation(procReg, eventTime, inOrder, forward))).toEqual([['p', 'r']]);
    const matches = runCorrelation(procReg, eventTime, inOrder, backward);
    expect(ids(matches)).toEqual([['r', 'p']]);
    expect(matches[0]).toMatchObject({
      kind: 'join',
      keyValues: ['g1'],
      firstTime: T0,
      lastTime: T0 + MINUTE,
    });
  });

  it('keeps the first event per item and resets the key after a match', () => {
    const events = [
      ev('process', 0, 'g1', 'p1'),
      ev('process', 1, 'g1', 'p2'),
      ev('registry', 2, 'g1', 'r1'),
      ev('registry', 3, 'g1', 'r2'),
      ev('process', 4, 'g1', 'p3'),
    ];
    const run = runCorrelationDetailed(procReg, eventTime, inOrder, events);
    expect(ids(run.matches)).toEqual([
      ['p1', 'r1'],
      ['r2', 'p3'],
    ]);
    expect(run.stats).toMatchObject({ matched: 2, openPartials: 0, keys: 0 });
  });

  it('matches at exactly the window and starts over beyond it', () => {
    expect(
      runCorrelation(procReg, eventTime, inOrder, [ev('process', 0), ev('registry', HOUR)]),
    ).toHaveLength(1);
    const run = runCorrelationDetailed(procReg, eventTime, inOrder, [
      ev('process', 0, 'g1', 'p1'),
      ev('registry', HOUR + 1, 'g1', 'r1'),
      ev('process', HOUR + 2, 'g1', 'p2'),
    ]);
    expect(ids(run.matches)).toEqual([['r1', 'p2']]);
    expect(run.stats.evictedByWindow).toBe(1);
  });

  it('evicts a partial join when the watermark passes its window', () => {
    const stats = new CorrelationStats();
    const input = new Subject<TestEvent>();
    input
      .pipe(reorderByEventTime(eventTime, { allowedLatenessMs: 0, stats }), matchJoin(procReg, { stats }))
      .subscribe();
    input.next(ev('process', 0, 'g1'));
    input.next(ev('other', HOUR, 'g9'));
    expect(stats).toMatchObject({ openPartials: 1, keys: 1 });
    input.next(ev('other', HOUR + 1, 'g9'));
    expect(stats).toMatchObject({ openPartials: 0, keys: 0, evictedByWindow: 1 });
  });

  it('resets the key on until', () => {
    const spec = joinOf(['process', 'registry'], HOUR, 'terminate');
    const events = [ev('process', 0, 'g1'), ev('terminate', 1, 'g1'), ev('registry', 2, 'g1')];
    expect(runCorrelation(spec, eventTime, inOrder, events)).toEqual([]);
    const otherKey = [ev('process', 0, 'g1', 'p'), ev('terminate', 1, 'g2'), ev('registry', 2, 'g1', 'r')];
    expect(ids(runCorrelation(spec, eventTime, inOrder, otherKey))).toEqual([['p', 'r']]);
  });

  it('never joins null keys', () => {
    expect(
      runCorrelation(procReg, eventTime, inOrder, [ev('process', 0, null), ev('registry', 1, null)]),
    ).toEqual([]);
  });

  it('needs every item: a three-item join waits for the third', () => {
    const spec = joinOf(['a', 'b', 'c'], HOUR);
    const events = [ev('c', 0, 'k', 'c'), ev('a', 1, 'k', 'a'), ev('a', 2, 'k'), ev('b', 3, 'k', 'b')];
    expect(ids(runCorrelation(spec, eventTime, inOrder, events))).toEqual([['c', 'a', 'b']]);
  });

  it('lets one event fill every empty item it matches, as Python eql does', () => {
    const spec = { ...procReg, items: procReg.items.map((item) => ({ ...item, predicate: () => true })) };
    expect(ids(runCorrelation(spec, eventTime, inOrder, [ev('x', 0, 'k', 'x')]))).toEqual([['x', 'x']]);
  });

  it('evicts the oldest key beyond the cap', () => {
    const events = [
      ev('process', 0, 'g1'),
      ev('process', 1, 'g2'),
      ev('process', 2, 'g3'),
      ev('registry', 3, 'g2'),
      ev('registry', 4, 'g3'),
      ev('registry', 5, 'g1'),
    ];
    const run = runCorrelationDetailed(
      procReg,
      eventTime,
      { allowedLatenessMs: 0, maxOpenPartials: 2 },
      events,
    );
    expect(run.matches.map((match) => match.keyValues)).toEqual([['g2'], ['g3']]); // g1's process event was evicted
    expect(run.stats.evictedByCap).toBe(1);
  });

  it('rejects a spec without items or with a negative window', () => {
    expect(() => matchJoin({ ...procReg, items: [] })).toThrow(CorrelationSpecError);
    expect(() => matchJoin({ ...procReg, windowMs: -1 })).toThrow(CorrelationSpecError);
  });

  it('accepts an unbounded window (no maxspan): only the cap evicts', () => {
    const spec = joinOf(['process', 'registry'], Number.POSITIVE_INFINITY);
    expect(
      runCorrelation(spec, eventTime, inOrder, [ev('process', 0), ev('registry', 1000 * HOUR)]),
    ).toHaveLength(1);
  });
});

describe('matchJoin timing (marbles)', () => {
  it('emits when the last missing item is released, whatever the arrival order', () => {
    new TestScheduler((actual, expected) => expect(actual).toEqual(expected)).run(
      ({ cold, expectObservable }) => {
        const registry = ev('registry', 5 * MINUTE, 'g1', 'r');
        const process = ev('process', 1 * MINUTE, 'g1', 'p'); // arrives second, happened first
        const tick = ev('other', 20 * MINUTE, 'g9', 'tick');
        const source = cold<TestEvent>('r-p-t-|', { r: registry, p: process, t: tick });
        const matches = source.pipe(
          reorderByEventTime(eventTime, { allowedLatenessMs: 10 * MINUTE }),
          matchJoin(procReg),
        );
        const expected = {
          kind: 'join',
          events: [process, registry],
          keyValues: ['g1'],
          firstTime: process.ts,
          lastTime: registry.ts,
        };
        expectObservable(matches).toBe('----m-|', { m: expected });
      },
    );
  });
});

describe('matchJoin teardown', () => {
  it('holds no state after a consumer unsubscribes inside an emission', () => {
    // the completing 'a' also matches the third item: without care it would open a new join after teardown
    const base = joinOf(['a', 'b', 'c'], HOUR);
    const spec = {
      ...base,
      items: [
        base.items[0]!,
        base.items[1]!,
        { ...base.items[2]!, predicate: (e: TestEvent) => e.type === 'c' || e.type === 'a' },
      ],
    };
    const stats = new CorrelationStats();
    const input = new Subject<TestEvent>();
    const out: unknown[] = [];
    input
      .pipe(
        reorderByEventTime(eventTime, { allowedLatenessMs: 0, stats }),
        matchJoin(spec, { stats }),
        take(1),
      )
      .subscribe((m) => out.push(m));
    for (const event of [ev('c', 0), ev('b', 1), ev('a', 2), ev('z', 3, 'k9')]) input.next(event);
    expect(out).toHaveLength(1);
    expect(stats).toMatchObject({ openPartials: 0, keys: 0 });
  });
});
