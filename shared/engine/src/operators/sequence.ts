import type { OperatorFunction } from 'rxjs';
import type { KeyExtractor, Match, Predicate, SequenceSpec } from '../types.js';
import {
  PARTIAL_OVERHEAD_BYTES,
  PartialStore,
  type EvictionOutcome,
  type EvictionReason,
  type KeyedState,
  type StoredPartial,
} from '../state/partial-store.js';
import type { Timed, TimedEvent } from '../time/timed.js';
import { CorrelationSpecError, requireNumber } from './errors.js';
import { stateLimits, type OperatorOptions, type StateLimits } from './options.js';
import { runOperator, type OperatorRuntime, type RuntimeFactory } from './runtime.js';

/**
 * An EQL sequence with Elasticsearch semantics, over events already in event-time order
 * (`reorderByEventTime` upstream).
 *
 * - Per key, one state machine; each step is a state holding at most one pending sequence, and a newer
 *   pending sequence reaching a state overwrites the older one there (no all-paths matching). Steps are
 *   tried last to first for each event, so one event moves a sequence by at most one step.
 * - `runs=N` repeats a step N times. Each step has its own key extractor; the key strings must be equal
 *   to advance, and a null key never joins.
 * - maxspan is counted from the first event and is inclusive: `last - first <= maxspan` matches, as in
 *   Elasticsearch (`SequenceMatcher`: rejected only when the delta is greater) and Python eql.
 * - `until` with the same key cancels that key's pending sequences (checked before the steps, as Python
 *   eql does, so an event that is both the until and a first step starts a fresh sequence).
 * - Missing steps `![...]` (maxspan required): an event of a missing step with the same key cancels the
 *   pending sequences it falls inside; a sequence ending in missing steps completes when the watermark
 *   passes first + maxspan without one; a sequence starting with them is rejected if one occurred within
 *   maxspan before its last event.
 * - A completed sequence emits a `Match` (evidence = the positive events, in order; `keyValues` of the
 *   first) and frees its state. Watermark advances evict partials whose maxspan has passed; the cap
 *   evicts the oldest partial. On complete, sequences waiting only for a missing step's window complete
 *   (the input is all there is); other partials are dropped.
 *
 * @example
 * // sequence by host.id, user.id with maxspan=1m [authentication where ...] [file where ...]
 * events$.pipe(reorderByEventTime(eventTime, { allowedLatenessMs: 5_000 }), matchSequence(spec, { stats }));
 */
export function matchSequence<E>(
  spec: SequenceSpec<E>,
  options: OperatorOptions = {},
): OperatorFunction<Timed<E>, Match<E>> {
  const create = sequenceRuntime(spec, options);
  return runOperator<E, Match<E>>(create.stats, create);
}

/** The state machine behind `matchSequence`, for a caller that drives runtimes itself (a rule set). */
export function sequenceRuntime<E>(spec: SequenceSpec<E>, options: OperatorOptions = {}): RuntimeFactory<E> {
  const plan = planSequence(spec);
  const limits = stateLimits(options);
  return Object.assign((emit: (match: Match<E>) => void) => new SequenceRuntime(plan, spec, limits, emit), {
    stats: limits.stats,
  });
}

interface PositiveState<E> {
  /** Index of the spec step this state was expanded from (runs share one). */
  readonly step: number;
  readonly predicate: Predicate<E>;
  readonly key: KeyExtractor<E>;
}

interface MissingCheck<E> {
  readonly predicate: Predicate<E>;
  readonly key: KeyExtractor<E>;
  /** The slot whose pending sequences this step cancels (`positives.length` = awaiting the trailing window). */
  readonly slot: number;
}

interface SequencePlan<E> {
  readonly positives: readonly PositiveState<E>[];
  readonly missing: readonly MissingCheck<E>[];
  readonly leading: readonly { readonly predicate: Predicate<E>; readonly key: KeyExtractor<E> }[];
  readonly trailing: boolean;
  readonly maxspan: number | null;
}

