import { Observable, type OperatorFunction } from 'rxjs';
import type { EventTime, LatePolicy, WatermarkOptions } from '../types.js';
import { CorrelationStats } from '../stats.js';
import { requireNumber } from '../operators/errors.js';
import { EventTimeHeap } from './event-heap.js';
import type { LateEventSink, Timed, TimedEvent, WatermarkAdvance } from './timed.js';

/** Default grace: how far behind stream time an event may arrive and still be matched in order. */
export const DEFAULT_ALLOWED_LATENESS_MS = 5_000;
export const DEFAULT_LATE_POLICY: LatePolicy = 'drop';

export interface ReorderOptions extends Partial<WatermarkOptions> {
  /** Where counters go; a private instance when omitted. */
  readonly stats?: CorrelationStats;
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
  const { timestamp: timestampOf, tiebreaker: tiebreakerOf } = eventTime;

  return (source) =>
    new Observable<Timed<E>>((subscriber) => {
      const heap = new EventTimeHeap<E>();
      let streamTime = Number.NEGATIVE_INFINITY;
      let watermark = Number.NEGATIVE_INFINITY;
      let arrival = 0;

      const release = (): void => {
        while (heap.peekTime() < watermark) {
          stats.buffered--;
          subscriber.next(heap.pop()!);
        }
      };

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
            const rawTiebreaker = tiebreakerOf(event);
            const item: TimedEvent<E> = {
              kind: 'event',
              event,
              timestamp,
              // A missing tiebreaker falls back to arrival order (compared last) rather than NaN chaos.
              tiebreaker: Number.isFinite(rawTiebreaker) ? rawTiebreaker : 0,
              arrival: arrival++,
              late: timestamp < watermark,
            };
            if (item.late) {
              stats.late++;
              sink?.late({ event, reason: 'late', timestamp, watermark });
              if (processLate) subscriber.next(item);
              return;
            }
            heap.push(item);
            stats.buffered++;
            if (timestamp > streamTime) {
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
            }
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
        subscription.unsubscribe();
        stats.buffered -= heap.size;
        heap.clear();
      };
    });
}
