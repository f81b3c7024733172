/**
 * Embedded mode: the services' path in one process, with the in-memory transport in place of Kafka.
 *
 *   files ──► k-way merge by event time ──► NormalizeProcessor (one decoder per file)
 *         ──► events topic (in memory, N partitions, keyed by host with Kafka's murmur2)
 *         ──► one DetectionProcessor per partition ──► alerts
 *
 * The normalizer and detector services run the same NormalizeProcessor and DetectionProcessor over
 * Kafka: one engine, two transports. Records go through the topic in batches (a poll per
 * `BATCH_RECORDS` produced), as a consumer would read them.
 */
import type { LateEvent } from '@sequor/engine';
import type { SequorEvent } from '@sequor/model';
import type { DeadLetterReason, DetectionProcessor, FormatCounters } from '@sequor/pipeline';
import { createDetectionProcessor, createNormalizeProcessor, InMemoryTransport, singleObjectEventEncoder, sumDetectionStats } from '@sequor/pipeline';
import type { Alert, CompiledRule } from '@sequor/rules';
import type { OpenInput, SkippedInput } from './io/inputs.js';
import { EventTimeMerge } from './io/merge.js';
import type { ProgressBar } from './io/progress.js';

/** The in-memory topic normalized events go through, named as the services' default. */
export const EVENTS_TOPIC = 'events.normalized';
const BATCH_RECORDS = 4096;
const DEAD_LETTER_EXAMPLES = 5;

export interface EmbeddedDetectionOptions {
  readonly inputs: readonly OpenInput[];
  readonly skipped?: readonly SkippedInput[];
  readonly rules: readonly CompiledRule[];
  readonly partitions: number;
  readonly allowedLatenessMs?: number;
  readonly maxOpenPartials?: number;
  readonly onAlert: (alert: Alert) => void;
  /** Awaited between batches: where the caller writes buffered alerts out (backpressure). */
  readonly afterBatch?: () => Promise<void>;
  readonly onLate?: (late: LateEvent<SequorEvent>) => void;
  readonly progress?: ProgressBar;
  /** Detection time for alerts. Default `Date.now`. */
  readonly clock?: () => number;
}

export interface InputSummary {
  readonly name: string;
  readonly format: string;
  readonly lines: number;
  readonly events: number;
  readonly deadLetters: number;
}

export interface DetectionSummary {
  readonly inputs: readonly InputSummary[];
  readonly skipped: readonly { readonly name: string; readonly reason: string }[];
  /** Lines read (blank lines included). */
  readonly lines: number;
  readonly events: number;
  readonly byFormat: Readonly<Record<string, FormatCounters>>;
  readonly deadLetters: number;
  readonly deadLettersByReason: Readonly<Partial<Record<DeadLetterReason, number>>>;
  /** The first few dead letters as `file:line: reason: message`. */
  readonly deadLetterExamples: readonly string[];
  readonly late: number;
  readonly invalidTime: number;
  readonly alerts: number;
  /** Per rule: alerts, partial matches expired by their window (normal), and dropped at the state cap (lost matches). */
  readonly alertsByRule: readonly { readonly id: string; readonly name: string; readonly alerts: number; readonly expired: number; readonly droppedAtCap: number }[];
  readonly partitions: number;
  readonly eventsPerPartition: readonly number[];
  readonly allowedLatenessMs: number | null;
  readonly wallMs: number;
  readonly cpuMs: number;
  readonly eventsPerSecond: number;
  readonly peakRssBytes: number;
}