/** Expands runs and sorts missing steps by where they sit; validates once, at build time. */
function planSequence<E>(spec: SequenceSpec<E>): SequencePlan<E> {
  const maxspan = spec.maxspanMs;
  if (maxspan !== null) requireNumber('maxspanMs', maxspan, 0);
  const positives: PositiveState<E>[] = [];
  const missing: MissingCheck<E>[] = [];
  const leading: { predicate: Predicate<E>; key: KeyExtractor<E> }[] = [];
  spec.steps.forEach((step, index) => {
    if (step.missing) {
      if (maxspan === null)
        throw new CorrelationSpecError(`steps[${index}].missing`, true, 'a maxspan on the sequence');
      if (positives.length === 0) leading.push({ predicate: step.predicate, key: step.key });
      else missing.push({ predicate: step.predicate, key: step.key, slot: positives.length });
      return;
    }
    requireNumber(`steps[${index}].runs`, step.runs, 1, true);
    for (let run = 0; run < step.runs; run++)
      positives.push({ step: index, predicate: step.predicate, key: step.key });
  });
  if (positives.length === 0)
    throw new CorrelationSpecError('steps', spec.steps.length, 'at least one step that is not missing');
  const trailing = missing.some((check) => check.slot === positives.length);
  return { positives, missing, leading, trailing, maxspan };
}

interface SequencePartial<E> extends StoredPartial {
  readonly key: string;
  /** Time of the first event (= `start`, the maxspan anchor). */
  readonly start: number;
  last: number;
  /** 1..m-1: waiting for that positive step; m: awaiting the trailing missing window; -1: detached. */
  slot: number;
  readonly firstEvent: E;
  /** Events after the first; allocated only when the sequence advances (most partials never do). */
  later: E[] | undefined;
  /** Latest leading missing-step event with this key before the first event; 0 when the rule has none. */
  readonly leadingMissingAt: number;
}

const NO_VALUES: readonly unknown[] = Object.freeze([]);

/** One subscription's state: one map per state of the machine (key -> its pending sequence), as Python eql. */
class SequenceRuntime<E> implements OperatorRuntime<E> {
  /** Index s: sequences waiting for positive step s (index 0 stays empty: step 0 starts sequences). */
  private readonly waiting: KeyedState<string, SequencePartial<E>>[];
  /** Sequences whose positive steps all matched, waiting for the trailing missing window to close. */
  private readonly awaiting: KeyedState<string, SequencePartial<E>[]>;
  private awaitingCount = 0;
  private readonly store: PartialStore<SequencePartial<E>>;
  /** Leading missing steps: latest event time per key, oldest first (re-inserted on update). */
  private readonly recentLeading = new Map<string, number>();
  private readonly m: number;
  /** Set by teardown, which can happen inside an emission (a consumer's take(1)). */
  private closed = false;

  // What `read` found in the current event, before any state changes for it (`onEvent`).
  /** The `until` key; null when none. */
  private untilKey: string | null = null;
  /** Per missing check, its key; null when it does not apply. */
  private readonly missingKeys: (string | null)[];
  /** Per positive slot, the step's key; null when the step does not hold (or was not asked). */
  private readonly slotKeys: (string | null)[];
  /** Per leading missing step, its key; null when it does not hold. */
  private readonly leadingKeys: (string | null)[];
  /** `keyValues` of this event, when it may start a sequence (then its first event). */
  private startValues: readonly unknown[] = NO_VALUES;
  /** The sequence being started by the current event (its match may use `startValues`). */
  private starting: SequencePartial<E> | null = null;

  constructor(
    private readonly plan: SequencePlan<E>,
    private readonly spec: SequenceSpec<E>,
    limits: StateLimits,
    private readonly emit: (match: Match<E>) => void,
  ) {
    this.m = plan.positives.length;
    const lifetime = plan.maxspan ?? Number.POSITIVE_INFINITY;
    this.store = new PartialStore(
      limits.maxOpen,
      lifetime,
      'after',
      limits.stats,
      (partial, reason) => this.onEvict(partial, reason),
      limits.maxBytes,
    );
    this.waiting = Array.from({ length: this.m }, () => this.store.keyed<string, SequencePartial<E>>());
    this.awaiting = this.store.keyed();
    this.missingKeys = plan.missing.map(() => null);
    this.slotKeys = plan.positives.map(() => null);
    this.leadingKeys = plan.leading.map(() => null);
  }

  /**
   * Two passes: `read` calls every rule function the event needs (predicates, keys, and its own
   * `keyValues` when it may start a sequence) before anything changes, so a function that throws leaves the state
   * as if the event had not come (a rule set may report it and go on: `onStatefulError`); then the
   * state machine moves on what was read (a match reads its first event's `keyValues` again: see `read`).
   */
  onEvent(item: TimedEvent<E>): void {
    this.read(item);
    const { plan, m, waiting } = this;
    const time = item.timestamp;

    if (this.untilKey !== null) this.cancelPending(this.untilKey, time);

    const missing = plan.missing;
    for (let index = 0; index < missing.length; index++) {
      const key = this.missingKeys[index]!;
      if (key !== null) this.cancelInside(key, missing[index]!.slot, time);
    }

    // Last step first, so an event that satisfies steps s and s+1 cannot carry one sequence across both.
    for (let slot = m - 1; slot >= 0; slot--) {
      if (slot > 0 && waiting[slot]!.size === 0) continue;
      const key = this.slotKeys[slot]!;
      if (key === null) continue;
      if (slot === 0) this.start(key, item);
      else this.advance(key, slot, item);
      if (this.closed) return;
    }

    if (plan.leading.length > 0) this.recordLeading(time);
    this.startValues = NO_VALUES;
    this.starting = null;
  }

