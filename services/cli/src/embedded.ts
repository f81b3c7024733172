/**
 * Embedded mode: the services' path in one process, with the in-memory transport in place of Kafka.
 *
 *   files ──► k-way merge by event time ──► NormalizeProcessor (one decoder per file)
 *         ──► events topic (in memory, N partitions, keyed by host with Kafka's murmur2)
 *         ──► one DetectionProcessor per partition ──► alerts
 *
 * The normalizer and detector services run the same NormalizeProcessor and DetectionProcessor over
 * Kafka: one engine, two transports. Records go through the topic in batches (a poll per
 * `BATCH_RECORDS` produced), as a consumer would read them. The topic carries the event objects
 * themselves, not encoded (`inMemoryEvents`; the byte bounds take `estimateEncodedBytes`).
 *
 * Files have no record timestamps, so the skew guard judges each event against the wall clock read once
 * when the run starts (`now`): a year-9999 date or epoch microseconds read as milliseconds is refused
 * even as the first event of a file, and a run decides the same however fast it goes. Stream time is
 * not the reference here: merged files from different days jump legitimately by more than any skew.
 */
import type { LateEvent } from '@sequor/engine';
import { DEFAULT_ALLOWED_LATENESS_MS } from '@sequor/engine';
import type { AlertUpdate, SequorEvent } from '@sequor/model';
import type {
  DeadLetterReason,
  DetectionProcessor,
  FormatCounters,
  NormalizedRecord,
} from '@sequor/pipeline';
import {
  createDetectionProcessor,
  createNormalizeProcessor,
  defaultMaxFutureSkewMs,
  estimateEncodedBytes,
  InMemoryTransport,
  inMemoryEvents,
  sumDetectionStats,
} from '@sequor/pipeline';
import type { Alert, CompiledRule } from '@sequor/rules';
import type { OpenInput, SkippedInput } from './io/inputs.js';
import { EventTimeMerge, inlineNormalizedLines } from './io/merge.js';
import { NormalizeWorkers } from './io/normalize-workers.js';
import type { ProgressBar } from './io/progress.js';

/** The in-memory topic normalized events go through. Only this process sees it (the services' topic is `sequor.events`). */
export const EVENTS_TOPIC = 'events.normalized';
/** Dead-letter reason of an event dated too far ahead (the detector's reason too). */
export const FUTURE_TIMESTAMP = 'future-timestamp';
/** Dead-letter reason of an event a rule threw on (the detector's reason too). */
export const RULE_ERROR = 'rule-error';
const BATCH_RECORDS = 4096;
const DEAD_LETTER_EXAMPLES = 5;

export interface EmbeddedDetectionOptions {
  readonly inputs: readonly OpenInput[];
  readonly skipped?: readonly SkippedInput[];
  readonly rules: readonly CompiledRule[];
  readonly partitions: number;
  readonly allowedLatenessMs?: number;
  readonly maxOpenPartials?: number;
  /** Engine bounds per partition (reorder buffer) and per rule and partition (state); engine defaults when absent. */
  readonly maxBufferedBytes?: number;
  readonly maxStateBytes?: number;
  /** How far ahead of `now` an event may be (default 1 h). */
  readonly maxFutureSkewMs?: number;
  /** The skew guard's reference, epoch ms: the wall clock at the start of the run (default `Date.now()`). */
  readonly now?: number;
  readonly onAlert: (alert: Alert) => void;
  /** Suppression update records (rules with `suppress`), in order with the alerts; dropped when absent. */
  readonly onAlertUpdate?: (update: AlertUpdate) => void;
  /** Awaited between batches: where the caller writes buffered alerts out (backpressure). */
  readonly afterBatch?: () => Promise<void>;
  readonly onLate?: (late: LateEvent<SequorEvent>) => void;
  readonly progress?: ProgressBar;
  /** Detection time for alerts. Default `Date.now`. */
  readonly clock?: () => number;
  /**
   * Worker threads that normalize the lines ahead of the merge (`--threads`); 1 (the default) does all
   * on this thread. The alerts and their order do not depend on it.
   */
  readonly threads?: number;
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
  /** The normalizer's reasons, and `future-timestamp` and `rule-error` from the detection stage. */
  readonly deadLettersByReason: Readonly<
    Partial<Record<DeadLetterReason | typeof FUTURE_TIMESTAMP | typeof RULE_ERROR, number>>
  >;
  /** The first few dead letters as `file:line: reason: message`. */
  readonly deadLetterExamples: readonly string[];
  readonly late: number;
  readonly invalidTime: number;
  /** Events dead-lettered as `future-timestamp` (also in `deadLetters`). */
  readonly futureTime: number;
  /** Events the reorder buffers released early because they reached their byte bound. */
  readonly forcedReleases: number;
  readonly alerts: number;
  /** Rules with `suppress`: alerts counted into a window instead of written, and the update records. */
  readonly suppressedAlerts: number;
  readonly alertUpdates: number;
  /**
   * Per rule: alerts, partial matches expired by their window (normal), and dropped at the state cap or
   * the state byte bound (lost matches).
   */
  readonly alertsByRule: readonly {
    readonly id: string;
    readonly name: string;
    readonly alerts: number;
    readonly expired: number;
    readonly droppedAtCap: number;
    readonly droppedAtBytes: number;
  }[];
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
  const inputs = options.inputs;
  // Each file is a "topic" for the normalizer: its own decoder, and alerts name it as their origin.
  const topics = inputs.map((input) => input.file.name);
  const threads = options.threads ?? 1;
  const workers = threads > 1 ? new NormalizeWorkers(threads, inputs, topics) : null;
  try {
    return await detect(options, topics, workers, started, cpuStart);
  } finally {
    await workers?.close();
  }
}

