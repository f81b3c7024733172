import type { OperatorFunction } from 'rxjs';
import type { CorrelationThreshold, Match, SlidingAggregateSpec, SlidingInputSpec } from '../types.js';
import {
  PARTIAL_OVERHEAD_BYTES,
  PartialStore,
  type EvictionReason,
  type KeyedState,
  type StoredPartial,
} from '../state/partial-store.js';
import type { Timed, TimedEvent } from '../time/timed.js';
import { CorrelationSpecError, requireNumber } from './errors.js';
import { stateLimits, type OperatorOptions, type StateLimits } from './options.js';
import { runOperator, type OperatorRuntime, type RuntimeFactory } from './runtime.js';

/**
 * Sigma `event_count` / `value_count` / `value_sum` / `value_avg` as a stream: per group, the events of the
 * inputs within `windowMs` (inclusive: two events exactly `windowMs` apart share a window, one
 * millisecond more does not, as a sequence's maxspan), measured, against a threshold.
 *
 * - **Lower bounds only** (`gt`, `gte`): sliding. The window is the one ending at each event,
 *   `[t - windowMs, t]`; the match is emitted on the event that makes the threshold hold, and again only
 *   after it stopped holding: on a group's event whose window holds it while the window of the group's
 *   previous event (within `windowMs`) did not. One alert per burst, not one per event of the burst, and
 *   a decision that depends only on the events of the last two windows, so a replay of `2 * windowMs`
 *   (plus lateness) rebuilds it exactly (a reset on each alert would depend on every earlier alert).
 * - **Any upper bound** (`lt`, `lte`, `eq`, `neq`, ranges): fixed event-time buckets
 *   `[floor(t / windowMs) * windowMs, + windowMs)`, decided when the watermark reaches the bucket's end
 *   (a count below N is only known once the window is over), or at the end of input. A group with no
 *   event in a bucket has no window: `lt` cannot see zero.
 *
 * Evidence: the group's latest `maxEvidence` events in the window, in event-time order; `count` is how
 * many events the window held, `value` the measure. An event counts once, under the first input it
 * matches with a non-null key (a missing group-by field: no group); a `distinct`/`sum`/`avg` event
 * without a usable value is not counted at all. Late events let through by `latePolicy: 'process'` are
 * ignored in the sliding mode (they would rewrite windows already decided) and counted in the bucket
 * mode while their bucket is still open (as spanAggregate). State: one entry per counted event in the
 * sliding mode (the event itself only for the latest `maxEvidence`), one aggregate per (bucket, group)
 * in the bucket mode; both bounded by `maxOpenPartials`/`maxStateBytes` (oldest first) and evicted by
 * the watermark.
 *
 * @example
 * // correlation: { type: event_count, group-by: [User], timespan: 10m, condition: { gte: 10 } }
 * events$.pipe(reorderByEventTime(eventTime), matchSlidingAggregate(spec));
 */
export function matchSlidingAggregate<E>(
  spec: SlidingAggregateSpec<E>,
  options: OperatorOptions = {},
): OperatorFunction<Timed<E>, Match<E>> {
  const create = slidingAggregateRuntime(spec, options);
  return runOperator<E, Match<E>>(create.stats, create);
}

/** The state behind `matchSlidingAggregate`, for a caller that drives runtimes itself (a rule set). */
export function slidingAggregateRuntime<E>(
  spec: SlidingAggregateSpec<E>,
  options: OperatorOptions = {},
): RuntimeFactory<E> {
  requireNumber('windowMs', spec.windowMs, 1);
  requireNumber('maxEvidence', spec.maxEvidence, 1, true);
  if (spec.inputs.length === 0) throw new CorrelationSpecError('inputs', 0, 'at least one input');
  const test = thresholdTest(spec.threshold);
  if (spec.measure !== 'count' && spec.inputs.some((input) => input.value === null))
    throw new CorrelationSpecError('inputs[].value', null, `a value extractor for measure ${spec.measure}`);
  const limits = stateLimits(options);
  const bucketed = !isLowerBoundOnly(spec.threshold);
  return Object.assign(
    (emit: (match: Match<E>) => void) =>
      bucketed ? new BucketRuntime(spec, test, limits, emit) : new SlidingRuntime(spec, test, limits, emit),
    { stats: limits.stats },
  );
}

const THRESHOLD_KEYS = ['gt', 'gte', 'lt', 'lte', 'eq', 'neq'] as const;

/** True when the threshold has only `gt`/`gte`: decidable on the event that crosses it. */
export function isLowerBoundOnly(threshold: CorrelationThreshold): boolean {
  return (
    threshold.lt === undefined &&
    threshold.lte === undefined &&
    threshold.eq === undefined &&
    threshold.neq === undefined
  );
}

