import { Observable, type OperatorFunction } from 'rxjs';
import type { EventTime, LatePolicy, WatermarkOptions } from '../types.js';
import { CorrelationStats } from '../stats.js';
import { requireNumber } from '../operators/errors.js';
import { EventTimeHeap } from './event-heap.js';
import type {
  LateEventSink,
  RecordContext,
  StreamTimeControl,
  StreamTimeHandle,
  Timed,
  TimedEvent,
  WatermarkAdvance,
} from './timed.js';

/** Default grace: how far behind stream time an event may arrive and still be matched in order. */
export const DEFAULT_ALLOWED_LATENESS_MS = 5_000;
export const DEFAULT_LATE_POLICY: LatePolicy = 'drop';
/**
 * Default byte bound of one reorder buffer (one partition's stream). At ~1 KiB per decoded event this
 * is ~130k events: minutes of a busy host inside the grace, far more than in-order input ever holds.
 */
export const DEFAULT_MAX_BUFFERED_BYTES = 128 * 2 ** 20;
/** Retained size assumed for an event whose record gave none (`RecordContext.sizeBytes` NaN). */
export const DEFAULT_EVENT_BYTES = 1_024;

export interface ReorderOptions extends Partial<WatermarkOptions> {
  /** Where counters go; a private instance when omitted. */
  readonly stats?: CorrelationStats;
  /**
   * How far ahead an event may be and still count (default Infinity: no guard). Ahead of what: the
   * record's own clock when `record.referenceTime` is finite, else stream time once there is one. An
   * event beyond it goes to the side channel as `future-timestamp` and never moves stream time.
   */
  readonly maxFutureSkewMs?: number;
  /** Estimated bytes the buffer may hold before it releases its oldest events early (default 128 MiB). */
  readonly maxBufferedBytes?: number;
  /** The record being pushed (reference time, size): read once per event. */
  readonly record?: RecordContext;
  /** Lets the caller advance stream time without an event (an idle partition); see `StreamTimeControl`. */
  readonly control?: StreamTimeControl;
}

/**
 * Puts an event stream into event-time order for the stateful operators, Kafka Streams style.
 *
 * Stream time is the largest timestamp seen; the watermark is stream time minus `allowedLatenessMs`
 * (the grace). Events wait in a heap keyed by (timestamp, tiebreaker, arrival) and are released, in that
 * order, once the watermark passes them; each advance is then announced as a `{ kind: 'watermark' }` item.
 * An event already below the watermark on arrival is late: it is counted, handed to `sink.late`, and then
 * dropped (`latePolicy: 'drop'`, the default: output depends only on the input, not on arrival jitter) or
 * passed on at once, out of order and flagged `late` (`'process'`: best effort). On complete, everything
 * still buffered is released in order before completing.
 *
 * Two guards keep one bad input from blinding or exhausting the stage, both decided from the records
 * alone so a replay decides the same:
 * - skew: an event more than `maxFutureSkewMs` ahead of its record's clock (`record.referenceTime`), or,
 *   without one, ahead of stream time, is refused as `future-timestamp` (a year-9999 date would otherwise
 *   put the watermark past every honest event). With a record clock, stream time is not consulted: the
 *   clock moves on through quiet gaps, and a forged event cannot ratchet the bound forward.
 * - bytes: when the buffered events' estimated size passes `maxBufferedBytes`, the oldest are released
 *   at once and the watermark moves up to the last one released (counted in `forcedReleases`): ordering
 *   degrades to "as much as fits", memory does not grow (1M events with one timestamp would otherwise all wait).
 *
 * `options.control` (`StreamTimeControl`) moves stream time without an event, as an event with that
 * timestamp would (minus the event): the watermark follows and what it passes is released. Only the
 * caller's record of when it did so makes a replay decide the same.
 *
 * @example
 * // grace 5 s: b arrives 3 s behind a and is still matched before it
 * events$.pipe(
 *   reorderByEventTime({ timestamp: (e) => e.ts, tiebreaker: (e) => e.seq }, { allowedLatenessMs: 5_000 }, lateSink),
 *   matchSequence(spec),
 * );
 */
