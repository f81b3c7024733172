import { Observable, Subject, Subscription, from, map, type OperatorFunction, type Subscriber } from 'rxjs';
import { SequorError } from '@sequor/model';
import type { CorrelationSpec, EventTime, LatePolicy, Match } from './types.js';
import { CorrelationStats, type CorrelationStatsSnapshot } from './stats.js';
import { correlationRuntime } from './operators/correlate.js';
import { CallbackFailure, callerCallback, CorrelationSpecError } from './operators/errors.js';
import type { OperatorRuntime, RuntimeFactory } from './operators/runtime.js';
import type { BucketSummary } from './operators/span-aggregate.js';
import {
  retireRuntime,
  SuppressionKeyError,
  suppressRuntime,
  SuppressionStats,
  type SuppressOptions,
  type SuppressSpec,
  type SuppressionUpdate,
} from './operators/suppress.js';
import { reorderByEventTime, type ReorderOptions } from './time/reorder-by-event-time.js';
import { EventTimeStamp } from './time/stamp-event-time.js';
import type { LateEvent, LateEventSink, RecordContext, StreamTimeControl, TimedEvent } from './time/timed.js';

export interface CorrelationOptions<E> {
  /** Grace behind stream time (default 5000 ms). */
  readonly allowedLatenessMs?: number;
  /** What happens to an event older than the watermark (default 'drop'). */
  readonly latePolicy?: LatePolicy;
  /** Cap on open partials for the rule (default 200,000); the oldest is evicted beyond it. */
  readonly maxOpenPartials?: number;
  /** Bound on the rule's partial state in estimated bytes (default 64 MiB); the oldest is evicted beyond it. */
  readonly maxStateBytes?: number;
  /** Bound on the reorder buffer in estimated bytes (default 128 MiB); the oldest is released early beyond it. */
  readonly maxBufferedBytes?: number;
  /**
   * How far ahead of its record's clock (else of stream time) an event may be (default: unguarded);
   * beyond it the event goes to the side channel as `future-timestamp` and cannot move the watermark.
   */
  readonly maxFutureSkewMs?: number;
  /** The record being pushed (reference time, size), set by the caller before each event. */
  readonly record?: RecordContext;
  /** Advances the reorder stage's stream time without an event (the detector's idle-partition rule). */
  readonly control?: StreamTimeControl;
  /** Late side channel, called synchronously for each late or untimeable event. */
  readonly onLate?: (late: LateEvent<E>) => void;
  /** spanAggregate only: the final count of each (bucket, group) when its bucket closes. */
  readonly onBucketClose?: (summary: BucketSummary) => void;
  /** Rules with `suppress`: each closed window that suppressed alerts, with the rule it belongs to. */
  readonly onSuppressionUpdate?: (update: SuppressionUpdate<E>, ruleIndex: number, rule?: unknown) => void;
  /** Bounds of each suppressing rule's window state (per rule, like `maxOpenPartials`). */
  readonly suppression?: Omit<SuppressOptions, 'stats'>;
  /** Rule sets only: which filter rules an event can match, asked once per event (see `FilterDispatch`). */
  readonly filterDispatch?: FilterDispatch<E>;
}

/**
 * An index over many filter rules (a Sigma rule set indexed by channel, EventID and literal gates): with
 * thousands of filters, calling every filter's predicate per event caps throughput. A covered filter's
 * runtime is called only for the events whose `matching` names its entry index; its own predicate
 * still runs, so `matching` may over-approximate (never under) and exceptions stay exact. Indexes that
 * are not plain filters (a suppressed filter, a sequence) run on every event as before.
 */
export interface FilterDispatch<E> {
  /** Entry indexes (into the rules given to `createRuleSetPipeline`) the dispatch answers for. */
  readonly covers: readonly number[];
  /** The covered entries that may match `event`, in any order; valid until the next call. */
  matching(event: E): readonly number[];
  /**
   * The covered entries whose evaluation threw during the last `matching` call (left out of its answer,
   * so not matched), with their errors; reported through `onFilterError`.
   */
  failures?(): readonly FilterFailure[];
}

/** A rule-set entry (by index) that threw on an event. */
export interface FilterFailure {
  readonly index: number;
  readonly error: unknown;
}

