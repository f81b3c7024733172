import { Observable, Subject } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import {
  CorrelationSpecError,
  CorrelationStats,
  reorderByEventTime,
  type LateEvent,
  type Timed,
} from '../../src/index.js';
import { SECOND, T0, eventTime, ev, type TestEvent } from './fixtures.js';

function newScheduler(): TestScheduler {
  return new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
}

/** What a test cares about in the reordered stream: ids, watermarks (relative to T0) and late flags. */
function describeItem(item: Timed<TestEvent>): string {
  if (item.kind === 'watermark')
    return item.watermark === Number.NEGATIVE_INFINITY ? 'W-inf' : `W${item.watermark - T0}`;
  return item.late ? `${item.event.id}(late)` : item.event.id;
}

function collect(source: Observable<Timed<TestEvent>>): string[] {
  const out: string[] = [];
  source.subscribe((item) => out.push(describeItem(item)));
  return out;
}

function feed(
  events: readonly TestEvent[],
  options: Parameters<typeof reorderByEventTime<TestEvent>>[1] = {},
) {
  const input = new Subject<TestEvent>();
  const late: LateEvent<TestEvent>[] = [];
  const stats = options.stats ?? new CorrelationStats();
  const out = collect(
    input.pipe(reorderByEventTime(eventTime, { ...options, stats }, { late: (l) => late.push(l) })),
  );
  for (const event of events) input.next(event);
  return { out, late, stats, complete: () => input.complete() };
}

describe('reorderByEventTime', () => {
  it('holds each event until the watermark (stream time - lateness) passes it, then releases it', () => {
    newScheduler().run(({ cold, expectObservable }) => {
      const values = {
        a: ev('x', 0, 'k1', 'a'),
        b: ev('x', 2 * SECOND, 'k1', 'b'),
        c: ev('x', 7 * SECOND, 'k1', 'c'),
      };
      const source = cold<TestEvent>('a-b-c---|', values);
      const described = new Observable<string>((subscriber) =>
        source.pipe(reorderByEventTime(eventTime, { allowedLatenessMs: 5 * SECOND })).subscribe({
          next: (item) => subscriber.next(describeItem(item)),
          complete: () => subscriber.complete(),
        }),
      );
      // a at 0 s: watermark -5 s. b at 2 s: -3 s. c at 7 s: watermark 2 s releases a (0 s < 2 s) but not b.
      expectObservable(described).toBe('w-x-(ay)(bc|)', {
        w: 'W-5000',
        x: 'W-3000',
        a: 'a',
        y: 'W2000',
        b: 'b',
        c: 'c',
      });
    });
  });

  it('puts out-of-order arrivals within the lateness back in event-time order', () => {
    const { out, late, complete } = feed(
      [ev('x', 3000, 'k1', 'c'), ev('x', 1000, 'k1', 'a'), ev('x', 2000, 'k1', 'b')],
      {
        allowedLatenessMs: 5000,
      },
    );
    complete();
    expect(out.filter((item) => !item.startsWith('W'))).toEqual(['a', 'b', 'c']);
    expect(late).toEqual([]);
  });

  it('orders equal timestamps by tiebreaker, then by arrival', () => {
    const events: TestEvent[] = [
      { id: 'seq2', ts: T0, type: 'x', seq: 2 },
      { id: 'seq1-first', ts: T0, type: 'x', seq: 1 },
      { id: 'seq1-second', ts: T0, type: 'x', seq: 1 },
      { id: 'earlier', ts: T0 - 1, type: 'x', seq: 9 },
    ];
    const { out, complete } = feed(events, { allowedLatenessMs: 10 });
    complete();
    expect(out.filter((item) => !item.startsWith('W'))).toEqual([
      'earlier',
      'seq1-first',
      'seq1-second',
      'seq2',
    ]);
  });

  it('drops an event older than the watermark by default: counted, on the side channel, not passed on', () => {
    const { out, late, stats, complete } = feed([ev('x', 10_000, 'k1', 'new'), ev('x', 4_999, 'k1', 'old')], {
      allowedLatenessMs: 5000,
    });
    complete();
    expect(out).toEqual(['W5000', 'new']);
    expect(late).toHaveLength(1);
    expect(late[0]).toMatchObject({ reason: 'late', timestamp: T0 + 4_999, watermark: T0 + 5_000 });
    expect(late[0]!.event.id).toBe('old');
    expect(stats.late).toBe(1);
    expect(stats.eventsIn).toBe(2);
  });

  it('treats an event exactly at the watermark as on time', () => {
    const { out, late, complete } = feed([ev('x', 10_000, 'k1', 'new'), ev('x', 5_000, 'k1', 'edge')], {
      allowedLatenessMs: 5000,
    });
    complete();
    expect(late).toEqual([]);
    expect(out).toEqual(['W5000', 'edge', 'new']);
  });

  it("passes a late event on at once, flagged, under latePolicy 'process'", () => {
    const { out, late, stats } = feed([ev('x', 10_000, 'k1', 'new'), ev('x', 1_000, 'k1', 'old')], {
      allowedLatenessMs: 5000,
      latePolicy: 'process',
    });
    expect(out).toEqual(['W5000', 'old(late)']); // ahead of 'new', still buffered
    expect(late.map((l) => l.event.id)).toEqual(['old']);
    expect(stats.late).toBe(1);
  });

  it('flushes the buffer in event-time order on complete', () => {
    const { out, stats, complete } = feed([ev('x', 2000, 'k1', 'b'), ev('x', 1000, 'k1', 'a')], {
      allowedLatenessMs: 60_000,
    });
    expect(out).toEqual(['W-58000']);
    expect(stats.buffered).toBe(2);
    complete();
    expect(out).toEqual(['W-58000', 'a', 'b']);
    expect(stats.buffered).toBe(0);
  });

  it('sends an event without a usable timestamp to the side channel as invalid-time', () => {
    const { out, late, stats } = feed([{ id: 'nan', ts: Number.NaN, type: 'x' }]);
    expect(out).toEqual([]);
    expect(late.map((l) => l.reason)).toEqual(['invalid-time']);
    expect(stats.invalidTime).toBe(1);
  });

  it('reports an extractor that throws to the subscriber', () => {
    const failing = {
      timestamp: (): number => {
        throw new Error('boom');
      },
      tiebreaker: () => 0,
    };
    const errors: unknown[] = [];
    const input = new Subject<TestEvent>();
    input.pipe(reorderByEventTime(failing)).subscribe({ error: (error: unknown) => errors.push(error) });
    input.next(ev('x', 0));
    expect(errors).toHaveLength(1);
    expect((errors[0] as Error).message).toBe('boom');
  });

  it('rejects a negative lateness when built', () => {
    expect(() => reorderByEventTime(eventTime, { allowedLatenessMs: -1 })).toThrow(CorrelationSpecError);
  });

  it('gives the buffered gauge back on unsubscribe', () => {
    const stats = new CorrelationStats();
    const input = new Subject<TestEvent>();
    const subscription = input
      .pipe(reorderByEventTime(eventTime, { allowedLatenessMs: 60_000, stats }))
      .subscribe();
    input.next(ev('x', 0));
    input.next(ev('x', 1));
    expect(stats.buffered).toBe(2);
    subscription.unsubscribe();
    expect(stats.buffered).toBe(0);
  });
});
