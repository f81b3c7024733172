import type { Match } from '../types.js';
import { CorrelationStats } from '../stats.js';
import {
  DEFAULT_MAX_OPEN_PARTIALS,
  DEFAULT_MAX_STATE_BYTES,
  PARTIAL_OVERHEAD_BYTES,
  PartialStore,
  type EvictionReason,
  type KeyedState,
  type StoredPartial,
} from '../state/partial-store.js';
import { CallbackFailure, CorrelationSpecError, requireNumber } from './errors.js';
import type { TimedEvent } from '../time/timed.js';
import type { OperatorRuntime, RuntimeFactory } from './runtime.js';

/** What a rule's `suppress` compiles to. */
export interface SuppressSpec<E> {
  /** Window length in event time; windows are aligned to it: `[floor(t / windowMs) * windowMs, + windowMs)`. */
  readonly windowMs: number;
  /**
   * The alert's group (its `by` values, type-tagged and joined), or null when the alert is never
   * suppressed (a `by` field is missing and the rule says `missing: alert`).
   */
  readonly groupKey: (match: Match<E>) => string | null;
}

/** Bounds of one rule's suppression state per partition; beyond them the oldest window closes early. */
export interface SuppressOptions {
  /** Open windows (groups) at most (default 200,000). */
  readonly maxOpenWindows?: number;
  /** Estimated bytes at most (default 64 MiB). */
  readonly maxStateBytes?: number;
  /** Estimated retained bytes per evidence event a window holds (default 1 KiB). */
  readonly eventBytes?: number;
  /** Where the counters go; a private instance when omitted. */
  readonly stats?: SuppressionStats;
}

/**
 * Counters of one rule's suppression. `windows` is the store's CorrelationStats: `openPartials` (open
 * windows), `stateBytes`, `evictedByWindow` (closed by the watermark), `evictedByCap`/`evictedByBytes`
 * (closed early at the bound: their update is published then, with `closedBy: 'bound'`).
 */
export class SuppressionStats {
  /** Alerts counted into an open window instead of published. */
  suppressed = 0;
  /** Update records emitted. */
  updates = 0;
  readonly windows = new CorrelationStats();
}

/**
 * Why a window closed. `bound`: the state reached its count or byte bound and this was the oldest.
 * `rule-change`: the rule was changed or removed by a rule-set switch (`retireRuntime`).
 */
export type SuppressionClose = 'watermark' | 'next' | 'bound' | 'end' | 'rule-change';

/** One closed window that suppressed at least one alert: published as an update of the opening alert. */
export interface SuppressionUpdate<E> {
  /** The published alert's match (its id and key are the update's). */
  readonly opening: Match<E>;
  readonly groupKey: string;
  /** Alerts of the group counted into the window instead of published (>= 1). */
  readonly suppressed: number;
  /** The last suppressed alert's match (its evidence is the update's "last evidence"). */
  readonly last: Match<E>;
  /** Earliest and latest alert time counted in the window, the opening alert included. */
  readonly firstTime: number;
  readonly lastTime: number;
  readonly windowStart: number;
  readonly windowEnd: number;
  readonly closedBy: SuppressionClose;
}

/**
 * Suppression keys that threw on matches of a suppressed rule, raised by its runtime once the call that
 * made the matches (`onEvent`, `onWatermark`, `complete`) has finished: each match was emitted
 * unsuppressed (a detection fails open: an alert too many, never one lost), the rule's windows are as if
 * it had not come, and its operator's state is whole. A rule set reports each with the match's last
 * evidence event (`onStatefulError`) and goes on.
 */
export class SuppressionKeyError<E> extends Error {
  constructor(
    readonly failures: readonly { readonly match: Match<E>; readonly error: unknown }[],
    /** The rule's own error, thrown on the same event after those matches (a chain's part): reported too. */
    readonly ruleError: { readonly error: unknown } | null = null,
  ) {
    const first = failures[0]?.error;
    super(
      `suppression key threw on ${failures.length} match${failures.length === 1 ? '' : 'es'}, published unsuppressed: ${first instanceof Error ? first.message : String(first)}`,
      { cause: first },
    );
    this.name = 'SuppressionKeyError';
  }
}

/** The alert time suppression uses: the match's `lastTime` (its closing evidence's event time). */
export function suppressionTime<E>(match: Match<E>): number {
  return match.lastTime;
}

interface Window<E> extends StoredPartial {
  readonly start: number;
  readonly groupKey: string;
  readonly opening: Match<E>;
  last: Match<E> | null;
  suppressed: number;
  firstTime: number;
  lastTime: number;
}