/** `createRuleSetPipeline`'s options: the correlation options plus what only a rule set has. */
export interface RuleSetOptions<E, R> extends CorrelationOptions<E> {
  readonly ruleSetControl?: RuleSetControl<E, R>;
  /**
   * A plain filter rule that throws on an event (its predicate, or the filter dispatch's evaluation of
   * it) is reported here and counts as not matched for that event; the other rules still see it, and the
   * stream goes on (one bad rule or event must not stop a partition). If this callback throws, the
   * stream fails. Without it such an exception fails the stream, as any engine error does. Rules that
   * take the reordered stream (stateful ones, suppressed filters) report through `onStatefulError`.
   */
  readonly onFilterError?: (rule: R, event: E, error: unknown) => void;
  /**
   * A span or sliding aggregate, temporal correlation, sequence or join (Sigma `event_count`, `value_*`,
   * `temporal`, `temporal_ordered`; span counts; EQL sequences and joins) that throws on an event released to it is
   * reported here with that event and counts as not matched for it; the other rules still see it and the
   * stream goes on. The event is not always the one being pushed: the reorder stage releases events as the
   * watermark passes them, during a later push. Those operators evaluate the rule's functions on an event
   * before changing state for it, so their state is as if the event had not come (`exceptionSafe`); the
   * event still moved stream time and the watermark. A suppressed rule's suppression key that throws on a
   * match (on an event, a watermark or the end of input) is reported with the match's last evidence
   * event: that alert went out unsuppressed and the rule's windows are as if it had not come. A chain
   * (a correlation of correlations) goes on part by part: the part that threw is as if the event had not
   * come, the others took it. Any other throw while a watermark closes windows or expires partials (no
   * event to name) fails the stream. If this callback throws, or without it, the stream fails.
   */
  readonly onStatefulError?: (rule: R, event: E, error: unknown) => void;
}

/** One rule's correlation on a stream: the operator plus what services export beside the alerts. */
export interface CorrelationPipeline<E> {
  /** events -> matches: reorder by event time (not for filters), then the spec's operator. */
  readonly operator: OperatorFunction<E, Match<E>>;
  /** Counters and gauges, shared by every subscription to `operator`. */
  readonly stats: CorrelationStats;
  /** Late and untimeable events (hot: subscribe before feeding events). Also `options.onLate`. */
  readonly late$: Observable<LateEvent<E>>;
  /** spanAggregate bucket summaries (hot). Also `options.onBucketClose`. */
  readonly bucketSummaries$: Observable<BucketSummary>;
}

/**
 * One rule's pipeline: `createRuleSetPipeline` with one rule (the code the detector runs), its stream and
 * rule counters in one `stats` (they are disjoint fields) and the matches without the rule tag. For
 * `sequor query` and in-memory runs; a service with several rules uses `createRuleSetPipeline`.
 *
 * @example
 * const pipeline = createCorrelationPipeline(rule.spec, eventTime, { allowedLatenessMs: 5_000 });
 * pipeline.late$.subscribe((late) => lateProducer.send(late.event));
 * events$.pipe(pipeline.operator).subscribe((match) => publishAlert(rule, match));
 */
export function createCorrelationPipeline<E>(
  spec: CorrelationSpec<E>,
  eventTime: EventTime<E>,
  options: CorrelationOptions<E> = {},
): CorrelationPipeline<E> {
  const stats = new CorrelationStats();
  const set = buildRuleSet([{ rule: null, spec }], eventTime, options, stats, [stats]);
  return {
    operator: (source) => set.operator(source).pipe(map((tagged) => tagged.match)),
    stats,
    late$: set.late$,
    bucketSummaries$: set.bucketSummaries$.pipe(map((tagged) => tagged.summary)),
  };
}

function reorderOptions<E>(options: CorrelationOptions<E>, stats: CorrelationStats): ReorderOptions {
  return {
    allowedLatenessMs: options.allowedLatenessMs,
    latePolicy: options.latePolicy,
    maxFutureSkewMs: options.maxFutureSkewMs,
    maxBufferedBytes: options.maxBufferedBytes,
    record: options.record,
    control: options.control,
    stats,
  };
}

