import { CorrelationStats } from '../stats.js';
import { DEFAULT_MAX_OPEN_PARTIALS, DEFAULT_MAX_STATE_BYTES } from '../state/partial-store.js';
import { requireNumber } from './errors.js';

/** Options every correlation operator takes. */
export interface OperatorOptions {
  /** Cap on open partials (sequences, joins, span groups) per subscription; oldest evicted first. */
  readonly maxOpenPartials?: number;
  /** Bound on the estimated bytes of that state (events it retains included); oldest evicted first. */
  readonly maxStateBytes?: number;
  /** Where counters go; a private instance when omitted. */
  readonly stats?: CorrelationStats;
}

/** `OperatorOptions` with the defaults applied and checked once, when the operator is built. */
export interface StateLimits {
  readonly stats: CorrelationStats;
  readonly maxOpen: number;
  readonly maxBytes: number;
}

export function stateLimits(options: OperatorOptions): StateLimits {
  const maxOpen = options.maxOpenPartials ?? DEFAULT_MAX_OPEN_PARTIALS;
  requireNumber('maxOpenPartials', maxOpen, 1, true);
  return {
    stats: options.stats ?? new CorrelationStats(),
    maxOpen,
    maxBytes: options.maxStateBytes ?? DEFAULT_MAX_STATE_BYTES,
  };
}
