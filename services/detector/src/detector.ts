/**
 * The detector service: a consumer group over the normalized event topics; for each assigned partition a
 * `PartitionTask` (one `DetectionProcessor`: every rule, one watermark) and a transactional producer of
 * its own. Per processed batch, one transaction: the alerts, late events and dead letters it raised plus
 * the consumed offsets (with the restore point as offset metadata) commit together or not at all. On
 * assignment the producer's `initTransactions` fences the previous owner, then the task replays from
 * the committed restore point with its output suppressed up to the committed offset. Wiring and
 * lifecycle only; the reasoning is in README.md.
 *
 * ```ts
 * const detector = createDetector(detectorConfigFromEnv(process.env), { logger });
 * await detector.start();
 * installShutdownHandlers(detector, logger);
 * await detector.done;
 * ```
 */
import type {
  ConsumedRecord,
  ConsumerRunner,
  KafkaAdmin,
  KafkaClient,
  Logger,
  PartitionAssignment,
  ProducerRecord,
  RecordBatch,
  Stoppable,
  TransactionalProducer,
} from '@sequor/kafka';
import {
  checkDeadLetterLimit,
  clientErrorType,
  ConfluentSchemaRegistry,
  createConsumerRunner,
  createKafkaClient,
  createLogger,
  createTransactionalProducer,
  ensureTopics,
  isRetriable,
  oversizeDeadLetter,
  RECORD_TOO_LARGE,
  registerValueSchema,
  TopicLimits,
} from '@sequor/kafka';
import type { AvroCodec, SchemaRegistry, SequorEvent } from '@sequor/model';
import { CodecError, createEventCodec, SequorError } from '@sequor/model';
import type { DetectionStats } from '@sequor/pipeline';
import type { CompiledRule } from '@sequor/rules';
import type { DetectorConfig } from './config.js';
import { transactionalIdFor } from './config.js';
import type { AlertEncoder } from './outputs.js';
import { alertSchemaText, confluentAlertEncoder, createAlertCodec, singleObjectAlertEncoder } from './outputs.js';
import type { RestoreSummary } from './partition-task.js';
import { PartitionTask } from './partition-task.js';
import { RestoreReadiness } from './readiness.js';
import { decodeRestoreMetadata, encodeRestoreMetadata, restoreHorizonMs } from './restore.js';
import type { DetectorRuleSet } from './rules.js';
import { loadDetectorRules } from './rules.js';
import type { DetectorTelemetry } from './telemetry.js';

export interface DetectorDeps {
  /** Default: a client built from `config.kafka`. */
  readonly client?: KafkaClient;
  readonly logger?: Logger;
  /** Default: a Confluent REST client when `config.schemaRegistry` is set. */
  readonly schemaRegistry?: SchemaRegistry;
  readonly telemetry?: DetectorTelemetry;
  /** Alert detection time; default `Date.now`. */
  readonly clock?: () => number;
  /** How often counters are logged. Default 60 s. */
  readonly statsIntervalMs?: number;
}

export interface DetectorCounters {
  /** Live records processed, and replayed ones (state rebuild). */
  readonly records: number;
  readonly replayedRecords: number;
  readonly alerts: number;
  /** Alerts a replay raised again and did not produce (the first run committed them). */
  readonly suppressedAlerts: number;
  readonly lateEvents: number;
  readonly deadLetters: number;
  readonly transactions: number;
  readonly restores: number;
  /** Records without the `sequor.partition-key-fields` header (not written by the normalizer). */
  readonly withoutKeyHeader: number;
}

export interface Detector extends Stoppable {
  /** Loads and checks the rules, creates missing output topics, joins the group. */
  start(): Promise<void>;
  /** Finishes the batch in hand (its transaction commits), leaves the group, closes producers. Idempotent. */
  stop(): Promise<void>;
  /** Settles when the detector stopped: resolves after `stop()`, rejects if the consumer crashed. */
  readonly done: Promise<void>;
  counters(): DetectorCounters;
  /** Engine stats of the partitions owned now. */
  partitionStats(): DetectionStats[];
  /** The rules running (after start). */
  readonly rules: readonly CompiledRule[];
}

