import { Subject } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import {
  CorrelationSpecError,
  CorrelationStats,
  matchSpanAggregate,
  reorderByEventTime,
  runCorrelation,
  runCorrelationDetailed,
  type BucketSummary,
  type Match,
} from '../../src/index.js';
import { HOUR, MINUTE, T0, eventTime, ev, ids, spanOf, type TestEvent } from './fixtures.js';

const inOrder = { allowedLatenessMs: 0 };
const hourly = spanOf('reg');

describe('matchSpanAggregate', () => {
  it('emits at the first matching event of a (bucket, group) with count 1 and lastTime = firstTime', () => {
    const matches = runCorrelation(hourly, eventTime, inOrder, [
      ev('reg', 5 * MINUTE, 'h1', 'first'),
      ev('reg', 6 * MINUTE, 'h1'),
    ]);
    expect(matches).toEqual([
      {
        kind: 'spanAggregate',
        events: [expect.objectContaining({ id: 'first' })],
        keyValues: ['h1'],
        firstTime: T0 + 5 * MINUTE,
        lastTime: T0 + 5 * MINUTE,
        bucketStart: T0,
        count: 1,
      },
    ]);
  });

  it('suppresses the rest of the bucket per group, and alerts again in the next bucket', () => {
    const events = [
      ev('reg', 0, 'h1', 'h1-a'),
      ev('reg', 10 * MINUTE, 'h2', 'h2-a'),
      ev('reg', 59 * MINUTE, 'h1', 'h1-b'),
      ev('reg', HOUR + 1, 'h1', 'h1-next'),
    ];
    const run = runCorrelationDetailed(hourly, eventTime, inOrder, events);
    expect(ids(run.matches)).toEqual([['h1-a'], ['h2-a'], ['h1-next']]);
    expect(run.bucketSummaries.map((s) => [s.groupKey, s.bucketStart - T0, s.count, s.closedBy])).toEqual([
      ['s:h1', 0, 2, 'watermark'],
      ['s:h2', 0, 1, 'watermark'],
      ['s:h1', HOUR, 1, 'end'],
    ]);
    expect(run.bucketSummaries[0]).toMatchObject({
      firstTime: T0,
      lastTime: T0 + 59 * MINUTE,
      bucketEnd: T0 + HOUR,
    });
  });

  it('puts an event at exactly hh:00:00.000 in the next bucket', () => {
    const events = [ev('reg', HOUR - 1, 'h1', 'last-ms'), ev('reg', HOUR, 'h1', 'top-of-hour')];
    const matches = runCorrelation(hourly, eventTime, inOrder, events);
    expect(ids(matches)).toEqual([['last-ms'], ['top-of-hour']]);
    expect(matches.map((m: Match<TestEvent>) => m.bucketStart! - T0)).toEqual([0, HOUR]);
  });

  it('evicts a bucket when the watermark reaches its end, not before', () => {
    const stats = new CorrelationStats();
    const summaries: BucketSummary[] = [];
    const input = new Subject<TestEvent>();
    input
      .pipe(
        reorderByEventTime(eventTime, { allowedLatenessMs: 0, stats }),
        matchSpanAggregate(hourly, { stats, onBucketClose: (s) => summaries.push(s) }),
      )
      .subscribe();
    input.next(ev('reg', 0, 'h1'));
    input.next(ev('other', HOUR - 1, 'h9'));
    expect(stats).toMatchObject({ openPartials: 1, keys: 1, evictedByWindow: 0 });
    input.next(ev('other', HOUR, 'h9')); // watermark = bucket end
    expect(stats).toMatchObject({ openPartials: 0, keys: 0, evictedByWindow: 1 });
    expect(summaries).toHaveLength(1);
  });

  it("ignores a late event for a bucket already closed (no second alert), under 'process'", () => {
    const events = [
      ev('reg', 0, 'h1', 'a'),
      ev('reg', 2 * HOUR, 'h2', 'b'),
      ev('reg', 10 * MINUTE, 'h3', 'late'),
    ];
    const run = runCorrelationDetailed(
      hourly,
      eventTime,
      { allowedLatenessMs: 0, latePolicy: 'process' },
      events,
    );
    expect(ids(run.matches)).toEqual([['a'], ['b']]);
    expect(run.stats.late).toBe(1);
  });

  it("counts a late event into a bucket still open, under 'process'", () => {
    const events = [
      ev('reg', 10 * MINUTE, 'h1', 'a'),
      ev('reg', 20 * MINUTE, 'h2', 'b'),
      ev('reg', 5 * MINUTE, 'h1', 'late'),
    ];
    const run = runCorrelationDetailed(
      hourly,
      eventTime,
      { allowedLatenessMs: 0, latePolicy: 'process' },
      events,
    );
    expect(ids(run.matches)).toEqual([['a'], ['b']]);
    expect(run.bucketSummaries.find((s) => s.groupKey === 's:h1')).toMatchObject({
      count: 2,
      firstTime: T0 + 5 * MINUTE,
    });
  });

  it('caps open groups, oldest first', () => {
    const events = [ev('reg', 0, 'h1'), ev('reg', 1, 'h2'), ev('reg', 2, 'h3')];
    const run = runCorrelationDetailed(
      hourly,
      eventTime,
      { allowedLatenessMs: 0, maxOpenPartials: 2 },
      events,
    );
    expect(run.stats.evictedByCap).toBe(1);
    expect(run.bucketSummaries.map((s) => [s.groupKey, s.closedBy])).toEqual([
      ['s:h1', 'cap'],
      ['s:h2', 'end'],
      ['s:h3', 'end'],
    ]);
  });

  it('rejects a span that is not positive', () => {
    expect(() => matchSpanAggregate({ ...hourly, spanMs: 0 })).toThrow(CorrelationSpecError);
  });
});

describe('matchSpanAggregate timing (marbles)', () => {
  it('alerts when the first event of the group is released, not when the bucket closes', () => {
    new TestScheduler((actual, expected) => expect(actual).toEqual(expected)).run(
      ({ cold, expectObservable }) => {
        const first = ev('reg', 10 * MINUTE, 'h1', 'first');
        const values = {
          a: first,
          b: ev('reg', 20 * MINUTE, 'h1', 'second'), // releases 'first' (grace 0) and is suppressed itself
          c: ev('reg', 2 * HOUR, 'h2', 'other-host'), // closes the first bucket
        };
        const matches = cold<TestEvent>('a-b-c-|', values).pipe(
          reorderByEventTime(eventTime, { allowedLatenessMs: 0 }),
          matchSpanAggregate(hourly),
        );
        const alert = (event: TestEvent) => ({
          kind: 'spanAggregate',
          events: [event],
          keyValues: [event.key],
          firstTime: event.ts,
          lastTime: event.ts,
          bucketStart: Math.floor(event.ts / HOUR) * HOUR,
          count: 1,
        });
        expectObservable(matches).toBe('--x---(y|)', { x: alert(first), y: alert(values.c) });
      },
    );
  });
});