/**
 * Alert suppression per group in event time, around a rule's runtime. An alert's time `t` is its match's
 * `lastTime` (the closing evidence's event time). The first alert of a group (by `groupKey`) is emitted
 * and opens the group's window, the one of event time's `windowMs`-long windows that holds `t`:
 * `[floor(t / windowMs) * windowMs, + windowMs)`, aligned like span buckets. Later alerts of the group in
 * that window (or older: an alert raised late counts into the open window) are counted, not emitted; an
 * alert in a later window closes the open one and opens its own. When the watermark reaches the window
 * end (every alert older than it has been raised), the window closes and, if it counted anything,
 * `onUpdate` gets one record: the count, the last counted alert, first and last times. At the state
 * bound (count and bytes, like the operators') the oldest window closes early with its update
 * (`closedBy: 'bound'`, counted in `windows.evictedByCap`/`evictedByBytes`); end of input closes all.
 *
 * Why aligned windows and not windows from each group's first alert: the detector rebuilds state by
 * replaying a bounded stretch of the partition. With windows anchored on the first alert, which alert
 * opens a window depends on the window before it, a chain as long as the group's alerts are dense, so a
 * replay that starts inside the chain would publish and count differently from then on. An aligned
 * window depends only on the alerts in it: a replay from `window` (plus the rule's own horizon) before
 * the watermark rebuilds it exactly. Deterministic in its input (matches and watermarks in order).
 *
 * @example
 * // suppress: { by: [host.name], window: 1h }
 * const factory = suppressRuntime(sequenceRuntime(spec), { windowMs: 3_600_000, groupKey }, (u) => updates.push(u));
 * const runtime = factory((match) => alerts.push(match)); // then onEvent / onWatermark as for any runtime
 */
export function suppressRuntime<E>(
  inner: RuntimeFactory<E>,
  spec: SuppressSpec<E>,
  onUpdate: (update: SuppressionUpdate<E>) => void,
  options: SuppressOptions = {},
): RuntimeFactory<E> & { readonly suppression: SuppressionStats } {
  requireNumber('suppress.windowMs', spec.windowMs, 1);
  const maxOpen = options.maxOpenWindows ?? DEFAULT_MAX_OPEN_PARTIALS;
  requireNumber('suppress.maxOpenWindows', maxOpen, 1, true);
  const maxBytes = options.maxStateBytes ?? DEFAULT_MAX_STATE_BYTES;
  const eventBytes = options.eventBytes ?? 1_024;
  if (!(eventBytes >= 0)) throw new CorrelationSpecError('suppress.eventBytes', eventBytes, 'a number >= 0');
  const stats = options.stats ?? new SuppressionStats();
  const create = (emit: (match: Match<E>) => void): OperatorRuntime<E> => {
    const suppressor = new Suppressor(spec, emit, onUpdate, stats, maxOpen, maxBytes, eventBytes);
    return new SuppressingRuntime(
      inner((match) => suppressor.offer(match)),
      suppressor,
    );
  };
  return Object.assign(create, { stats: inner.stats, suppression: stats });
}

/** A rule's runtime with its suppression windows around it (what `suppressRuntime`'s factory makes). */
class SuppressingRuntime<E> implements OperatorRuntime<E> {
  constructor(
    private readonly inner: OperatorRuntime<E>,
    private readonly suppressor: Suppressor<E>,
  ) {}

  // Each call raises the suppression keys that failed in it once it has returned. If the call itself
  // throws, that error wins and the keys' failures go with it (the rule set fails the stream or reports
  // the rule's own error; their matches went out): none is left for a later call to raise. A chain can
  // emit matches and then throw a rule's error on the same event: their keys' failures are raised with
  // that error (`SuppressionKeyError.ruleError`), to be reported too. No closure per call: onEvent runs
  // per event.
  onEvent(item: TimedEvent<E>): void {
    try {
      this.inner.onEvent(item);
    } catch (error) {
      throw this.suppressor.failuresWith(error);
    }
    this.suppressor.raiseFailures();
  }

  onWatermark(watermark: number): void {
    try {
      this.inner.onWatermark(watermark);
      this.suppressor.advance(watermark);
    } catch (error) {
      throw this.suppressor.dropFailures(error);
    }
    this.suppressor.raiseFailures();
  }

  complete(): void {
    try {
      this.inner.complete();
      this.suppressor.complete();
    } catch (error) {
      throw this.suppressor.dropFailures(error);
    }
    this.suppressor.raiseFailures();
  }

  dispose(): void {
    this.inner.dispose();
    this.suppressor.dispose();
  }

  /** The rule leaves the set: its partials go silently, its windows close with their updates. */
  retire(): void {
    this.inner.dispose();
    this.suppressor.closeAll('rule-change');
  }
}

/**
 * A rule's runtime leaves its rule set (a rule-set switch changed or removed the rule): its open
 * partials are dropped without emitting (the rule that would complete them is gone), and, for a rule
 * with `suppress`, every open window closes now, oldest first, and publishes its update
 * (`closedBy: 'rule-change'`) through the `onUpdate` it was built with, so no suppressed count is lost.
 * Then the runtime is disposed. Deterministic: the updates depend only on the input before the switch.
 */
