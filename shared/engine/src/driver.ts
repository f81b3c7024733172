import { Subject, from, type Observable, type OperatorFunction } from 'rxjs';
import { SequorError } from '@sequor/model';
import type { CorrelationSpec, EventTime, LatePolicy, Match } from './types.js';
import { CorrelationStats, type CorrelationStatsSnapshot } from './stats.js';
import { correlate } from './operators/correlate.js';
import type { BucketSummary } from './operators/span-aggregate.js';
import { reorderByEventTime } from './time/reorder-by-event-time.js';
import { stampEventTime } from './time/stamp-event-time.js';
import type { LateEvent, LateEventSink } from './time/timed.js';

export interface CorrelationOptions<E> {
  /** Grace behind stream time (default 5000 ms). */
  readonly allowedLatenessMs?: number;
  /** What happens to an event older than the watermark (default 'drop'). */
  readonly latePolicy?: LatePolicy;
  /** Cap on open partials for the rule (default 200,000); the oldest is evicted beyond it. */
  readonly maxOpenPartials?: number;
  /** Late side channel, called synchronously for each late or untimeable event. */
  readonly onLate?: (late: LateEvent<E>) => void;
  /** spanAggregate only: the final count of each (bucket, group) when its bucket closes. */
  readonly onBucketClose?: (summary: BucketSummary) => void;
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
 * Builds the per-rule pipeline that the detector and the CLI put on their event streams, like a Kafka
 * Streams topology: `events$.pipe(pipeline.operator)`. Filters skip the reorder stage (order cannot
 * change their result, so waiting out the grace would only add latency); everything else is reordered by
 * event time, with the watermark driving window eviction.
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
  const late$ = new Subject<LateEvent<E>>();
  const summaries$ = new Subject<BucketSummary>();
  const onLate = options.onLate;
  const onBucketClose = options.onBucketClose;
  const sink: LateEventSink<E> = {
    late(late) {
      onLate?.(late);
      late$.next(late);
    },
  };
  const timed =
    spec.kind === 'filter'
      ? stampEventTime(eventTime, { stats }, sink)
      : reorderByEventTime(eventTime, { allowedLatenessMs: options.allowedLatenessMs, latePolicy: options.latePolicy, stats }, sink);
  const match = correlate(spec, {
    stats,
    maxOpenPartials: options.maxOpenPartials,
    onBucketClose: (summary) => {
      onBucketClose?.(summary);
      summaries$.next(summary);
    },
  });
  return {
    operator: (source) => match(timed(source)),
    stats,
    late$: late$.asObservable(),
    bucketSummaries$: summaries$.asObservable(),
  };
}

export interface CorrelationRun<E> {
  readonly matches: Match<E>[];
  readonly late: LateEvent<E>[];
  readonly bucketSummaries: BucketSummary[];
  readonly stats: CorrelationStatsSnapshot;
}

/**
 * Runs one spec over an array, synchronously, as Kafka Streams' TopologyTestDriver does for a topology:
 * the events go through the same pipeline as in the services (`from(events)`), then the end of input
 * flushes the reorder buffer and open state. Same input, same output.
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