/** Input topics the config names do not exist: the detector does not create its inputs. */
export class InputTopicsMissingError extends SequorError {
  constructor(readonly topics: readonly string[]) {
    super(`input topics do not exist: ${topics.join(', ')} (start the normalizer first, or fix DETECTOR_INPUT_TOPICS)`);
  }
}

/**
 * Another producer initialised this partition's transactional id: the partition moved to another member
 * (we missed a rebalance). Retriable: kafkajs restarts the consumer, which rejoins the group and gets
 * an authoritative assignment (Kafka Streams' TaskMigratedException).
 */
export class PartitionFencedError extends SequorError {
  constructor(
    readonly topic: string,
    readonly partition: number,
    readonly transactionalId: string,
    cause: unknown,
  ) {
    super(`${topic}[${partition}]: transactional id ${transactionalId} was fenced by a newer owner; rejoining the group`, { retriable: true, cause });
  }
}

/** A transaction failed for another reason: its output is not committed and the task's state is ahead of it. */
export class DetectorTransactionError extends SequorError {
  constructor(topic: string, partition: number, cause: unknown, retriable = isRetriable(cause)) {
    super(`${topic}[${partition}]: the transaction of a batch failed: ${cause instanceof Error ? cause.message : String(cause)}`, {
      retriable,
      cause,
    });
  }
}

/** The broker refused a batch for its size: a topic's `max.message.bytes` changed under us (we split by the one we read). */
const SIZE_ERRORS = new Set(['MESSAGE_TOO_LARGE', 'RECORD_LIST_TOO_LARGE']);

const FENCED_ERRORS = new Set(['INVALID_PRODUCER_EPOCH', 'PRODUCER_FENCED', 'INVALID_PRODUCER_ID_MAPPING', 'TRANSACTIONAL_ID_AUTHORIZATION_FAILED']);

/** True when the broker refused a transactional request because a newer producer took over the id. */
function isFenced(error: unknown): boolean {
  const type = clientErrorType(error);
  return type !== undefined && FENCED_ERRORS.has(type);
}

/** One owned partition: its task and the producer whose transactions carry its output and offsets. */
interface PartitionSlot {
  readonly topic: string;
  readonly partition: number;
  readonly transactionalId: string;
  readonly producer: TransactionalProducer;
  readonly task: PartitionTask;
  readonly openedAt: number;
  /** The partition stayed with this member across a rebalance: check nobody committed past us meanwhile. */
  verify: boolean;
}

const slotKey = (topic: string, partition: number): string => `${topic}\u0000${partition}`;

class KafkaDetector implements Detector {
  readonly done: Promise<void>;
  private resolveDone!: () => void;
  private rejectDone!: (error: unknown) => void;
  private readonly client: KafkaClient;
  private readonly logger: Logger;
  private readonly telemetry: DetectorTelemetry;
  private readonly clock: () => number;
  private ruleSet: DetectorRuleSet | undefined;
  private horizonMs = 0;
  private eventCodec: AvroCodec<SequorEvent> | undefined;
  private alertEncoder: AlertEncoder | undefined;
  /** `max.message.bytes` of the output topics: each transaction's sends are cut to fit them. */
  private limits = new TopicLimits();
  private readonly loadedSchemaIds = new Set<number>();
  private admin: KafkaAdmin | undefined;
  private runner: ConsumerRunner | undefined;
  private readonly slots = new Map<string, PartitionSlot>();
  private readonly keyFieldsWarned = new Set<string>();
  private readonly readiness = new RestoreReadiness();
  private lastReadiness: string | undefined;
  /** Bumped on every assignment: restore preparation of an older one stops acting. */
  private generation = 0;
  private stopping: Promise<void> | undefined;
  private statsTimer: NodeJS.Timeout | undefined;
  private readonly totals = {
    records: 0,
    replayedRecords: 0,
    alerts: 0,
    suppressedAlerts: 0,
    lateEvents: 0,
    deadLetters: 0,
    transactions: 0,
    restores: 0,
    withoutKeyHeader: 0,
  };

