import type { TimedEvent } from './timed.js';

/**
 * A binary min-heap of events ordered by (timestamp, tiebreaker, arrival). The arrival index makes the
 * order total, so equal (timestamp, tiebreaker) pairs come out in arrival order and runs are repeatable.
 *
 * The sort keys live in typed arrays beside the items: sifting compares contiguous numbers instead of
 * following a pointer per comparison, which matters with thousands of events inside the grace period.
 */
export class EventTimeHeap<E> {
  private items: (TimedEvent<E> | undefined)[] = [];
  private times = new Float64Array(1024);
  private ties = new Float64Array(1024);
  private arrivals = new Float64Array(1024);
  private length = 0;

  get size(): number {
    return this.length;
  }

  /** The earliest event, without removing it. */
  peek(): TimedEvent<E> | undefined {
    return this.length === 0 ? undefined : this.items[0];
  }

  /** The earliest timestamp (Infinity when empty): lets the caller test release without a pointer read. */
  peekTime(): number {
    return this.length === 0 ? Number.POSITIVE_INFINITY : this.times[0]!;
  }

  push(item: TimedEvent<E>): void {
    if (this.length === this.times.length) this.grow();
    const { items, times, ties, arrivals } = this;
    const time = item.timestamp;
    const tie = item.tiebreaker;
    const arrival = item.arrival;
    let index = this.length++;
    while (index > 0) {
      const parent = (index - 1) >> 1;
      const parentTime = times[parent]!;
      if (time > parentTime) break;
      if (time === parentTime) {
        const parentTie = ties[parent]!;
        if (tie > parentTie || (tie === parentTie && arrival > arrivals[parent]!)) break;
      }
      items[index] = items[parent];
      times[index] = parentTime;
      ties[index] = ties[parent]!;
      arrivals[index] = arrivals[parent]!;
      index = parent;
    }
    items[index] = item;
    times[index] = time;
    ties[index] = tie;
    arrivals[index] = arrival;
  }

  pop(): TimedEvent<E> | undefined {
    if (this.length === 0) return undefined;
    const { items, times, ties, arrivals } = this;
    const top = items[0];
    const last = --this.length;
    const lastItem = items[last];
    items[last] = undefined;
    if (last === 0) return top;
    const time = times[last]!;
    const tie = ties[last]!;
    const arrival = arrivals[last]!;
    let index = 0;
    for (;;) {
      let child = 2 * index + 1;
      if (child >= last) break;
      const right = child + 1;
      if (right < last && before(times, ties, arrivals, right, child)) child = right;
      const childTime = times[child]!;
      if (childTime > time) break;
      if (childTime === time) {
        const childTie = ties[child]!;
        if (childTie > tie || (childTie === tie && arrivals[child]! > arrival)) break;
      }
      items[index] = items[child];
      times[index] = childTime;
      ties[index] = ties[child]!;
      arrivals[index] = arrivals[child]!;
      index = child;
    }
    items[index] = lastItem;
    times[index] = time;
    ties[index] = tie;
    arrivals[index] = arrival;
    return top;
  }

  clear(): void {
    this.items = [];
    this.length = 0;
  }

  private grow(): void {
    const capacity = this.times.length * 2;
    const times = new Float64Array(capacity);
    const ties = new Float64Array(capacity);
    const arrivals = new Float64Array(capacity);
    times.set(this.times);
    ties.set(this.ties);
    arrivals.set(this.arrivals);
    this.times = times;
    this.ties = ties;
    this.arrivals = arrivals;
  }
}

function before(times: Float64Array, ties: Float64Array, arrivals: Float64Array, a: number, b: number): boolean {
  const ta = times[a]!;
  const tb = times[b]!;
  if (ta !== tb) return ta < tb;
  const ka = ties[a]!;
  const kb = ties[b]!;
  if (ka !== kb) return ka < kb;
  return arrivals[a]! < arrivals[b]!;
}