/** The threshold as one test, checked once (at least one bound, every bound a finite number). */
export function thresholdTest(threshold: CorrelationThreshold): (value: number) => boolean {
  const given = THRESHOLD_KEYS.filter((key) => threshold[key] !== undefined);
  if (given.length === 0)
    throw new CorrelationSpecError('threshold', '{}', 'at least one of ' + THRESHOLD_KEYS.join(', '));
  for (const key of given) {
    const bound = threshold[key]!;
    if (!Number.isFinite(bound)) throw new CorrelationSpecError(`threshold.${key}`, bound, 'a finite number');
  }
  const { gt, gte, lt, lte, eq, neq } = threshold;
  return (value) =>
    (gt === undefined || value > gt) &&
    (gte === undefined || value >= gte) &&
    (lt === undefined || value < lt) &&
    (lte === undefined || value <= lte) &&
    (eq === undefined || value === eq) &&
    (neq === undefined || value !== neq);
}

/** Estimated bytes of one counted event's entry besides its value and the event it may hold. */
const ENTRY_BYTES = 64;

/**
 * A counted value as a distinct-map key: a string as itself (no new string per event: the event's own,
 * usually flat and hashed once), a number tagged with a NUL prefix, and a string that itself starts with
 * NUL tagged too, so `1` and `"1"` stay apart.
 */
function distinctKey(value: string | number): string {
  if (typeof value === 'number') return `\u0000n${value}`;
  return value.charCodeAt(0) === 0 ? `\u0000s${value}` : value;
}

/** The running measure of one window: what both modes keep per group. Distinct values come tagged. */
class Tally {
  count = 0;
  sum = 0;
  distinct: Map<string, number> | null;

  constructor(measure: SlidingAggregateSpec<unknown>['measure']) {
    this.distinct = measure === 'distinct' ? new Map() : null;
  }

  add(value: string | number | null): number {
    this.count++;
    if (typeof value === 'number') this.sum += value;
    if (this.distinct !== null && value !== null) {
      const key = value as string; // tagged once, by `countedAs`
      const seen = this.distinct.get(key);
      this.distinct.set(key, seen === undefined ? 1 : seen + 1);
      // A new distinct value costs its key in the map; a repeat costs nothing more.
      return seen === undefined ? 2 * key.length + 48 : 0;
    }
    return 0;
  }

  remove(value: string | number | null): void {
    this.count--;
    if (typeof value === 'number') this.sum -= value;
    if (this.distinct !== null && value !== null) {
      const key = value as string;
      const seen = this.distinct.get(key)!;
      if (seen === 1) this.distinct.delete(key);
      else this.distinct.set(key, seen - 1);
    }
  }

  measure(kind: SlidingAggregateSpec<unknown>['measure']): number {
    switch (kind) {
      case 'count':
        return this.count;
      case 'distinct':
        return this.distinct!.size;
      case 'sum':
        return this.sum;
      case 'avg':
        return this.count === 0 ? 0 : this.sum / this.count;
    }
  }
}

/** The input an event counts under and its group, or null when it counts nowhere. */
interface Counted<E> {
  input: SlidingInputSpec<E>;
  key: string;
  /** `distinct`: the value's tagged key; `sum`/`avg`: the number; `count`: null. */
  value: string | number | null;
}

function countedAs<E>(spec: SlidingAggregateSpec<E>, event: E, out: Counted<E>): boolean {
  const inputs = spec.inputs;
  for (let index = 0; index < inputs.length; index++) {
    const input = inputs[index]!;
    if (!input.predicate(event)) continue;
    const key = input.key(event);
    if (key === null) continue;
    let value: string | number | null = null;
    if (input.value !== null) {
      value = input.value(event);
      if (value === null) continue;
      if (spec.measure === 'distinct') value = distinctKey(value);
      else if (typeof value !== 'number' || !Number.isFinite(value)) continue;
    }
    out.input = input;
    out.key = key;
    out.value = value;
    return true;
  }
  return false;
}

// ---------------------------------------------------------------------------------------------------
// Sliding mode (lower bounds): one store entry per counted event.

interface SlidingEntry<E> extends StoredPartial {
  readonly group: SlidingGroup<E>;
  readonly value: string | number | null;
  /** Held only while the entry is among the group's latest `maxEvidence`. */
  event: E | undefined;
  readonly size: number;
}

interface SlidingGroup<E> {
  readonly key: string;
  /** The group's entries in event-time order, from `head`. */
  entries: SlidingEntry<E>[];
  head: number;
  readonly tally: Tally;
  /** Whether the threshold held on the window of the group's latest entry. */
  held: boolean;
  keyValues: readonly unknown[];
}