  constructor(
    private readonly config: DetectorConfig,
    private readonly deps: DetectorDeps,
  ) {
    this.logger = deps.logger ?? createLogger('detector', { level: config.logLevel });
    this.client = deps.client ?? createKafkaClient(config.kafka, { logger: this.logger });
    this.telemetry = deps.telemetry ?? {};
    this.clock = deps.clock ?? Date.now;
    this.done = new Promise<void>((resolve, reject) => {
      this.resolveDone = resolve;
      this.rejectDone = reject;
    });
    this.done.catch(() => undefined);
  }

  get rules(): readonly CompiledRule[] {
    return this.ruleSet?.rules ?? [];
  }

  counters(): DetectorCounters {
    return { ...this.totals };
  }

  partitionStats(): DetectionStats[] {
    return [...this.slots.values()].map((s) => s.task.stats());
  }

  async start(): Promise<void> {
    if (this.ruleSet !== undefined) throw new SequorError('detector started twice');
    const config = this.config;
    const ruleSet = await loadDetectorRules({ rulesDir: config.rulesDir, partitionKeyFields: config.partitionKeyFields.names, strict: config.strict });
    this.ruleSet = ruleSet;
    for (const e of ruleSet.errors) this.logger.error('rule refused', { file: e.file, line: e.line, column: e.column, code: e.code, error: e.format() });
    for (const w of ruleSet.warnings) this.logger.warn('rule warning', { file: w.file, line: w.line, column: w.column, code: w.code, warning: w.format() });
    this.horizonMs = restoreHorizonMs(config.allowedLatenessMs, ruleSet.longestWindowMs, ruleSet.longestJoinWindowMs);
    await this.createCodecs();
    this.admin = this.client.admin();
    await this.admin.connect();
    await this.ensureTopics(this.admin);
    this.limits = await this.readLimits();
    this.runner = createConsumerRunner(this.client, {
      groupId: config.groupId,
      topics: config.inputTopics,
      processBatch: this.processBatch,
      fromBeginning: config.startFrom === 'earliest',
      partitionsConsumedConcurrently: config.partitionsConcurrently,
      maxRecordsPerCall: config.maxBatchRecords,
      commit: 'transaction',
      sessionTimeoutMs: config.sessionTimeoutMs,
      heartbeatIntervalMs: Math.max(1_000, Math.floor(config.sessionTimeoutMs / 10)),
      logger: this.logger,
      onAssigned: this.onAssigned,
      onRebalancing: this.onRebalancing,
    });
    this.runner.done.then(
      () => this.resolveDone(),
      (error: unknown) => void this.stop().finally(() => this.rejectDone(error)),
    );
    await this.runner.start();
    this.logger.info('detector started', {
      inputTopics: config.inputTopics,
      alertsTopic: config.alertsTopic,
      lateEventsTopic: config.lateEventsTopic,
      deadLetterTopic: config.deadLetterTopic,
      groupId: config.groupId,
      rules: ruleSet.rules.map((r) => `${r.rule.name} (${r.rule.id} v${r.rule.version})`),
      refusedRules: ruleSet.errors.length,
      partitionKeyFields: config.partitionKeyFields.header,
      allowedLatenessMs: config.allowedLatenessMs,
      restoreHorizonMs: this.horizonMs,
      framing: this.alertEncoder?.framing,
      partitionsConcurrently: config.partitionsConcurrently,
      maxBatchRecords: config.maxBatchRecords,
    });
    this.telemetry.watchEngine?.(() => this.partitionStats());
    const interval = this.deps.statsIntervalMs ?? 60_000;
    this.statsTimer = setInterval(this.reportStats, interval);
    this.statsTimer.unref();
  }

