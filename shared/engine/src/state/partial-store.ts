import type { CorrelationStats } from '../stats.js';
import { requireNumber } from '../operators/errors.js';

/** Default cap on open partials per operator instance (per rule, per subscription). */
export const DEFAULT_MAX_OPEN_PARTIALS = 200_000;
/**
 * Default byte bound on one operator instance's partial state (per rule and partition): ~55k sequence
 * partials holding a 1 KiB event each. The count cap alone allowed ~0.9 GB per rule and partition.
 */
export const DEFAULT_MAX_STATE_BYTES = 64 * 2 ** 20;
/**
 * Estimated bytes of a partial's own bookkeeping (the object, its queue slot and map entry), besides
 * its key string and the events it retains: what V8 spends on a small object plus a Map entry.
 */
export const PARTIAL_OVERHEAD_BYTES = 160;

/** The bookkeeping every piece of keyed operator state carries (kept small: it exists per partial). */
export interface StoredPartial {
  /** Where the state's window starts (first event time, bucket start); it ends at start + lifetime. */
  readonly start: number;
  /** False once completed, overwritten, cancelled or evicted (its queue slot is then skipped). */
  live: boolean;
  /** Estimated retained bytes (overhead, key, the events it holds); kept up to date through `grow`. */
  bytes: number;
}

/**
 * When the watermark closes a window [start, start + lifetime]. `after`: once the watermark is strictly
 * greater than the end (a sequence's maxspan is inclusive: an event at exactly first + maxspan still
 * counts). `at`: once the watermark reaches the end (a span bucket [start, end): an event at `end`
 * belongs to the next bucket).
 */
export type ExpiryMode = 'after' | 'at';

export type EvictionReason = 'window' | 'cap' | 'bytes';

/**
 * What an operator's `onEvict` may answer: `completed` when the partial's end was an outcome rather than
 * a loss (a sequence ending in a missing step completes when its window closes), so the store does not
 * count it as an eviction. Anything else counts under its reason.
 */
export type EvictionOutcome = 'completed' | void;

/**
 * An operator's lookup (key -> its state) whose entries count in the `keys` gauge by themselves: `set` of
 * a new key adds one, `delete` and `clear` take them off, so no operator keeps the gauge by hand.
 */
export class KeyedState<K, V> extends Map<K, V> {
  constructor(private readonly stats: CorrelationStats) {
    super();
  }

  override set(key: K, value: V): this {
    if (!super.has(key)) this.stats.keys++;
    return super.set(key, value);
  }

  override delete(key: K): boolean {
    if (!super.delete(key)) return false;
    this.stats.keys--;
    return true;
  }

  override clear(): void {
    this.stats.keys -= this.size;
    super.clear();
  }
}

/**
 * Open partials of one operator subscription in creation order, with eviction by watermark and by cap.
 *
 * The operator keeps its own lookup (key -> partial, a `KeyedState` from `keyed()`, which keeps the `keys`
 * gauge); this store decides *when* state goes, tells the operator through `onEvict` (which removes it
 * from the lookup) and counts the eviction by reason, unless the operator answers `completed` (an expired
 * partial is not always a loss: a sequence ending in a missing step completes when its window closes).
 * The gauges (`openPartials`, `stateBytes`) and counters (`evictedBy*`) are kept here, nowhere else. Creation order equals
 * event-time order for in-order input, so the deadlines are non-decreasing along the queue and expiry
 * only ever looks at the head: O(1) amortised per partial. Completed or overwritten partials are marked
 * dead and skipped; the queue is compacted when dead slots outnumber live ones, so memory stays
 * proportional to live state even when a key overwrites its pending sequence forever.
 *
 * Two bounds, both evicting the oldest live partial first: `maxOpen` partials (reason `cap`) and
 * `maxBytes` of their estimated size (reason `bytes`). The newest partial is never evicted by its own
 * add, so a single partial larger than the bound still lives until its window closes.
 */
export class PartialStore<P extends StoredPartial> {
  private queue: (P | undefined)[] = [];
  private head = 0;
  private liveCount = 0;
  private liveBytes = 0;

  constructor(
    private readonly maxOpen: number,
    /** Window length shared by every partial of the operator (maxspan, join window, span); Infinity: none. */
    private readonly lifetime: number,
    private readonly mode: ExpiryMode,
    private readonly stats: CorrelationStats,
    private readonly onEvict: (partial: P, reason: EvictionReason) => EvictionOutcome,
    private readonly maxBytes: number = DEFAULT_MAX_STATE_BYTES,
  ) {
    requireNumber('maxOpenPartials', maxOpen, 1, true);
    if (maxBytes !== Number.POSITIVE_INFINITY) requireNumber('maxStateBytes', maxBytes, 0);
  }

