/**
 * Where `@sequor/telemetry` (traces, metrics, readiness) plugs into the detector. `DetectorTelemetry` is
 * the seam: optional hooks the detector calls, synchronously and on the processing path, so they must be
 * cheap and must not throw; the detector works the same without them (its logs carry the same facts).
 * `detectorTelemetry(telemetry, ...)` implements the seam on a started `Telemetry`.
 */
import type { ConsumedRecord, PartitionAssignment, RecordBatch, RecordHeaders } from '@sequor/kafka';
import type { SequorEvent } from '@sequor/model';
import type { DetectionStats } from '@sequor/pipeline';
import type { Alert } from '@sequor/rules';
import type { ReadinessState } from '@sequor/streams';
import type {
  BatchTrace,
  EngineStatsEntry,
  KafkaTracing,
  Span,
  RuleCatalogMetrics,
  SpanContextRegistry,
  Telemetry,
} from '@sequor/telemetry';
import { hasUnsampledTraceparent, recordFailure, spanContextFromHeaders } from '@sequor/telemetry';
import { alertKey } from './outputs.js';
import type { AlertTrace, RecordObserver, RestoreSummary } from './partition-task.js';

export interface CommittedBatch {
  readonly topic: string;
  readonly partition: number;
  /** Live records the transaction covers, and what they raised. */
  readonly records: number;
  readonly alerts: readonly Alert[];
  readonly lateEvents: number;
  readonly deadLetters: number;
  /** Dead letters by reason, null when none. */
  readonly deadLetterReasons: Readonly<Record<string, number>> | null;
  /** Offset committed (next to read) and the partition's high watermark when fetched. */
  readonly committedOffset: number;
  readonly highWatermark: number;
  /** From the batch in hand to the committed transaction, ms. */
  readonly durationMs: number;
}

/** Follows one batch's records (`RecordObserver`) and learns how the batch ended. */
export interface BatchObserver extends RecordObserver {
  /** The batch's transaction committed, or, with `error`, it did not (or nothing needed committing). */
  end(error?: unknown): void;
}

export interface DetectorTelemetry {
  /** After every join: the partitions this member owns now. */
  partitionsAssigned?(assignment: readonly PartitionAssignment[]): void;
  /** Readiness changed (joined, assigned, every partition's state restored; or not, and why). */
  readinessChanged?(state: ReadinessState): void;
  /** A partition's state was rebuilt (`durationMs`: from taking the partition over to the first live record). */
  restored?(summary: RestoreSummary, durationMs: number): void;
  /** Before a batch's records are processed: an observer for them (trace spans), or undefined. */
  batchStarted?(batch: RecordBatch): BatchObserver | undefined;
  /** A transaction (alerts, late events, dead letters and offsets) committed. */
  batchCommitted?(batch: CommittedBatch): void;
  /** A partition's task closed (revoked, stale, failed, shutdown): its last stats, so counters keep them. */
  partitionClosed?(last: DetectionStats): void;
  /** Once, at start: reads the engine stats of the partitions owned at the time of the call. */
  watchEngine?(read: () => readonly DetectionStats[]): void;
  /** Once, at start: reads the rules running and the rules topic's steps (`/metrics`). */
  ruleCatalog?(read: () => RuleCatalogMetrics): void;
}

export interface DetectorTelemetryTopics {
  readonly groupId: string;
  readonly alertsTopic: string;
  readonly lateEventsTopic: string;
  readonly deadLetterTopic: string;
}

/**
 * The seam implemented on `@sequor/telemetry`:
 * - traces: a `receive` span per batch, a `process` span per live record (a child of the normalizer's
 *   send span from the record's headers), each decoded event remembered with its span; an `alert` span
 *   per alert linked to its evidence events' spans, whose context rides on the alert record. Replayed
 *   records (state rebuild) get no span: their events are remembered with the producer's context from
 *   their headers, so an alert completed after a restore still links into each event's trace.
 * - metrics: records in/out per topic, dead letters by reason, alerts by rule, alert latency, consumer
 *   lag per partition, engine gauges and counters (kept across revocations).
 * - readiness for `/readyz`.
 */
export function detectorTelemetry(telemetry: Telemetry, topics: DetectorTelemetryTopics): DetectorTelemetry {
  const { metrics, tracing, spans } = telemetry;
  const alertsOut = metrics.recordsOut(topics.alertsTopic);
  const lateOut = metrics.recordsOut(topics.lateEventsTopic);
  const deadOut = metrics.recordsOut(topics.deadLetterTopic);
  const retired = new RetiredEngineCounters();
  return {
    partitionsAssigned() {
      // Lag is reported for owned partitions only; each reappears with its next batch.
      metrics.clearConsumerLag();
    },
    readinessChanged(state) {
      telemetry.setReady(state.ready, state.reason);
    },
    batchStarted(batch) {
      if (!tracing.enabled) return undefined;
      return new TracedBatch(tracing, spans, tracing.startReceive(batch, topics.groupId), topics.alertsTopic);
    },
    batchCommitted(batch) {
      metrics.recordsIn(batch.topic).add(batch.records);
      if (batch.alerts.length > 0) {
        alertsOut.add(batch.alerts.length);
        for (const alert of batch.alerts) {
          metrics.alerts(alert.rule.name).add();
          metrics.recordAlertLatency(alert.rule.name, alert.event.last_time, alert.timestamp);
        }
      }
      if (batch.lateEvents > 0) lateOut.add(batch.lateEvents);
      if (batch.deadLetters > 0) deadOut.add(batch.deadLetters);
      if (batch.deadLetterReasons !== null) {
        for (const reason in batch.deadLetterReasons)
          metrics.deadLetters(reason).add(batch.deadLetterReasons[reason]);
      }
      metrics.setConsumerLag(
        batch.topic,
        batch.partition,
        Math.max(0, batch.highWatermark - batch.committedOffset),
      );
    },
    partitionClosed(last) {
      retired.add(last);
    },
    watchEngine(read) {
      metrics.addEngineStatsSource(() => engineStatsEntries(read(), retired));
    },
    ruleCatalog(read) {
      metrics.setRuleCatalogSource(read);
    },
  };
}