  /**
   * The first pass of `onEvent`: every function a step, `until` or missing step asks of the event, where
   * some sequence is open to it (open counts only shrink during the second pass, so nothing it needs is
   * left unread), and the event's own `keyValues` when it may start a sequence (read as it comes, so a
   * throw names this event and it starts none), into the runtime's scratch fields. `keyValues` is read
   * again from the first event when its sequence completes (not kept: one array per open sequence cost 5 %
   * of its bytes); a pure function of the event, it answers then as it did.
   */
  private read(item: TimedEvent<E>): void {
    const { plan, m, waiting, spec } = this;
    const event = item.event;
    this.starting = null;

    const until = spec.until;
    this.untilKey = until !== null && until.predicate(event) ? until.key(event) : null;

    const missing = plan.missing;
    for (let index = 0; index < missing.length; index++) {
      const check = missing[index]!;
      const open = check.slot < m ? waiting[check.slot]!.size : this.awaitingCount;
      this.missingKeys[index] = open > 0 && check.predicate(event) ? check.key(event) : null;
    }

    const positives = plan.positives;
    let cachedStep = -1;
    let cachedKey: string | null = null;
    for (let slot = m - 1; slot >= 0; slot--) {
      if (slot > 0 && waiting[slot]!.size === 0) {
        this.slotKeys[slot] = null;
        continue;
      }
      const state = positives[slot]!;
      if (state.step !== cachedStep) {
        cachedStep = state.step;
        cachedKey = state.predicate(event) ? state.key(event) : null;
      }
      this.slotKeys[slot] = cachedKey;
    }

    this.startValues = this.slotKeys[0] !== null ? spec.keyValues(event) : NO_VALUES;

    const leading = plan.leading;
    for (let index = 0; index < leading.length; index++) {
      const step = leading[index]!;
      this.leadingKeys[index] = step.predicate(event) ? step.key(event) : null;
    }
  }

  onWatermark(watermark: number): void {
    this.store.advance(watermark);
    const maxspan = this.plan.maxspan;
    if (maxspan !== null && this.recentLeading.size > 0) {
      for (const [key, time] of this.recentLeading) {
        if (!(time + maxspan < watermark)) break;
        this.recentLeading.delete(key);
      }
    }
  }

  /** End of input: sequences waiting only for a missing step's window complete; the rest is dropped. */
  complete(): void {
    this.store.drain((partial) => {
      if (partial.slot === this.m) this.emitMatch(partial);
    });
    this.reset();
  }

  /** Teardown or upstream error: drop everything. */
  dispose(): void {
    this.closed = true;
    this.store.drain();
    this.reset();
  }

  private reset(): void {
    for (const map of this.waiting) map.clear();
    this.awaiting.clear();
    this.awaitingCount = 0;
    this.recentLeading.clear();
  }

  private start(key: string, item: TimedEvent<E>): void {
    const time = item.timestamp;
    const pending = this.m > 1 ? this.waiting[1]!.get(key) : undefined;
    // Only a late event (latePolicy 'process') can be older than a pending sequence: it never replaces it.
    if (pending !== undefined && pending.start > time) return;
    const partial: SequencePartial<E> = {
      key,
      start: time,
      last: time,
      slot: -1,
      firstEvent: item.event,
      later: undefined,
      live: false,
      leadingMissingAt:
        this.plan.leading.length > 0 ? (this.recentLeading.get(key) ?? Number.NEGATIVE_INFINITY) : 0,
      bytes: PARTIAL_OVERHEAD_BYTES + key.length + item.size,
    };
    this.starting = partial;
    this.place(partial, 1, pending);
    // Placed first so a cap eviction triggered by this add can never pick the newest partial's slot.
    if (partial.slot !== -1) this.store.add(partial); // not when it completed at once (one positive step)
  }

