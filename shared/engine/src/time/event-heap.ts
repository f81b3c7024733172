import { BinaryHeap } from '@sequor/model';
import type { TimedEvent } from './timed.js';

/**
 * Event-time order: (timestamp, tiebreaker, arrival). The arrival index makes the order total, so equal
 * (timestamp, tiebreaker) pairs come out in arrival order and runs are repeatable.
 */
export function eventTimeBefore<E>(a: TimedEvent<E>, b: TimedEvent<E>): boolean {
  if (a.timestamp !== b.timestamp) return a.timestamp < b.timestamp;
  if (a.tiebreaker !== b.tiebreaker) return a.tiebreaker < b.tiebreaker;
  return a.arrival < b.arrival;
}

/** The reorder buffer: the one `BinaryHeap`, under event-time order. */
export class EventTimeHeap<E> extends BinaryHeap<TimedEvent<E>> {
  constructor() {
    super(eventTimeBefore);
  }

  /** The earliest timestamp (Infinity when empty): what the release loop compares with the watermark. */
  peekTime(): number {
    const top = this.peek();
    return top === undefined ? Number.POSITIVE_INFINITY : top.timestamp;
  }
}
