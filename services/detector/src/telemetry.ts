/**
 * The seam where `@sequor/telemetry` (metrics, traces) plugs into the detector: optional hooks, called
 * synchronously on the processing path, so they must be cheap and must not throw. The detector works
 * the same without them (logs carry the same facts).
 */
import type { ConsumedRecord, PartitionAssignment, RecordHeaders } from '@sequor/kafka';
import type { DetectionStats } from '@sequor/pipeline';
import type { Alert } from '@sequor/rules';
import type { RestoreSummary } from './partition-task.js';

export interface CommittedBatch {
  readonly topic: string;
  readonly partition: number;
  /** Live records the transaction covers, and what they raised. */
  readonly records: number;
  readonly alerts: number;
  readonly lateEvents: number;
  readonly deadLetters: number;
  /** Offset committed (next to read) and the partition's high watermark when fetched. */
  readonly committedOffset: number;
  readonly highWatermark: number;
  /** From the batch in hand to the committed transaction, ms. */
  readonly durationMs: number;
}

export interface DetectorTelemetry {
  /** After every join: the partitions this member owns now. */
  partitionsAssigned?(assignment: readonly PartitionAssignment[]): void;
  /** A partition's state was rebuilt (`durationMs`: from the assignment to the first live record). */
  restored?(summary: RestoreSummary, durationMs: number): void;
  /** A transaction (alerts, late events, dead letters and offsets) committed. */
  batchCommitted?(batch: CommittedBatch): void;
  /** Headers to put on the alert raised while processing `trigger`, e.g. W3C trace context. */
  alertHeaders?(trigger: ConsumedRecord, alert: Alert): RecordHeaders | undefined;
  /** Every `statsIntervalMs`: the engine's stats per owned partition (gauges: open partials, buffered). */
  engineStats?(partitions: readonly DetectionStats[]): void;
}
