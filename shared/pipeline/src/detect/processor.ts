/**
 * DetectionProcessor: every compiled rule over the events of ONE partition, with one watermark, as one
 * Kafka Streams task. Events are reordered by event time once (one heap, one stream time, one late
 * decision per event) and fanned out to each rule's correlation operator (`createRuleSetPipeline` of
 * `@sequor/engine`); each match becomes an `Alert` (`CompiledRule.toAlert`, detection time from the
 * injected clock). Pure and synchronous: the detector service runs one per assigned Kafka partition,
 * `sequor detect` one per partition of the in-memory topic; neither the clock nor I/O is touched except
 * through the options.
 *
 * Lifecycle: `push(event)` for each event in partition order; `flush()` at the end of input (releases
 * what the reorder stage holds and lets every rule finish, then the processor is done); `close()` to drop
 * the partition without emitting anything more (revocation). `stats()` at any time.
 * `advanceStreamTime(t)` moves stream time without an event (the detector's idle-partition rule; the
 * caller owns the clock and the record of each advance that makes a replay exact).
 *
 * ```ts
 * const processor = createDetectionProcessor({
 *   rules: rules.map((r) => compileRule(r)),
 *   allowedLatenessMs: 5_000,
 *   maxFutureSkewMs: 3_600_000, // judged against the timestamp given to push (the Kafka record's)
 *   clock: Date.now,
 *   onAlert: (alert) => alerts.push(alert),
 *   onLate: (late) => lateEvents.push(late.event),
 * });
 * for (const event of partitionEvents) processor.push(event);
 * processor.flush();
 * ```
 */
import type {
  CorrelationStats,
  LateEvent,
  LatePolicy,
  RecordContext,
  RuleMatch,
  RuleSetEntry,
  SuppressionStats,
  SuppressionUpdate,
} from '@sequor/engine';
import { compileEventTime, createRuleSetPipeline, RuleSetControl, StreamTimeControl } from '@sequor/engine';
import type { AlertUpdate, SequorEvent } from '@sequor/model';
import { eventFieldCatalog, SequorError } from '@sequor/model';
import type { Alert, CompiledRule } from '@sequor/rules';
import { buildAlertUpdate, sigmaFilterDispatch } from '@sequor/rules';
import { Observable, type Subscriber } from 'rxjs';

export interface DetectionProcessorOptions {
  /** The rules, compiled once (`compileRule`): one processor per partition shares them. */
  readonly rules: readonly CompiledRule[];
  /**
   * Called synchronously for each alert, in the order the engine emits them. `evidence` holds the
   * matched event objects themselves (`alert.evidence[i]` summarises `evidence[i]`), so a caller can
   * find what it attached to them, e.g. the span that processed each one.
   */
  readonly onAlert: (alert: Alert, rule: CompiledRule, evidence: readonly SequorEvent[]) => void;
  /**
   * Called synchronously for each closed suppression window of a rule with `suppress` that counted
   * alerts (`schemas/alert-update.avsc`), in order with the alerts; `opening` is the alert it updates
   * (published earlier, by this run or, on a replay, by the one before). Without it updates are dropped.
   */
  readonly onAlertUpdate?: (update: AlertUpdate, rule: CompiledRule, opening: Alert) => void;
  /** Late and untimeable events (the services forward them to a late-events topic). */
  readonly onLate?: (late: LateEvent<SequorEvent>) => void;
  /**
   * A rule that throws on an event, called synchronously: the rule counts as not matched for that event,
   * the other rules still see it, and the processor stays open (the detector dead-letters the record,
   * `sequor detect` reports it). A Sigma or EQL single-event rule runs on the event being pushed; a
   * suppressed rule, a span or sliding aggregate, a temporal correlation, a sequence, a join or a
   * correlation of correlations (part by part) on the events the reorder stage releases, so `event` may
   * be an earlier one, released by this `push`, an `advanceStreamTime` or `flush`
   * (`createRuleSetPipeline`'s `onStatefulError`). Without it such an exception closes the processor and
   * `push` throws DetectionProcessorError. A suppressed rule's suppression key that throws fails open: the
   * alert is raised unsuppressed and reported here with its last evidence event. If this callback throws,
   * `push` throws that error, as for `onAlert`.
   */
  readonly onRuleError?: (rule: CompiledRule, event: SequorEvent, error: unknown) => void;
  /** Detection time of alerts (`Alert.timestamp`), epoch ms. Default `Date.now`; tests inject a constant. */
  readonly clock?: () => number;
  /** Grace behind stream time (the engine's default, 5 s, when omitted). */
  readonly allowedLatenessMs?: number;
  /** What happens to late events after `onLate` (default `drop`: output depends only on the input). */
  readonly latePolicy?: LatePolicy;
  /** Cap on open partials per rule in this partition (the engine's default when omitted). */
  readonly maxOpenPartials?: number;
  /** Bound on each rule's partial state in this partition, estimated bytes (the engine's default, 64 MiB). */
  readonly maxStateBytes?: number;
  /** Bound on this partition's reorder buffer, estimated bytes (the engine's default, 128 MiB). */
  readonly maxBufferedBytes?: number;
  /**
   * How far ahead of the record's timestamp given to `push` (else of stream time) an event may be;
   * beyond it the event goes to `onLate` as `future-timestamp` (default: unguarded).
   */
  readonly maxFutureSkewMs?: number;
  /** The partition this processor owns, for stats and errors. */
  readonly partition?: number;
  /**
   * Whether `replaceRules` may be called (the detector with a rules topic). Such a processor always has
   * a reorder stage, even for a rule set of plain filters that would not need one: off by default.
   */
  readonly replaceable?: boolean;
}

