import type { OperatorFunction } from 'rxjs';
import type { Match, SlidingTemporalSpec } from '../types.js';
import {
  PARTIAL_OVERHEAD_BYTES,
  PartialStore,
  type KeyedState,
  type StoredPartial,
} from '../state/partial-store.js';
import type { Timed, TimedEvent } from '../time/timed.js';
import { CorrelationSpecError, requireNumber } from './errors.js';
import { stateLimits, type OperatorOptions, type StateLimits } from './options.js';
import { runOperator, type OperatorRuntime, type RuntimeFactory } from './runtime.js';

/**
 * Sigma `temporal` as a stream: per group, at least `minInputs` of the inputs (by default all) matched
 * within `windowMs`, in any order. Sliding: per group and input only the latest matching event is kept
 * (if any combination fits in the window ending now, the latest ones do), and the window is the one
 * ending at each event, `[t - windowMs, t]`, inclusive (events exactly `windowMs` apart match, as a
 * sequence's maxspan; one millisecond more does not).
 *
 * The match is emitted on the event that makes the condition hold, and again only after it stopped
 * holding (on a group's event whose window holds it while the window of the group's previous event,
 * within `windowMs`, did not): one alert per episode, and a decision that depends only on the last two
 * windows, so a replay of `2 * windowMs` (plus lateness) rebuilds it. Evidence: the latest event of each
 * input in the window, in event-time order, each event once; `count` = inputs matched. An event may fill
 * several inputs (each with its own key: Sigma aliases), so one event matching two inputs holds both. A null key (a missing group-by field) joins no group. Late
 * events let through by `latePolicy: 'process'` are ignored. State: one entry per (group, input), evicted
 * by the watermark once `windowMs` old, bounded by `maxOpenPartials`/`maxStateBytes`.
 *
 * @example
 * // correlation: { type: temporal, rules: [recon_a, recon_b, recon_c], group-by: [User], timespan: 5m }
 * events$.pipe(reorderByEventTime(eventTime), matchSlidingTemporal(spec));
 */
export function matchSlidingTemporal<E>(
  spec: SlidingTemporalSpec<E>,
  options: OperatorOptions = {},
): OperatorFunction<Timed<E>, Match<E>> {
  const create = slidingTemporalRuntime(spec, options);
  return runOperator<E, Match<E>>(create.stats, create);
}

/** The state behind `matchSlidingTemporal`, for a caller that drives runtimes itself (a rule set). */
export function slidingTemporalRuntime<E>(
  spec: SlidingTemporalSpec<E>,
  options: OperatorOptions = {},
): RuntimeFactory<E> {
  requireNumber('windowMs', spec.windowMs, 0);
  if (spec.inputs.length === 0) throw new CorrelationSpecError('inputs', 0, 'at least one input');
  requireNumber('minInputs', spec.minInputs, 1, true);
  if (spec.minInputs > spec.inputs.length)
    throw new CorrelationSpecError('minInputs', spec.minInputs, `at most the ${spec.inputs.length} inputs`);
  const limits = stateLimits(options);
  return Object.assign((emit: (match: Match<E>) => void) => new TemporalRuntime(spec, limits, emit), {
    stats: limits.stats,
  });
}

/** Estimated bytes of one (group, input) slot besides its event. */
const SLOT_BYTES = 64;

interface TemporalSlot<E> extends StoredPartial {
  /** The event's time. */
  readonly start: number;
  readonly group: TemporalGroup<E>;
  readonly input: number;
  readonly event: E;
  /** Processing order, for the evidence order of equal times. */
  readonly order: number;
}

interface TemporalGroup<E> {
  readonly key: string;
  readonly slots: (TemporalSlot<E> | undefined)[];
  filled: number;
  /** Whether the condition held on the window of the group's latest event, and that event's time. */
  held: boolean;
  heldAt: number;
}

class TemporalRuntime<E> implements OperatorRuntime<E> {
  private readonly groups: KeyedState<string, TemporalGroup<E>>;
  private readonly store: PartialStore<TemporalSlot<E>>;
  private processed = 0;
  private closed = false;
  /** Per input, the current event's key (null: it does not count there) and key values. */
  private readonly keys: (string | null)[] = [];
  private readonly keyValues: (readonly unknown[] | undefined)[] = [];

