import { Subject } from 'rxjs';
import { describe, expect, it } from 'vitest';
import {
  CorrelationStats,
  reorderByEventTime,
  StreamTimeControl,
  type LateEvent,
  type Timed,
} from '../../src/index.js';
import { SECOND, T0, eventTime, ev, type TestEvent } from './fixtures.js';

function describeItem(item: Timed<TestEvent>): string {
  return item.kind === 'watermark' ? `W${item.watermark - T0}` : item.event.id;
}

function stage(allowedLatenessMs: number) {
  const control = new StreamTimeControl();
  const stats = new CorrelationStats();
  const input = new Subject<TestEvent>();
  const out: string[] = [];
  const late: LateEvent<TestEvent>[] = [];
  const subscription = input
    .pipe(reorderByEventTime(eventTime, { allowedLatenessMs, stats, control }, { late: (l) => late.push(l) }))
    .subscribe((item) => out.push(describeItem(item)));
  return { control, stats, input, out, late, subscription };
}

describe('StreamTimeControl (stream time moved without an event)', () => {
  it('moves stream time as an event would: the watermark follows and releases what it passes, in order', () => {
    const { control, stats, input, out } = stage(5 * SECOND);
    input.next(ev('x', 2 * SECOND, 'k1', 'b'));
    input.next(ev('x', 1 * SECOND, 'k1', 'a'));
    expect(out).toEqual(['W-3000']);
    expect(control.earliestBuffered).toBe(T0 + SECOND);
    // 6.5 s: watermark 1.5 s passes a only; 7.5 s: 2.5 s passes b.
    expect(control.advanceTo(T0 + 6_500)).toBe(true);
    expect(out).toEqual(['W-3000', 'a', 'W1500']);
    expect(control.advanceTo(T0 + 7_500)).toBe(true);
    expect(out).toEqual(['W-3000', 'a', 'W1500', 'b', 'W2500']);
    expect(control.earliestBuffered).toBe(Number.POSITIVE_INFINITY);
    expect(stats).toMatchObject({ streamTime: T0 + 7_500, watermark: T0 + 2_500, buffered: 0 });
  });

  it('makes later events behind the new watermark late, like any other late event', () => {
    const { control, input, out, late } = stage(5 * SECOND);
    input.next(ev('x', 0, 'k1', 'a'));
    control.advanceTo(T0 + 10 * SECOND);
    input.next(ev('x', 4 * SECOND, 'k1', 'old'));
    input.next(ev('x', 6 * SECOND, 'k1', 'ok'));
    expect(late.map((l) => [l.event.id, l.reason, l.watermark - T0])).toEqual([['old', 'late', 5_000]]);
    expect(out).toEqual(['W-5000', 'a', 'W5000']);
  });

  it('never moves stream time back, nor to a non-finite time, nor without a subscribed stage', () => {
    const { control, input, out, subscription } = stage(0);
    input.next(ev('x', 5 * SECOND, 'k1', 'a'));
    expect(control.advanceTo(T0 + 5 * SECOND)).toBe(false);
    expect(control.advanceTo(T0)).toBe(false);
    expect(control.advanceTo(Number.POSITIVE_INFINITY)).toBe(false);
    expect(control.advanceTo(Number.NaN)).toBe(false);
    expect(out).toEqual(['W5000']);
    subscription.unsubscribe();
    expect(control.advanceTo(T0 + 60 * SECOND)).toBe(false);
    expect(control.earliestBuffered).toBe(Number.POSITIVE_INFINITY);
    expect(new StreamTimeControl().advanceTo(T0)).toBe(false);
  });
});