/** Per-rule counters of one processor. */
export interface RuleDetectionStats {
  readonly ruleId: string;
  readonly ruleName: string;
  readonly alerts: number;
  /** Gauge: open partial sequences / joins / span groups. */
  readonly openPartials: number;
  /** Gauge: entries in the rule's keyed state maps (`CorrelationStats.keys`). */
  readonly keys: number;
  readonly evictedByWindow: number;
  readonly evictedByCap: number;
  /** Partials evicted because the rule's state passed its byte bound (lost matches, like `evictedByCap`). */
  readonly evictedByBytes: number;
  /** Gauge: estimated bytes of the rule's partial state. */
  readonly stateBytes: number;
  /** `suppress` rules: alerts counted into an open window instead of published. */
  readonly suppressed: number;
  /** `suppress` rules: update records raised (closed windows that counted alerts). */
  readonly alertUpdates: number;
  /** Gauge: open suppression windows (groups). */
  readonly suppressionWindows: number;
  /** Suppression windows closed early because the rule's suppression state reached its bound. */
  readonly suppressionClosedAtBound: number;
}

export interface DetectionStats {
  readonly partition: number | null;
  /** Events pushed. */
  readonly eventsIn: number;
  /** Events older than the watermark on arrival. */
  readonly late: number;
  /** Events whose `@timestamp` is not a number. */
  readonly invalidTime: number;
  /** Events refused as `future-timestamp` (too far ahead of their record's timestamp or of stream time). */
  readonly futureTime: number;
  /** Gauge: events waiting in the reorder stage. */
  readonly buffered: number;
  /** Gauge: their estimated bytes. */
  readonly bufferedBytes: number;
  /** Events released before the watermark passed them because the reorder buffer was full (bytes). */
  readonly forcedReleases: number;
  /** Gauge: estimated bytes of every rule's partial state (sum over rules). */
  readonly stateBytes: number;
  /** Largest event time seen, epoch ms (-Infinity before the first event). */
  readonly streamTime: number;
  readonly watermark: number;
  readonly alerts: number;
  /** Sum over rules. */
  readonly openPartials: number;
  /** Sum over rules, by window, by cap and by bytes. */
  readonly evictions: number;
  /** Sum over rules: partials dropped at the count cap and at the byte bound (lost matches). */
  readonly evictedByCap: number;
  readonly evictedByBytes: number;
  /** Sums over rules of the suppression counters. */
  readonly suppressed: number;
  readonly alertUpdates: number;
  readonly rules: readonly RuleDetectionStats[];
}

export type DetectionState = 'open' | 'flushed' | 'closed';