async function detect(
  options: EmbeddedDetectionOptions,
  topics: readonly string[],
  workers: NormalizeWorkers | null,
  started: number,
  cpuStart: NodeJS.CpuUsage,
): Promise<DetectionSummary> {
  const { inputs, rules, partitions } = options;
  const normalize =
    workers === null
      ? createNormalizeProcessor({
          bindings: inputs.map((input, i) => ({ topic: topics[i] as string, format: input.format })),
          encoder: inMemoryEvents,
        })
      : null;
  const transport = new InMemoryTransport();
  const events = transport.createTopic<NormalizedRecord>(EVENTS_TOPIC, partitions);
  const group = events.consumer();
  let alerts = 0;
  const onAlert = (alert: Alert): void => {
    alerts++;
    options.onAlert(alert);
  };
  const now = options.now ?? Date.now();
  const maxFutureSkewMs =
    options.maxFutureSkewMs ??
    defaultMaxFutureSkewMs(options.allowedLatenessMs ?? DEFAULT_ALLOWED_LATENESS_MS);
  const perInput = inputs.map((input, i) => ({
    name: topics[i] as string,
    format: input.format.name,
    lines: 0,
    events: 0,
    deadLetters: 0,
  }));
  const inputIndex = new Map(topics.map((topic, i) => [topic, i]));
  const examples: string[] = [];
  let futureDeadLetters = 0;
  let ruleErrorDeadLetters = 0;
  /** A dead letter like a bad line: counted against its file, one of the examples with file:line. */
  const deadLetter = (event: SequorEvent, reason: string, message: () => string): void => {
    const origin = event.origin;
    const index = origin.topic === null ? undefined : inputIndex.get(origin.topic);
    if (index !== undefined) (perInput[index] as { deadLetters: number }).deadLetters++;
    if (examples.length < DEAD_LETTER_EXAMPLES) {
      const where = origin.topic === null ? 'event' : `${origin.topic}:${(origin.offset ?? -1) + 1}`;
      examples.push(`${where}: ${reason}: ${message()}`);
    }
  };
  const onLate = (late: LateEvent<SequorEvent>): void => {
    if (late.reason === FUTURE_TIMESTAMP) {
      futureDeadLetters++;
      deadLetter(late.event, FUTURE_TIMESTAMP, () => futureMessage(late.timestamp, now, maxFutureSkewMs));
    }
    options.onLate?.(late);
  };
  // A rule that throws on an event counts as not matched there and the run goes on, as in the detector:
  // the event is one dead letter however many rules threw on it, its example line naming each, also when
  // a stateful rule throws on it later, as the reorder stage releases it (by event: its example, or -1).
  // At most `MAX_RULES_PER_EXAMPLE` rules named per line: a Sigma set's own exception fails all its rules.
  const ruleErrorExamples = new WeakMap<SequorEvent, { readonly example: number; rules: number }>();
  const onRuleError = (rule: CompiledRule, event: SequorEvent, error: unknown): void => {
    const seen = ruleErrorExamples.get(event);
    if (seen === undefined) {
      ruleErrorDeadLetters++;
      const before = examples.length;
      deadLetter(event, RULE_ERROR, () => ruleErrorMessage(rule, error));
      ruleErrorExamples.set(event, { example: examples.length > before ? before : -1, rules: 1 });
    } else if (seen.example >= 0 && seen.rules <= MAX_RULES_PER_EXAMPLE) {
      examples[seen.example] +=
        seen.rules < MAX_RULES_PER_EXAMPLE ? `; ${ruleErrorMessage(rule, error)}` : '; and more rules';
      seen.rules++;
    }
  };
  const processors: DetectionProcessor[] = Array.from({ length: partitions }, (_, partition) =>
    createDetectionProcessor({
      rules,
      partition,
      allowedLatenessMs: options.allowedLatenessMs,
      maxOpenPartials: options.maxOpenPartials,
      maxBufferedBytes: options.maxBufferedBytes,
      maxStateBytes: options.maxStateBytes,
      maxFutureSkewMs,
      clock: options.clock,
      onAlert,
      ...(options.onAlertUpdate === undefined ? {} : { onAlertUpdate: options.onAlertUpdate }),
      onLate,
      onRuleError,
    }),
  );
  const eventsPerPartition = new Array<number>(partitions).fill(0);
  let totalEvents = 0;

  const consume = (): void => {
    for (const batch of group.poll(Number.MAX_SAFE_INTEGER)) {
      const processor = processors[batch.partition] as DetectionProcessor;
      const records = batch.records;
      for (let i = 0; i < records.length; i++) {
        const event = records[i]!.value.event;
        processor.push(event, now, estimateEncodedBytes(event));
      }
      eventsPerPartition[batch.partition]! += records.length;
    }
    group.commit();
  };

  const merge = new EventTimeMerge(
    inputs,
    normalize === null
      ? (workers as NormalizeWorkers).sources()
      : inlineNormalizedLines(inputs, topics, normalize),
  );
  const totalBytes = inputs.every((i) => i.file.size !== null)
    ? inputs.reduce((n, i) => n + (i.file.size as number), 0)
    : null;
  const snapshot = () => ({ events: totalEvents, alerts, bytes: merge.progress().bytes, totalBytes });
  let sinceBatch = 0;
  await merge.run((record) => {
    const result = record.result;
    const input = perInput[record.source] as { events: number; deadLetters: number };
    const verdict = result.deadLetter;
    if (verdict !== undefined) {
      input.deadLetters++;
      if (examples.length < DEAD_LETTER_EXAMPLES)
        examples.push(
          deadLetterLine(topics[record.source] as string, record.offset, verdict.format, verdict.message),
        );
    }
    const outputs = result.outputs;
    for (let i = 0; i < outputs.length; i++) {
      const out = outputs[i]!;
      events.send({ key: out.key, value: out, timestamp: out.event.timestamp, headers: out.headers });
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

  inputs.forEach((input, i) => ((perInput[i] as { lines: number }).lines = input.reader.linesRead));
  const counters = normalize === null ? await (workers as NormalizeWorkers).counters() : normalize.counters();
  const stats = sumDetectionStats(processors.map((p) => p.stats()));
  const wallMs = performance.now() - started;
  const cpu = process.cpuUsage(cpuStart);
  return {
    inputs: perInput,
    skipped: (options.skipped ?? []).map((s) => ({ name: s.file.name, reason: s.reason })),
    lines: merge.progress().lines,
    events: totalEvents,
    byFormat: counters.byFormat,
    deadLetters: counters.total.deadLetters + futureDeadLetters + ruleErrorDeadLetters,
    deadLettersByReason: {
      ...counters.deadLettersByReason,
      ...(futureDeadLetters === 0 ? {} : { [FUTURE_TIMESTAMP]: futureDeadLetters }),
      ...(ruleErrorDeadLetters === 0 ? {} : { [RULE_ERROR]: ruleErrorDeadLetters }),
    },
    deadLetterExamples: examples,
    late: stats.late,
    invalidTime: stats.invalidTime,
    futureTime: stats.futureTime,
    forcedReleases: stats.forcedReleases,
    alerts,
    suppressedAlerts: stats.suppressed,
    alertUpdates: stats.alertUpdates,
    alertsByRule: rules.map((rule) => {
      const r = stats.rules.find((x) => x.ruleId === rule.rule.id);
      return {
        id: rule.rule.id,
        name: rule.rule.name,
        alerts: r?.alerts ?? 0,
        expired: r?.evictedByWindow ?? 0,
        droppedAtCap: r?.evictedByCap ?? 0,
        droppedAtBytes: r?.evictedByBytes ?? 0,
      };
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

/** Rules a dead letter example line names, as a detector dead letter's header does. */
const MAX_RULES_PER_EXAMPLE = 32;

function ruleErrorMessage(rule: CompiledRule, error: unknown): string {
  const detail = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return `rule ${rule.rule.id} threw on this event (counted as not matched): ${detail}`;
}

function futureMessage(eventTime: number, now: number, skewMs: number): string {
  const time = new Date(eventTime);
  const shown = Number.isNaN(time.getTime()) ? String(eventTime) : time.toISOString();
  return `event time ${shown} is more than ${skewMs} ms ahead of the run's start (${new Date(now).toISOString()}; --max-future-skew)`;
}

/**
 * `file:line: message`, the message without the normalizer's own `format topic[0]@offset: ` prefix (it
 * names the 0-based offset; people count lines from 1).
 */
export function deadLetterLine(file: string, offset: number, format: string, message: string): string {
  const prefix = `${format} ${file}[0]@${offset}: `;
  return `${file}:${offset + 1}: ${message.startsWith(prefix) ? message.slice(prefix.length) : message}`;
}
