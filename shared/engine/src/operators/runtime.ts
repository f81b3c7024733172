import { Observable, type OperatorFunction } from 'rxjs';
import type { CorrelationStats } from '../stats.js';
import type { Match } from '../types.js';
import type { Timed, TimedEvent } from '../time/timed.js';

/**
 * One subscription's state of a correlation operator, driven by `runOperator`: the operator's logic
 * without the RxJS plumbing, as rxjs's `OperatorSubscriber` or Kafka Streams' `Processor`
 * (`init` = the factory, `process` = `onEvent`, punctuation = `onWatermark`, `close` = `dispose`).
 *
 * The shell guarantees: calls are synchronous and in input order; nothing is called after `dispose`,
 * except that `dispose` may be called again (it must be idempotent); an exception from any method errors
 * the output stream. A runtime may be disposed in the middle of its own `emit` (a consumer's `take(1)`),
 * so a runtime that emits inside a loop checks a flag set by `dispose` before going on.
 */
export interface OperatorRuntime<E> {
  /** An event, in event-time order (or flagged `late` under `latePolicy: 'process'`). */
  onEvent(item: TimedEvent<E>): void;
  /** Every in-order event older than `watermark` has been delivered: close the windows it passes. */
  onWatermark(watermark: number): void;
  /** End of input: emit what the end of input decides, then let go of the state (like `dispose`). */
  complete(): void;
  /** Upstream error or unsubscribe: drop the state, emit nothing. */
  dispose(): void;
}

/**
 * Builds one subscription's runtime of an operator from the match sink; `stats` is where its counters
 * go (the sink's caller counts `matched` there). Made once per operator from its spec and options (which
 * are checked then); each subscription, or each rule of a rule set, calls it for fresh state.
 */
export interface RuntimeFactory<E, M = Match<E>> {
  (emit: (match: M) => void): OperatorRuntime<E>;
  readonly stats: CorrelationStats;
}

/**
 * The one RxJS shell of the correlation operators: a fresh runtime per subscription (state is never
 * shared between subscribers), event vs watermark dispatch, errors to the subscriber, completion, and
 * clean-up on error, completion and unsubscribe. `emit` counts the match in `stats.matched`.
 *
 * @example
 * export function matchSomething<E>(spec: SomethingSpec<E>, options: OperatorOptions = {}) {
 *   const limits = stateLimits(options);
 *   return runOperator<E, Match<E>>(limits.stats, (emit) => new SomethingRuntime(spec, limits, emit));
 * }
 */
export function runOperator<E, M>(
  stats: CorrelationStats,
  create: (emit: (match: M) => void) => OperatorRuntime<E>,
): OperatorFunction<Timed<E>, M> {
  return (source) =>
    new Observable<M>((subscriber) => {
      const runtime = create((match) => {
        stats.matched++;
        subscriber.next(match);
      });
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
          runtime.dispose();
          subscriber.error(error);
        },
        complete() {
          try {
            runtime.complete();
            subscriber.complete();
          } catch (error) {
            subscriber.error(error);
          }
        },
      });
      return () => {
        subscription.unsubscribe();
        runtime.dispose();
      };
    });
}