  stop(): Promise<void> {
    this.stopping ??= this.shutDown();
    return this.stopping;
  }

  private async shutDown(): Promise<void> {
    clearInterval(this.statsTimer);
    try {
      // The batch in hand finishes and commits its transaction; then the member leaves the group.
      await this.runner?.stop();
    } finally {
      await Promise.all([...this.slots.values()].map((slot) => this.closeSlot(slot, 'shutdown')));
      await this.admin?.disconnect().catch((error: unknown) => this.logger.warn('admin disconnect failed', { error }));
      if (this.ruleSet !== undefined) this.logger.info('detector stopped', { ...this.totals });
      if (this.runner === undefined) this.resolveDone();
    }
  }

  private async createCodecs(): Promise<void> {
    const settings = this.config.schemaRegistry;
    const registry = this.deps.schemaRegistry ?? (settings === undefined ? undefined : new ConfluentSchemaRegistry(settings));
    this.eventCodec = createEventCodec(registry === undefined ? {} : { registry });
    const alertCodec = createAlertCodec();
    if (registry === undefined) {
      this.alertEncoder = singleObjectAlertEncoder(alertCodec);
      return;
    }
    // `<alerts topic>-value` (TopicNameStrategy), registered as written so its defaults keep it evolvable.
    const id = await registerValueSchema(registry, this.config.alertsTopic, alertCodec, alertSchemaText());
    this.alertEncoder = confluentAlertEncoder(alertCodec, id);
  }

  private async ensureTopics(admin: KafkaAdmin): Promise<void> {
    const config = this.config;
    const existing = new Set(await admin.listTopics());
    const missing = config.inputTopics.filter((t) => !existing.has(t));
    if (missing.length > 0) throw new InputTopicsMissingError(missing);
    await ensureTopics(
      admin,
      [
        // ALERTS_PARTITIONS is what a missing topic is created with; an existing one keeps its count.
        { topic: config.alertsTopic, partitions: existing.has(config.alertsTopic) ? 1 : config.alertsPartitions },
        { topic: config.lateEventsTopic, partitions: 1 },
        { topic: config.deadLetterTopic, partitions: 1 },
      ],
      { logger: this.logger },
    );
  }

  private async readLimits(): Promise<TopicLimits> {
    const { alertsTopic, lateEventsTopic, deadLetterTopic } = this.config;
    const limits = await TopicLimits.read(this.admin as KafkaAdmin, [alertsTopic, lateEventsTopic, deadLetterTopic]);
    checkDeadLetterLimit(deadLetterTopic, limits);
    this.logger.info('output topics max.message.bytes', limits.toJSON());
    return limits;
  }

  private readonly reportStats = (): void => {
    const stats = this.partitionStats();
    if (this.logger.isEnabled('info')) {
      this.logger.info('detector counters', {
        ...this.totals,
        partitions: stats.map((s) => ({ partition: s.partition, openPartials: s.openPartials, buffered: s.buffered, watermark: s.watermark })),
      });
    }
  };

  /** After every join: partitions no longer ours are closed (their state dropped, producers closed). */
  private readonly onAssigned = (assignment: readonly PartitionAssignment[]): void => {
    const owned = new Set<string>();
    for (const { topic, partitions } of assignment) for (const p of partitions) owned.add(slotKey(topic, p));
    const revoked: { topic: string; partition: number; openPartials: number; offset: number }[] = [];
    for (const [key, slot] of this.slots) {
      if (owned.has(key)) {
        slot.verify = true;
        continue;
      }
      this.slots.delete(key);
      revoked.push({ topic: slot.topic, partition: slot.partition, openPartials: slot.task.stats().openPartials, offset: slot.task.nextOffset });
      void this.closeSlot(slot, 'revoked');
    }
    if (revoked.length > 0) this.logger.info('partitions revoked: state dropped', { groupId: this.config.groupId, revoked });
    this.telemetry.partitionsAssigned?.(assignment);
    this.readiness.assign(owned, (key) => this.slots.get(key)?.task.isLive === true);
    this.reportReadiness();
    const generation = ++this.generation;
    const waiting = assignment.flatMap(({ topic, partitions }) => partitions.map((partition) => ({ topic, partition }))).filter((p) => this.readiness.isPending(slotKey(p.topic, p.partition)));
    void this.prepareRestores(generation, waiting);
  };