/** One rule of a rule set: its identity (whatever the caller uses: an id, a loaded rule) and its spec. */
export interface RuleSetEntry<E, R> {
  readonly rule: R;
  readonly spec: CorrelationSpec<E>;
  /** The rule's alert suppression (`suppress` in the rule file); a suppressed filter is reordered. */
  readonly suppress?: SuppressSpec<E> | null;
}

export interface RuleMatch<E, R> {
  readonly rule: R;
  readonly match: Match<E>;
}

export interface RuleBucketSummary<R> {
  readonly rule: R;
  readonly summary: BucketSummary;
}

/** Every rule of a detector on one stream, reordered once. */
export interface RuleSetPipeline<E, R> {
  readonly operator: OperatorFunction<E, RuleMatch<E, R>>;
  /** The shared event-time stage: eventsIn, late, invalidTime, buffered, streamTime, watermark. */
  readonly streamStats: CorrelationStats;
  /** Per rule, in the order given: matched, evictions, openPartials, keys. */
  readonly ruleStats: readonly CorrelationStats[];
  /** Per rule, in the order given: its suppression counters, null for a rule without `suppress`. */
  readonly suppressionStats: readonly (SuppressionStats | null)[];
  readonly late$: Observable<LateEvent<E>>;
  readonly bucketSummaries$: Observable<RuleBucketSummary<R>>;
}

/**
 * The detector's shape: all rules over one stream with ONE reorder stage (one stream time, one heap, one
 * late decision per event, as one Kafka Streams task), fanned out to each rule's operator; filters take
 * the un-reordered stream (they have no watermark to blind, so a `future-timestamp` event still
 * reaches them). Every in-memory run goes through here too (`createCorrelationPipeline`,
 * `runCorrelation`, rule tests): tests run what production runs. All rules share `eventTime` and the lateness options; `maxOpenPartials` is per
 * rule. A rule whose operator fails fails the stream (a throwing predicate is an engine bug), unless
 * `onFilterError` takes a plain filter's exceptions and `onStatefulError` a reordered-stream rule's.
 *
 * @example
 * const rules = loaded.map((rule) => ({ rule, spec: rule.compiled.spec }));
 * const detection = createRuleSetPipeline(rules, eventTime, { allowedLatenessMs: 5_000 });
 * events$.pipe(detection.operator).subscribe(({ rule, match }) => publishAlert(rule, match));
 */
export function createRuleSetPipeline<E, R>(
  rules: readonly RuleSetEntry<E, R>[],
  eventTime: EventTime<E>,
  options: RuleSetOptions<E, R> = {},
): RuleSetPipeline<E, R> {
  const streamStats = new CorrelationStats();
  return buildRuleSet(
    rules,
    eventTime,
    options,
    streamStats,
    rules.map(() => new CorrelationStats()),
    options.ruleSetControl,
    options.onFilterError,
    options.onStatefulError,
  );
}

/** The per-rule counters of a rule set after `RuleSetControl.replace`, in the order of its entries. */
export interface RuleSetReplaced {
  readonly ruleStats: readonly CorrelationStats[];
  readonly suppressionStats: readonly (SuppressionStats | null)[];
  /** Entries that kept their runtime (and open state), that started empty, and running rules dropped. */
  readonly kept: number;
  readonly started: number;
  readonly dropped: number;
}

interface RuleSetHandle<E, R> {
  replace(entries: readonly RuleSetEntry<E, R>[], dispatch?: FilterDispatch<E>): RuleSetReplaced;
}

/**
 * Changes the rules of a running rule set between two events (the detector's rule hot reload). An
 * entry whose `rule` is (===) the `rule` of a running entry keeps that rule's runtime, so its open
 * partials and suppression windows carry on; any other entry starts with empty state and sees the events
 * the reorder stage releases from then on (those buffered before included); a running rule not among
 * the entries (removed, or changed: a new `rule` value) is dropped with its partials, silently, but its
 * open suppression windows close at the change and publish their updates through `onSuppressionUpdate`
 * (`closedBy: 'rule-change'`, with the dropped rule's tag and former index), during `replace`, so a
 * count is never lost. A pipeline built with a
 * control always has its reorder stage, whatever kinds of rule it starts with, so a stateful rule can
 * join later. Deterministic: the same replacements at the same points of the input give the same output.
 *
 * @example
 * const control = new RuleSetControl<SequorEvent, CompiledRule>();
 * const set = createRuleSetPipeline(entries, eventTime, { ruleSetControl: control });
 * events$.pipe(set.operator).subscribe(publish);
 * control.replace([...unchanged, changed]); // between two pushes
 */