  constructor(
    private readonly spec: SlidingTemporalSpec<E>,
    limits: StateLimits,
    private readonly emit: (match: Match<E>) => void,
  ) {
    this.store = new PartialStore(
      limits.maxOpen,
      spec.windowMs,
      'after',
      limits.stats,
      (slot) => this.forget(slot),
      limits.maxBytes,
    );
    this.groups = this.store.keyed();
  }

  onEvent(item: TimedEvent<E>): void {
    if (item.late) return;
    const inputs = this.spec.inputs;
    const event = item.event;
    const time = item.timestamp;
    // Every input's functions first, into scratch: one that throws leaves every group as it was.
    const keys = this.keys;
    const keyValues = this.keyValues;
    let matched = false;
    for (let index = 0; index < inputs.length; index++) {
      const input = inputs[index]!;
      keys[index] = null;
      if (!input.predicate(event)) continue;
      const key = input.key(event);
      if (key === null) continue;
      keyValues[index] = input.keyValues(event);
      keys[index] = key;
      matched = true;
    }
    if (!matched) return;
    const order = this.processed++;
    for (let index = 0; index < inputs.length; index++) {
      const key = keys[index] as string | null;
      if (key === null) continue;
      let group = this.groups.get(key);
      if (group === undefined) {
        group = {
          key,
          slots: new Array(inputs.length),
          filled: 0,
          held: false,
          heldAt: Number.NEGATIVE_INFINITY,
        };
        this.groups.set(key, group);
      }
      const older = group.slots[index];
      if (older !== undefined) {
        // Replaced by a newer event of its input: not an eviction, and the group stays.
        this.store.release(older);
        group.slots[index] = undefined;
        group.filled--;
      }
      const slot: TemporalSlot<E> = {
        start: time,
        group,
        input: index,
        event,
        order,
        live: false,
        bytes: SLOT_BYTES + item.size + (group.filled === 0 ? PARTIAL_OVERHEAD_BYTES + 2 * key.length : 0),
      };
      group.slots[index] = slot;
      group.filled++;
      this.store.add(slot); // may evict older slots (cap, bytes), never this one
      if (!slot.live) continue;
      this.decide(group, time, keyValues[index] as readonly unknown[]);
      if (this.closed) return;
    }
  }

  onWatermark(watermark: number): void {
    this.store.advance(watermark);
  }

  /** End of input: every decision was taken on an event. */
  complete(): void {
    this.dispose();
  }

  dispose(): void {
    this.closed = true;
    this.store.drain();
    this.groups.clear();
  }

  private decide(group: TemporalGroup<E>, time: number, keyValues: readonly unknown[]): void {
    const floor = time - this.spec.windowMs;
    let inWindow = 0;
    const slots = group.slots;
    for (let index = 0; index < slots.length; index++) {
      const slot = slots[index];
      if (slot !== undefined && slot.start >= floor) inWindow++;
    }
    const held = inWindow >= this.spec.minInputs;
    const previousHeld = group.heldAt >= floor && group.held;
    group.held = held;
    group.heldAt = time;
    if (!held || (previousHeld && this.spec.fireWhileHeld !== true)) return;
    const evidence = (
      slots.filter((slot) => slot !== undefined && slot.start >= floor) as TemporalSlot<E>[]
    ).sort((a, b) => a.start - b.start || a.order - b.order);
    // An event filling several inputs is evidence once.
    const events: E[] = [];
    for (const slot of evidence) if (!events.includes(slot.event)) events.push(slot.event);
    this.emit({
      kind: 'slidingTemporal',
      events,
      keyValues,
      firstTime: evidence[0]!.start,
      lastTime: time,
      count: inWindow,
    });
  }

  /** A slot left the store (window, cap, bytes): the group forgets it, and goes when empty. */
  private forget(slot: TemporalSlot<E>): void {
    if (this.closed) return;
    const group = slot.group;
    if (group.slots[slot.input] !== slot) return;
    group.slots[slot.input] = undefined;
    if (--group.filled === 0 && this.groups.get(group.key) === group) this.groups.delete(group.key);
  }
}
