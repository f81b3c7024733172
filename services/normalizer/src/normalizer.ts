/**
 * The normalizer service: a consumer group over the raw topics; per batch, each record through the
 * NormalizeProcessor, normalized records produced keyed to the normalized topic, dead letters to the
 * dead-letter topic; the batch's offsets are committed only once all of those are acknowledged
 * (at-least-once: a crash re-reads the uncommitted records; event ids make the copies recognisable).
 * Wiring and lifecycle only: the per-record work is `@sequor/pipeline`'s processor.
 *
 * ```ts
 * const normalizer = createNormalizer(normalizerConfigFromEnv(process.env));
 * await normalizer.start();
 * installShutdownHandlers(normalizer, logger);
 * await normalizer.done;
 * ```
 */
import type {
  ConsumerRunner,
  KafkaAdmin,
  KafkaClient,
  KeyedProducer,
  Logger,
  PartitionAssignment,
  RecordBatch,
  RecordHeaders,
  Stoppable,
} from '@sequor/kafka';
import {
  checkDeadLetterLimit,
  ConfluentSchemaRegistry,
  createConsumerRunner,
  createKafkaClient,
  createKeyedProducer,
  createLogger,
  ensureTopics,
  PoisonRecordError,
  PoisonRecordHandler,
  RecordTooLargeError,
  recordSizeUpperBound,
  registerValueSchema,
  TopicLimits,
  withAdmin,
} from '@sequor/kafka';
import { ServiceLifecycle } from '@sequor/service';
import type { SchemaRegistry } from '@sequor/model';
import { createEventCodec, SequorError } from '@sequor/model';
import type { EventEncoder, NormalizeCounters, NormalizeProcessor } from '@sequor/pipeline';
import { confluentEventEncoder, createNormalizeProcessor, singleObjectEventEncoder } from '@sequor/pipeline';
import type { SequorMetrics, Telemetry } from '@sequor/telemetry';
import { consumerLagAfter, KafkaTracing, recordFailure } from '@sequor/telemetry';
import { checkpointAt, CommittedOffsets } from '@sequor/streams';
import type { NormalizerConfig } from './config.js';
import { normalizerDeadLetter } from './dead-letters.js';

export interface NormalizerDeps {
  /** Default: a client built from `config.kafka`. */
  readonly client?: KafkaClient;
  readonly logger?: Logger;
  /** Default: a Confluent REST client when `config.schemaRegistry` is set. */
  readonly schemaRegistry?: SchemaRegistry;
  /**
   * Traces (a process span per raw record, a send span per produced record, its context in the record's
   * headers), metrics and readiness. Default: none (no spans, no metrics).
   */
  readonly telemetry?: Telemetry;
}

export interface Normalizer extends Stoppable {
  /** Creates missing output topics, connects, joins the group; resolves once consuming. */
  start(): Promise<void>;
  /** Finishes the batch in hand, commits it, leaves the group, flushes and disconnects. Idempotent. */
  stop(): Promise<void>;
  /** Settles when the normalizer stopped: resolves after `stop()`, rejects if the consumer crashed. */
  readonly done: Promise<void>;
  counters(): NormalizeCounters;
}

/** The raw topics the config names do not exist: the normalizer does not create other services' inputs. */
export class RawTopicsMissingError extends SequorError {
  constructor(readonly topics: readonly string[]) {
    super(`raw topics do not exist: ${topics.join(', ')} (create them, or fix NORMALIZER_SOURCES)`);
  }
}

/** Producing normalized records or dead letters failed: fatal, so that no offset past them is committed. */
export class NormalizerOutputError extends SequorError {
  constructor(topic: string, partition: number, cause: unknown) {
    super(
      `output of ${topic}[${partition}] was not acknowledged: ${cause instanceof Error ? cause.message : String(cause)}`,
      { cause },
    );
  }
}