export class RuleSetControl<E, R> {
  private handle: RuleSetHandle<E, R> | null = null;

  /** Called by the rule set on subscribe; one subscription per control. */
  attach(handle: RuleSetHandle<E, R>): void {
    this.handle = handle;
  }

  detach(handle: RuleSetHandle<E, R>): void {
    if (this.handle === handle) this.handle = null;
  }

  /**
   * `dispatch`: the filter dispatch of the new entries (its indexes name them); without it every filter
   * runs on every event. Throws CorrelationSpecError when no subscription is running (nothing to change).
   */
  replace(entries: readonly RuleSetEntry<E, R>[], dispatch?: FilterDispatch<E>): RuleSetReplaced {
    if (this.handle === null)
      throw new CorrelationSpecError('ruleSetControl', 'detached', 'a subscribed rule set');
    return this.handle.replace(entries, dispatch);
  }
}

/** `createRuleSetPipeline` with the counters given: one rule may share one object for both kinds. */
function buildRuleSet<E, R>(
  rules: readonly RuleSetEntry<E, R>[],
  eventTime: EventTime<E>,
  options: CorrelationOptions<E>,
  streamStats: CorrelationStats,
  ruleStats: readonly CorrelationStats[],
  control?: RuleSetControl<E, R>,
  onFilterError?: (rule: R, event: E, error: unknown) => void,
  onStatefulError?: (rule: R, event: E, error: unknown) => void,
): RuleSetPipeline<E, R> {
  const late$ = new Subject<LateEvent<E>>();
  const summaries$ = new Subject<RuleBucketSummary<R>>();
  const onLate = options.onLate;
  const sink: LateEventSink<E> = {
    late(late) {
      onLate?.(late);
      late$.next(late);
    },
  };
  const makeFactory = (
    entry: RuleSetEntry<E, R>,
    index: () => number,
    stats: CorrelationStats,
    suppression: SuppressionStats | null,
  ): RuntimeFactory<E> => {
    const factory = correlationRuntime(entry.spec, {
      stats,
      maxOpenPartials: options.maxOpenPartials,
      maxStateBytes: options.maxStateBytes,
      onBucketClose: (summary) => {
        callerCallback(() => options.onBucketClose?.(summary));
        summaries$.next({ rule: entry.rule, summary });
      },
    });
    if (!entry.suppress || suppression === null) return factory;
    const onUpdate = options.onSuppressionUpdate;
    return suppressRuntime(
      factory,
      entry.suppress,
      (update) => callerCallback(() => onUpdate?.(update, index(), entry.rule)),
      { ...options.suppression, stats: suppression },
    );
  };
  const suppressionStats = rules.map((entry) => (entry.suppress ? new SuppressionStats() : null));
  const factories = rules.map((entry, index) =>
    makeFactory(entry, () => index, ruleStats[index]!, suppressionStats[index]!),
  );
  // A suppressing filter needs the watermark to close its windows: it takes the reordered stream.
  const isPlainFilter = (entry: RuleSetEntry<E, R>): boolean =>
    entry.spec.kind === 'filter' && !entry.suppress;
  const filterIndexes = indexesWhere(rules, isPlainFilter);
  const statefulIndexes = indexesWhere(rules, (entry) => !isPlainFilter(entry));
  // A rule set that may change keeps its reorder stage (a stateful rule may join) and its stamp.
  const anyStateful = statefulIndexes.length > 0 || control !== undefined;
  // With both kinds, the reorder stage counts events and reports untimeable ones; the stamp stays quiet.
  const stampStats = anyStateful ? new CorrelationStats() : streamStats;
  const stampSink = anyStateful ? undefined : sink;
  const reorder = reorderByEventTime(eventTime, reorderOptions(options, streamStats), sink);

  // One subscription drives every rule: the runtimes are called directly, in rule order, with no
  // Subject or operator between them (each hop was a few calls and checks per event and per rule).
  const operator: OperatorFunction<E, RuleMatch<E, R>> = (source) =>
    new Observable<RuleMatch<E, R>>((subscriber) => {
      const start = (factory: RuntimeFactory<E>, rule: R): OperatorRuntime<E> => {
        const stats = factory.stats;
        return factory((match) => {
          stats.matched++;
          subscriber.next({ rule, match });
        });
      };
      let entries = rules;
      let runtimes = rules.map((entry, index) => start(factories[index]!, entry.rule));
      let filters = filterIndexes.map((index) => runtimes[index]!);
      // The rule of each filter, by the same position (what `onFilterError` names).
      let filterRules = filterIndexes.map((index) => rules[index]!.rule);
      let stateful = statefulIndexes.map((index) => runtimes[index]!);
      // The rule of each stateful runtime, by the same position (what `onStatefulError` names), and
      // whether its exceptions may be caught (`exceptionSafe`).
      let statefulRules = statefulIndexes.map((index) => rules[index]!.rule);
      let statefulSafe = statefulIndexes.map((index) => exceptionSafe(rules[index]!));
      let dispatch = filterDispatchPlan(rules, filterIndexes, options.filterDispatch);
      // Filter runtimes keep nothing of the item they are given: one item, rewritten per event.
      const stamp =
        filters.length > 0 || control !== undefined
          ? new EventTimeStamp(eventTime, stampStats, stampSink, true)
          : null;
      const subscriptions = new Subscription(() => {
        for (const runtime of runtimes) runtime.dispose();
      });
      // A callback's error as the caller passed it; a rule's error that came with suppression keys' as itself.
      const fail = (error: unknown): void =>
        subscriber.error(
          error instanceof CallbackFailure
            ? error.error
            : error instanceof SuppressionKeyError && error.ruleError !== null
              ? error.ruleError.error
              : error,
        );
      // A suppressed rule's keys that threw (its matches went out unsuppressed): each reported with the
      // match's last evidence event, the alert's trigger.
      const reportSuppressionKeys = (position: number, error: SuppressionKeyError<E>): void => {
        for (const { match, error: cause } of error.failures)
          (onStatefulError as NonNullable<typeof onStatefulError>)(
            statefulRules[position]!,
            match.events[match.events.length - 1]!,
            cause,
          );
      };
      // One filter's exception reported (`onFilterError`), the next filter still called.
      const guardedFilter = (position: number, item: TimedEvent<E>, event: E): void => {
        try {
          filters[position]!.onEvent(item);
        } catch (error) {
          (onFilterError as NonNullable<typeof onFilterError>)(filterRules[position]!, event, error);
        }
      };
      if (control !== undefined) {
        const handle: RuleSetHandle<E, R> = {
          replace(next, nextDispatch) {
            const running = new Map<R, number>();
            entries.forEach((entry, i) => running.set(entry.rule, i));
            const nextRuntimes: OperatorRuntime<E>[] = [];
            const nextStats: CorrelationStats[] = [];
            const nextSuppression: (SuppressionStats | null)[] = [];
            let kept = 0;
            next.forEach((entry, index) => {
              const at = running.get(entry.rule);
              if (at !== undefined) {
                running.delete(entry.rule);
                kept++;
                nextRuntimes.push(runtimes[at]!);
                nextStats.push(currentStats[at]!);
                nextSuppression.push(currentSuppression[at]!);
                return;
              }
              const stats = new CorrelationStats();
              const suppression = entry.suppress ? new SuppressionStats() : null;
              const position = index;
              nextRuntimes.push(
                start(
                  makeFactory(entry, () => position, stats, suppression),
                  entry.rule,
                ),
              );
              nextStats.push(stats);
              nextSuppression.push(suppression);
            });
            // Oldest entries first; a suppressing rule's open windows publish their updates here.
            try {
              for (const at of running.values()) retireRuntime(runtimes[at]!);
            } catch (error) {
              // A callback's own error, as the caller passed it (`CallbackFailure` is for the rule loop).
              throw error instanceof CallbackFailure ? error.error : error;
            }
            entries = next;
            runtimes = nextRuntimes;
            currentStats = nextStats;
            currentSuppression = nextSuppression;
            const nextFilterIndexes = indexesWhere(next, isPlainFilter);
            filters = nextFilterIndexes.map((i) => runtimes[i]!);
            filterRules = nextFilterIndexes.map((i) => next[i]!.rule);
            const nextStatefulIndexes = indexesWhere(next, (entry) => !isPlainFilter(entry));
            stateful = nextStatefulIndexes.map((i) => runtimes[i]!);
            statefulRules = nextStatefulIndexes.map((i) => next[i]!.rule);
            statefulSafe = nextStatefulIndexes.map((i) => exceptionSafe(next[i]!));
            dispatch = filterDispatchPlan(next, nextFilterIndexes, nextDispatch);
            return {
              ruleStats: nextStats,
              suppressionStats: nextSuppression,
              kept,
              started: next.length - kept,
              dropped: running.size,
            };
          },
        };
        let currentStats: readonly CorrelationStats[] = ruleStats;
        let currentSuppression: readonly (SuppressionStats | null)[] = suppressionStats;
        control.attach(handle);
        subscriptions.add(() => control.detach(handle));
      }

      // The reorder stage's input: the source's events, pushed by hand.
      let toReorder: Subscriber<E> | null = null;
      if (anyStateful) {
        const reorderInput = new Observable<E>((inner) => {
          toReorder = inner;
        });
        subscriptions.add(
          reorderInput.pipe(reorder).subscribe({
            next: (item) => {
              try {
                if (item.kind === 'event') {
                  if (onStatefulError === undefined) {
                    for (let i = 0; i < stateful.length && !subscriber.closed; i++)
                      stateful[i]!.onEvent(item);
                  } else {
                    // One rule's exception reported with the released event, the next rule still called.
                    for (let i = 0; i < stateful.length && !subscriber.closed; i++) {
                      try {
                        stateful[i]!.onEvent(item);
                      } catch (error) {
                        if (error instanceof SuppressionKeyError) {
                          reportSuppressionKeys(i, error);
                          const rule = error.ruleError;
                          if (rule === null) continue;
                          if (!statefulSafe[i]) throw rule.error;
                          onStatefulError(statefulRules[i]!, item.event, rule.error);
                        } else if (!statefulSafe[i] || error instanceof CallbackFailure) throw error;
                        else onStatefulError(statefulRules[i]!, item.event, error);
                      }
                    }
                  }
                } else {
                  const watermark = item.watermark;
                  for (let i = 0; i < stateful.length && !subscriber.closed; i++) {
                    try {
                      stateful[i]!.onWatermark(watermark);
                    } catch (error) {
                      if (!(error instanceof SuppressionKeyError) || onStatefulError === undefined)
                        throw error;
                      reportSuppressionKeys(i, error);
                    }
                  }
                }
              } catch (error) {
                // Without `onStatefulError`, a watermark's, or the callback's own.
                fail(error);
              }
            },
            error: fail,
            complete: () => {
              try {
                for (let i = 0; i < stateful.length && !subscriber.closed; i++) {
                  try {
                    stateful[i]!.complete();
                  } catch (error) {
                    if (!(error instanceof SuppressionKeyError) || onStatefulError === undefined) throw error;
                    reportSuppressionKeys(i, error);
                  }
                }
              } catch (error) {
                fail(error);
              }
            },
          }),
        );
      }
      subscriptions.add(
        source.subscribe({
          next: (event) => {
            if (subscriber.closed) return;
            if (stamp !== null) {
              try {
                const item = stamp.stamp(event);
                if (item !== undefined && onFilterError === undefined) {
                  if (dispatch === null) {
                    for (let i = 0; i < filters.length && !subscriber.closed; i++) filters[i]!.onEvent(item);
                  } else {
                    const count = dispatch.positions(event);
                    // A rule the dispatch found throwing fails the stream, as its own predicate would.
                    const failures = dispatch.failures();
                    if (failures.length > 0) throw failures[0]!.error;
                    const positions = dispatch.out;
                    for (let i = 0; i < count && !subscriber.closed; i++)
                      filters[positions[i]!]!.onEvent(item);
                  }
                } else if (item !== undefined && onFilterError !== undefined) {
                  // The same, each filter guarded, and the dispatch's own failures reported first.
                  if (dispatch === null) {
                    for (let i = 0; i < filters.length && !subscriber.closed; i++)
                      guardedFilter(i, item, event);
                  } else {
                    const count = dispatch.positions(event);
                    const failures = dispatch.failures();
                    for (let f = 0; f < failures.length; f++) {
                      const { index, error } = failures[f]!;
                      onFilterError(entries[index]!.rule, event, error);
                    }
                    const positions = dispatch.out;
                    for (let i = 0; i < count && !subscriber.closed; i++)
                      guardedFilter(positions[i]!, item, event);
                  }
                }
              } catch (error) {
                fail(error);
                return;
              }
            }
            if (toReorder !== null && !subscriber.closed) toReorder.next(event);
          },
          error: fail,
          complete: () => {
            try {
              for (let i = 0; i < filters.length && !subscriber.closed; i++) filters[i]!.complete();
            } catch (error) {
              fail(error);
              return;
            }
            // Flushes the reorder buffer and every stateful rule's state, synchronously.
            if (toReorder !== null) (toReorder as Subscriber<E>).complete();
            subscriber.complete();
          },
        }),
      );
      return subscriptions;
    });

  return {
    operator,
    streamStats,
    ruleStats,
    suppressionStats,
    late$: late$.asObservable(),
    bucketSummaries$: summaries$.asObservable(),
  };
}

