import { Observable, type OperatorFunction } from 'rxjs';
import type { EventTime } from '../types.js';
import { CorrelationStats } from '../stats.js';
import type { LateEventSink, Timed, TimedEvent } from './timed.js';

/**
 * Tags events with their event time without buffering: for stateless rules (event queries), where order
 * cannot change the result and waiting out the grace would only add latency. Nothing is ever late here;
 * an event whose timestamp is not a finite number still goes to the side channel as `invalid-time`.
 *
 * @example
 * events$.pipe(stampEventTime(eventTime), matchFilter(spec));
 */
export function stampEventTime<E>(
  eventTime: EventTime<E>,
  options: { readonly stats?: CorrelationStats } = {},
  sink?: LateEventSink<E>,
): OperatorFunction<E, Timed<E>> {
  const stats = options.stats ?? new CorrelationStats();
  return (source) =>
    new Observable<Timed<E>>((subscriber) => {
      const stamp = new EventTimeStamp(eventTime, stats, sink);
      return source.subscribe({
        next(event) {
          if (subscriber.closed) return;
          try {
            const item = stamp.stamp(event);
            if (item !== undefined) subscriber.next(item);
          } catch (error) {
            subscriber.error(error);
          }
        },
        error: (error: unknown) => subscriber.error(error),
        complete: () => subscriber.complete(),
      });
    });
}

/**
 * One subscription's stamping, without RxJS: what `stampEventTime` runs per event, for a caller that
 * drives stateless rules itself (the rule set). Counts `eventsIn`, `invalidTime` and stream time.
 *
 * `reuse`: every call returns the same item, rewritten (nothing allocated per event), for a caller that
 * hands it only to code that reads it synchronously and keeps nothing of it (the filter runtimes).
 */
export class EventTimeStamp<E> {
  private arrival = 0;
  private readonly scratch: Mutable<TimedEvent<E>> | null;
  private readonly timestampOf: (event: E) => number;
  private readonly tiebreakerOf: (event: E) => number;

  constructor(
    eventTime: EventTime<E>,
    private readonly stats: CorrelationStats,
    private readonly sink: LateEventSink<E> | undefined,
    reuse = false,
  ) {
    this.timestampOf = eventTime.timestamp;
    this.tiebreakerOf = eventTime.tiebreaker;
    this.scratch = reuse
      ? {
          kind: 'event',
          event: undefined as E,
          timestamp: 0,
          tiebreaker: 0,
          arrival: 0,
          late: false,
          size: 0,
        }
      : null;
  }

  /** The event with its time; undefined (counted, handed to the sink) when it has no finite timestamp. */
  stamp(event: E): TimedEvent<E> | undefined {
    const stats = this.stats;
    stats.eventsIn++;
    const timestamp = this.timestampOf(event);
    if (!Number.isFinite(timestamp)) {
      stats.invalidTime++;
      this.sink?.late({ event, reason: 'invalid-time', timestamp, watermark: stats.watermark });
      return undefined;
    }
    if (timestamp > stats.streamTime) stats.streamTime = timestamp;
    const rawTiebreaker = this.tiebreakerOf(event);
    const tiebreaker = Number.isFinite(rawTiebreaker) ? rawTiebreaker : 0;
    const scratch = this.scratch;
    if (scratch === null)
      return { kind: 'event', event, timestamp, tiebreaker, arrival: this.arrival++, late: false, size: 0 }; // never buffered
    scratch.event = event;
    scratch.timestamp = timestamp;
    scratch.tiebreaker = tiebreaker;
    scratch.arrival = this.arrival++;
    return scratch;
  }
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
