import type { Consumer, EachBatchPayload } from 'kafkajs';
import { SequorError } from '@sequor/model';
import type { KafkaClient } from './client.js';
import { BatchProcessingError, ConsumerCrashedError, wrapClientError } from './errors.js';
import type { Logger, Stoppable } from '@sequor/service';
import type { RecordHeaders } from './producer.js';

/** A consumed record. kafkajs's messages have this shape, so batches are handed over without copying. */
export interface ConsumedRecord {
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  /** As produced; values arrive as Buffers (an array for a repeated header). */
  readonly headers?: RecordHeaders;
  readonly offset: string;
  /** Epoch milliseconds (create or log-append time, per the topic's `message.timestamp.type`). */
  readonly timestamp: string;
}

/** Consecutive records of one partition, in offset order. */
export interface RecordBatch {
  readonly topic: string;
  readonly partition: number;
  readonly records: readonly ConsumedRecord[];
  /** The partition's high watermark when fetched: lag = highWatermark - last offset - 1. */
  readonly highWatermark: string;
}

export interface BatchContext {
  readonly groupId: string;
  /** Call during long work: keeps the group membership alive (sends only when the interval is due). */
  heartbeat(): Promise<void>;
  /** False once `stop()` was called: finish what is in hand, start nothing new. */
  isRunning(): boolean;
  /** True when the partition was sought or revoked: the rest of this batch will be fetched again. */
  isStale(): boolean;
}

/**
 * Processes a batch and resolves when its output is acknowledged (e.g. the alert producer's promise).
 * Only then are the batch's offsets committed; a rejection stops the runner without committing them.
 */
export type ProcessBatch = (batch: RecordBatch, context: BatchContext) => Promise<void>;

export interface PartitionAssignment {
  readonly topic: string;
  readonly partitions: readonly number[];
}

/**
 * `consumer`: the runner commits the group's offsets after each processed chunk (at-least-once).
 * `transaction`: `processBatch` commits them itself with `TransactionalProducer.sendOffsets` (exactly-once);
 * the runner only advances its position.
 */
export type OffsetCommitMode = 'consumer' | 'transaction';

export interface ConsumerRunnerOptions {
  readonly groupId: string;
  readonly topics: readonly string[];
  readonly processBatch: ProcessBatch;
  /** Where a group without committed offsets starts. Default false (the log end), as Kafka's default. */
  readonly fromBeginning?: boolean;
  /** Partitions processed at the same time; each partition is always processed sequentially. Default 1. */
  readonly partitionsConsumedConcurrently?: number;
  /** `processBatch` gets at most this many records at once; offsets commit in between. Default 500. */
  readonly maxRecordsPerCall?: number;
  readonly commit?: OffsetCommitMode;
  /** Default false: read_committed, aborted transactions are never delivered. */
  readonly readUncommitted?: boolean;
  readonly sessionTimeoutMs?: number;
  readonly rebalanceTimeoutMs?: number;
  readonly heartbeatIntervalMs?: number;
  /** How long a fetch waits for data when there is none. Default 1 s. */
  readonly maxWaitTimeMs?: number;
  readonly maxBytesPerPartition?: number;
  readonly logger?: Logger;
  /** After each join: the partitions this member now owns (all previous ones were revoked). */
  readonly onAssigned?: (assignment: readonly PartitionAssignment[]) => void;
  /** When a rebalance starts: the current partitions are about to be revoked. */
  readonly onRebalancing?: () => void;
  /**
   * `commit: 'consumer'` only: metadata to commit with a partition's offset after each `processBatch`
   * (state the next owner needs, read back with the committed offset). At most 4,096 bytes by the
   * broker's default `offset.metadata.max.bytes`; longer text is not committed (null instead).
   */
  readonly commitMetadata?: (topic: string, partition: number) => string | undefined;
}

/** The broker's default `offset.metadata.max.bytes`. */
export const MAX_OFFSET_METADATA_BYTES = 4096;

/**
 * A consumer group member built on kafkajs `eachBatch` with explicit offset handling: offsets are
 * resolved and committed only after `processBatch` resolves (its output is acknowledged), never by
 * kafkajs's auto-commit. Long batches are cut into calls of `maxRecordsPerCall` records, with a commit
 * and a heartbeat after each, and a stop or a revocation ends a batch at the next cut.
 *
 * ```ts
 * const runner = createConsumerRunner(client, {
 *   groupId: 'detector', topics: ['normalized'],
 *   processBatch: async (batch) => { await producer.sendAll(detect(batch.records)); },
 * });
 * await runner.start();
 * installShutdownHandlers(runner, logger);
 * await runner.done;
 * ```
 */
