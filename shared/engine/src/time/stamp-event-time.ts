import { Observable, type OperatorFunction } from 'rxjs';
import type { EventTime } from '../types.js';
import { CorrelationStats } from '../stats.js';
import type { LateEventSink, Timed } from './timed.js';

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
  const { timestamp: timestampOf, tiebreaker: tiebreakerOf } = eventTime;
  return (source) =>
    new Observable<Timed<E>>((subscriber) => {
      let arrival = 0;
      return source.subscribe({
        next(event) {
          if (subscriber.closed) return;
          try {
            stats.eventsIn++;
            const timestamp = timestampOf(event);
            if (!Number.isFinite(timestamp)) {
              stats.invalidTime++;
              sink?.late({ event, reason: 'invalid-time', timestamp, watermark: stats.watermark });
              return;
            }
            if (timestamp > stats.streamTime) stats.streamTime = timestamp;
            const tiebreaker = tiebreakerOf(event);
            subscriber.next({
              kind: 'event',
              event,
              timestamp,
              tiebreaker: Number.isFinite(tiebreaker) ? tiebreaker : 0,
              arrival: arrival++,
              late: false,
              size: 0, // never buffered here
            });
          } catch (error) {
            subscriber.error(error);
          }
        },
        error: (error: unknown) => subscriber.error(error),
        complete: () => subscriber.complete(),
      });
    });
}
