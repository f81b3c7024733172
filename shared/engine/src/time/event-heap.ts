import type { TimedEvent } from './timed.js';

/**
 * A binary min-heap of events ordered by (timestamp, tiebreaker, arrival). The arrival index makes the
 * order total, so equal (timestamp, tiebreaker) pairs come out in arrival order and runs are repeatable.
 */
export class EventTimeHeap<E> {
  private readonly items: TimedEvent<E>[] = [];

  get size(): number {
    return this.items.length;
  }

  /** The earliest event, without removing it. */
  peek(): TimedEvent<E> | undefined {
    return this.items[0];
  }

  push(item: TimedEvent<E>): void {
    const items = this.items;
    let index = items.length;
    items.push(item);
    while (index > 0) {
      const parent = (index - 1) >> 1;
      const parentItem = items[parent]!;
      if (!precedes(item, parentItem)) break;
      items[index] = parentItem;
      index = parent;
    }
    items[index] = item;
  }

  pop(): TimedEvent<E> | undefined {
    const items = this.items;
    const top = items[0];
    const last = items.pop();
    if (top === undefined || last === undefined || items.length === 0) return top;
    const length = items.length;
    let index = 0;
    for (;;) {
      const left = 2 * index + 1;
      if (left >= length) break;
      const right = left + 1;
      let child = left;
      let childItem = items[left]!;
      if (right < length && precedes(items[right]!, childItem)) {
        child = right;
        childItem = items[right]!;
      }
      if (!precedes(childItem, last)) break;
      items[index] = childItem;
      index = child;
    }
    items[index] = last;
    return top;
  }

  clear(): void {
    this.items.length = 0;
  }
}

/** Strict event-time order: timestamp, then tiebreaker, then arrival. */
export function precedes<E>(a: TimedEvent<E>, b: TimedEvent<E>): boolean {
  if (a.timestamp !== b.timestamp) return a.timestamp < b.timestamp;
  if (a.tiebreaker !== b.tiebreaker) return a.tiebreaker < b.tiebreaker;
  return a.arrival < b.arrival;
}