export class ConsumerRunner implements Stoppable {
  /** Settles once the runner stopped: resolves after `stop()`, rejects with `ConsumerCrashedError`. */
  readonly done: Promise<void>;
  private resolveDone!: () => void;
  private rejectDone!: (error: unknown) => void;
  private readonly consumer: Consumer;
  private readonly groupId: string;
  private readonly maxRecordsPerCall: number;
  private readonly commitMode: OffsetCommitMode;
  private readonly logger: Logger | undefined;
  private stopping: Promise<void> | undefined;
  private started = false;
  private currentAssignment: readonly PartitionAssignment[] = [];
  /** kafkajs rewraps errors thrown from eachBatch and drops the original; the crash report wants it back. */
  private lastBatchError: BatchProcessingError | undefined;

  constructor(
    client: KafkaClient,
    private readonly options: ConsumerRunnerOptions,
  ) {
    this.groupId = options.groupId;
    this.maxRecordsPerCall = options.maxRecordsPerCall ?? 500;
    this.commitMode = options.commit ?? 'consumer';
    this.logger = options.logger;
    this.done = new Promise<void>((resolve, reject) => {
      this.resolveDone = resolve;
      this.rejectDone = reject;
    });
    // `done` is there to be awaited; a crash nobody awaits is logged, not an unhandled rejection.
    this.done.catch(() => undefined);
    this.consumer = client.consumer({
      groupId: options.groupId,
      readUncommitted: options.readUncommitted ?? false,
      allowAutoTopicCreation: false,
      sessionTimeout: options.sessionTimeoutMs ?? 30_000,
      rebalanceTimeout: options.rebalanceTimeoutMs ?? 60_000,
      heartbeatInterval: options.heartbeatIntervalMs ?? 3_000,
      maxWaitTimeInMs: options.maxWaitTimeMs ?? 1_000,
      ...(options.maxBytesPerPartition === undefined
        ? {}
        : { maxBytesPerPartition: options.maxBytesPerPartition }),
    });
    const events = this.consumer.events;
    this.consumer.on(events.GROUP_JOIN, ({ payload }) => {
      this.currentAssignment = Object.entries(payload.memberAssignment).map(([topic, partitions]) => ({
        topic,
        partitions: [...partitions].sort((a, b) => a - b),
      }));
      this.logger?.info('partitions assigned', {
        groupId: this.groupId,
        memberId: payload.memberId,
        assignment: this.currentAssignment,
      });
      this.options.onAssigned?.(this.currentAssignment);
    });
    this.consumer.on(events.REBALANCING, () => {
      this.logger?.info('rebalancing: partitions about to be revoked', {
        groupId: this.groupId,
        assignment: this.currentAssignment,
      });
      this.options.onRebalancing?.();
    });
    this.consumer.on(events.CRASH, ({ payload }) => {
      if (payload.restart) {
        this.logger?.warn('consumer failed; kafkajs restarts it from the committed offsets', {
          groupId: this.groupId,
          error: payload.error,
        });
        return;
      }
      const crash = new ConsumerCrashedError(
        this.groupId,
        this.lastBatchError ?? firstSequorError(payload.error) ?? payload.error,
      );
      this.logger?.error('consumer crashed', { groupId: this.groupId, error: crash.cause });
      this.rejectDone(crash);
    });
  }

  /** The partitions this member owns since the last rebalance. */
  get assignment(): readonly PartitionAssignment[] {
    return this.currentAssignment;
  }

  /**
   * Moves the position of an assigned partition: the next batch of it starts at `offset`. Takes effect
   * at the next fetch, and the batch in hand reports `isStale()` (the runner stops it at the next cut).
   * For a stateful consumer that rewinds to rebuild state on assignment; nothing is committed.
   */
  seek(topic: string, partition: number, offset: string): void {
    this.consumer.seek({ topic, partition, offset });
  }