  /** Live partials held. */
  get size(): number {
    return this.liveCount;
  }

  /** Estimated bytes of the live partials. */
  get bytes(): number {
    return this.liveBytes;
  }

  /** Queue slots in use, dead ones included (a diagnostic: stays within ~2x `size` + 1024). */
  get queued(): number {
    return this.queue.length - this.head;
  }

  /** Tracks a new partial; evicts the oldest live one when this goes over the cap. */
  add(partial: P): void {
    partial.live = true;
    this.queue.push(partial);
    this.liveCount++;
    this.stats.openPartials++;
    this.liveBytes += partial.bytes;
    this.stats.stateBytes += partial.bytes;
    if (this.liveCount > this.maxOpen) this.evictOldest('cap');
    this.checkBytes();
  }

  /** A live partial took in more (an event for a later step): its size grows by `delta` bytes. */
  grow(partial: P, delta: number): void {
    partial.bytes += delta;
    if (!partial.live) return;
    this.liveBytes += delta;
    this.stats.stateBytes += delta;
    this.checkBytes();
  }

  /** A lookup for this operator's partials whose entries count in the `keys` gauge. */
  keyed<K, V>(): KeyedState<K, V> {
    return new KeyedState<K, V>(this.stats);
  }

  /** Forgets a partial that completed, was overwritten or was cancelled (not an eviction). */
  release(partial: P): void {
    if (!partial.live) return;
    this.unlink(partial);
    const dead = this.queue.length - this.head - this.liveCount;
    if (dead > 1024 && dead > this.liveCount) this.compact();
  }

  /**
   * Evicts a live partial whose window an in-order event has shown to be over before the watermark got
   * there (the event is past first + window): `onEvict` with reason `window`, counted like the others.
   */
  expire(partial: P): void {
    if (!partial.live) return;
    this.release(partial);
    this.count(this.onEvict(partial, 'window'), 'window');
  }

  /** Evicts, oldest first, every partial whose window the watermark has passed. */
  advance(watermark: number): void {
    const queue = this.queue;
    const after = this.mode === 'after';
    const lifetime = this.lifetime;
    while (this.head < queue.length) {
      const partial = queue[this.head]!;
      if (partial.live) {
        const end = partial.start + lifetime;
        if (after ? !(end < watermark) : !(end <= watermark)) break;
        queue[this.head++] = undefined;
        this.evict(partial, 'window');
        if (this.queue !== queue) return; // drained by the callback (the consumer unsubscribed)
        continue;
      }
      queue[this.head++] = undefined;
    }
    this.trimHead();
  }

  /** Hands every live partial, oldest first, to `visit` and empties the store (end of stream, teardown). */
  drain(visit?: (partial: P) => void): void {
    const queue = this.queue;
    for (let index = this.head; index < queue.length; index++) {
      const partial = queue[index]!;
      if (!partial.live) continue;
      this.unlink(partial);
      visit?.(partial);
    }
    this.queue = [];
    this.head = 0;
  }

  private evict(partial: P, reason: EvictionReason): void {
    this.unlink(partial);
    this.count(this.onEvict(partial, reason), reason);
  }

  private count(outcome: EvictionOutcome, reason: EvictionReason): void {
    if (outcome === 'completed') return;
    const stats = this.stats;
    if (reason === 'window') stats.evictedByWindow++;
    else if (reason === 'cap') stats.evictedByCap++;
    else stats.evictedByBytes++;
  }

  /** Takes a partial out of the live set and the gauges (its queue slot is skipped later). */
  private unlink(partial: P): void {
    partial.live = false;
    this.liveCount--;
    this.stats.openPartials--;
    this.liveBytes -= partial.bytes;
    this.stats.stateBytes -= partial.bytes;
  }

  /** Oldest first down to the bound; the newest partial (the one just added or grown, usually) stays. */
  private checkBytes(): void {
    while (this.liveBytes > this.maxBytes && this.liveCount > 1) {
      const queue = this.queue;
      this.evictOldest('bytes');
      if (this.queue !== queue && this.liveCount === 0) return; // drained by the callback
    }
  }

  private evictOldest(reason: EvictionReason): void {
    const queue = this.queue;
    while (this.head < queue.length) {
      const partial = queue[this.head]!;
      queue[this.head++] = undefined;
      if (partial.live) {
        this.evict(partial, reason);
        break;
      }
    }
    this.trimHead();
  }

  private trimHead(): void {
    if (this.head === this.queue.length) {
      this.queue.length = 0;
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
  }

  private compact(): void {
    const live: P[] = [];
    const queue = this.queue;
    for (let index = this.head; index < queue.length; index++) {
      const partial = queue[index]!;
      if (partial.live) live.push(partial);
    }
    this.queue = live;
    this.head = 0;
  }
}
