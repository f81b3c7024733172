import { Subject } from 'rxjs';
import { describe, expect, it } from 'vitest';
import {
  CorrelationSpecError,
  CorrelationStats,
  matchSequence,
  reorderByEventTime,
  runCorrelationDetailed,
  type LateEvent,
  type Match,
  type RecordContext,
  type Timed,
} from '../../src/index.js';
import { HOUR, MINUTE, SECOND, T0, ev, eventTime, sequenceOf, step, type TestEvent } from './fixtures.js';

/** Year 9999: what a broken or hostile host clock writes. */
const YEAR_9999 = Date.UTC(9999, 0, 1);

function feed(options: Parameters<typeof reorderByEventTime<TestEvent>>[1]) {
  const input = new Subject<TestEvent>();
  const late: LateEvent<TestEvent>[] = [];
  const stats = options?.stats ?? new CorrelationStats();
  const out: Timed<TestEvent>[] = [];
  input
    .pipe(reorderByEventTime(eventTime, { ...options, stats }, { late: (l) => late.push(l) }))
    .subscribe((item) => out.push(item));
  const ids = (): string[] => out.flatMap((item) => (item.kind === 'event' ? [item.event.id] : []));
  return { input, late, stats, out, ids };
}

describe('reorderByEventTime: future-timestamp guard', () => {
  it('refuses an event more than the skew ahead of stream time: it cannot move the watermark', () => {
    const { input, late, stats, ids } = feed({ allowedLatenessMs: 5 * SECOND, maxFutureSkewMs: HOUR });
    input.next(ev('x', 0, 'k1', 'a'));
    input.next({ id: 'bogus', ts: YEAR_9999, type: 'x' });
    input.next(ev('x', 2 * SECOND, 'k1', 'b'));
    input.next(ev('x', 59 * MINUTE, 'k1', 'c')); // within the skew: a real jump
    input.complete();
    expect(ids()).toEqual(['a', 'b', 'c']);
    expect(late.map((l) => [l.event.id, l.reason])).toEqual([['bogus', 'future-timestamp']]);
    expect(stats.futureTime).toBe(1);
    expect(stats.late).toBe(0);
    expect(stats.streamTime).toBe(T0 + 59 * MINUTE);
  });

  it('judges against the record clock when there is one, from the very first event on', () => {
    const record: RecordContext = { referenceTime: T0 + 10 * SECOND, sizeBytes: Number.NaN };
    const { input, late, ids } = feed({ allowedLatenessMs: 5 * SECOND, maxFutureSkewMs: MINUTE, record });
    // First event of the stream, near 2^52 ms: no stream time yet, but the record's timestamp knows better.
    input.next({ id: 'ms-as-us', ts: 2 ** 52, type: 'x' });
    input.next(ev('x', 0, 'k1', 'a'));
    // A quiet gap of two hours: the record clock moved on, so the jump is honest.
    record.referenceTime = T0 + 2 * HOUR;
    input.next(ev('x', 2 * HOUR - SECOND, 'k1', 'b'));
    input.complete();
    expect(ids()).toEqual(['a', 'b']);
    expect(late.map((l) => [l.event.id, l.reason])).toEqual([['ms-as-us', 'future-timestamp']]);
  });

  it('is off unless configured, and refuses a negative skew when built', () => {
    const { input, late, stats } = feed({ allowedLatenessMs: 5 * SECOND });
    input.next(ev('x', 0, 'k1', 'a'));
    input.next({ id: 'bogus', ts: YEAR_9999, type: 'x' });
    input.next(ev('x', SECOND, 'k1', 'b'));
    expect(late.map((l) => l.reason)).toEqual(['late']);
    expect(stats.futureTime).toBe(0);
    expect(() => reorderByEventTime(eventTime, { maxFutureSkewMs: -1 })).toThrow(CorrelationSpecError);
  });

  it('keeps a sequence matchable when a year-9999 event comes early (fails without the guard)', () => {
    const spec = sequenceOf([step('a'), step('b')], { maxspanMs: MINUTE });
    const events: TestEvent[] = [
      ev('x', 0, 'k1', 'first'),
      { id: 'bogus', ts: YEAR_9999, type: 'x', key: 'k1' },
      ev('a', SECOND, 'k1', 'a1'),
      ev('b', 2 * SECOND, 'k1', 'b1'),
    ];
    const guarded = runCorrelationDetailed(
      spec,
      eventTime,
      { allowedLatenessMs: 5 * SECOND, maxFutureSkewMs: HOUR },
      events,
    );
    expect(guarded.matches.map((m: Match<TestEvent>) => m.events.map((e) => e.id))).toEqual([['a1', 'b1']]);
    expect(guarded.late.map((l) => l.reason)).toEqual(['future-timestamp']);
    const unguarded = runCorrelationDetailed(spec, eventTime, { allowedLatenessMs: 5 * SECOND }, events);
    expect(unguarded.matches).toEqual([]);
  });
});

