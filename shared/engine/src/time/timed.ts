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
  /** Estimated retained size of the event in bytes (`RecordContext.sizeBytes`), for the byte bounds. */
  readonly size: number;
}

export interface WatermarkAdvance {
  readonly kind: 'watermark';
  readonly watermark: number;
}

export type Timed<E> = TimedEvent<E> | WatermarkAdvance;

/**
 * Why an event went to the side channel: `late` (older than the watermark), `invalid-time` (no finite
 * timestamp), `future-timestamp` (too far ahead of its record's clock or of stream time: it would move
 * the watermark past every honest event, so it is refused and never matched by stateful rules).
 */
export type LateReason = 'late' | 'invalid-time' | 'future-timestamp';

export interface LateEvent<E> {
  readonly event: E;
  readonly reason: LateReason;
  readonly timestamp: number;
  /** The watermark at arrival. */
  readonly watermark: number;
}

/**
 * What the transport knows about the record that carries the event being pushed. The caller sets it
 * before each push and the reorder stage reads it synchronously: one mutable object, nothing allocated
 * per event. Both values must come from the record itself (never the wall clock at processing time), so
 * a replay of the same records decides the same.
 */
export interface RecordContext {
  /** The record's own clock (the Kafka record timestamp), epoch ms; NaN when there is none. */
  referenceTime: number;
  /** Estimated retained size of the decoded event, bytes; NaN when unknown (`DEFAULT_EVENT_BYTES`). */
  sizeBytes: number;
}

/** The late-events side channel (the services forward these to a late-events topic). */
export interface LateEventSink<E> {
  late(late: LateEvent<E>): void;
}
