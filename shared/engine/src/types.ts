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

export type CorrelationSpec<E> = FilterSpec<E> | SequenceSpec<E> | JoinSpec<E> | SpanAggregateSpec<E>;

/** What an operator emits: the evidence events in event-time order and the key they share. */
export interface Match<E> {
  readonly kind: CorrelationSpec<E>['kind'];
  readonly events: readonly E[];
  readonly keyValues: readonly unknown[];
  readonly firstTime: number;
  readonly lastTime: number;
  /** spanAggregate only: the bucket start and the number of events aggregated so far. */
  readonly bucketStart?: number;
  readonly count?: number;
}
