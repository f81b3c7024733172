/**
 * The contract between the compiler (src/compile: EQL AST -> plain functions) and the runtime operators
 * (src/operators: event-time correlation over RxJS streams). The compiler builds these specs once per
 * rule; the operators call the functions for every event. The engine is generic over the event type:
 * it reaches fields only through accessors compiled from the @sequor/model FieldCatalog.
 */

/** A compiled boolean condition. Three-valued EQL logic collapses to false at the top (null is not a match). */
export type Predicate<E> = (event: E) => boolean;

/**
 * A compiled correlation key (the `by` fields of a rule or item). Returns a string that is equal for equal
 * key tuples (values type-tagged and joined, so `1` and `"1"` differ), or `null` when a non-optional key
 * field is null or missing: such an event never joins (Elasticsearch semantics).
 */
export type KeyExtractor<E> = (event: E) => string | null;

/** The key's values as a tuple, for alerts and `sequor query` output (called only on matches). */
export type KeyValues<E> = (event: E) => readonly unknown[];

/** Event time and order. `timestamp` is `@timestamp` in epoch ms; `tiebreaker` orders equal timestamps. */
export interface EventTime<E> {
  readonly timestamp: (event: E) => number;
  /** `event.sequence` or source order (offset); compared only when timestamps are equal. */
  readonly tiebreaker: (event: E) => number;
}

/** What happens to an event older than the watermark when it arrives. */
export type LatePolicy = 'drop' | 'process';

export interface WatermarkOptions {
  /** How far behind the largest event time seen an event may arrive and still be matched in order. */
  readonly allowedLatenessMs: number;
  readonly latePolicy: LatePolicy;
}

export interface FilterSpec<E> {
  readonly kind: 'filter';
  readonly predicate: Predicate<E>;
  readonly keyValues: KeyValues<E>;
}

export interface SequenceStepSpec<E> {
  readonly predicate: Predicate<E>;
  readonly key: KeyExtractor<E>;
  /** `with runs=N`: the step must match N consecutive times (already expanded by the compiler when 1). */
  readonly runs: number;
  /** `![...]`: the step must NOT occur (requires maxspan). */
  readonly missing: boolean;
}

export interface SequenceSpec<E> {
  readonly kind: 'sequence';
  /** null when the rule has no maxspan (state then lives until evicted by the cap). */
  readonly maxspanMs: number | null;
  readonly steps: readonly SequenceStepSpec<E>[];
  readonly until: { readonly predicate: Predicate<E>; readonly key: KeyExtractor<E> } | null;
  readonly keyValues: KeyValues<E>;
}

export interface JoinItemSpec<E> {
  readonly predicate: Predicate<E>;
  readonly key: KeyExtractor<E>;
}

/** Order-free: one event per item with the same key, within `windowMs` of the first. */
export interface JoinSpec<E> {
  readonly kind: 'join';
  readonly windowMs: number;
  readonly items: readonly JoinItemSpec<E>[];
  readonly until: JoinItemSpec<E> | null;
  readonly keyValues: KeyValues<E>;
}

/** Splunk `tstats count ... BY _time span=1h <fields>`: one alert per group per event-time bucket. */
export interface SpanAggregateSpec<E> {
  readonly kind: 'spanAggregate';
  readonly spanMs: number;
  readonly predicate: Predicate<E>;
  /** The BY fields; null group values form their own group (documented divergence from tstats). */
  readonly groupKey: (event: E) => string;
  readonly keyValues: KeyValues<E>;
}

/**
 * A bound on a window's aggregate (Sigma correlation `condition`): every given bound must hold. Only lower
 * bounds (`gt`, `gte`) can be decided on the event that crosses them; any other bound (`lt`, `lte`, `eq`,
 * `neq`) is a statement about a whole window and is decided when the watermark closes it.
 */
export interface CorrelationThreshold {
  readonly gt?: number;
  readonly gte?: number;
  readonly lt?: number;
  readonly lte?: number;
  readonly eq?: number;
  readonly neq?: number;
}

