import { Observable, type OperatorFunction } from 'rxjs';
import type { FilterSpec, Match } from '../types.js';
import { CorrelationStats } from '../stats.js';
import type { Timed } from '../time/timed.js';
import type { OperatorOptions } from './options.js';

/**
 * An event query: one match per event that satisfies the predicate. Stateless, so watermarks are
 * ignored and a late event (under `latePolicy: 'process'`) matches like any other.
 *
 * @example
 * // registry where registry.path : "*\\Software\\Remcos\\license"
 * events$.pipe(stampEventTime(eventTime), matchFilter({ kind: 'filter', predicate, keyValues }));
 */
export function matchFilter<E>(spec: FilterSpec<E>, options: OperatorOptions = {}): OperatorFunction<Timed<E>, Match<E>> {
  const stats = options.stats ?? new CorrelationStats();
  const { predicate, keyValues } = spec;
  return (source) =>
    new Observable<Match<E>>((subscriber) =>
      source.subscribe({
        next(item) {
          if (item.kind !== 'event' || subscriber.closed) return;
          try {
            const event = item.event;
            if (!predicate(event)) return;
            stats.matched++;
            subscriber.next({
              kind: 'filter',
              events: [event],
              keyValues: keyValues(event),
              firstTime: item.timestamp,
              lastTime: item.timestamp,
            });
          } catch (error) {
            subscriber.error(error);
          }
        },
        error: (error: unknown) => subscriber.error(error),
        complete: () => subscriber.complete(),
      }),
    );
}