export function retireRuntime<E>(runtime: OperatorRuntime<E>): void {
  if (runtime instanceof SuppressingRuntime) runtime.retire();
  runtime.dispose();
}

class Suppressor<E> {
  private readonly open: KeyedState<string, Window<E>>;
  private readonly store: PartialStore<Window<E>>;
  /** Matches whose suppression key threw during the current call, emitted unsuppressed. */
  private failures: { match: Match<E>; error: unknown }[] = [];
  private disposed = false;

  constructor(
    private readonly spec: SuppressSpec<E>,
    private readonly emit: (match: Match<E>) => void,
    private readonly onUpdate: (update: SuppressionUpdate<E>) => void,
    private readonly stats: SuppressionStats,
    maxOpen: number,
    maxBytes: number,
    private readonly eventBytes: number,
  ) {
    this.store = new PartialStore<Window<E>>(
      maxOpen,
      spec.windowMs,
      'at',
      stats.windows,
      (window, reason) => this.onEvict(window, reason),
      maxBytes,
    );
    this.open = this.store.keyed();
  }

  offer(match: Match<E>): void {
    // Torn down inside an emission (a consumer's take(1)): what the operator still emits goes nowhere.
    if (this.disposed) return;
    let groupKey: string | null;
    try {
      groupKey = this.spec.groupKey(match);
    } catch (error) {
      // Not thrown through the operator emitting it (its own state change would stop halfway): raised
      // when its call returns (`raiseFailures`).
      this.failures.push({ match, error });
      this.emit(match);
      return;
    }
    if (groupKey === null) {
      this.emit(match);
      return;
    }
    const time = suppressionTime(match);
    const windowMs = this.spec.windowMs;
    const start = Math.floor(time / windowMs) * windowMs;
    const window = this.open.get(groupKey);
    if (window !== undefined) {
      if (start <= window.start) {
        const previous = window.last;
        window.last = match;
        window.suppressed++;
        this.stats.suppressed++;
        if (time < window.firstTime) window.firstTime = time;
        if (time > window.lastTime) window.lastTime = time;
        this.store.grow(window, this.eventBytes * (match.events.length - (previous?.events.length ?? 0)));
        return;
      }
      // A later window's alert: the watermark has not closed this one yet, the alert does.
      this.close(window, 'next');
      this.store.release(window);
    }
    const opened: Window<E> = {
      start,
      groupKey,
      opening: match,
      last: null,
      suppressed: 0,
      firstTime: time,
      lastTime: time,
      live: false,
      bytes: PARTIAL_OVERHEAD_BYTES + 2 * groupKey.length + this.eventBytes * match.events.length,
    };
    this.open.set(groupKey, opened);
    this.store.add(opened);
    this.emit(match);
  }

  advance(watermark: number): void {
    this.store.advance(watermark);
  }

  /** Forgets the failures of a call that threw `error` (returned, to be thrown on). */
  dropFailures(error: unknown): unknown {
    this.failures = [];
    return error;
  }

  /**
   * What to throw for an event whose operator call threw `error` after matches of it failed their key:
   * those failures with the rule's error; `error` alone (the failures forgotten) when none failed or it is
   * a caller's callback failing, which fails the stream anyway.
   */
  failuresWith(error: unknown): unknown {
    if (this.failures.length === 0 || error instanceof CallbackFailure) return this.dropFailures(error);
    const failures = this.failures;
    this.failures = [];
    return new SuppressionKeyError(failures, { error });
  }

  /** Throws the suppression keys that failed since the last call (`SuppressionKeyError`), if any. */
  raiseFailures(): void {
    if (this.failures.length === 0) return;
    const failures = this.failures;
    this.failures = [];
    throw new SuppressionKeyError(failures);
  }

  complete(): void {
    this.closeAll('end');
  }

  /** Closes every open window, oldest first, publishing the ones that counted alerts. */
  closeAll(closedBy: SuppressionClose): void {
    this.store.drain((window) => {
      this.open.delete(window.groupKey);
      this.publish(window, closedBy);
    });
    this.open.clear();
  }

  dispose(): void {
    this.disposed = true;
    this.store.drain();
    this.open.clear();
  }

  private onEvict(window: Window<E>, reason: EvictionReason): void {
    this.close(window, reason === 'window' ? 'watermark' : 'bound');
  }

  private close(window: Window<E>, closedBy: SuppressionClose): void {
    if (this.open.get(window.groupKey) === window) this.open.delete(window.groupKey);
    this.publish(window, closedBy);
  }

  private publish(window: Window<E>, closedBy: SuppressionClose): void {
    if (window.last === null) return; // nothing suppressed: the alert itself said everything
    this.stats.updates++;
    this.onUpdate({
      opening: window.opening,
      groupKey: window.groupKey,
      suppressed: window.suppressed,
      last: window.last,
      firstTime: window.firstTime,
      lastTime: window.lastTime,
      windowStart: window.start,
      windowEnd: window.start + this.spec.windowMs,
      closedBy,
    });
  }
}
