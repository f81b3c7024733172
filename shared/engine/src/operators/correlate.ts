import type { OperatorFunction } from 'rxjs';
import type { CorrelationSpec, Match } from '../types.js';
import type { Timed } from '../time/timed.js';
import { CorrelationSpecError } from './errors.js';
import { matchFilter } from './filter.js';
import { matchJoin } from './join.js';
import { matchSequence } from './sequence.js';
import { matchSpanAggregate, type MatchSpanAggregateOptions } from './span-aggregate.js';

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
  switch (spec.kind) {
    case 'filter':
      return matchFilter(spec, options);
    case 'sequence':
      return matchSequence(spec, options);
    case 'join':
      return matchJoin(spec, options);
    case 'spanAggregate':
      return matchSpanAggregate(spec, options);
    default: {
      const unknown: never = spec;
      throw new CorrelationSpecError(
        'kind',
        (unknown as { kind: unknown }).kind,
        'filter, sequence, join or spanAggregate',
      );
    }
  }
}