/**
 * Whether a stateful rule's state stays as if the event had not come when its operator throws on it, so
 * that the exception can be reported and the rule go on (`onStatefulError`): the span and sliding
 * aggregates, temporal correlations, sequences and joins evaluate the rule's functions (predicates, keys,
 * values, group key, key values; every input's, step's, item's, `until`'s and missing step's) on an event
 * before they change any state for it; a filter keeps none. A chain (a correlation of correlations) is
 * safe when all its parts are, part by part: the part that threw as if the event had not come, the others
 * having taken it (`ChainRuntime.onEvent`). A suppressed rule is safe when its own kind is: its
 * suppression key, read from a match its operator has already made, fails open instead
 * (`SuppressionKeyError`: the alert goes out unsuppressed).
 */
function exceptionSafe<E, R>(entry: RuleSetEntry<E, R>): boolean {
  return exceptionSafeSpec(entry.spec);
}

function exceptionSafeSpec<X>(spec: CorrelationSpec<X>): boolean {
  switch (spec.kind) {
    case 'filter':
    case 'spanAggregate':
    case 'slidingAggregate':
    case 'slidingTemporal':
    case 'sequence':
    case 'join':
      return true;
    case 'chain':
      return spec.inner.every((inner) => exceptionSafeSpec(inner)) && exceptionSafeSpec(spec.outer);
  }
}