  private readonly onRebalancing = (): void => {
    this.readiness.rebalance();
    this.reportReadiness();
  };

  private reportReadiness(): void {
    const state = this.readiness.state();
    if (state.reason === this.lastReadiness) return;
    this.lastReadiness = state.reason;
    this.telemetry.readinessChanged?.(state);
  }

  /**
   * Right after an assignment, for the partitions not restored yet: those with nothing to replay (no
   * committed restore point below the committed offset) are ready as they are; the others get a seek to
   * their restore point, so the consumer fetches the replay now rather than at the partition's next
   * record, as Kafka Streams restores on assignment: a quiet partition does not keep the member unready
   * and its state is warm when traffic resumes. `openSlot` decides the same way from the same committed
   * offset, so whichever runs first, the replay starts at the same offset. Failing here only delays:
   * the partition then restores with its first batch.
   */
  private async prepareRestores(generation: number, partitions: readonly { topic: string; partition: number }[]): Promise<void> {
    if (partitions.length === 0) return;
    const admin = this.admin as KafkaAdmin;
    try {
      const topics = [...new Set(partitions.map((p) => p.topic))];
      const committed = await admin.fetchOffsets({ groupId: this.config.groupId, topics });
      const logStarts = new Map<string, Map<number, number>>();
      for (const { topic, partition } of partitions) {
        if (generation !== this.generation) return;
        const key = slotKey(topic, partition);
        if (this.slots.has(key) || !this.readiness.isPending(key)) continue;
        const found = committed.find((t) => t.topic === topic)?.partitions.find((p) => p.partition === partition);
        const offset = found === undefined ? -1 : Number(found.offset);
        const point = decodeRestoreMetadata(found?.metadata ?? null);
        let start = offset;
        if (offset >= 0 && point !== null && point.offset < offset) {
          let lows = logStarts.get(topic);
          if (lows === undefined) {
            lows = new Map((await admin.fetchTopicOffsets(topic)).map((o) => [o.partition, Number(o.low)]));
            logStarts.set(topic, lows);
          }
          start = Math.max(point.offset, lows.get(partition) ?? 0);
        }
        if (generation !== this.generation || this.slots.has(key)) continue;
        if (start >= offset) {
          this.readiness.restored(key);
        } else {
          this.logger.info('partition assigned: replay to restore its state starts now', { topic, partition, restoreFromOffset: start, committedOffset: offset });
          this.runner?.seek(topic, partition, String(start));
        }
      }
    } catch (error) {
      this.logger.warn('could not look up restore points on assignment: partitions restore with their first batch', { error });
    } finally {
      if (generation === this.generation) this.reportReadiness();
    }
  }

  private async closeSlot(slot: PartitionSlot, why: string): Promise<void> {
    this.telemetry.partitionClosed?.(slot.task.stats());
    slot.task.close();
    await slot.producer.disconnect().catch((error: unknown) => this.logger.warn('transactional producer disconnect failed', { why, transactionalId: slot.transactionalId, error }));
  }