/**
 * Producer batches of up to 1 MiB (about 1,600 Avro events of a Winlogbeat record): the producer has one
 * request in flight (idempotent, in order), so its throughput is a batch per broker round trip, and
 * 256 KiB batches left it the bottleneck. Kafka's `max.message.bytes` bounds a whole record batch: the
 * topics this service creates are sized for this plus one record (`ensureTopics`), and requests to
 * existing topics are cut to their limit (`TopicLimits`).
 */
const PRODUCER_BATCH_BYTES = 1024 * 1024;

/**
 * Fetch up to 4 MiB per raw partition (kafkajs's default is 1 MiB, ~380 records of 2.7 KB): each
 * processBatch call then waits for one acknowledgement and makes one offset commit for ~1,500 records
 * instead of ~380, so fewer round trips per record; memory is bounded by kafkajs's 10 MiB per fetch.
 */
const FETCH_BYTES_PER_PARTITION = 4 * 1024 * 1024;

/**
 * Hand the whole fetched batch to processBatch (the runner's default cuts it at 500 records, each cut
 * costing an acknowledgement wait and a commit). 5,000 records take ~0.1-0.2 s to normalize, so a stop or
 * a revocation is still honoured promptly and the heartbeat after each call stays well inside the session.
 */
const MAX_RECORDS_PER_CALL = 5_000;

