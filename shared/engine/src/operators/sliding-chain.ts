import type { OperatorFunction } from 'rxjs';
import type { ChainedEvent, ChainSpec, CorrelationSpec, Match } from '../types.js';
import { CorrelationStats } from '../stats.js';
import type { Timed, TimedEvent } from '../time/timed.js';
import { CallbackFailure, CorrelationSpecError } from './errors.js';
import { correlationRuntime } from './correlate.js';
import type { MatchSpanAggregateOptions } from './span-aggregate.js';
import { runOperator, type OperatorRuntime, type RuntimeFactory } from './runtime.js';

/**
 * A chain of windowed correlations (Sigma correlations of correlations): every `inner` correlation runs
 * on the events in order, and the `outer` correlation sees each event together with the matches the
 * inner ones emitted on it (`ChainedEvent.fired`), so "the event on which `many_failed_logins` fired" is
 * an input event like any other, at its own event time. Only matches emitted on an event feed the outer
 * correlation: one decided by a watermark or the end of input has no event to carry and is dropped (the
 * Sigma compiler refuses such inner correlations). The outer match's evidence is, per evidence event, the
 * inner matches' evidence and then the event (each event once); `keyValues`, times, `count` and `value`
 * are the outer match's. State and bounds: each inner and the outer keep their own (same options).
 *
 * @example
 * // temporal_ordered [many_failed_logins (event_count), successful_login] by User within 10m
 * events$.pipe(reorderByEventTime(eventTime), matchChain({ kind: 'chain', inner: [count], outer: ordered }));
 */
export function matchChain<E>(
  spec: ChainSpec<E>,
  options: MatchSpanAggregateOptions = {},
): OperatorFunction<Timed<E>, Match<E>> {
  const create = chainRuntime(spec, options);
  return runOperator<E, Match<E>>(create.stats, create);
}

/** The state behind `matchChain`, for a caller that drives runtimes itself (a rule set). */
export function chainRuntime<E>(
  spec: ChainSpec<E>,
  options: MatchSpanAggregateOptions = {},
): RuntimeFactory<E> {
  if (spec.inner.length === 0) throw new CorrelationSpecError('inner', 0, 'at least one inner correlation');
  // One set of counters for the whole chain: every part's state counts in the rule's gauges.
  const shared = { ...options, stats: options.stats ?? new CorrelationStats() };
  const inner = spec.inner.map((innerSpec) => correlationRuntime(innerSpec, shared));
  const stats = shared.stats;
  const outer = correlationRuntime<ChainedEvent<E>>(spec.outer, shared);
  return Object.assign((emit: (match: Match<E>) => void) => new ChainRuntime(inner, outer, emit), { stats });
}

const NONE_FIRED: readonly (Match<never> | undefined)[] = [];

class ChainRuntime<E> implements OperatorRuntime<E> {
  private readonly inner: OperatorRuntime<E>[];
  private readonly outer: OperatorRuntime<ChainedEvent<E>>;
  /** The inner matches of the event being processed; null outside `onEvent` (their matches are dropped). */
  private firing: (Match<E> | undefined)[] | null = null;
  private collecting = false;

  constructor(
    innerFactories: readonly RuntimeFactory<E>[],
    outerFactory: RuntimeFactory<ChainedEvent<E>>,
    private readonly emit: (match: Match<E>) => void,
  ) {
    const size = innerFactories.length;
    this.inner = innerFactories.map((factory, index) =>
      factory((match) => {
        if (!this.collecting) return; // decided by a watermark or the end: no event carries it
        (this.firing ??= new Array<Match<E> | undefined>(size))[index] = match;
      }),
    );
    this.outer = outerFactory((match) => this.emitMatch(match));
  }

  /**
   * Each part takes the event on its own. A part whose rule function throws keeps its state as if the
   * event had not come (every kind a chain is made of reads all its functions before changing state),
   * and the other parts still take it: the outer one sees whatever the inner ones fired on it (an inner
   * chain, itself part by part, may fire and then throw), and an outer one that threw does not see it. The first such exception is raised once every part has run, so the chain is
   * whole when a rule set reports it and goes on. A caller's callback failing stops the chain at once.
   */
  onEvent(item: TimedEvent<E>): void {
    this.firing = null;
    this.collecting = true;
    let failure: { readonly error: unknown } | null = null;
    try {
      for (const runtime of this.inner) {
        try {
          runtime.onEvent(item);
        } catch (error) {
          if (error instanceof CallbackFailure) throw error;
          failure ??= { error };
        }
      }
    } finally {
      this.collecting = false;
    }
    const chained: ChainedEvent<E> = { event: item.event, fired: this.firing ?? NONE_FIRED };
    this.firing = null;
    try {
      this.outer.onEvent({ ...item, event: chained });
    } catch (error) {
      if (error instanceof CallbackFailure || failure === null) throw error;
    }
    if (failure !== null) throw failure.error;
  }

  onWatermark(watermark: number): void {
    for (const runtime of this.inner) runtime.onWatermark(watermark);
    this.outer.onWatermark(watermark);
  }

  complete(): void {
    for (const runtime of this.inner) runtime.complete();
    this.outer.complete();
  }

  dispose(): void {
    for (const runtime of this.inner) runtime.dispose();
    this.outer.dispose();
  }

  private emitMatch(match: Match<ChainedEvent<E>>): void {
    const seen = new Set<E>();
    const events: E[] = [];
    let firstTime = match.firstTime;
    for (const chained of match.events) {
      for (const fired of chained.fired) {
        if (fired === undefined) continue;
        if (fired.firstTime < firstTime) firstTime = fired.firstTime;
        for (const event of fired.events) {
          if (seen.has(event)) continue;
          seen.add(event);
          events.push(event);
        }
      }
      if (!seen.has(chained.event)) {
        seen.add(chained.event);
        events.push(chained.event);
      }
    }
    this.emit({ ...match, kind: 'chain', events, firstTime });
  }
}

/**
 * How much event time before a restore point a replay needs to rebuild a spec's state (without the
 * lateness): a sequence's maxspan, a join's window (null: unbounded), a span bucket, two windows of a
 * sliding correlation (its alert also depends on the window of the group's previous event), and for a
 * chain its longest inner need plus the outer's.
 */
export function replayWindowMs<E>(spec: CorrelationSpec<E>): number | null {
  switch (spec.kind) {
    case 'filter':
      return 0;
    case 'sequence':
      return spec.maxspanMs;
    case 'join':
      return Number.isFinite(spec.windowMs) ? spec.windowMs : null;
    case 'spanAggregate':
      return spec.spanMs;
    case 'slidingAggregate':
    case 'slidingTemporal':
      return 2 * spec.windowMs;
    case 'chain': {
      let inner = 0;
      for (const innerSpec of spec.inner) {
        const window = replayWindowMs(innerSpec);
        if (window === null) return null;
        inner = Math.max(inner, window);
      }
      const outer = replayWindowMs(spec.outer);
      return outer === null ? null : inner + outer;
    }
  }
}
