import { describe, expect, it } from 'vitest';
import { EventTimeHeap } from '../../src/time/event-heap.js';
import type { TimedEvent } from '../../src/index.js';

function item(timestamp: number, tiebreaker: number, arrival: number): TimedEvent<number> {
  return { kind: 'event', event: arrival, timestamp, tiebreaker, arrival, late: false, size: 0 };
}

describe('EventTimeHeap', () => {
  it('pops in (timestamp, tiebreaker, arrival) order, across growth and interleaved pushes', () => {
    let seed = 3;
    const random = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
    const heap = new EventTimeHeap<number>();
    const pushed: TimedEvent<number>[] = [];
    const popped: TimedEvent<number>[] = [];
    for (let arrival = 0; arrival < 5_000; arrival++) {
      // few distinct timestamps and tiebreakers, so every level of the order is exercised
      const next = item(Math.floor(random() * 50), Math.floor(random() * 3), arrival);
      heap.push(next);
      pushed.push(next);
      if (random() < 0.3) popped.push(heap.pop()!);
    }
    expect(heap.size).toBe(pushed.length - popped.length);
    // everything popped so far came out in order relative to what was in the heap; drain the rest
    const rest: TimedEvent<number>[] = [];
    for (let next = heap.pop(); next !== undefined; next = heap.pop()) rest.push(next);
    const order = (a: TimedEvent<number>, b: TimedEvent<number>) =>
      a.timestamp - b.timestamp || a.tiebreaker - b.tiebreaker || a.arrival - b.arrival;
    expect(rest).toEqual([...rest].sort(order));
    expect([...popped, ...rest].map((entry) => entry.arrival).sort((a, b) => a - b)).toEqual(
      pushed.map((entry) => entry.arrival),
    );
    expect(heap.peek()).toBeUndefined();
    expect(heap.peekTime()).toBe(Number.POSITIVE_INFINITY);
  });

  it('pops a full batch in exactly sorted order', () => {
    const heap = new EventTimeHeap<number>();
    const input = [item(5, 0, 0), item(1, 2, 1), item(1, 1, 2), item(1, 1, 3), item(-3, 9, 4), item(5, 0, 5)];
    for (const entry of [...input].reverse()) heap.push(entry);
    const out: number[] = [];
    for (let next = heap.pop(); next !== undefined; next = heap.pop()) out.push(next.arrival);
    expect(out).toEqual([4, 2, 3, 1, 0, 5]);
  });
});