/** What a sliding aggregate measures over a group's window: events, distinct values, a sum or a mean. */
export type SlidingMeasure = 'count' | 'distinct' | 'sum' | 'avg';

/** One input of a windowed correlation (one referenced Sigma rule): its events and how they group. */
export interface SlidingInputSpec<E> {
  readonly predicate: Predicate<E>;
  /** The group (Sigma `group-by`); null when a group-by field is missing: the event joins no group. */
  readonly key: KeyExtractor<E>;
  readonly keyValues: KeyValues<E>;
  /**
   * `distinct`: the value counted (string or number; null: the event is not counted); `sum`/`avg`: a
   * finite number (null: not counted); `count`: null.
   */
  readonly value: ((event: E) => string | number | null) | null;
}

/**
 * Sigma `event_count`, `value_count`, `value_sum`, `value_avg` per group over an event-time window of
 * `windowMs`: sliding (the window ending at each event, inclusive) for lower-bound thresholds, fixed
 * buckets closed by the watermark otherwise (see `operators/sliding-aggregate.ts`).
 */
export interface SlidingAggregateSpec<E> {
  readonly kind: 'slidingAggregate';
  readonly windowMs: number;
  readonly measure: SlidingMeasure;
  /** An event counts once, under the first input it matches with a non-null key. */
  readonly inputs: readonly SlidingInputSpec<E>[];
  readonly threshold: CorrelationThreshold;
  /** Evidence events kept per group: the latest this many (the match's `count` says how many there were). */
  readonly maxEvidence: number;
  /**
   * Emit on every event at which a sliding window meets the threshold, not only on the one that makes it
   * meet it (default false: one match per burst). For an inner correlation of a chain whose outer one asks
   * whether this one holds at a time (`temporal`, `temporal_ordered`): see `operators/sliding-chain.ts`.
   */
  readonly fireWhileHeld?: boolean;
}

/**
 * Sigma `temporal`: at least `minInputs` of the inputs (all of them by default) matched events of one group
 * within `windowMs` of each other, in any order; sliding (see `operators/sliding-temporal.ts`).
 */
export interface SlidingTemporalSpec<E> {
  readonly kind: 'slidingTemporal';
  readonly windowMs: number;
  readonly inputs: readonly Omit<SlidingInputSpec<E>, 'value'>[];
  readonly minInputs: number;
  /** As `SlidingAggregateSpec.fireWhileHeld`: a match on every event at which the window holds. */
  readonly fireWhileHeld?: boolean;
}

/** An event as a chain's outer correlation sees it: the event and what each inner correlation emitted on it. */
export interface ChainedEvent<E> {
  readonly event: E;
  /** Per inner spec, in order: the match it emitted on this event, if any. */
  readonly fired: readonly (Match<E> | undefined)[];
}

/**
 * Correlations of correlations (Sigma chains): the `inner` correlations run on the events, and `outer`
 * sees each event with the inner matches that event completed (see `operators/sliding-chain.ts`).
 */
export interface ChainSpec<E> {
  readonly kind: 'chain';
  readonly inner: readonly CorrelationSpec<E>[];
  readonly outer: CorrelationSpec<ChainedEvent<E>>;
}

export type CorrelationSpec<E> =
  | ChainSpec<E>
  | FilterSpec<E>
  | SequenceSpec<E>
  | JoinSpec<E>
  | SpanAggregateSpec<E>
  | SlidingAggregateSpec<E>
  | SlidingTemporalSpec<E>;

/** What an operator emits: the evidence events in event-time order and the key they share. */
export interface Match<E> {
  readonly kind: CorrelationSpec<E>['kind'];
  readonly events: readonly E[];
  readonly keyValues: readonly unknown[];
  readonly firstTime: number;
  readonly lastTime: number;
  /**
   * spanAggregate: the bucket start and the number of events aggregated so far. slidingAggregate: the
   * events in the window (`bucketStart` only when the window is a fixed bucket); slidingTemporal: the
   * number of inputs matched.
   */
  readonly bucketStart?: number;
  readonly count?: number;
  /** slidingAggregate: the measured value that met the threshold (count, distinct values, sum, mean). */
  readonly value?: number;
}
