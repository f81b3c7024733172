import type { OperatorFunction } from 'rxjs';
import type { JoinSpec, Match } from '../types.js';
import {
  PARTIAL_OVERHEAD_BYTES,
  PartialStore,
  type KeyedState,
  type StoredPartial,
} from '../state/partial-store.js';
import type { Timed, TimedEvent } from '../time/timed.js';
import { CorrelationSpecError } from './errors.js';
import { stateLimits, type OperatorOptions, type StateLimits } from './options.js';
import { runOperator, type OperatorRuntime, type RuntimeFactory } from './runtime.js';

/**
 * An Endgame EQL join: order-free. Per key, the first event matching each item is kept; when every item
 * has one, the join emits (evidence in event-time order, `keyValues` of the earliest) and the key starts
 * over. As in Python eql, items are tried in order and one event fills every still-empty item it matches.
 *
 * Sequor adds a window: all events of one join fall within `windowMs` of the key's first event
 * (inclusive, like maxspan). An event that would stretch the join beyond it starts a fresh join for the
 * key, and the watermark evicts joins whose window has passed. `until` with the same key resets the key.
 * Null keys never join. `windowMs: Infinity` keeps partial joins until the cap evicts them.
 *
 * @example
 * // join by host.id, process.entity_id with maxspan=1h [process where ...] [registry where ...]
 * events$.pipe(reorderByEventTime(eventTime), matchJoin(spec, { maxOpenPartials: 500_000 }));
 */
export function matchJoin<E>(
  spec: JoinSpec<E>,
  options: OperatorOptions = {},
): OperatorFunction<Timed<E>, Match<E>> {
  const create = joinRuntime(spec, options);
  return runOperator<E, Match<E>>(create.stats, create);
}

/** The state behind `matchJoin`, for a caller that drives runtimes itself (a rule set). */
export function joinRuntime<E>(spec: JoinSpec<E>, options: OperatorOptions = {}): RuntimeFactory<E> {
  if (spec.items.length === 0) throw new CorrelationSpecError('items', 0, 'at least one item');
  if (!(spec.windowMs >= 0))
    throw new CorrelationSpecError('windowMs', spec.windowMs, 'a number >= 0 (Infinity: no window)');
  const limits = stateLimits(options);
  return Object.assign((emit: (match: Match<E>) => void) => new JoinRuntime(spec, limits, emit), {
    stats: limits.stats,
  });
}

/** Estimated bytes of one filled join slot besides its event (the slot object). */
const JOIN_SLOT_BYTES = 48;

interface PartialJoin<E> extends StoredPartial {
  readonly key: string;
  /** Time of the key's first event: the window anchor for eviction. */
  readonly start: number;
  minTime: number;
  maxTime: number;
  /** Per item, once filled: the event with its time and processing order (for the evidence order). */
  readonly slots: (JoinSlot<E> | undefined)[];
  filled: number;
}

interface JoinSlot<E> {
  readonly event: E;
  readonly time: number;
  readonly order: number;
}

class JoinRuntime<E> implements OperatorRuntime<E> {
  private readonly partials: KeyedState<string, PartialJoin<E>>;
  private readonly store: PartialStore<PartialJoin<E>>;
  private processed = 0;
  /** Set by teardown, which can happen inside an emission (a consumer's take(1)). */
  private closed = false;
  // What `read` found in the current event, before any state changes for it (`onEvent`).
  private untilKey: string | null = null;
  /** Per item, its key; null when the item does not hold. */
  private readonly itemKeys: (string | null)[];

  constructor(
    private readonly spec: JoinSpec<E>,
    limits: StateLimits,
    private readonly emit: (match: Match<E>) => void,
  ) {
    this.store = new PartialStore(
      limits.maxOpen,
      spec.windowMs,
      'after',
      limits.stats,
      (partial) => this.forget(partial),
      limits.maxBytes,
    );
    this.partials = this.store.keyed();
    this.itemKeys = spec.items.map(() => null);
  }

