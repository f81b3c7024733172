import type { OperatorFunction } from 'rxjs';
import type { Match, SpanAggregateSpec } from '../types.js';
import {
  PARTIAL_OVERHEAD_BYTES,
  PartialStore,
  type EvictionReason,
  type KeyedState,
  type StoredPartial,
} from '../state/partial-store.js';
import type { Timed, TimedEvent } from '../time/timed.js';
import { requireNumber } from './errors.js';
import { stateLimits, type OperatorOptions, type StateLimits } from './options.js';
import { runOperator, type OperatorRuntime, type RuntimeFactory } from './runtime.js';

/** The final tally of one (bucket, group), reported when its bucket closes. */
export interface BucketSummary {
  readonly bucketStart: number;
  readonly bucketEnd: number;
  readonly groupKey: string;
  readonly keyValues: readonly unknown[];
  /** Matching events in the bucket for this group, including the one that raised the alert. */
  readonly count: number;
  readonly firstTime: number;
  readonly lastTime: number;
  /** `watermark`: the bucket closed normally; `cap`: evicted early by the count or byte bound (count is a lower bound); `end`: end of input. */
  readonly closedBy: 'watermark' | 'cap' | 'end';
}

export interface MatchSpanAggregateOptions extends OperatorOptions {
  /** Called once per (bucket, group) when its state goes; cheap, optional (e.g. a summary topic). */
  readonly onBucketClose?: (summary: BucketSummary) => void;
}

/**
 * Splunk `tstats count ... BY _time span=1h <fields>` as a stream: fixed event-time buckets
 * `[floor(ts / span) * span, + span)`; per (bucket, group) the FIRST matching event emits a match at once
 * (an analyst sees the alert seconds after the write, not at the top of the hour) and the rest of that
 * bucket's group is suppressed but counted. At emission `count` is 1 and `lastTime === firstTime`; the
 * final count arrives in the `onBucketClose` summary when the watermark passes the bucket end, which is
 * also when the state is evicted. An event at exactly the bucket end opens the next bucket.
 *
 * @example
 * // | tstats count from datamodel=Endpoint.Registry where ... by _time span=1h Registry.dest
 * events$.pipe(reorderByEventTime(eventTime), matchSpanAggregate(spec, { onBucketClose: publishSummary }));
 */
export function matchSpanAggregate<E>(
  spec: SpanAggregateSpec<E>,
  options: MatchSpanAggregateOptions = {},
): OperatorFunction<Timed<E>, Match<E>> {
  const create = spanAggregateRuntime(spec, options);
  return runOperator<E, Match<E>>(create.stats, create);
}

/** The state behind `matchSpanAggregate`, for a caller that drives runtimes itself (a rule set). */
export function spanAggregateRuntime<E>(
  spec: SpanAggregateSpec<E>,
  options: MatchSpanAggregateOptions = {},
): RuntimeFactory<E> {
  requireNumber('spanMs', spec.spanMs, 1);
  const limits = stateLimits(options);
  const onBucketClose = options.onBucketClose;
  return Object.assign(
    (emit: (match: Match<E>) => void) => new SpanRuntime(spec, limits, emit, onBucketClose),
    { stats: limits.stats },
  );
}

interface GroupCount extends StoredPartial {
  /** The bucket start (the store closes the bucket at start + span). */
  readonly start: number;
  readonly groupKey: string;
  readonly keyValues: readonly unknown[];
  count: number;
  firstTime: number;
  lastTime: number;
}

class SpanRuntime<E> implements OperatorRuntime<E> {
  /** Bucket start -> its groups (each group's entry counts in the `keys` gauge). */
  private readonly buckets = new Map<number, KeyedState<string, GroupCount>>();
  private readonly store: PartialStore<GroupCount>;
  private watermark = Number.NEGATIVE_INFINITY;
  // The bucket of the previous event: nearly every event lands in the same one.
  private currentStart = Number.NaN;
  private current: KeyedState<string, GroupCount> | undefined;

  constructor(
    private readonly spec: SpanAggregateSpec<E>,
    limits: StateLimits,
    private readonly emit: (match: Match<E>) => void,
    private readonly onBucketClose: ((summary: BucketSummary) => void) | undefined,
  ) {
    this.store = new PartialStore(
      limits.maxOpen,
      spec.spanMs,
      'at',
      limits.stats,
      (group, reason) => this.onEvict(group, reason),
      limits.maxBytes,
    );
  }

  onEvent(item: TimedEvent<E>): void {
    const spec = this.spec;
    const event = item.event;
    if (!spec.predicate(event)) return;
    const time = item.timestamp;
    const span = spec.spanMs;
    const bucketStart = Math.floor(time / span) * span;
    // A late event (latePolicy 'process') for a bucket already closed would alert the group twice.
    if (bucketStart + span <= this.watermark) return;

    // The rule's functions before any state changes: one that throws leaves the buckets as they were.
    const groupKey = spec.groupKey(event);
    let bucket = bucketStart === this.currentStart ? this.current : this.buckets.get(bucketStart);
    const group = bucket?.get(groupKey);
    if (group !== undefined) {
      this.currentStart = bucketStart;
      this.current = bucket;
      group.count++;
      if (time > group.lastTime) group.lastTime = time;
      if (time < group.firstTime) group.firstTime = time;
      return;
    }
    const keyValues = spec.keyValues(event);
    if (bucket === undefined) {
      bucket = this.store.keyed();
      this.buckets.set(bucketStart, bucket);
    }
    this.currentStart = bucketStart;
    this.current = bucket;
    // No event is retained: the group key twice (key and values) is most of a group's size.
    const bytes = PARTIAL_OVERHEAD_BYTES + 2 * groupKey.length;
    const created: GroupCount = {
      start: bucketStart,
      groupKey,
      keyValues,
      count: 1,
      firstTime: time,
      lastTime: time,
      live: false,
      bytes,
    };
    bucket.set(groupKey, created);
    this.store.add(created);
    this.emit({
      kind: 'spanAggregate',
      events: [event],
      keyValues,
      firstTime: time,
      lastTime: time,
      bucketStart,
      count: 1,
    });
  }

  onWatermark(watermark: number): void {
    this.watermark = watermark;
    this.store.advance(watermark);
  }

  /** End of input: a summary for each open group, then nothing is kept. */
  complete(): void {
    this.close((group) => this.summarize(group, 'end'));
  }

  dispose(): void {
    this.close(undefined);
  }

  private close(visit: ((group: GroupCount) => void) | undefined): void {
    this.store.drain(visit);
    for (const bucket of this.buckets.values()) bucket.clear();
    this.buckets.clear();
    this.current = undefined;
    this.currentStart = Number.NaN;
  }

  private onEvict(group: GroupCount, reason: EvictionReason): void {
    const bucket = this.buckets.get(group.start);
    if (bucket !== undefined && bucket.get(group.groupKey) === group) {
      bucket.delete(group.groupKey);
      if (bucket.size === 0) {
        this.buckets.delete(group.start);
        if (this.current === bucket) {
          this.current = undefined;
          this.currentStart = Number.NaN;
        }
      }
    }
    this.summarize(group, reason === 'window' ? 'watermark' : 'cap');
  }

  private summarize(group: GroupCount, closedBy: BucketSummary['closedBy']): void {
    this.onBucketClose?.({
      bucketStart: group.start,
      bucketEnd: group.start + this.spec.spanMs,
      groupKey: group.groupKey,
      keyValues: group.keyValues,
      count: group.count,
      firstTime: group.firstTime,
      lastTime: group.lastTime,
      closedBy,
    });
  }
}