describe('reorderByEventTime: byte bound', () => {
  it('releases the oldest events early when the buffer passes its bytes, moving the watermark with them', () => {
    const record: RecordContext = { referenceTime: Number.NaN, sizeBytes: 1_000 };
    const { input, late, stats, out, ids } = feed({
      allowedLatenessMs: HOUR,
      maxBufferedBytes: 10_000,
      record,
    });
    for (let i = 0; i < 1_000; i++) {
      input.next({ id: `e${i}`, ts: T0, type: 'x', seq: i });
      expect(stats.bufferedBytes).toBeLessThanOrEqual(10_000);
    }
    expect(stats.buffered).toBe(10);
    expect(stats.forcedReleases).toBe(990);
    // Released in order; the watermark followed them to T0, so an older event is now late.
    expect(ids().slice(0, 3)).toEqual(['e0', 'e1', 'e2']);
    expect(out.some((item) => item.kind === 'watermark' && item.watermark === T0)).toBe(true);
    input.next({ id: 'older', ts: T0 - SECOND, type: 'x' });
    expect(late.map((l) => l.event.id)).toEqual(['older']);
    input.complete();
    expect(ids()).toHaveLength(1_000);
    expect(stats.bufferedBytes).toBe(0);
  });

  it('is deterministic: the same input gives the same releases', () => {
    const run = (): string[] => {
      const record: RecordContext = { referenceTime: Number.NaN, sizeBytes: 0 };
      const { input, ids } = feed({ allowedLatenessMs: HOUR, maxBufferedBytes: 5_000, record });
      for (let i = 0; i < 200; i++) {
        record.sizeBytes = 100 + ((i * 37) % 900);
        input.next({ id: `e${i}`, ts: T0 + ((i * 7919) % 100) * SECOND, type: 'x' });
      }
      input.complete();
      return ids();
    };
    expect(run()).toEqual(run());
  });

  it('feeds the operators in order under the bound: a sequence still matches', () => {
    const stats = new CorrelationStats();
    const record: RecordContext = { referenceTime: Number.NaN, sizeBytes: 4_000 };
    const input = new Subject<TestEvent>();
    const matches: string[][] = [];
    input
      .pipe(
        reorderByEventTime(eventTime, { allowedLatenessMs: HOUR, maxBufferedBytes: 8_000, record, stats }),
        matchSequence(sequenceOf([step('a'), step('b')], { maxspanMs: MINUTE }), { stats }),
      )
      .subscribe((m) => matches.push(m.events.map((e) => e.id)));
    input.next(ev('a', 0, 'k1', 'a1'));
    for (let i = 0; i < 5; i++) input.next(ev('x', SECOND, 'k1'));
    input.next(ev('b', 2 * SECOND, 'k1', 'b1'));
    input.complete();
    expect(matches).toEqual([['a1', 'b1']]);
    expect(stats.forcedReleases).toBeGreaterThan(0);
  });
});