export async function runEmbeddedDetection(options: EmbeddedDetectionOptions): Promise<DetectionSummary> {
  const started = performance.now();
  const cpuStart = process.cpuUsage();
  const { inputs, rules, partitions } = options;
  // Each file is a "topic" for the normalizer: its own decoder, and alerts name it as their origin.
  const topics = inputs.map((input) => input.file.name);
  const normalize = createNormalizeProcessor({
    bindings: inputs.map((input, i) => ({ topic: topics[i] as string, format: input.format })),
    encoder: singleObjectEventEncoder(),
  });
  const transport = new InMemoryTransport();
  const events = transport.createTopic<SequorEvent>(EVENTS_TOPIC, partitions);
  const group = events.consumer();
  let alerts = 0;
  const onAlert = (alert: Alert): void => {
    alerts++;
    options.onAlert(alert);
  };
  const processors: DetectionProcessor[] = Array.from({ length: partitions }, (_, partition) =>
    createDetectionProcessor({
      rules,
      partition,
      allowedLatenessMs: options.allowedLatenessMs,
      maxOpenPartials: options.maxOpenPartials,
      clock: options.clock,
      onAlert,
      onLate: options.onLate,
    }),
  );
  const eventsPerPartition = new Array<number>(partitions).fill(0);
  const perInput = inputs.map((input, i) => ({ name: topics[i] as string, format: input.format.name, lines: 0, events: 0, deadLetters: 0 }));
  const examples: string[] = [];
  let totalEvents = 0;

  const consume = (): void => {
    for (const batch of group.poll(Number.MAX_SAFE_INTEGER)) {
      const processor = processors[batch.partition] as DetectionProcessor;
      const records = batch.records;
      for (let i = 0; i < records.length; i++) processor.push(records[i]!.value);
      eventsPerPartition[batch.partition]! += records.length;
    }
    group.commit();
  };

  const merge = new EventTimeMerge(inputs, topics, normalize);
  const totalBytes = inputs.every((i) => i.file.size !== null) ? inputs.reduce((n, i) => n + (i.file.size as number), 0) : null;
  const snapshot = () => ({ events: totalEvents, alerts, bytes: merge.progress().bytes, totalBytes });
  let sinceBatch = 0;
  await merge.run((record) => {
    const result = record.result;
    const input = perInput[record.source] as { events: number; deadLetters: number };
    const verdict = result.deadLetter;
    if (verdict !== undefined) {
      input.deadLetters++;
      if (examples.length < DEAD_LETTER_EXAMPLES) examples.push(deadLetterLine(topics[record.source] as string, record.offset, verdict.format, verdict.message));
    }
    const outputs = result.outputs;
    for (let i = 0; i < outputs.length; i++) {
      const out = outputs[i]!;
      events.send({ key: out.key, value: out.event, timestamp: out.event.timestamp, headers: out.headers });
    }
    input.events += outputs.length;
    totalEvents += outputs.length;
    if (++sinceBatch < BATCH_RECORDS) return;
    sinceBatch = 0;
    consume();
    options.progress?.tick(snapshot);
    return options.afterBatch?.();
  });
  consume();
  for (const processor of processors) processor.flush();
  await options.afterBatch?.();
  options.progress?.tick(snapshot);
  options.progress?.clear();

  inputs.forEach((input, i) => ((perInput[i] as { lines: number }).lines = input.reader.lineIndex + 1));
  const counters = normalize.counters();
  const stats = sumDetectionStats(processors.map((p) => p.stats()));
  const wallMs = performance.now() - started;
  const cpu = process.cpuUsage(cpuStart);
  return {
    inputs: perInput,
    skipped: (options.skipped ?? []).map((s) => ({ name: s.file.name, reason: s.reason })),
    lines: merge.progress().lines,
    events: totalEvents,
    byFormat: counters.byFormat,
    deadLetters: counters.total.deadLetters,
    deadLettersByReason: counters.deadLettersByReason,
    deadLetterExamples: examples,
    late: stats.late,
    invalidTime: stats.invalidTime,
    alerts,
    alertsByRule: rules.map((rule) => {
      const r = stats.rules.find((x) => x.ruleId === rule.rule.id);
      return { id: rule.rule.id, name: rule.rule.name, alerts: r?.alerts ?? 0, expired: r?.evictedByWindow ?? 0, droppedAtCap: r?.evictedByCap ?? 0 };
    }),
    partitions,
    eventsPerPartition,
    allowedLatenessMs: options.allowedLatenessMs ?? null,
    wallMs,
    cpuMs: (cpu.user + cpu.system) / 1000,
    eventsPerSecond: totalEvents / Math.max(wallMs / 1000, 1e-3),
    peakRssBytes: process.resourceUsage().maxRSS * 1024,
  };
}

/**
 * `file:line: message`, the message without the normalizer's own `format topic[0]@offset: ` prefix (it
 * names the 0-based offset; people count lines from 1).
 */
export function deadLetterLine(file: string, offset: number, format: string, message: string): string {
  const prefix = `${format} ${file}[0]@${offset}: `;
  return `${file}:${offset + 1}: ${message.startsWith(prefix) ? message.slice(prefix.length) : message}`;
}