/** Per event, the positions in a rule set's `filters` array to call: `out[0..count)`, valid until the next. */
interface FilterDispatchPlan<E> {
  positions(event: E): number;
  readonly out: Int32Array;
  /** The dispatch's failures of the last `positions` call (`FilterDispatch.failures`). */
  failures(): readonly FilterFailure[];
}

const NO_FAILURES: readonly FilterFailure[] = Object.freeze([]);

/**
 * A `FilterDispatch` turned into positions in the rule set's `filters` array: per event, the covered
 * filters it names plus every uncovered filter, each once, in entry order (so matches come out in the
 * order they would without the dispatch). Null without a dispatch, or when it covers no plain filter.
 * Written into one typed array: a plain array emptied per event gave up its backing store each time.
 */
function filterDispatchPlan<E, R>(
  rules: readonly RuleSetEntry<E, R>[],
  filterIndexes: readonly number[],
  dispatch: FilterDispatch<E> | undefined,
): FilterDispatchPlan<E> | null {
  if (dispatch === undefined) return null;
  // Entry index -> position in `filters`, for the plain filters the dispatch covers; -1 otherwise.
  const coveredPosition = new Int32Array(rules.length).fill(-1);
  const covered = new Set(dispatch.covers);
  const uncovered: number[] = [];
  filterIndexes.forEach((index, position) => {
    if (covered.has(index)) coveredPosition[index] = position;
    else uncovered.push(position);
  });
  if (uncovered.length === filterIndexes.length) return null;
  // Dedupe per event with a generation stamp instead of a Set per event.
  const seen = new Uint32Array(filterIndexes.length);
  let generation = 0;
  // Each position at most once per event: as many as there are filters.
  const out = new Int32Array(filterIndexes.length);
  const failures = dispatch.failures?.bind(dispatch) ?? (() => NO_FAILURES);
  return {
    out,
    failures,
    positions(event: E): number {
      generation = (generation + 1) >>> 0;
      if (generation === 0) {
        seen.fill(0);
        generation = 1;
      }
      let count = 0;
      const matching = dispatch.matching(event);
      for (let m = 0; m < matching.length; m++) {
        const index = matching[m]!;
        const position = index >= 0 && index < coveredPosition.length ? coveredPosition[index]! : -1;
        if (position < 0 || seen[position] === generation) continue;
        seen[position] = generation;
        out[count++] = position;
      }
      for (let u = 0; u < uncovered.length; u++) out[count++] = uncovered[u]!;
      sortAscending(out, count);
      return count;
    },
  };
}