class SlidingRuntime<E> implements OperatorRuntime<E> {
  private readonly groups: KeyedState<string, SlidingGroup<E>>;
  private readonly store: PartialStore<SlidingEntry<E>>;
  private readonly counted: Counted<E> = { input: undefined as never, key: '', value: null };
  private closed = false;

  constructor(
    private readonly spec: SlidingAggregateSpec<E>,
    private readonly test: (value: number) => boolean,
    limits: StateLimits,
    private readonly emit: (match: Match<E>) => void,
  ) {
    this.store = new PartialStore(
      limits.maxOpen,
      spec.windowMs,
      'after',
      limits.stats,
      (entry) => this.forget(entry),
      limits.maxBytes,
    );
    this.groups = this.store.keyed();
  }

  onEvent(item: TimedEvent<E>): void {
    if (item.late) return;
    const spec = this.spec;
    const event = item.event;
    const counted = this.counted;
    if (!countedAs(spec, event, counted)) return;
    // The rule's functions before any state changes: one that throws leaves the group as it was.
    const keyValues = counted.input.keyValues(event);
    const time = item.timestamp;
    let group = this.groups.get(counted.key);
    // The window ending at this event: entries older than time - windowMs are out of it for good.
    let previousHeld = false;
    if (group !== undefined) {
      const floor = time - spec.windowMs;
      while (group.head < group.entries.length && group.entries[group.head]!.start < floor) {
        const oldest = group.entries[group.head]!;
        // An entry never stored (its add threw) is forgotten here, or the loop would not move.
        if (oldest.live) this.store.expire(oldest);
        else this.forget(oldest);
      }
      // `forget` deletes an emptied group: the previous event is then outside this window.
      if (this.groups.get(counted.key) === group) previousHeld = group.held;
      else group = undefined;
    }
    if (group === undefined) {
      group = {
        key: counted.key,
        entries: [],
        head: 0,
        tally: new Tally(spec.measure),
        held: false,
        keyValues: [],
      };
      this.groups.set(counted.key, group);
    }
    const value = counted.value;
    const entry: SlidingEntry<E> = {
      start: time,
      live: false,
      bytes: 0,
      group,
      value,
      event,
      size: item.size,
    };
    entry.bytes =
      ENTRY_BYTES +
      item.size +
      (typeof value === 'string' ? 2 * value.length : 0) +
      group.tally.add(value) +
      (group.head === group.entries.length ? PARTIAL_OVERHEAD_BYTES + 2 * counted.key.length : 0);
    group.entries.push(entry);
    // The event leaving the evidence: its entry keeps only its time and value.
    const evidenceFrom = group.entries.length - spec.maxEvidence;
    if (evidenceFrom - 1 >= group.head) {
      const older = group.entries[evidenceFrom - 1]!;
      if (older.event !== undefined) {
        older.event = undefined;
        this.store.grow(older, -older.size);
      }
    }
    group.keyValues = keyValues;
    this.store.add(entry); // may evict older entries (cap, bytes), never this one
    if (!entry.live) return;
    const measured = group.tally.measure(spec.measure);
    const held = this.test(measured);
    group.held = held;
    if (held && (!previousHeld || this.spec.fireWhileHeld === true)) this.emitMatch(group, measured, time);
  }

  onWatermark(watermark: number): void {
    this.store.advance(watermark);
  }

  /** End of input: every decision was taken on an event; nothing is left to decide. */
  complete(): void {
    this.dispose();
  }

  dispose(): void {
    this.closed = true;
    this.store.drain();
    this.groups.clear();
  }

  /** An entry left the store (window, cap, bytes): it is its group's oldest. */
  private forget(entry: SlidingEntry<E>): void {
    const group = entry.group;
    if (this.closed) return;
    const entries = group.entries;
    if (entries[group.head] !== entry) return; // already gone with its group
    entries[group.head++] = undefined as never;
    group.tally.remove(entry.value);
    if (group.head === entries.length) {
      if (this.groups.get(group.key) === group) this.groups.delete(group.key);
      group.entries = [];
      group.head = 0;
    } else if (group.head > 64 && group.head * 2 > entries.length) {
      group.entries = entries.slice(group.head);
      group.head = 0;
    }
  }

  private emitMatch(group: SlidingGroup<E>, measured: number, time: number): void {
    const events: E[] = [];
    const entries = group.entries;
    let firstTime = time;
    for (
      let index = Math.max(group.head, entries.length - this.spec.maxEvidence);
      index < entries.length;
      index++
    ) {
      const entry = entries[index]!;
      if (entry.event === undefined) continue;
      if (events.length === 0) firstTime = entry.start;
      events.push(entry.event);
    }
    this.emit({
      kind: 'slidingAggregate',
      events,
      keyValues: group.keyValues,
      firstTime,
      lastTime: time,
      count: group.tally.count,
      value: measured,
    });
  }
}