export interface DetectionProcessor {
  /**
   * One event of this partition, in partition order. `recordTimestamp`: the Kafka timestamp of the
   * record it came in (the skew guard's reference; NaN when there is none). `encodedBytes`: the record
   * value's size (the byte bounds' estimate; NaN: a fixed estimate). Throws DetectionProcessorError once
   * flushed or closed.
   */
  push(event: SequorEvent, recordTimestamp?: number, encodedBytes?: number): void;
  /** End of input: emits everything the buffered events and open state still produce, then stops. */
  flush(): void;
  /** Drops the state without emitting anything more (partition revoked). Idempotent. */
  close(): void;
  /**
   * Moves stream time to `streamTime` without an event, when that is later than it is: the watermark
   * follows, the buffered events it passes are released in order and whatever they complete is raised
   * through `onAlert`, synchronously. Returns false when nothing moved (not later, not open, or a rule
   * set of filters only, which buffers nothing). Deterministic only if the caller applies the same
   * advances at the same points of the input on a replay.
   */
  advanceStreamTime(streamTime: number): boolean;
  /** Largest event time seen or advanced to, epoch ms (-Infinity before any). Cheap: no stats object. */
  readonly streamTime: number;
  /** Event time of the oldest event waiting in the reorder stage, epoch ms; +Infinity when none. */
  readonly earliestBuffered: number;
  stats(): DetectionStats;
  readonly state: DetectionState;
  /**
   * Changes the rules between two pushes (the detector's rule hot reload): a rule in `rules` that is
   * (===) one running now keeps its open state, any other starts empty and sees what the reorder stage
   * releases from now on, a running rule not in `rules` (removed or changed) is dropped without emitting
   * its partial matches, but its open suppression windows close now: each that counted alerts goes to
   * `onAlertUpdate` during this call (`closed_by: rule-change`, with the dropped rule and its opening
   * alert), so the caller commits them with the change. Deterministic: a replay that changes the rules at
   * the same points of the input gives the same output.
   */
  replaceRules(rules: readonly CompiledRule[]): RulesReplaced;
  /** The rules running now. */
  readonly rules: readonly CompiledRule[];
}

/** What `replaceRules` did: rules that kept their state, started empty, and were dropped. */
export interface RulesReplaced {
  readonly kept: number;
  readonly started: number;
  readonly dropped: number;
}

/**
 * Estimated retained size of a decoded event from its Avro size: a decoded SequorEvent takes about 3x
 * its encoding on the V8 heap plus the fixed objects (measured on the scenario generator's events:
 * 545 B encoded, ~1.8 kB retained). Cheap: two numbers, computed once per event.
 */
/**
 * The default skew bound for a given allowed lateness: the lateness itself, at least a second. An event
 * at most that far ahead of its record's clock moves the watermark at most to the record's clock, so
 * forged future events can never make honest on-time events late (a larger bound lets one event hold
 * stream time up to `skew - lateness` ahead of everyone else's on that partition). Hosts whose clocks run
 * further ahead than the bound are dead-lettered as `future-timestamp`: visible, never silently blinding.
 */
export function defaultMaxFutureSkewMs(allowedLatenessMs: number): number {
  return Math.max(allowedLatenessMs, 1_000);
}

export function estimateEventBytes(encodedBytes: number): number {
  return encodedBytes >= 0 ? 256 + 3 * encodedBytes : UNKNOWN_EVENT_BYTES;
}
/** The estimate for an event whose encoded size is unknown. */
export const UNKNOWN_EVENT_BYTES = 2_048;

/**
 * A processor used after flush/close, or an engine failure (a throwing predicate, unless `onRuleError`
 * takes it: a bug, never input).
 */
export class DetectionProcessorError extends SequorError {
  constructor(
    message: string,
    readonly partition: number | null,
    options: { cause?: unknown } = {},
  ) {
    super(partition === null ? message : `partition ${partition}: ${message}`, options);
  }
}

class DefaultDetectionProcessor implements DetectionProcessor {
  state: DetectionState = 'open';
  /**
   * The rule set's input: the subscriber its operator subscribed with, fed directly (a Subject in
   * between allocated a closure per event and walked its observer list for one observer).
   */
  private input: Subscriber<SequorEvent> | null = null;
  private readonly streamStats: CorrelationStats;
  private ruleStats: readonly CorrelationStats[];
  private suppressionStats: readonly (SuppressionStats | null)[];
  /** Alerts per running rule; a rule's count starts again when it is replaced. */
  private alertsByRule = new Map<CompiledRule, number>();
  private running: readonly CompiledRule[];
  private readonly ruleSetControl: RuleSetControl<SequorEvent, CompiledRule> | undefined;
  private readonly partition: number | null;
  private eventsIn = 0;
  /** Read by the reorder stage during `push`: one object, rewritten per event. */
  private readonly record: RecordContext = { referenceTime: Number.NaN, sizeBytes: Number.NaN };
  private readonly control = new StreamTimeControl();
  private failure: { readonly error: unknown; readonly inSink: boolean } | null = null;
  private readonly subscription;

