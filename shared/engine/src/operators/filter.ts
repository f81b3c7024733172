import type { OperatorFunction } from 'rxjs';
import type { FilterSpec, Match } from '../types.js';
import { CorrelationStats } from '../stats.js';
import type { Timed } from '../time/timed.js';
import type { OperatorOptions } from './options.js';
import { runOperator, type OperatorRuntime, type RuntimeFactory } from './runtime.js';

/**
 * An event query: one match per event that satisfies the predicate. Stateless, so watermarks are
 * ignored and a late event (under `latePolicy: 'process'`) matches like any other.
 *
 * @example
 * // registry where registry.path : "*\\Software\\Remcos\\license"
 * events$.pipe(stampEventTime(eventTime), matchFilter({ kind: 'filter', predicate, keyValues }));
 */
export function matchFilter<E>(
  spec: FilterSpec<E>,
  options: OperatorOptions = {},
): OperatorFunction<Timed<E>, Match<E>> {
  const create = filterRuntime(spec, options);
  return runOperator<E, Match<E>>(create.stats, create);
}

/** The logic behind `matchFilter`, for a caller that drives runtimes itself (a rule set). */
export function filterRuntime<E>(spec: FilterSpec<E>, options: OperatorOptions = {}): RuntimeFactory<E> {
  const { predicate, keyValues } = spec;
  const create = (emit: (match: Match<E>) => void): OperatorRuntime<E> => ({
    onEvent(item) {
      const event = item.event;
      if (!predicate(event)) return;
      emit({
        kind: 'filter',
        events: [event],
        keyValues: keyValues(event),
        firstTime: item.timestamp,
        lastTime: item.timestamp,
      });
    },
    onWatermark() {}, // stateless: nothing to close
    complete() {},
    dispose() {},
  });
  return Object.assign(create, { stats: options.stats ?? new CorrelationStats() });
}