// ---------------------------------------------------------------------------------------------------
// Bucket mode (any upper bound): one aggregate per (bucket, group), decided when the bucket closes.

interface BucketGroup<E> extends StoredPartial {
  /** The bucket start. */
  readonly start: number;
  readonly key: string;
  readonly tally: Tally;
  /** The latest `maxEvidence` events, oldest first. */
  readonly evidence: E[];
  readonly evidenceSizes: number[];
  keyValues: readonly unknown[];
  firstTime: number;
  lastTime: number;
}

class BucketRuntime<E> implements OperatorRuntime<E> {
  private readonly buckets = new Map<number, KeyedState<string, BucketGroup<E>>>();
  private readonly store: PartialStore<BucketGroup<E>>;
  private readonly counted: Counted<E> = { input: undefined as never, key: '', value: null };
  private watermark = Number.NEGATIVE_INFINITY;
  private closed = false;

  constructor(
    private readonly spec: SlidingAggregateSpec<E>,
    private readonly test: (value: number) => boolean,
    limits: StateLimits,
    private readonly emit: (match: Match<E>) => void,
  ) {
    this.store = new PartialStore(
      limits.maxOpen,
      spec.windowMs,
      'at',
      limits.stats,
      (group, reason) => this.onEvict(group, reason),
      limits.maxBytes,
    );
  }

  onEvent(item: TimedEvent<E>): void {
    const spec = this.spec;
    const counted = this.counted;
    const event = item.event;
    if (!countedAs(spec, event, counted)) return;
    const time = item.timestamp;
    const span = spec.windowMs;
    const bucketStart = Math.floor(time / span) * span;
    // A late event (latePolicy 'process') for a bucket already decided would decide it twice.
    if (bucketStart + span <= this.watermark) return;
    let bucket = this.buckets.get(bucketStart);
    let group = bucket?.get(counted.key);
    // The rule's functions before any state changes: one that throws leaves the bucket as it was.
    const keyValues = group === undefined || time >= group.lastTime ? counted.input.keyValues(event) : null;
    if (bucket === undefined) {
      bucket = this.store.keyed();
      this.buckets.set(bucketStart, bucket);
    }
    let isNew = false;
    if (group === undefined) {
      isNew = true;
      group = {
        start: bucketStart,
        key: counted.key,
        tally: new Tally(spec.measure),
        evidence: [],
        evidenceSizes: [],
        keyValues: keyValues as readonly unknown[],
        firstTime: time,
        lastTime: time,
        live: false,
        bytes: PARTIAL_OVERHEAD_BYTES + 2 * counted.key.length,
      };
      bucket.set(counted.key, group);
    }
    let delta = group.tally.add(counted.value) + item.size;
    if (time < group.firstTime) group.firstTime = time;
    if (time >= group.lastTime) {
      group.lastTime = time;
      group.keyValues = keyValues as readonly unknown[];
    }
    group.evidence.push(event);
    group.evidenceSizes.push(item.size);
    if (group.evidence.length > spec.maxEvidence) {
      group.evidence.shift();
      delta -= group.evidenceSizes.shift()!;
    }
    if (isNew) {
      group.bytes += delta;
      this.store.add(group);
    } else this.store.grow(group, delta);
  }

  onWatermark(watermark: number): void {
    this.watermark = watermark;
    this.store.advance(watermark);
  }

  /** End of input: every open bucket is decided on what it holds (the input is all there is). */
  complete(): void {
    const open: BucketGroup<E>[] = [];
    this.store.drain((group) => open.push(group));
    this.clear();
    for (const group of open) {
      if (this.closed) return;
      this.decide(group);
    }
  }

  dispose(): void {
    this.closed = true;
    this.store.drain();
    this.clear();
  }

  private clear(): void {
    for (const bucket of this.buckets.values()) bucket.clear();
    this.buckets.clear();
  }

  private onEvict(group: BucketGroup<E>, reason: EvictionReason): void {
    const bucket = this.buckets.get(group.start);
    if (bucket !== undefined && bucket.get(group.key) === group) {
      bucket.delete(group.key);
      if (bucket.size === 0) this.buckets.delete(group.start);
    }
    // A bucket evicted early by a bound holds part of its window: deciding on it could fake an `lt`.
    if (reason === 'window') this.decide(group);
  }

  private decide(group: BucketGroup<E>): void {
    const measured = group.tally.measure(this.spec.measure);
    if (!this.test(measured)) return;
    this.emit({
      kind: 'slidingAggregate',
      events: group.evidence,
      keyValues: group.keyValues,
      firstTime: group.firstTime,
      lastTime: group.lastTime,
      bucketStart: group.start,
      count: group.tally.count,
      value: measured,
    });
  }
}