class KafkaNormalizer implements Normalizer {
  readonly done: Promise<void>;
  /** `done` and an idempotent `stop()` (@sequor/service): `done` follows the consumer once it runs. */
  private readonly lifecycle = new ServiceLifecycle(() => this.shutDown());
  private readonly client: KafkaClient;
  private readonly logger: Logger;
  private readonly tracing: KafkaTracing;
  private readonly metrics: SequorMetrics | undefined;
  private processor: NormalizeProcessor | undefined;
  private producer: KeyedProducer | undefined;
  private limits = new TopicLimits();
  private admin: KafkaAdmin | undefined;
  private runner: ConsumerRunner | undefined;
  private owned = new Set<string>();
  /** The group's committed offsets (with checkpoints) as of the last assignment: read once per join. */
  private committedAtJoin: Promise<CommittedOffsets> | undefined;
  /** POISON_POLICY: a record that cannot be normalized is dead-lettered (`continue`) or stops the consumer. */
  private poison: PoisonRecordHandler | undefined;
  private statsTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly config: NormalizerConfig,
    private readonly deps: NormalizerDeps,
  ) {
    this.logger = deps.logger ?? createLogger('normalizer', { level: config.logLevel });
    this.client = deps.client ?? createKafkaClient(config.kafka, { logger: this.logger });
    this.tracing = deps.telemetry?.tracing ?? KafkaTracing.disabled();
    this.metrics = deps.telemetry?.metrics;
    this.done = this.lifecycle.done;
  }

  counters(): NormalizeCounters {
    return this.requireProcessor().counters();
  }

  async start(): Promise<void> {
    if (this.processor !== undefined) throw new SequorError('normalizer started twice');
    const config = this.config;
    const encoder = await this.createEncoder();
    this.processor = createNormalizeProcessor({
      bindings: config.sources,
      encoder,
      identity: config.identity,
      maxRecordBytes: config.maxRecordBytes,
      partitionKeyFields: config.partitionKeyFields,
    });
    this.poison = new PoisonRecordHandler({
      policy: config.poisonPolicy === 'fail' ? 'fail' : 'continue',
      deadLetterTopic: config.deadLetterTopic,
    });
    await this.ensureTopics();
    this.admin = this.client.admin();
    await this.admin.connect();
    // Topics created elsewhere keep their own max.message.bytes: read what they take, never assume.
    this.limits = await TopicLimits.read(this.admin, [config.normalizedTopic, config.deadLetterTopic]);
    checkDeadLetterLimit(config.deadLetterTopic, this.limits);
    this.producer = await createKeyedProducer(this.client, {
      name: 'normalizer',
      batchBytes: PRODUCER_BATCH_BYTES,
      lingerMs: 5,
      logger: this.logger,
      limits: this.limits,
    });
    this.runner = createConsumerRunner(this.client, {
      groupId: config.groupId,
      topics: config.sources.map((s) => s.topic),
      processBatch: this.processBatch,
      fromBeginning: config.startFrom === 'earliest',
      partitionsConsumedConcurrently: config.partitionsConcurrently,
      maxBytesPerPartition: FETCH_BYTES_PER_PARTITION,
      maxRecordsPerCall: MAX_RECORDS_PER_CALL,
      logger: this.logger,
      onAssigned: this.onAssigned,
      onRebalancing: this.onRebalancing,
      // A Zeek TSV partition's header rides with its committed offset, so whoever resumes it can read on.
      commitMetadata: (topic, partition) => this.processor?.checkpoint(topic, partition),
    });
    this.lifecycle.follow(this.runner.done);
    await this.runner.start();
    this.logger.info('normalizer started', {
      sources: config.sources.map((s) => `${s.format.name}:${s.topic}`),
      normalizedTopic: config.normalizedTopic,
      deadLetterTopic: config.deadLetterTopic,
      groupId: config.groupId,
      partitionKeyFields: config.partitionKeyFields.header,
      framing: encoder.framing,
      poisonPolicy: config.poisonPolicy,
      maxRecordBytes: config.maxRecordBytes,
    });
    if (this.logger.isEnabled('info')) {
      this.statsTimer = setInterval(
        () => this.logger.info('normalizer counters', { ...this.requireProcessor().counters() }),
        60_000,
      );
      this.statsTimer.unref();
    }
  }

  stop(): Promise<void> {
    return this.lifecycle.stop();
  }

  private async shutDown(): Promise<void> {
    clearInterval(this.statsTimer);
    try {
      await this.runner?.stop();
    } finally {
      await this.producer
        ?.disconnect()
        .catch((error: unknown) => this.logger.error('producer disconnect failed', { error }));
      await this.admin
        ?.disconnect()
        .catch((error: unknown) => this.logger.warn('admin disconnect failed', { error }));
      if (this.processor !== undefined)
        this.logger.info('normalizer stopped', { ...this.processor.counters() });
    }
  }

  private async createEncoder(): Promise<EventEncoder> {
    const settings = this.config.schemaRegistry;
    const registry =
      this.deps.schemaRegistry ??
      (settings === undefined ? undefined : new ConfluentSchemaRegistry(settings));
    if (registry === undefined) return singleObjectEventEncoder();
    const codec = createEventCodec({ registry });
    // `<topic>-value` (TopicNameStrategy), registered with its defaults so added fields stay compatible.
    const id = await registerValueSchema(registry, this.config.normalizedTopic, codec);
    return confluentEventEncoder(codec, id);
  }

  private async ensureTopics(): Promise<void> {
    const config = this.config;
    // Room for one record of the size limit plus a full producer batch, so no legal record is refused.
    const maxMessageBytes = String(config.maxRecordBytes + 2 * PRODUCER_BATCH_BYTES + 64 * 1024);
    await withAdmin(this.client, async (admin) => {
      const existing = new Set(await admin.listTopics());
      const missing = config.sources.map((s) => s.topic).filter((t) => !existing.has(t));
      if (missing.length > 0) throw new RawTopicsMissingError(missing);
      await ensureTopics(
        admin,
        [
          {
            topic: config.normalizedTopic,
            partitions: config.normalizedPartitions,
            configs: { 'max.message.bytes': maxMessageBytes },
          },
          // One partition is enough for dead letters, and any existing dead-letter topic has at least one.
          { topic: config.deadLetterTopic, partitions: 1, configs: { 'max.message.bytes': maxMessageBytes } },
        ],
        { logger: this.logger },
      );
    });
  }

  private readonly onAssigned = (assignment: readonly PartitionAssignment[]): void => {
    const now = new Set<string>();
    for (const { topic, partitions } of assignment) for (const p of partitions) now.add(`${topic}\u0000${p}`);
    // A partition that moved away gets a fresh decoder should it come back (a Zeek header must be re-read).
    for (const key of this.owned) {
      if (!now.has(key)) {
        const [topic, partition] = key.split('\u0000') as [string, string];
        this.processor?.releasePartition(topic, Number(partition));
      }
    }
    this.owned = now;
    // Partitions that start fresh read their checkpoint from here: one request per join, not per partition.
    this.committedAtJoin = CommittedOffsets.read(
      this.admin as KafkaAdmin,
      this.config.groupId,
      this.config.sources.map((s) => s.topic),
    );
    this.committedAtJoin.catch(() => undefined);
    // The normalizer keeps no state worth restoring: joined with its partitions is ready. A member with
    // none (more members than partitions) is healthy and ready too, a standby for the next rebalance.
    this.metrics?.clearConsumerLag();
    this.deps.telemetry?.setReady(
      true,
      now.size === 0 ? 'joined the group, no partitions assigned' : `${now.size} partitions assigned`,
    );
  };

  private readonly onRebalancing = (): void => {
    this.deps.telemetry?.setReady(false, 'rebalancing');
  };

  private readonly processBatch = async (batch: RecordBatch): Promise<void> => {
    const processor = this.requireProcessor();
    const producer = this.producer as KeyedProducer;
    const tracing = this.tracing;
    const { topic, partition } = batch;
    const poison = this.poison as PoisonRecordHandler;
    const { normalizedTopic, deadLetterTopic, groupId } = this.config;
    const origin = { topic, partition };
    const format = this.config.sources.find((s) => s.topic === topic)?.format.name ?? 'unknown';
    if (processor.isFresh(topic, partition)) await this.resumeFromCommit(processor, batch);
    const batchTrace = tracing.startReceive(batch, groupId);
    let last: Promise<void> | undefined;
    let produced = 0;
    let deadLetters = 0;
    let reasons: Record<string, number> | undefined;
    try {
      for (const record of batch.records) {
        const span = batchTrace.startProcess(record);
        const result = processor.process({
          topic,
          partition,
          offset: record.offset,
          key: record.key,
          value: record.value,
          headers: record.headers,
          timestamp: record.timestamp,
        });
        const outputs = result.outputs;
        let verdict = result.deadLetter;
        for (let i = 0; i < outputs.length; i++) {
          const out = outputs[i]!;
          // Outputs share headers objects (of one raw record, or of every header-less record of a topic):
          // the send span's context goes into a copy. Without tracing nothing is written to them.
          const headers = tracing.enabled ? { ...out.headers } : out.headers;
          tracing.startSend(normalizedTopic, out.key, headers, span).end();
          // Sized with its final headers (the send span's traceparent included), once.
          const normalized = { topic: normalizedTopic, key: out.key, value: out.value, headers };
          const queued = producer.trySend(normalized);
          if (queued === null) {
            // The broker would refuse it and the batch around it: the raw record goes to dead letters instead.
            const error = new RecordTooLargeError(
              normalizedTopic,
              recordSizeUpperBound(normalized),
              this.limits.limitOf(normalizedTopic),
            );
            verdict = {
              reason: 'record-too-large',
              errorType: error.name,
              message: error.message,
              format,
              error,
            };
            continue;
          }
          last = queued;
          produced++;
        }
        if (verdict !== undefined) {
          recordFailure(span, verdict.error);
          let deadLetter;
          try {
            const failed = verdict;
            deadLetter = poison.respond({ record, origin, error: failed.error, reason: failed.reason }, () =>
              normalizerDeadLetter(deadLetterTopic, record, origin, failed, this.limits),
            );
          } catch (error) {
            if (!(error instanceof PoisonRecordError)) throw error;
            span.end();
            // Nothing past this record is committed; what was sent before it is flushed so a restart
            // re-produces as little as possible.
            await this.acknowledged(last, topic, partition);
            this.logger.error('poison record: stopping (POISON_POLICY=fail)', {
              topic,
              partition,
              offset: record.offset,
              reason: verdict.reason,
              error: verdict.message,
            });
            throw error;
          }
          tracing
            .startSend(deadLetterTopic, deadLetter.key ?? null, deadLetter.headers as RecordHeaders, span)
            .end();
          last = producer.send(deadLetter);
          deadLetters++;
          reasons ??= {};
          reasons[verdict.reason] = (reasons[verdict.reason] ?? 0) + 1;
        }
        span.end();
      }
      // Batches are acknowledged in order: the last record's promise covers every earlier one.
      await this.acknowledged(last, topic, partition);
    } catch (error) {
      batchTrace.end(error);
      throw error;
    }
    batchTrace.end();
    const metrics = this.metrics;
    if (metrics !== undefined) {
      metrics.recordsIn(topic).add(batch.records.length);
      if (produced > 0) metrics.recordsOut(normalizedTopic).add(produced);
      if (deadLetters > 0) metrics.recordsOut(deadLetterTopic).add(deadLetters);
      if (reasons !== undefined)
        for (const reason in reasons) metrics.deadLetters(reason).add(reasons[reason]);
      metrics.setConsumerLag(topic, partition, consumerLagAfter(batch));
    }
    if (deadLetters > 0) {
      this.logger.warn('records dead-lettered', {
        topic,
        partition,
        firstOffset: batch.records[0]?.offset,
        lastOffset: batch.records.at(-1)?.offset,
        deadLetters,
        reasons,
        deadLetterTopic,
      });
    }
  };

  /**
   * A partition read from its committed offset by a decoder that has seen nothing (a restart, or a
   * partition that moved here): the checkpoint committed beside the offset (a Zeek TSV header) seeds the
   * decoder, so the rows after it are read as they would have been without the move. Without one, rows
   * of a log whose header was read before the commit are dead-lettered as `bad-header` until the next
   * header (Zeek writes one per log file, at rotation).
   */
  private async resumeFromCommit(processor: NormalizeProcessor, batch: RecordBatch): Promise<void> {
    const { topic, partition } = batch;
    const first = batch.records[0];
    if (first === undefined) return;
    const committed = await (this.committedAtJoin ??
      CommittedOffsets.read(this.admin as KafkaAdmin, this.config.groupId, [topic]));
    const offset = committed.of(topic, partition);
    const { checkpoint, mismatch } = checkpointAt(offset, Number(first.offset));
    if (mismatch) {
      this.logger.warn('checkpoint not used: the batch does not start at the committed offset', {
        topic,
        partition,
        committedOffset: String(offset.offset),
        firstOffset: first.offset,
      });
      return;
    }
    if (checkpoint === null) return;
    const resumed = processor.resumePartition(topic, partition, checkpoint);
    if (resumed)
      this.logger.info('partition resumed from its committed checkpoint', {
        topic,
        partition,
        offset: first.offset,
      });
    else
      this.logger.warn('committed checkpoint not understood by the format: reading on without it', {
        topic,
        partition,
        offset: first.offset,
        checkpoint: checkpoint.slice(0, 200),
      });
  }

  private async acknowledged(
    last: Promise<void> | undefined,
    topic: string,
    partition: number,
  ): Promise<void> {
    if (last === undefined) return;
    try {
      await last;
    } catch (error) {
      // Not retriable: kafkajs must not restart the consumer onto a producer that refuses records.
      throw new NormalizerOutputError(topic, partition, error);
    }
  }

  private requireProcessor(): NormalizeProcessor {
    if (this.processor === undefined) throw new SequorError('normalizer not started');
    return this.processor;
  }
}

export function createNormalizer(config: NormalizerConfig, deps: NormalizerDeps = {}): Normalizer {
  return new KafkaNormalizer(config, deps);
}