export function reorderByEventTime<E>(
  eventTime: EventTime<E>,
  options: ReorderOptions = {},
  sink?: LateEventSink<E>,
): OperatorFunction<E, Timed<E>> {
  const lateness = options.allowedLatenessMs ?? DEFAULT_ALLOWED_LATENESS_MS;
  requireNumber('allowedLatenessMs', lateness, 0);
  const processLate = (options.latePolicy ?? DEFAULT_LATE_POLICY) === 'process';
  const stats = options.stats ?? new CorrelationStats();
  const maxSkew = options.maxFutureSkewMs ?? Number.POSITIVE_INFINITY;
  if (maxSkew !== Number.POSITIVE_INFINITY) requireNumber('maxFutureSkewMs', maxSkew, 0);
  const guardSkew = maxSkew !== Number.POSITIVE_INFINITY;
  const maxBytes = options.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED_BYTES;
  if (maxBytes !== Number.POSITIVE_INFINITY) requireNumber('maxBufferedBytes', maxBytes, 0);
  const context = options.record;
  const { timestamp: timestampOf, tiebreaker: tiebreakerOf } = eventTime;

  return (source) =>
    new Observable<Timed<E>>((subscriber) => {
      const heap = new EventTimeHeap<E>();
      let streamTime = Number.NEGATIVE_INFINITY;
      let watermark = Number.NEGATIVE_INFINITY;
      let arrival = 0;
      let bytes = 0;

      const release = (): void => {
        while (heap.peekTime() < watermark) {
          const item = heap.pop()!;
          stats.buffered--;
          bytes -= item.size;
          stats.bufferedBytes -= item.size;
          subscriber.next(item);
        }
      };

      // Over the byte bound: the oldest go now, and the watermark follows them so order stays a promise.
      const releaseOverBytes = (): void => {
        const before = watermark;
        while (bytes > maxBytes && heap.size > 0) {
          const item = heap.pop()!;
          stats.buffered--;
          stats.forcedReleases++;
          bytes -= item.size;
          stats.bufferedBytes -= item.size;
          if (item.timestamp > watermark) watermark = item.timestamp;
          subscriber.next(item);
        }
        if (watermark > before) {
          stats.watermark = Math.max(stats.watermark, watermark);
          const advance: WatermarkAdvance = { kind: 'watermark', watermark };
          subscriber.next(advance);
        }
      };

      // Stream time moves to `timestamp` (> streamTime): the watermark follows, releasing what it passes.
      const moveStreamTime = (timestamp: number): void => {
        streamTime = timestamp;
        stats.streamTime = Math.max(stats.streamTime, timestamp);
        const next = timestamp - lateness;
        if (next > watermark) {
          watermark = next;
          stats.watermark = Math.max(stats.watermark, next);
          release();
          const advance: WatermarkAdvance = { kind: 'watermark', watermark };
          subscriber.next(advance);
        }
      };

      const handle: StreamTimeHandle | undefined =
        options.control === undefined
          ? undefined
          : {
              advance(target) {
                if (subscriber.closed || !(target > streamTime) || !Number.isFinite(target)) return false;
                try {
                  moveStreamTime(target);
                } catch (error) {
                  subscriber.error(error);
                }
                return true;
              },
              earliestBuffered: () => heap.peekTime(),
            };
      if (handle !== undefined) options.control?.attach(handle);

      const subscription = source.subscribe({
        next(event) {
          if (subscriber.closed) return;
          try {
            stats.eventsIn++;
            const timestamp = timestampOf(event);
            if (!Number.isFinite(timestamp)) {
              stats.invalidTime++;
              sink?.late({ event, reason: 'invalid-time', timestamp, watermark });
              return;
            }
            if (guardSkew) {
              const reference = context === undefined ? Number.NaN : context.referenceTime;
              const base = Number.isFinite(reference) ? reference : streamTime;
              if (base !== Number.NEGATIVE_INFINITY && timestamp - base > maxSkew) {
                stats.futureTime++;
                sink?.late({ event, reason: 'future-timestamp', timestamp, watermark });
                return;
              }
            }
            const rawTiebreaker = tiebreakerOf(event);
            const rawSize = context === undefined ? Number.NaN : context.sizeBytes;
            const item: TimedEvent<E> = {
              kind: 'event',
              event,
              timestamp,
              // A missing tiebreaker falls back to arrival order (compared last) rather than NaN chaos.
              tiebreaker: Number.isFinite(rawTiebreaker) ? rawTiebreaker : 0,
              arrival: arrival++,
              late: timestamp < watermark,
              size: rawSize >= 0 ? rawSize : DEFAULT_EVENT_BYTES,
            };
            if (item.late) {
              stats.late++;
              sink?.late({ event, reason: 'late', timestamp, watermark });
              if (processLate) subscriber.next(item);
              return;
            }
            heap.push(item);
            stats.buffered++;
            bytes += item.size;
            stats.bufferedBytes += item.size;
            if (timestamp > streamTime) moveStreamTime(timestamp);
            if (bytes > maxBytes) releaseOverBytes();
          } catch (error) {
            subscriber.error(error);
          }
        },
        error(error) {
          subscriber.error(error);
        },
        complete() {
          try {
            watermark = Number.POSITIVE_INFINITY;
            release();
            subscriber.complete();
          } catch (error) {
            subscriber.error(error);
          }
        },
      });

      return () => {
        if (handle !== undefined) options.control?.detach(handle);
        subscription.unsubscribe();
        stats.buffered -= heap.size;
        stats.bufferedBytes -= bytes;
        bytes = 0;
        heap.clear();
      };
    });
}