/** Per-record spans of one batch; see `detectorTelemetry`. */
class TracedBatch implements BatchObserver {
  private record: ConsumedRecord | undefined;
  private span: Span | undefined;

  constructor(
    private readonly tracing: KafkaTracing,
    private readonly spans: SpanContextRegistry,
    private readonly trace: BatchTrace,
    private readonly alertsTopic: string,
  ) {}

  recordStarted(record: ConsumedRecord, live: boolean): void {
    this.record = record;
    this.span = live ? this.trace.startProcess(record) : undefined;
  }

  eventDecoded(event: SequorEvent): void {
    if (this.span !== undefined) {
      this.spans.remember(event, this.span);
      return;
    }
    // Replayed: this record was processed (and traced) by the partition's previous owner.
    const headers = this.record?.headers;
    if (headers === undefined || hasUnsampledTraceparent(headers)) return;
    const producer = spanContextFromHeaders(headers);
    if (producer !== undefined) this.spans.remember(event, producer);
  }

  alertRaised(alert: Alert, evidence: readonly SequorEvent[]): AlertTrace {
    const span = this.tracing.startAlertSpan(alert, this.spans.contextsOf(evidence));
    const headers: RecordHeaders = {};
    this.tracing.startSend(this.alertsTopic, alertKey(alert).value, headers, span).end();
    span.end();
    return { traceId: span.spanContext().traceId, headers };
  }

  recordFinished(error?: unknown): void {
    const span = this.span;
    if (span === undefined) return;
    if (error !== undefined) recordFailure(span, error);
    span.end();
    this.span = undefined;
  }

  end(error?: unknown): void {
    // A record left open by a throw (a key-fields mismatch) ends with the batch.
    if (this.span !== undefined) this.recordFinished(error);
    this.trace.end(error);
  }
}

/** Engine counters of partitions this member no longer owns: the `/metrics` counters must not go down. */
export class RetiredEngineCounters {
  late = 0;
  invalidTime = 0;
  forcedReleases = 0;
  readonly byRule = new Map<
    string,
    { evictedByWindow: number; evictedByCap: number; evictedByBytes: number }
  >();

  add(last: DetectionStats): void {
    this.late += last.late;
    this.invalidTime += last.invalidTime;
    this.forcedReleases += last.forcedReleases;
    for (const rule of last.rules) {
      const sum = this.byRule.get(rule.ruleName) ?? {
        evictedByWindow: 0,
        evictedByCap: 0,
        evictedByBytes: 0,
      };
      sum.evictedByWindow += rule.evictedByWindow;
      sum.evictedByCap += rule.evictedByCap;
      sum.evictedByBytes += rule.evictedByBytes;
      this.byRule.set(rule.ruleName, sum);
    }
  }
}

/**
 * The detector's engine stats as `/metrics` entries: late and untimeable events per partition stream
 * (the reorder stage is shared by all rules, so without a rule label), partial matches, keys and
 * evictions per rule; counters include what revoked partitions had counted.
 */
export function engineStatsEntries(
  live: readonly DetectionStats[],
  retired?: RetiredEngineCounters,
): EngineStatsEntry[] {
  const entries: EngineStatsEntry[] = [];
  if (retired !== undefined) {
    entries.push({
      stats: { late: retired.late, invalidTime: retired.invalidTime, forcedReleases: retired.forcedReleases },
    });
    for (const [rule, sum] of retired.byRule)
      entries.push({ rule, stats: { ...sum, openPartials: 0, keys: 0, stateBytes: 0 } });
  }
  for (const partition of live) {
    entries.push({
      stats: {
        late: partition.late,
        invalidTime: partition.invalidTime,
        buffered: partition.buffered,
        bufferedBytes: partition.bufferedBytes,
        forcedReleases: partition.forcedReleases,
      },
    });
    for (const r of partition.rules) {
      entries.push({
        rule: r.ruleName,
        stats: {
          openPartials: r.openPartials,
          keys: r.keys,
          evictedByWindow: r.evictedByWindow,
          evictedByCap: r.evictedByCap,
          evictedByBytes: r.evictedByBytes,
          stateBytes: r.stateBytes,
        },
      });
    }
  }
  return entries;
}
