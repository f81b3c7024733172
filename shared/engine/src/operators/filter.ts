import type { OperatorFunction } from 'rxjs';
import type { FilterSpec, Match } from '../types.js';
import { CorrelationStats } from '../stats.js';
import type { Timed, TimedEvent } from '../time/timed.js';
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
  const create = (emit: (match: Match<E>) => void): OperatorRuntime<E> => new FilterRuntime(spec, emit);
  return Object.assign(create, { stats: options.stats ?? new CorrelationStats() });
}

/**
 * One filter's runtime: a class, so a rule set of thousands of filters (SigmaHQ's) makes one small
 * object per rule, its methods shared, instead of four closures per rule.
 */
class FilterRuntime<E> implements OperatorRuntime<E> {
  private readonly predicate: FilterSpec<E>['predicate'];
  private readonly keyValues: FilterSpec<E>['keyValues'];

  constructor(
    spec: FilterSpec<E>,
    private readonly emit: (match: Match<E>) => void,
  ) {
    this.predicate = spec.predicate;
    this.keyValues = spec.keyValues;
  }

  onEvent(item: TimedEvent<E>): void {
    const event = item.event;
    if (!this.predicate(event)) return;
    this.emit({
      kind: 'filter',
      events: [event],
      keyValues: this.keyValues(event),
      firstTime: item.timestamp,
      lastTime: item.timestamp,
    });
  }

  onWatermark(): void {} // stateless: nothing to close
  complete(): void {}
  dispose(): void {}
}