/**
 * Sorts `values[0..count)` in place: an event's dispatched filters are usually a handful, sorted by
 * insertion; a long list (a dispatch that over-approximates a lot) by the typed array's own sort.
 */
function sortAscending(values: Int32Array, count: number): void {
  if (count > 32) {
    values.subarray(0, count).sort();
    return;
  }
  for (let i = 1; i < count; i++) {
    const v = values[i]!;
    let j = i - 1;
    while (j >= 0 && values[j]! > v) {
      values[j + 1] = values[j]!;
      j--;
    }
    values[j + 1] = v;
  }
}

function indexesWhere<T>(items: readonly T[], test: (item: T) => boolean): number[] {
  const indexes: number[] = [];
  items.forEach((item, index) => {
    if (test(item)) indexes.push(index);
  });
  return indexes;
}

export interface CorrelationRun<E> {
  readonly matches: Match<E>[];
  readonly late: LateEvent<E>[];
  readonly bucketSummaries: BucketSummary[];
  readonly stats: CorrelationStatsSnapshot;
}

/**
 * Runs one spec over an array, synchronously, as Kafka Streams' TopologyTestDriver does for a topology:
 * the events go through the pipeline the detector runs (`createRuleSetPipeline`, here with one rule) from
 * `from(events)`, then the end of input flushes the reorder buffer and open state. Same input, same output.
 *
 * @example
 * const run = runCorrelationDetailed(spec, eventTime, { allowedLatenessMs: 0 }, events);
 * expect(run.matches.map((m) => m.events.map((e) => e.id))).toEqual([['a', 'b']]);
 */
