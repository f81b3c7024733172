import type { Span, SpanContext } from '@opentelemetry/api';
import { INVALID_SPAN_CONTEXT, TraceFlags } from './otel.js';
import { UnsampledRemoteSpan } from './unsampled-span.js';

export interface SpanContextRegistryOptions {
  /**
   * Also remember events whose span was not sampled (default false). Their spans are never exported, so
   * a link to them names a trace the backend does not have; and a WeakMap entry per event costs about
   * 1 us of set and garbage collection at 100,000 events/s (test/bench/tracing.ts), where the sampled
   * 1 % cost next to nothing. Turn it on when something downstream keeps unsampled traces (logs by
   * trace id, a tail-sampling collector).
   */
  readonly includeUnsampled?: boolean;
}

/**
 * Remembers the span that processed each decoded event, keyed by the event object itself, so that the
 * detector can link an alert to its evidence events' spans without the pure engine knowing about
 * tracing: the engine hands back the very event objects it was given as evidence.
 *
 * A `WeakMap`: an entry lives exactly as long as the event object (the engine's open partial sequences
 * keep evidence alive until the alert; everything else is collected with its event). By default only
 * sampled spans are remembered (see `SpanContextRegistryOptions.includeUnsampled`).
 *
 * ```ts
 * const span = batchTrace.startProcess(record);
 * const event = decodeEvent(record.value);
 * telemetry.spans.remember(event, span);
 * // ... later, for an alert built from engine evidence:
 * const alertSpan = telemetry.tracing.startAlertSpan(alert, telemetry.spans.contextsOf(match.events));
 * ```
 */
export class SpanContextRegistry<K extends object = object> {
  // An unsampled record's span is kept as is: its headers are parsed only if an alert asks for them.
  private readonly contexts = new WeakMap<K, SpanContext | UnsampledRemoteSpan>();
  private readonly includeUnsampled: boolean;

  constructor(options: SpanContextRegistryOptions = {}) {
    this.includeUnsampled = options.includeUnsampled ?? false;
  }

  /**
   * Records the span (or span context) of `event`. Ignored for the no-op span of disabled tracing, and
   * for unsampled spans unless `includeUnsampled`.
   */
  remember(event: K, span: Span | SpanContext): void {
    if (span instanceof UnsampledRemoteSpan) {
      if (this.includeUnsampled) this.contexts.set(event, span);
      return;
    }
    const context = 'spanContext' in span ? span.spanContext() : span;
    if (context === INVALID_SPAN_CONTEXT) return;
    if (!this.includeUnsampled && (context.traceFlags & TraceFlags.SAMPLED) === 0) return;
    this.contexts.set(event, context);
  }

  get(event: K): SpanContext | undefined {
    const entry = this.contexts.get(event);
    if (entry instanceof UnsampledRemoteSpan) {
      const context = entry.spanContext();
      return context === INVALID_SPAN_CONTEXT ? undefined : context;
    }
    return entry;
  }

  /** The span contexts of `events`, index for index (undefined where an event has none). */
  contextsOf(events: readonly K[]): (SpanContext | undefined)[] {
    const result = new Array<SpanContext | undefined>(events.length);
    for (let i = 0; i < events.length; i++) result[i] = this.get(events[i]!);
    return result;
  }
}