  constructor(private readonly options: DetectionProcessorOptions) {
    this.partition = options.partition ?? null;
    const rules = options.rules;
    const eventTime = rules[0]?.compiled.eventTime ?? compileEventTime<SequorEvent>(eventFieldCatalog);
    const clock = options.clock ?? Date.now;
    const onAlertUpdate = options.onAlertUpdate;
    this.running = rules;
    this.ruleSetControl = options.replaceable === true ? new RuleSetControl() : undefined;
    const raiseUpdate = (update: SuppressionUpdate<SequorEvent>, _index: number, tag?: unknown): void => {
      if (onAlertUpdate === undefined) return;
      const rule = tag as CompiledRule;
      // Same try as alerts: a throwing sink surfaces from push/flush.
      try {
        const detectedAt = clock();
        const opening = rule.toAlert(update.opening, { detectedAt });
        onAlertUpdate(buildAlertUpdate(rule.suppress!, opening, update, detectedAt), rule, opening);
      } catch (error) {
        this.failure ??= { error, inSink: true };
      }
    };
    const onRuleError = options.onRuleError;
    // Both plain filters' and stateful rules' exceptions (`createRuleSetPipeline`'s two callbacks).
    const onFilterError =
      onRuleError === undefined
        ? undefined
        : (rule: CompiledRule, event: SequorEvent, error: unknown): void => {
            // Same try as alerts: a throwing sink surfaces from push.
            try {
              onRuleError(rule, event, error);
            } catch (sinkError) {
              this.failure ??= { error: sinkError, inSink: true };
            }
          };
    const pipeline = createRuleSetPipeline<SequorEvent, CompiledRule>(rules.map(ruleSetEntry), eventTime, {
      allowedLatenessMs: options.allowedLatenessMs,
      latePolicy: options.latePolicy,
      maxOpenPartials: options.maxOpenPartials,
      maxStateBytes: options.maxStateBytes,
      maxBufferedBytes: options.maxBufferedBytes,
      maxFutureSkewMs: options.maxFutureSkewMs,
      record: this.record,
      control: this.control,
      onLate: options.onLate,
      onSuppressionUpdate: raiseUpdate,
      // Sigma rules: each event is matched once against their set's index, not through every predicate.
      filterDispatch: sigmaFilterDispatch(rules),
      ...(onFilterError === undefined ? {} : { onFilterError, onStatefulError: onFilterError }),
      // Each rule's suppression windows are bounded like its partial state.
      suppression: { maxOpenWindows: options.maxOpenPartials, maxStateBytes: options.maxStateBytes },
      ...(this.ruleSetControl === undefined ? {} : { ruleSetControl: this.ruleSetControl }),
    });
    this.streamStats = pipeline.streamStats;
    this.ruleStats = pipeline.ruleStats;
    this.suppressionStats = pipeline.suppressionStats;
    const onAlert = options.onAlert;
    const source = new Observable<SequorEvent>((subscriber) => {
      this.input = subscriber;
    });
    this.subscription = source.pipe(pipeline.operator).subscribe({
      next: ({ rule, match }: RuleMatch<SequorEvent, CompiledRule>) => {
        this.alertsByRule.set(rule, (this.alertsByRule.get(rule) ?? 0) + 1);
        // A throwing sink must surface from push/flush, not as rxjs' asynchronous unhandled error.
        try {
          onAlert(rule.toAlert(match, { detectedAt: clock() }), rule, match.events);
        } catch (error) {
          this.failure ??= { error, inSink: true };
        }
      },
      error: (error: unknown) => {
        this.failure ??= { error, inSink: false };
      },
    });
  }