  private readonly processBatch = async (batch: RecordBatch): Promise<void> => {
    const { topic, partition, records } = batch;
    if (records.length === 0) return;
    const key = slotKey(topic, partition);
    let slot = this.slots.get(key);
    if (slot !== undefined && slot.verify) {
      slot.verify = false;
      const committed = await this.committedOffset(topic, partition);
      if (committed.offset > slot.task.nextOffset) {
        // Someone committed past us while we were not looking: our state is stale.
        this.logger.warn('partition was processed elsewhere since we last owned it: rebuilding its state', { topic, partition, committedOffset: committed.offset, ourOffset: slot.task.nextOffset });
        this.slots.delete(key);
        await this.closeSlot(slot, 'stale');
        slot = undefined;
      }
    }
    if (slot === undefined) {
      slot = await this.openSlot(topic, partition, Number(records[0]!.offset));
      this.slots.set(key, slot);
      // The batch in hand starts elsewhere: the runner skips the rest of it and the next one starts there.
      if (slot.task.startOffset !== Number(records[0]!.offset)) {
        this.runner!.seek(topic, partition, String(slot.task.startOffset));
        return;
      }
    }
    await this.runBatch(slot, batch);
  };

  /**
   * Takes a partition over: `initTransactions` on the partition's transactional id fences the previous
   * owner and waits until its open transaction is aborted or its commit completed, so the committed
   * offset read next is final; the restore point comes with it, as its metadata.
   */
  private async openSlot(topic: string, partition: number, firstOffset: number): Promise<PartitionSlot> {
    const config = this.config;
    const openedAt = performance.now();
    const transactionalId = transactionalIdFor(config.groupId, topic, partition);
    const producer = await createTransactionalProducer(this.client, { transactionalId, transactionTimeoutMs: config.transactionTimeoutMs, limits: this.limits });
    let task: PartitionTask;
    try {
      await producer.initTransactions();
      const committed = await this.committedOffset(topic, partition);
      const liveFrom = committed.offset >= 0 ? committed.offset : firstOffset;
      const point = decodeRestoreMetadata(committed.metadata);
      let startOffset = liveFrom;
      if (point !== null && point.offset < liveFrom) {
        // Records below the log start are gone (retention): replay what is left rather than trip
        // kafkajs's out-of-range reset, which would commit the reset position.
        const low = await this.lowWatermark(topic, partition);
        startOffset = Math.max(point.offset, low);
        if (low > point.offset) this.logger.warn('restore range truncated by retention: rule state may miss events', { topic, partition, restorePoint: point.offset, logStart: low });
      }
      task = this.createTask(topic, partition, startOffset, liveFrom);
      this.logger.info('partition assigned: restoring state', {
        topic,
        partition,
        transactionalId,
        committedOffset: committed.offset >= 0 ? committed.offset : null,
        restoreFromOffset: startOffset,
        restoreRecords: liveFrom - startOffset,
        restoreFromEventTime: point === null ? null : new Date(point.eventTime).toISOString(),
        committedStreamTime: point === null || !Number.isFinite(point.streamTime) ? null : new Date(point.streamTime).toISOString(),
        restorePoint: point === null ? (committed.offset >= 0 ? 'none in offset metadata: state starts empty' : 'no committed offset: new partition for this group') : 'offset metadata',
      });
    } catch (error) {
      await producer.disconnect().catch(() => undefined);
      throw error;
    }
    const slot: PartitionSlot = { topic, partition, transactionalId, producer, task, openedAt, verify: false };
    if (task.isLive) this.restored(slot, this.emptyRestore(task));
    return slot;
  }

  private emptyRestore(task: PartitionTask): RestoreSummary {
    return { topic: task.topic, partition: task.partition, fromOffset: task.startOffset, toOffset: task.liveFrom, replayedRecords: 0, suppressedAlerts: 0, fromEventTime: null, toEventTime: null, openPartials: 0, bufferedEvents: 0 };
  }

  private createTask(topic: string, partition: number, startOffset: number, liveFrom: number): PartitionTask {
    const config = this.config;
    const codec = this.eventCodec as AvroCodec<SequorEvent>;
    return new PartitionTask({
      topic,
      partition,
      rules: (this.ruleSet as DetectorRuleSet).rules,
      decode: (value) => codec.decode(value),
      alertEncoder: this.alertEncoder as AlertEncoder,
      alertsTopic: config.alertsTopic,
      lateEventsTopic: config.lateEventsTopic,
      deadLetterTopic: config.deadLetterTopic,
      allowedLatenessMs: config.allowedLatenessMs,
      maxOpenPartials: config.stateMaxPartials,
      ...config.engineLimits,
      clock: this.clock,
      horizonMs: this.horizonMs,
      startOffset,
      liveFrom,
      partitionKeyFields: config.partitionKeyFields.header,
    });
  }