  /**
   * Two passes, as a sequence's: every rule function the event needs (`until`, each item's predicate and
   * key, its own `keyValues` when some item holds: it may become a join's earliest event, whose key values
   * a match carries) is read before anything changes, so a throw leaves the joins as if the event had not
   * come (`onStatefulError`); then the joins move on what was read. `keyValues` is read again for a match
   * (not kept per open join); a pure function of the event, it answers then as it did.
   */
  onEvent(item: TimedEvent<E>): void {
    this.read(item.event);
    const { spec, partials } = this;
    const event = item.event;
    const time = item.timestamp;
    const order = this.processed++;

    if (this.untilKey !== null) {
      const partial = partials.get(this.untilKey);
      if (partial !== undefined) this.remove(partial);
    }

    const size = spec.items.length;
    for (let index = 0; index < size; index++) {
      const key = this.itemKeys[index]!;
      if (key === null) continue;
      let partial = partials.get(key);
      if (partial !== undefined && partial.slots[index] !== undefined) continue; // first event per item wins
      if (
        partial !== undefined &&
        Math.max(partial.maxTime, time) - Math.min(partial.minTime, time) > spec.windowMs
      ) {
        // In order, this event is past the window for good: the old join can never complete.
        if (time < partial.minTime) continue; // a late event does not displace a newer join
        this.store.expire(partial);
        partial = undefined;
      }
      if (partial === undefined) {
        partial = {
          key,
          start: time,
          minTime: time,
          maxTime: time,
          slots: new Array<JoinSlot<E> | undefined>(size),
          filled: 0,
          live: false,
          bytes: PARTIAL_OVERHEAD_BYTES + key.length + 8 * size,
        };
        partials.set(key, partial);
        this.store.add(partial); // may evict the oldest other join (cap), never this newest one
      }
      partial.slots[index] = { event, time, order };
      // Before a possible completion: a byte eviction may take an older join, never one already done.
      this.store.grow(partial, JOIN_SLOT_BYTES + item.size);
      if (!partial.live) continue; // evicted by that growth (it was the oldest)
      if (time < partial.minTime) partial.minTime = time;
      if (time > partial.maxTime) partial.maxTime = time;
      if (++partial.filled === size) {
        this.remove(partial);
        this.emitMatch(partial);
        if (this.closed) return;
      }
    }
  }

  /** The first pass of `onEvent`: the functions' answers into the runtime's scratch fields. */
  private read(event: E): void {
    const { spec, itemKeys } = this;
    const until = spec.until;
    this.untilKey = until !== null && until.predicate(event) ? until.key(event) : null;
    const items = spec.items;
    let any = false;
    for (let index = 0; index < items.length; index++) {
      const joinItem = items[index]!;
      const key = joinItem.predicate(event) ? joinItem.key(event) : null;
      itemKeys[index] = key;
      if (key !== null) any = true;
    }
    if (any) spec.keyValues(event);
  }

  onWatermark(watermark: number): void {
    this.store.advance(watermark);
  }

  /** End of input: partial joins can no longer complete. */
  complete(): void {
    this.dispose();
  }

  dispose(): void {
    this.closed = true;
    this.store.drain();
    this.partials.clear();
  }

  private remove(partial: PartialJoin<E>): void {
    this.store.release(partial);
    this.forget(partial);
  }

  private forget(partial: PartialJoin<E>): void {
    if (this.partials.get(partial.key) === partial) this.partials.delete(partial.key);
  }

  private emitMatch(partial: PartialJoin<E>): void {
    // Evidence in event-time order, then processing order (tiebreaker, arrival); joins have few items.
    const slots = (partial.slots as JoinSlot<E>[])
      .slice()
      .sort((a, b) => a.time - b.time || a.order - b.order);
    const events = slots.map((slot) => slot.event);
    this.emit({
      kind: 'join',
      events,
      keyValues: this.spec.keyValues(events[0]!),
      firstTime: partial.minTime,
      lastTime: partial.maxTime,
    });
  }
}
