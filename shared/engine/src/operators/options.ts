import type { CorrelationStats } from '../stats.js';

/** Options every correlation operator takes. */
export interface OperatorOptions {
  /** Cap on open partials (sequences, joins, span groups) per subscription; oldest evicted first. */
  readonly maxOpenPartials?: number;
  /** Bound on the estimated bytes of that state (events it retains included); oldest evicted first. */
  readonly maxStateBytes?: number;
  /** Where counters go; a private instance when omitted. */
  readonly stats?: CorrelationStats;
}