  push(event: SequorEvent, recordTimestamp = Number.NaN, encodedBytes = Number.NaN): void {
    if (this.state !== 'open') throw new DetectionProcessorError(`push after ${this.state}`, this.partition);
    this.eventsIn++;
    this.record.referenceTime = recordTimestamp;
    this.record.sizeBytes = estimateEventBytes(encodedBytes);
    this.input?.next(event);
    if (this.failure !== null) this.fail();
  }

  flush(): void {
    if (this.state !== 'open') throw new DetectionProcessorError(`flush after ${this.state}`, this.partition);
    this.state = 'flushed';
    this.input?.complete(); // synchronous: the reorder heap drains, then every rule's state
    this.subscription.unsubscribe();
    if (this.failure !== null) this.fail();
  }

  advanceStreamTime(streamTime: number): boolean {
    if (this.state !== 'open') return false;
    const moved = this.control.advanceTo(streamTime);
    if (this.failure !== null) this.fail();
    return moved;
  }

  get streamTime(): number {
    return this.streamStats.streamTime;
  }

  get rules(): readonly CompiledRule[] {
    return this.running;
  }

  replaceRules(rules: readonly CompiledRule[]): RulesReplaced {
    if (this.state !== 'open')
      throw new DetectionProcessorError(`replaceRules after ${this.state}`, this.partition);
    if (this.ruleSetControl === undefined)
      throw new DetectionProcessorError(
        'replaceRules on a processor made without `replaceable`',
        this.partition,
      );
    const replaced = this.ruleSetControl.replace(rules.map(ruleSetEntry), sigmaFilterDispatch(rules));
    // The updates of the windows the change closed went to the sink: a throwing sink surfaces here.
    if (this.failure !== null) this.fail();
    this.ruleStats = replaced.ruleStats;
    this.suppressionStats = replaced.suppressionStats;
    const alerts = new Map<CompiledRule, number>();
    for (const rule of rules) {
      const count = this.alertsByRule.get(rule);
      if (count !== undefined) alerts.set(rule, count);
    }
    this.alertsByRule = alerts;
    this.running = rules;
    return { kept: replaced.kept, started: replaced.started, dropped: replaced.dropped };
  }

  get earliestBuffered(): number {
    return this.control.earliestBuffered;
  }

  close(): void {
    if (this.state === 'open') this.state = 'closed';
    this.subscription.unsubscribe();
  }

  stats(): DetectionStats {
    const s = this.streamStats;
    let openPartials = 0;
    let evictions = 0;
    let evictedByCap = 0;
    let evictedByBytes = 0;
    let stateBytes = 0;
    let alerts = 0;
    let suppressed = 0;
    let alertUpdates = 0;
    const rules = this.running.map((rule, i): RuleDetectionStats => {
      const ruleAlerts = this.alertsByRule.get(rule) ?? 0;
      const r = this.ruleStats[i] as CorrelationStats;
      const q = this.suppressionStats[i] ?? null;
      suppressed += q?.suppressed ?? 0;
      alertUpdates += q?.updates ?? 0;
      openPartials += r.openPartials;
      evictions += r.evictedByWindow + r.evictedByCap + r.evictedByBytes;
      evictedByCap += r.evictedByCap;
      evictedByBytes += r.evictedByBytes;
      stateBytes += r.stateBytes;
      alerts += ruleAlerts;
      return {
        ruleId: rule.rule.id,
        ruleName: rule.rule.name,
        alerts: ruleAlerts,
        openPartials: r.openPartials,
        keys: r.keys,
        evictedByWindow: r.evictedByWindow,
        evictedByCap: r.evictedByCap,
        evictedByBytes: r.evictedByBytes,
        stateBytes: r.stateBytes,
        suppressed: q?.suppressed ?? 0,
        alertUpdates: q?.updates ?? 0,
        suppressionWindows: q?.windows.openPartials ?? 0,
        suppressionClosedAtBound: (q?.windows.evictedByCap ?? 0) + (q?.windows.evictedByBytes ?? 0),
      };
    });
    return {
      partition: this.partition,
      eventsIn: this.eventsIn,
      late: s.late,
      invalidTime: s.invalidTime,
      futureTime: s.futureTime,
      buffered: s.buffered,
      bufferedBytes: s.bufferedBytes,
      forcedReleases: s.forcedReleases,
      stateBytes,
      streamTime: s.streamTime,
      watermark: s.watermark,
      alerts,
      openPartials,
      evictions,
      evictedByCap,
      evictedByBytes,
      suppressed,
      alertUpdates,
      rules,
    };
  }