  private restored(slot: PartitionSlot, summary: RestoreSummary): void {
    this.totals.restores++;
    const durationMs = Math.round(performance.now() - slot.openedAt);
    this.logger.info('partition restored: live', {
      ...summary,
      fromEventTime: summary.fromEventTime === null ? null : new Date(summary.fromEventTime).toISOString(),
      toEventTime: summary.toEventTime === null ? null : new Date(summary.toEventTime).toISOString(),
      durationMs,
    });
    this.telemetry.restored?.(summary, durationMs);
    this.readiness.restored(slotKey(slot.topic, slot.partition));
    this.reportReadiness();
  }

  private async runBatch(slot: PartitionSlot, batch: RecordBatch): Promise<void> {
    const started = performance.now();
    const { topic, partition } = slot;
    if (this.eventCodec !== undefined && this.config.schemaRegistry !== undefined) await this.loadSchemaIds(batch.records);
    const task = slot.task;
    const before = task.withoutKeyHeader;
    const observer = this.telemetry.batchStarted?.(batch);
    let out;
    try {
      out = task.process(batch.records, observer);
    } catch (error) {
      observer?.end(error);
      // The task's state is ahead of what is committed: it cannot be used again.
      this.slots.delete(slotKey(topic, partition));
      await this.closeSlot(slot, 'failed');
      throw error;
    }
    const withoutHeader = task.withoutKeyHeader - before;
    if (withoutHeader > 0) {
      this.totals.withoutKeyHeader += withoutHeader;
      const key = slotKey(topic, partition);
      if (!this.keyFieldsWarned.has(key)) {
        this.keyFieldsWarned.add(key);
        this.logger.warn('records without the sequor.partition-key-fields header: co-partitioning is assumed, not checked', { topic, partition, offset: batch.records[0]?.offset });
      }
    }
    this.totals.replayedRecords += out.replayed;
    this.totals.suppressedAlerts += out.suppressedAlerts;
    if (out.restored !== null) this.restored(slot, out.restored);
    // Only replayed (or redelivered) records: their output and offsets were committed by the first run.
    if (out.commitOffset === null) {
      observer?.end();
      return;
    }
    const point = task.restorePoint();
    const producer = slot.producer;
    const output = this.fitOutput(out.records);
    try {
      await producer.beginTransaction();
      await producer.send(output.records);
      await producer.sendOffsets(this.config.groupId, [
        { topic, partition, offset: String(out.commitOffset), ...(point === null ? {} : { metadata: encodeRestoreMetadata(point) }) },
      ]);
      await producer.commit();
    } catch (error) {
      observer?.end(error);
      this.slots.delete(slotKey(topic, partition));
      if (producer.inTransaction) await producer.abort().catch(() => undefined);
      await this.closeSlot(slot, 'transaction failed');
      if (isFenced(error)) {
        this.logger.warn('fenced: another member owns this partition now', { topic, partition, transactionalId: slot.transactionalId });
        throw new PartitionFencedError(topic, partition, slot.transactionalId, error);
      }
      const type = clientErrorType(error);
      if (type !== undefined && SIZE_ERRORS.has(type)) {
        // A topic's limit was lowered since we read it: read it again; the batch is replayed and cut anew.
        this.limits = await this.readLimits().catch(() => this.limits);
        throw new DetectorTransactionError(topic, partition, error, true);
      }
      throw new DetectorTransactionError(topic, partition, error);
    }
    const t = this.totals;
    const deadLetters = out.deadLetters + output.tooLarge;
    const reasons = output.tooLarge === 0 ? out.deadLetterReasons : { ...out.deadLetterReasons, [RECORD_TOO_LARGE]: (out.deadLetterReasons?.[RECORD_TOO_LARGE] ?? 0) + output.tooLarge };
    t.records += out.live;
    t.alerts += out.alerts - output.alertsTooLarge;
    t.lateEvents += out.late - output.lateTooLarge;
    t.deadLetters += deadLetters;
    t.transactions++;
    if (deadLetters > 0) this.logger.warn('records dead-lettered', { topic, partition, deadLetters, reasons, deadLetterTopic: this.config.deadLetterTopic });
    observer?.end();
    this.telemetry.batchCommitted?.({
      topic,
      partition,
      records: out.live,
      alerts: out.raisedAlerts,
      lateEvents: out.late - output.lateTooLarge,
      deadLetters,
      deadLetterReasons: reasons,
      committedOffset: out.commitOffset,
      highWatermark: Number(batch.highWatermark),
      durationMs: performance.now() - started,
    });
  }

