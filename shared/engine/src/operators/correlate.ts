import type { OperatorFunction } from 'rxjs';
import type { CorrelationSpec, Match } from '../types.js';
import type { Timed } from '../time/timed.js';
import { CorrelationSpecError } from './errors.js';
import { filterRuntime } from './filter.js';
import { joinRuntime } from './join.js';
import { runOperator, type RuntimeFactory } from './runtime.js';
import { sequenceRuntime } from './sequence.js';
import { slidingAggregateRuntime } from './sliding-aggregate.js';
import { chainRuntime } from './sliding-chain.js';
import { slidingTemporalRuntime } from './sliding-temporal.js';
import { spanAggregateRuntime, type MatchSpanAggregateOptions } from './span-aggregate.js';

/**
 * The operator for a compiled spec, by kind. Input must already be in event-time order with watermarks
 * (`reorderByEventTime`, or `stampEventTime` for filters).
 *
 * @example
 * timed$.pipe(correlate(compiled.spec, { stats }));
 */
export function correlate<E>(
  spec: CorrelationSpec<E>,
  options: MatchSpanAggregateOptions = {},
): OperatorFunction<Timed<E>, Match<E>> {
  const create = correlationRuntime(spec, options);
  return runOperator<E, Match<E>>(create.stats, create);
}

/**
 * The runtime factory for a compiled spec, by kind: what `correlate` wraps in RxJS, for a caller that
 * calls the runtimes directly (the rule set drives every rule of a stream from one subscription).
 */
export function correlationRuntime<E>(
  spec: CorrelationSpec<E>,
  options: MatchSpanAggregateOptions = {},
): RuntimeFactory<E> {
  switch (spec.kind) {
    case 'filter':
      return filterRuntime(spec, options);
    case 'sequence':
      return sequenceRuntime(spec, options);
    case 'join':
      return joinRuntime(spec, options);
    case 'spanAggregate':
      return spanAggregateRuntime(spec, options);
    case 'slidingAggregate':
      return slidingAggregateRuntime(spec, options);
    case 'slidingTemporal':
      return slidingTemporalRuntime(spec, options);
    case 'chain':
      return chainRuntime(spec, options);
    default: {
      const unknown: never = spec;
      throw new CorrelationSpecError(
        'kind',
        (unknown as { kind: unknown }).kind,
        'filter, sequence, join, spanAggregate, slidingAggregate, slidingTemporal or chain',
      );
    }
  }
}