  private advance(key: string, slot: number, item: TimedEvent<E>): void {
    const waiting = this.waiting[slot]!;
    const partial = waiting.get(key);
    if (partial === undefined) return;
    const time = item.timestamp;
    if (time < partial.last) return; // a late event never reorders a sequence
    const maxspan = this.plan.maxspan;
    if (maxspan !== null && time - partial.start > maxspan) {
      this.store.expire(partial); // in order, this event shows the window is over
      return;
    }
    waiting.delete(key);
    partial.slot = -1;
    (partial.later ??= []).push(item.event);
    partial.last = time;
    this.place(partial, slot + 1);
    // After placing: a byte eviction may then pick this partial like any other (it is in a map again).
    if (!this.closed) this.store.grow(partial, 8 + item.size);
  }

  /**
   * Puts a sequence in `slot` (overwriting the older one there) or completes it. `older`: what the caller
   * already found in `slot` for this key (saves a second lookup); `null` when it did not look.
   */
  private place(
    partial: SequencePartial<E>,
    slot: number,
    older: SequencePartial<E> | undefined | null = null,
  ): void {
    if (slot < this.m) {
      const waiting = this.waiting[slot]!;
      if (older === null) older = waiting.get(partial.key);
      if (older !== undefined) {
        this.store.release(older);
        older.slot = -1;
      }
      waiting.set(partial.key, partial);
      partial.slot = slot;
      return;
    }
    const maxspan = this.plan.maxspan;
    if (this.plan.leading.length > 0 && partial.leadingMissingAt >= partial.last - maxspan!) {
      this.store.release(partial);
      return;
    }
    if (this.plan.trailing) {
      // Completed sequences are candidates of their own: they do not overwrite each other.
      let list = this.awaiting.get(partial.key);
      if (list === undefined) {
        list = [];
        this.awaiting.set(partial.key, list);
      }
      list.push(partial);
      this.awaitingCount++;
      partial.slot = this.m;
      return;
    }
    this.store.release(partial);
    this.emitMatch(partial);
  }

  /** Removes a sequence from the machine's maps (the store has already let it go). */
  private detach(partial: SequencePartial<E>): void {
    const slot = partial.slot;
    if (slot === this.m) {
      const list = this.awaiting.get(partial.key)!;
      list.splice(list.indexOf(partial), 1);
      this.awaitingCount--;
      if (list.length === 0) this.awaiting.delete(partial.key);
    } else if (slot > 0) {
      const waiting = this.waiting[slot]!;
      if (waiting.get(partial.key) === partial) waiting.delete(partial.key);
    }
    partial.slot = -1;
  }

  /** `until`: cancels the key's pending sequences that began before it (completed ones stand). */
  private cancelPending(key: string, time: number): void {
    for (let slot = 1; slot < this.m; slot++) {
      const partial = this.waiting[slot]!.get(key);
      if (partial !== undefined && partial.start <= time) {
        this.store.release(partial);
        this.detach(partial);
      }
    }
  }

  /** A missing step's event: cancels the key's sequences in `slot` whose gap it falls in. */
  private cancelInside(key: string, slot: number, time: number): void {
    if (slot < this.m) {
      const partial = this.waiting[slot]!.get(key);
      if (partial !== undefined && time >= partial.last) {
        this.store.release(partial);
        this.detach(partial);
      }
      return;
    }
    const list = this.awaiting.get(key);
    if (list === undefined) return;
    const maxspan = this.plan.maxspan!;
    for (let index = list.length - 1; index >= 0; index--) {
      const partial = list[index]!;
      if (time >= partial.last && time - partial.start <= maxspan) {
        this.store.release(partial);
        this.detach(partial);
      }
    }
  }

  private recordLeading(time: number): void {
    const leading = this.plan.leading;
    for (let index = 0; index < leading.length; index++) {
      const key = this.leadingKeys[index]!;
      if (key === null) continue;
      const previous = this.recentLeading.get(key);
      if (previous !== undefined && previous >= time) continue;
      this.recentLeading.delete(key);
      this.recentLeading.set(key, time);
    }
  }

  private onEvict(partial: SequencePartial<E>, reason: EvictionReason): EvictionOutcome {
    const awaitingWindow = partial.slot === this.m;
    this.detach(partial);
    if (reason !== 'window' || !awaitingWindow) return;
    this.emitMatch(partial); // the trailing missing step did not occur within maxspan
    return 'completed';
  }

  private emitMatch(partial: SequencePartial<E>): void {
    const later = partial.later;
    const events = later === undefined ? [partial.firstEvent] : [partial.firstEvent, ...later];
    this.emit({
      kind: 'sequence',
      events,
      keyValues: partial === this.starting ? this.startValues : this.spec.keyValues(partial.firstEvent),
      firstTime: partial.start,
      lastTime: partial.last,
    });
  }
}