  /**
   * The batch's output with each record too large for its topic replaced by its dead letter (reason
   * `record-too-large`, value cut to fit the dead-letter topic): one oversized alert or late event must
   * not fail the transaction, which would fail the same way on every retry and stop the partition.
   */
  private fitOutput(records: ProducerRecord[]): { records: ProducerRecord[]; tooLarge: number; alertsTooLarge: number; lateTooLarge: number } {
    const limits = this.limits;
    let tooLarge = 0;
    let alertsTooLarge = 0;
    let lateTooLarge = 0;
    for (let i = 0; i < records.length; i++) {
      const record = records[i] as ProducerRecord;
      if (limits.fits(record)) continue;
      tooLarge++;
      if (record.topic === this.config.alertsTopic) alertsTooLarge++;
      else if (record.topic === this.config.lateEventsTopic) lateTooLarge++;
      records[i] = oversizeDeadLetter(this.config.deadLetterTopic, record, limits);
      this.logger.error('output record too large for its topic: dead-lettered', {
        topic: record.topic,
        bytes: record.value?.length ?? 0,
        maxMessageBytes: limits.limitOf(record.topic),
        deadLetterTopic: this.config.deadLetterTopic,
      });
    }
    return { records, tooLarge, alertsTooLarge, lateTooLarge };
  }

  /** Confluent-framed values name a schema id: fetch unknown ones before the synchronous decode. */
  private async loadSchemaIds(records: readonly ConsumedRecord[]): Promise<void> {
    const codec = this.eventCodec as AvroCodec<SequorEvent>;
    for (const record of records) {
      const value = record.value;
      if (value === null || value.length < 5 || value[0] !== 0) continue;
      const id = value.readUInt32BE(1);
      if (this.loadedSchemaIds.has(id)) continue;
      try {
        await codec.loadSchemaId(id);
        this.loadedSchemaIds.add(id);
      } catch (error) {
        // An id the registry does not know is the record's problem (it is dead-lettered by decode);
        // a registry that cannot be reached is ours (retriable: the batch is tried again).
        if (!(error instanceof CodecError) || error.reason !== 'unknown-schema-id') throw error;
      }
    }
  }

  private async committedOffset(topic: string, partition: number): Promise<{ offset: number; metadata: string | null }> {
    const admin = this.admin as KafkaAdmin;
    const response = await admin.fetchOffsets({ groupId: this.config.groupId, topics: [topic] });
    const found = response.find((t) => t.topic === topic)?.partitions.find((p) => p.partition === partition);
    return { offset: found === undefined ? -1 : Number(found.offset), metadata: found?.metadata ?? null };
  }

  private async lowWatermark(topic: string, partition: number): Promise<number> {
    const admin = this.admin as KafkaAdmin;
    const offsets = await admin.fetchTopicOffsets(topic);
    const found = offsets.find((o) => o.partition === partition);
    return found === undefined ? 0 : Number(found.low);
  }
}

export function createDetector(config: DetectorConfig, deps: DetectorDeps = {}): Detector {
  return new KafkaDetector(config, deps);
}
