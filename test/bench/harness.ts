/**
 * The contract between `npm run bench` (test/bench/run.ts) and its path modules (test/bench/paths/*.ts).
 *
 * A path module exports `id` (short, stable) and `run(ctx)`, which measures one path of the system and, in
 * the same process run, the floor it is judged against (the cheapest code that does the unavoidable part
 * of the same work on the same records or bytes), and returns one row per figure. It may also export
 * `needsBroker = true`: the orchestrator then starts (or reuses, KAFKA_BROKERS) a broker before it runs;
 * without a broker `ctx.brokers` is undefined and the module returns the rows it can (or none).
 * Rows never assert anything: `met` records the judgement, the orchestrator reports it.
 */

export interface BenchContext {
  /** Small sizes: the path finishes in well under a minute of CPU; figures are not judged (`met` undefined). */
  readonly quick: boolean;
  /** Bootstrap servers (comma-separated host:port), set when a broker is available. */
  readonly brokers?: string;
  /** A progress line on stderr, prefixed with the path's id. */
  log(line: string): void;
}

export interface BenchRow {
  /** Stable id, `<path id>.<row>`, e.g. 'engine.builtin-rules'. */
  readonly id: string;
  /** Human label, e.g. 'engine, 4 built-in rules compiled from rule files'. */
  readonly path: string;
  readonly figure: number;
  /** e.g. 'events/s', 'ms', 'B'. */
  readonly unit: string;
  /** What the floor is, e.g. 'JSON.parse + Avro encode of the same records'. */
  readonly floorName?: string;
  /** Measured in the same process run, in the same unit as `figure`. */
  readonly floor?: number;
  /** figure / floor (or as the target defines). */
  readonly ratio?: number;
  /** e.g. '>= 50 % of floor', '>= 1,000,000 events/s per core', '<= 512 B', 'p99 < 250 ms'. */
  readonly target: string;
  /** Undefined when not judged (e.g. quick mode sizes). */
  readonly met?: boolean;
  readonly detail?: Readonly<Record<string, number | string>>;
}

/** What a module in test/bench/paths/ exports. */
export interface BenchPathModule {
  readonly id: string;
  readonly needsBroker?: boolean;
  run(ctx: BenchContext): Promise<BenchRow[]>;
}
