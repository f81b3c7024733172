import { Observable, type OperatorFunction } from 'rxjs';
import type { Match, SpanAggregateSpec } from '../types.js';
import { CorrelationStats } from '../stats.js';
import {
  DEFAULT_MAX_OPEN_PARTIALS,
  DEFAULT_MAX_STATE_BYTES,
  PARTIAL_OVERHEAD_BYTES,
  PartialStore,
  type EvictionReason,
  type StoredPartial,
} from '../state/partial-store.js';
import type { Timed, TimedEvent } from '../time/timed.js';
import { requireNumber } from './errors.js';
import type { OperatorOptions } from './options.js';

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
  requireNumber('spanMs', spec.spanMs, 1);
  const stats = options.stats ?? new CorrelationStats();
  const maxOpen = options.maxOpenPartials ?? DEFAULT_MAX_OPEN_PARTIALS;
  requireNumber('maxOpenPartials', maxOpen, 1, true);
  const maxBytes = options.maxStateBytes ?? DEFAULT_MAX_STATE_BYTES;
  const onBucketClose = options.onBucketClose;

  return (source) =>
    new Observable<Match<E>>((subscriber) => {
      const runtime = new SpanRuntime(
        spec,
        stats,
        { maxOpen, maxBytes },
        (match) => subscriber.next(match),
        onBucketClose,
      );
      const subscription = source.subscribe({
        next(item) {
          if (subscriber.closed) return;
          try {
            if (item.kind === 'event') runtime.onEvent(item);
            else runtime.onWatermark(item.watermark);
          } catch (error) {
            subscriber.error(error);
          }
        },
        error(error) {
          runtime.close(false);
          subscriber.error(error);
        },
        complete() {
          try {
            runtime.close(true);
            subscriber.complete();
          } catch (error) {
            subscriber.error(error);
          }
        },
      });
      return () => {
        subscription.unsubscribe();
        runtime.close(false);
      };
    });
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

class SpanRuntime<E> {
  private readonly buckets = new Map<number, Map<string, GroupCount>>();
  private readonly store: PartialStore<GroupCount>;
  private watermark = Number.NEGATIVE_INFINITY;
  // The bucket of the previous event: nearly every event lands in the same one.
  private currentStart = Number.NaN;
  private current: Map<string, GroupCount> | undefined;

  constructor(
    private readonly spec: SpanAggregateSpec<E>,
    private readonly stats: CorrelationStats,
    limits: { readonly maxOpen: number; readonly maxBytes: number },
    private readonly emit: (match: Match<E>) => void,
    private readonly onBucketClose: ((summary: BucketSummary) => void) | undefined,
  ) {
    this.store = new PartialStore(
      limits.maxOpen,
      spec.spanMs,
      'at',
      stats,
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

    let bucket = bucketStart === this.currentStart ? this.current : this.buckets.get(bucketStart);
    if (bucket === undefined) {
      bucket = new Map();
      this.buckets.set(bucketStart, bucket);
    }
    this.currentStart = bucketStart;
    this.current = bucket;

    const groupKey = spec.groupKey(event);
    const group = bucket.get(groupKey);
    if (group !== undefined) {
      group.count++;
      if (time > group.lastTime) group.lastTime = time;
      if (time < group.firstTime) group.firstTime = time;
      return;
    }
    const keyValues = spec.keyValues(event);
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
    this.stats.keys++;
    this.store.add(created);
    this.stats.matched++;
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

  /** End of input (summaries for what is open) or teardown (just drop). */
  close(summarize: boolean): void {
    this.store.drain(summarize ? (group) => this.summarize(group, 'end') : undefined);
    this.stats.keys -= this.countGroups();
    this.buckets.clear();
    this.current = undefined;
    this.currentStart = Number.NaN;
  }

  private countGroups(): number {
    let groups = 0;
    for (const bucket of this.buckets.values()) groups += bucket.size;
    return groups;
  }

  private onEvict(group: GroupCount, reason: EvictionReason): void {
    const bucket = this.buckets.get(group.start);
    if (bucket !== undefined && bucket.get(group.groupKey) === group) {
      bucket.delete(group.groupKey);
      this.stats.keys--;
      if (bucket.size === 0) {
        this.buckets.delete(group.start);
        if (this.current === bucket) {
          this.current = undefined;
          this.currentStart = Number.NaN;
        }
      }
    }
    if (reason === 'window') this.stats.evictedByWindow++;
    else if (reason === 'cap') this.stats.evictedByCap++;
    else this.stats.evictedByBytes++;
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
