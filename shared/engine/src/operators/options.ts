import type { CorrelationStats } from '../stats.js';

/** Options every correlation operator takes. */
export interface OperatorOptions {
  /** Cap on open partials (sequences, joins, span groups) per subscription; oldest evicted first. */
  readonly maxOpenPartials?: number;
  /** Where counters go; a private instance when omitted. */
  readonly stats?: CorrelationStats;
}