  private fail(): never {
    const { error: cause, inSink } = this.failure as { error: unknown; inSink: boolean };
    this.state = 'closed';
    this.subscription.unsubscribe();
    if (inSink) throw cause; // the caller's own error (a closed output, a full disk), unchanged
    throw new DetectionProcessorError(
      `the engine failed: ${cause instanceof Error ? cause.message : String(cause)}`,
      this.partition,
      { cause },
    );
  }
}

/** A compiled rule as the engine's rule set takes it, tagged with itself (the identity `replaceRules` keeps). */
function ruleSetEntry(rule: CompiledRule): RuleSetEntry<SequorEvent, CompiledRule> {
  return { rule, spec: rule.compiled.spec, suppress: rule.suppress };
}

/** Builds a processor for one partition; the rules' specs are shared, the state is its own. */
export function createDetectionProcessor(options: DetectionProcessorOptions): DetectionProcessor {
  return new DefaultDetectionProcessor(options);
}

/** Adds per-partition stats into one view (the CLI's summary, a detector's metrics over its partitions). */
export function sumDetectionStats(all: readonly DetectionStats[]): DetectionStats {
  const rules = new Map<string, { -readonly [K in keyof RuleDetectionStats]: RuleDetectionStats[K] }>();
  let eventsIn = 0;
  let late = 0;
  let invalidTime = 0;
  let futureTime = 0;
  let buffered = 0;
  let bufferedBytes = 0;
  let forcedReleases = 0;
  let stateBytes = 0;
  let alerts = 0;
  let openPartials = 0;
  let evictions = 0;
  let evictedByCap = 0;
  let evictedByBytes = 0;
  let suppressed = 0;
  let alertUpdates = 0;
  let streamTime = Number.NEGATIVE_INFINITY;
  let watermark = Number.POSITIVE_INFINITY;
  for (const s of all) {
    eventsIn += s.eventsIn;
    late += s.late;
    invalidTime += s.invalidTime;
    futureTime += s.futureTime;
    buffered += s.buffered;
    bufferedBytes += s.bufferedBytes;
    forcedReleases += s.forcedReleases;
    stateBytes += s.stateBytes;
    alerts += s.alerts;
    openPartials += s.openPartials;
    evictions += s.evictions;
    evictedByCap += s.evictedByCap;
    evictedByBytes += s.evictedByBytes;
    suppressed += s.suppressed;
    alertUpdates += s.alertUpdates;
    streamTime = Math.max(streamTime, s.streamTime);
    // The combined watermark is the slowest partition's: below it, every partition has released.
    watermark = Math.min(watermark, s.watermark);
    for (const r of s.rules) {
      const sum = rules.get(r.ruleId) ?? {
        ruleId: r.ruleId,
        ruleName: r.ruleName,
        alerts: 0,
        openPartials: 0,
        keys: 0,
        evictedByWindow: 0,
        evictedByCap: 0,
        evictedByBytes: 0,
        stateBytes: 0,
        suppressed: 0,
        alertUpdates: 0,
        suppressionWindows: 0,
        suppressionClosedAtBound: 0,
      };
      sum.alerts += r.alerts;
      sum.openPartials += r.openPartials;
      sum.keys += r.keys;
      sum.evictedByWindow += r.evictedByWindow;
      sum.evictedByCap += r.evictedByCap;
      sum.evictedByBytes += r.evictedByBytes;
      sum.stateBytes += r.stateBytes;
      sum.suppressed += r.suppressed;
      sum.alertUpdates += r.alertUpdates;
      sum.suppressionWindows += r.suppressionWindows;
      sum.suppressionClosedAtBound += r.suppressionClosedAtBound;
      rules.set(r.ruleId, sum);
    }
  }
  if (all.length === 0) watermark = Number.NEGATIVE_INFINITY;
  return {
    partition: null,
    eventsIn,
    late,
    invalidTime,
    futureTime,
    buffered,
    bufferedBytes,
    forcedReleases,
    stateBytes,
    streamTime,
    watermark,
    alerts,
    openPartials,
    evictions,
    evictedByCap,
    evictedByBytes,
    suppressed,
    alertUpdates,
    rules: [...rules.values()],
  };
}
