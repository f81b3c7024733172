/**
 * What flows between the reorder stage and the stateful operators: events in event-time order, tagged
 * with their extracted time, interleaved with watermark advances. A `{ watermark: W }` item promises that
 * every in-order event with timestamp < W has already been delivered, so operators may close windows and
 * evict state whose last admissible timestamp is below W.
 */
export interface TimedEvent<E> {
  readonly kind: 'event';
  readonly event: E;
  /** Event time in epoch ms (`EventTime.timestamp`), extracted once. */
  readonly timestamp: number;
  /** `EventTime.tiebreaker`, compared only for equal timestamps. */
  readonly tiebreaker: number;
  /** Arrival index within the subscription: the last word in ordering, so output is deterministic. */
  readonly arrival: number;
  /** True only for late events let through by `latePolicy: 'process'` (delivered out of order). */
  readonly late: boolean;
}

export interface WatermarkAdvance {
  readonly kind: 'watermark';
  readonly watermark: number;
}

export type Timed<E> = TimedEvent<E> | WatermarkAdvance;

/** Why an event went to the late side channel. */
export type LateReason = 'late' | 'invalid-time';

export interface LateEvent<E> {
  readonly event: E;
  readonly reason: LateReason;
  readonly timestamp: number;
  /** The watermark at arrival. */
  readonly watermark: number;
}

/** The late-events side channel (the services forward these to a late-events topic). */
export interface LateEventSink<E> {
  late(late: LateEvent<E>): void;
}
