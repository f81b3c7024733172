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

/** What a subscribed reorder stage offers a `StreamTimeControl`. */
export interface StreamTimeHandle {
  advance(streamTime: number): boolean;
  earliestBuffered(): number;
}

/**
 * Moves a reorder stage's stream time without an event: the transport's idle-partition rule (Flink's
 * idleness, Kafka Streams' wall-clock punctuation). The engine never reads a clock: the caller decides
 * when and how far, from its own (injected) clock, and must record each advance so a replay can apply
 * it at the same point of the input (`@sequor/streams`' restore metadata does). Passed as
 * `ReorderOptions.control`; the stage attaches itself when subscribed and detaches on unsubscribe.
 *
 * @example
 * const control = new StreamTimeControl();
 * events$.pipe(reorderByEventTime(eventTime, { allowedLatenessMs: 5_000, control }), matchSequence(spec));
 * if (control.earliestBuffered < idleTarget - 5_000) control.advanceTo(idleTarget); // releases, fires
 */
export class StreamTimeControl {
  private handle: StreamTimeHandle | null = null;

  /** Called by the reorder stage on subscribe; one stage per control. */
  attach(handle: StreamTimeHandle): void {
    this.handle = handle;
  }

  detach(handle: StreamTimeHandle): void {
    if (this.handle === handle) this.handle = null;
  }

  /**
   * Sets stream time to `streamTime` if that is later than it is (the watermark follows, buffered
   * events the new watermark passes are released in order, operators see the advance). Synchronous;
   * returns false when nothing moved (not later, not finite, or no stage attached).
   */
  advanceTo(streamTime: number): boolean {
    return this.handle !== null && this.handle.advance(streamTime);
  }

  /** Event time of the oldest buffered event, epoch ms; +Infinity when the buffer is empty or no stage is attached. */
  get earliestBuffered(): number {
    return this.handle === null ? Number.POSITIVE_INFINITY : this.handle.earliestBuffered();
  }
}