export function runCorrelationDetailed<E>(
  spec: CorrelationSpec<E>,
  eventTime: EventTime<E>,
  options: CorrelationOptions<E>,
  events: readonly E[],
): CorrelationRun<E> {
  const late: LateEvent<E>[] = [];
  const bucketSummaries: BucketSummary[] = [];
  const pipeline = createCorrelationPipeline(spec, eventTime, {
    ...options,
    onLate: (event) => {
      late.push(event);
      options.onLate?.(event);
    },
    onBucketClose: (summary) => {
      bucketSummaries.push(summary);
      options.onBucketClose?.(summary);
    },
  });
  const matches: Match<E>[] = [];
  let completed = false;
  let failure: { error: unknown } | undefined;
  from(events)
    .pipe(pipeline.operator)
    .subscribe({
      next: (match) => matches.push(match),
      error: (error: unknown) => (failure = { error }),
      complete: () => (completed = true),
    });
  if (failure !== undefined) throw failure.error;
  // Every stage is synchronous over from(array); anything else is an engine bug, not bad input.
  if (!completed) throw new SequorError('correlation did not complete synchronously over an array');
  return { matches, late, bucketSummaries, stats: pipeline.stats.snapshot() };
}

/** `runCorrelationDetailed(...).matches`: the matches of one spec over an array, synchronously. */
export function runCorrelation<E>(
  spec: CorrelationSpec<E>,
  eventTime: EventTime<E>,
  options: CorrelationOptions<E>,
  events: readonly E[],
): Match<E>[] {
  return runCorrelationDetailed(spec, eventTime, options, events).matches;
}