  /** Connects, subscribes and starts consuming; resolves once the consumer runs (before the first join). */
  async start(): Promise<void> {
    if (this.started) throw new SequorError(`consumer runner for group ${this.groupId} started twice`);
    this.started = true;
    try {
      await this.consumer.connect();
      await this.consumer.subscribe({
        topics: [...this.options.topics],
        fromBeginning: this.options.fromBeginning ?? false,
      });
      await this.consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: this.options.partitionsConsumedConcurrently ?? 1,
        eachBatch: this.eachBatch,
      });
    } catch (error) {
      const wrapped = wrapClientError(error, `starting consumer group ${this.groupId}`);
      this.rejectDone(wrapped);
      await this.consumer.disconnect().catch(() => undefined);
      throw wrapped;
    }
    this.logger?.info('consumer started', { groupId: this.groupId, topics: this.options.topics });
  }

  /**
   * Graceful shutdown: the in-flight batch ends at its next cut (its processed part committed), then the
   * member leaves the group, so its partitions move to other members at once rather than after the
   * session timeout. Idempotent.
   */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.logger?.info('stopping consumer', { groupId: this.groupId });
      try {
        await this.consumer.disconnect();
      } finally {
        this.resolveDone();
        this.logger?.info('consumer stopped', { groupId: this.groupId });
      }
    })();
    return this.stopping;
  }

  /**
   * Consumer-mode commits: kafkajs commits every resolved offset it holds, of any partition. With
   * `commitMetadata`, only the batch's own partition is committed, with its metadata: another
   * partition's state may already be ahead of its resolved offset (its next batch is in hand), so its
   * metadata is written by its own batch.
   */
  private withMetadata(offsets: Offsets, topic: string, partition: number): Offsets {
    const read = this.options.commitMetadata;
    if (read === undefined) return offsets;
    // kafkajs lists resolved partitions by object key: their numbers arrive as strings.
    const own = offsets.topics
      .find((t) => t.topic === topic)
      ?.partitions.find((p) => Number(p.partition) === partition);
    if (own === undefined) return { topics: [] };
    let metadata = read(topic, partition) ?? null;
    if (metadata !== null && Buffer.byteLength(metadata) > MAX_OFFSET_METADATA_BYTES) {
      this.logger?.warn('offset metadata over the broker default limit: committed without it', {
        topic,
        partition,
        bytes: Buffer.byteLength(metadata),
        limit: MAX_OFFSET_METADATA_BYTES,
      });
      metadata = null;
    }
    const committed = { partition, offset: own.offset, metadata };
    return { topics: [{ topic, partitions: [committed] }] };
  }

  private readonly eachBatch = async (payload: EachBatchPayload): Promise<void> => {
    const {
      batch,
      resolveOffset,
      heartbeat,
      commitOffsetsIfNecessary,
      uncommittedOffsets,
      isRunning,
      isStale,
    } = payload;
    const messages = batch.messages;
    const context: BatchContext = { groupId: this.groupId, heartbeat, isRunning, isStale };
    const size = this.maxRecordsPerCall;
    for (let start = 0; start < messages.length; start += size) {
      if (!isRunning() || isStale()) return;
      const records = messages.length <= size ? messages : messages.slice(start, start + size);
      const last = records[records.length - 1]!;
      try {
        await this.options.processBatch(
          { topic: batch.topic, partition: batch.partition, records, highWatermark: batch.highWatermark },
          context,
        );
      } catch (error) {
        this.lastBatchError = new BatchProcessingError(
          this.groupId,
          batch.topic,
          batch.partition,
          records[0]!.offset,
          last.offset,
          error,
        );
        throw this.lastBatchError;
      }
      this.lastBatchError = undefined;
      // Resolving the batch's last record also covers a trailing transaction marker (kafkajs handles it).
      resolveOffset(last.offset);
      if (this.commitMode === 'consumer')
        await commitOffsetsIfNecessary(this.withMetadata(uncommittedOffsets(), batch.topic, batch.partition));
      await heartbeat();
    }
  };
}

type Offsets = ReturnType<EachBatchPayload['uncommittedOffsets']>;

function firstSequorError(error: unknown): SequorError | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 8 && current instanceof Error; depth++) {
    if (current instanceof SequorError) return current;
    current = current.cause;
  }
  return undefined;
}

export function createConsumerRunner(client: KafkaClient, options: ConsumerRunnerOptions): ConsumerRunner {
  return new ConsumerRunner(client, options);
}
