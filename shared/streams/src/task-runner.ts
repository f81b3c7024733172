/**
 * The stream-task runtime, as Kafka Streams keeps it in its processor internals (StreamThread, StreamTask,
 * ProcessorStateManager): a consumer group member that owns one task and one transactional producer per
 * assigned input partition ("slot"), and runs every batch of a partition as one transaction.
 *
 * - Fencing: on taking a partition over, `initTransactions` on the partition's transactional id bumps its
 *   epoch, which aborts the previous owner's open transaction and refuses its later requests; only then
 *   is the committed offset read, so it is final. A fenced write surfaces as `PartitionFencedError`.
 * - Restore: the committed offset's metadata holds a restore point; the task replays from there with
 *   its output suppressed up to the committed offset (the first run committed it). On assignment the
 *   runner seeks each partition to its restore point at once, so quiet partitions restore too.
 * - One transaction per batch: the output records (oversized ones dead-lettered, `fitOutput`), the next
 *   offset and the restore point as its metadata commit together or not at all.
 * - Pipelined commits (`options.pipelined`), a group commit: a batch's transaction runs while the consumer
 *   fetches and processes the next batches. Each partition has one transaction in flight; the batches
 *   processed meanwhile queue and go out together in its next one, as soon as it is done, so a slow broker
 *   makes transactions larger, not processing slower. A failed one drops the task and fails the next batch.
 * - Idle partitions (`options.idle`, Kafka Streams' wall-clock punctuation): a live partition without
 *   records for `afterMs` of the injected clock is offered to the task every `checkEveryMs`; what the
 *   task makes of the quiet (an advance of its stream time, and the alerts that releases) commits in a
 *   transaction of its own with the partition's unchanged offset and the restore point, whose metadata
 *   records the advance so a replay applies it at the same offset. Never concurrent with a batch of the
 *   same partition.
 *
 * What a task computes is the service's (`createTask`, `process`): the runner only sees offsets, output
 * records and restore points. Only `@sequor/kafka` talks to the broker; the producer, consumer and admin
 * are seams (`deps`) so the protocol is tested without one.
 */
import type {
  ConsumerRunner,
  ConsumerRunnerOptions,
  KafkaAdmin,
  KafkaClient,
  Logger,
  PartitionAssignment,
  ProducerRecord,
  RecordBatch,
  TransactionalProducer,
  TransactionalProducerOptions,
} from '@sequor/kafka';
import {
  checkDeadLetterLimit,
  createConsumerRunner,
  createTransactionalProducer,
  isProducerFenced,
  isRefusedForSize,
  TopicLimits,
} from '@sequor/kafka';
import { SequorError } from '@sequor/model';
import type { OffsetAdmin } from './committed-offsets.js';
import { CommittedOffsets, LogStartOffsets, partitionKey } from './committed-offsets.js';
import { PartitionFencedError, TaskTransactionError } from './errors.js';
import type { FittedOutput } from './output.js';
import { fitOutput } from './output.js';
import type { ReadinessState } from './readiness.js';
import { RestoreReadiness } from './readiness.js';
import type { RestorePlan, RestorePoint } from './restore-point.js';
import { encodeRestoreMetadata, planRestore } from './restore-point.js';

/** What the runner needs of a partition's task. The service implements it (Kafka Streams' Task). */
export interface StreamTask {
  readonly topic: string;
  readonly partition: number;
  /** The first offset the task processes: the restore point, or `liveFrom` with nothing to replay. */
  readonly startOffset: number;
  /** The committed offset the task was created with: output of records below it is suppressed. */
  readonly liveFrom: number;
  /** The next offset the task expects. */
  readonly nextOffset: number;
  /** True once the replay is done: everything from here on is live. */
  readonly isLive: boolean;
  /** Where a restore would start if the partition moved now: committed as the offset metadata. */
  restorePoint(): RestorePoint | null;
  /** Drops the state without emitting anything (revocation, failure, shutdown). */
  close(): void;
}

/** How a batch ended, for the service's counters and telemetry. */
export interface BatchOutcome {
  /** True when the batch's transaction committed. False: nothing to commit (replay only), or `error`. */
  readonly committed: boolean;
  readonly error?: unknown;
  /** Output records replaced by `record-too-large` dead letters, by the topic they were meant for. */
  readonly tooLarge: ReadonlyMap<string, number>;
  readonly tooLargeTotal: number;
  /** From the batch in hand to the end of its transaction, ms. */
  readonly durationMs: number;
}

/** What a task made of a batch. */
export interface TaskBatch<S> {
  /** Output of live records, in order: produced in the batch's transaction. */
  readonly records: ProducerRecord[];
  /** The offset to commit (last live record + 1); null when the batch held only replayed or skipped records. */
  readonly commitOffset: number | null;
  /** Set when this batch finished the task's restore. */
  readonly restored: S | null;
  /** Called once, when the batch ended. */
  settled?(outcome: BatchOutcome): void;
}

/** The transactional producer calls the runner makes (a fake in tests). */
export type TaskProducer = Pick<
  TransactionalProducer,
  | 'initTransactions'
  | 'beginTransaction'
  | 'send'
  | 'sendOffsets'
  | 'commit'
  | 'abort'
  | 'disconnect'
  | 'inTransaction'
>;

/** The consumer group member calls the runner makes (a fake in tests). */
export type TaskConsumer = Pick<ConsumerRunner, 'start' | 'stop' | 'seek' | 'done'>;

export interface StreamTaskRunnerOptions<T extends StreamTask, S> {
  readonly groupId: string;
  readonly topics: readonly string[];
  /** Connected; the runner reads committed offsets, log starts and topic configs with it, and never closes it. */
  readonly admin: OffsetAdmin & Pick<KafkaAdmin, 'describeConfigs'>;
  /** Stable per input partition, so whoever owns a partition fences whoever owned it before. */
  transactionalId(topic: string, partition: number): string;
  readonly transactionTimeoutMs?: number;
  /** Topics the tasks write to: their `max.message.bytes` cut each transaction's sends. */
  readonly outputTopics: readonly string[];
  /** Where output records too large for their topic go (`record-too-large`). */
  readonly deadLetterTopic: string;
  /** Consumer settings (group, fetch, batch size); the runner sets topics, commit mode and callbacks. */
  readonly consumer?: Pick<
    ConsumerRunnerOptions,
    | 'fromBeginning'
    | 'partitionsConsumedConcurrently'
    | 'maxRecordsPerCall'
    | 'sessionTimeoutMs'
    | 'heartbeatIntervalMs'
  >;
  readonly logger: Logger;
  /** A task for a partition taken over, starting at `plan.startOffset` and live from `plan.liveFrom`. */
  createTask(topic: string, partition: number, plan: RestorePlan): T;
  /**
   * Awaited before `createTask` with the same plan: what the task will need that may still be on its
   * way (the detector waits for its rules topic to reach the rule-set revision the plan records).
   */
  beforeCreateTask?(topic: string, partition: number, plan: RestorePlan): Promise<void>;
  /** Runs `task` over consecutive records of its partition (offset order). Throwing drops the task. */
  process(task: T, batch: RecordBatch): TaskBatch<S>;
  /** Before `process`, asynchronously (e.g. fetching schema ids). */
  beforeBatch?(batch: RecordBatch): Promise<void>;
  /** A task's state is rebuilt (`summary` null: it had nothing to replay); `durationMs` from taking the partition over. */
  onRestored?(task: T, summary: S | null, durationMs: number): void;
  /** After every join: the partitions owned now. */
  onAssigned?(assignment: readonly PartitionAssignment[]): void;
  onReadinessChanged?(state: ReadinessState): void;
  /** A task closed (revoked, stale, failed, shutdown). */
  onClosed?(task: T, why: string): void;
  /** Off when absent. */
  readonly idle?: IdlePartitionRule<T, S>;
  /**
   * Default false: `processBatch` resolves once the batch's transaction committed. True: once the batch is
   * processed; its output commits while the consumer fetches and processes the next batches (kafkajs
   * fetches again only when every batch of the last fetch was handled, so waiting for the commit there
   * leaves the broker connection and the CPU idle in turn). Per partition one transaction is in flight;
   * batches processed meanwhile (at most `MAX_QUEUED_BATCHES`, then the partition waits) commit together
   * in the next, their output in order, the offset and restore point of the last. An idle check and
   * closing the task wait for them. A failed transaction drops the task (as a failed one always does),
   * with it the batches queued behind, and its typed error fails the next batch handed to the runner, so
   * the consumer restarts from the committed offsets.
   */
  readonly pipelined?: boolean;
}

export interface StreamTaskRunnerDeps {
  /** Default: `createTransactionalProducer(client, options)`. */
  createProducer?(options: TransactionalProducerOptions): Promise<TaskProducer>;
  /** Default: `createConsumerRunner(client, options)`. */
  createConsumer?(options: ConsumerRunnerOptions): TaskConsumer;
  /** The wall clock of the idle-partition rule. Default: `performance.now` and an unref'd `setInterval`. */
  idleClock?: IdleClock;
}

/** A monotonic clock and a periodic timer: the only wall-clock time the runtime reads (virtual in tests). */
export interface IdleClock {
  /** Milliseconds, monotonic. */
  now(): number;
  /** Calls `tick` every `periodMs` until the returned function is called. */
  every(periodMs: number, tick: () => void): () => void;
}

export const systemIdleClock: IdleClock = {
  now: () => performance.now(),
  every(periodMs, tick) {
    const timer = setInterval(tick, periodMs);
    timer.unref(); // never what keeps a process alive
    return () => clearInterval(timer);
  },
};

/**
 * The idle-partition rule: what the runner does for a live partition that has had no records for a while.
 * The task decides (from `idleForMs`, never reading a clock itself) and records what it did in its
 * restore point, so a replay repeats it; the runner commits the output with the unchanged offset.
 */
export interface IdlePartitionRule<T extends StreamTask, S> {
  /** Quiet time before the task is asked, ms (> 0). */
  readonly afterMs: number;
  /** How often quiet partitions are checked, ms. Default `min(100, afterMs)`. */
  readonly checkEveryMs?: number;
  /**
   * `idleForMs`: wall-clock time since the partition's last batch arrived. Returns a batch to commit
   * (`commitOffset` the task's next offset; `records` may be empty) or null when there is nothing to do.
   * Throwing drops the task (its state is rebuilt by replay at the partition's next records).
   */
  advance(task: T, idleForMs: number): TaskBatch<S> | null;
}

/** A processed batch's share of a transaction, taken when it was processed. */
interface PreparedBatch {
  readonly output: FittedOutput;
  readonly commitOffset: number;
  /** The task's restore point right after this batch: the metadata of a commit at `commitOffset`. */
  readonly point: RestorePoint | null;
  readonly settled: ((outcome: BatchOutcome) => void) | undefined;
  /** When the batch was in hand. */
  readonly started: number;
}

function outcomeOf(batch: PreparedBatch, committed: boolean, error?: unknown): BatchOutcome {
  return {
    committed,
    ...(error === undefined ? {} : { error }),
    tooLarge: batch.output.tooLarge,
    tooLargeTotal: batch.output.tooLargeTotal,
    durationMs: performance.now() - batch.started,
  };
}

/**
 * How many processed batches of a partition may wait for its transaction in flight before the partition
 * waits too: bounds what a failed transaction throws away (it is processed again after the restart).
 */
const MAX_QUEUED_BATCHES = 8;

/** One owned partition: its task and the producer whose transactions carry its output and offsets. */
interface Slot<T> {
  readonly transactionalId: string;
  readonly producer: TaskProducer;
  readonly task: T;
  readonly openedAt: number;
  /** The partition stayed with this member across a rebalance: check nobody committed past us meanwhile. */
  verify: boolean;
  /** Idle clock time the partition's last batch arrived. */
  lastBatchAt: number;
  /** The idle transaction in flight: a batch of the partition waits for it. */
  idleRun: Promise<void> | undefined;
  /** Restore point offset of the last commit: where to re-read from if an idle transaction fails. */
  committedRestore: number | undefined;
  /** The last batch reached the partition's high watermark: quiet from then on means no records, not lag. */
  caughtUp: boolean;
  /** The pipelined transactions in flight, until `queued` is empty (`options.pipelined`); never rejects. */
  committing: Promise<void> | undefined;
  /** Processed batches waiting for the transaction in flight: they commit together in the next one. */
  readonly queued: PreparedBatch[];
  /** Taken from us by a rebalance: its pipelined transaction may fail (fenced) without failing the runner. */
  revoked: boolean;
  /** Closed once (a revoked slot whose pipelined transaction failed is dropped by the failure first). */
  closed: boolean;
}

export class StreamTaskRunner<T extends StreamTask, S> {
  /** Settles when the runner stopped: resolves after `stop()`, rejects if the consumer crashed. */
  readonly done: Promise<void>;
  private readonly consumer: TaskConsumer;
  private readonly createProducer: (options: TransactionalProducerOptions) => Promise<TaskProducer>;
  private readonly logger: Logger;
  private readonly slots = new Map<string, Slot<T>>();
  private readonly readiness = new RestoreReadiness();
  private lastReadiness: string | undefined;
  /** `max.message.bytes` of the output topics: each transaction's sends are cut to fit them. */
  private limits = new TopicLimits();
  /** Bumped on every assignment: restore preparation of an older one stops acting. */
  private generation = 0;
  private started = false;
  private stopping: Promise<void> | undefined;
  private committedTransactions = 0;
  private readonly idleClock: IdleClock;
  private stopIdleTimer: (() => void) | undefined;
  /** Partitions whose batch is being processed now (an idle check leaves them alone). */
  private readonly busy = new Set<string>();
  /** Between a rebalance's start and its assignment: no fetches, so no quiet to judge. */
  private rebalancing = false;
  /** A pipelined transaction failed: the next batch throws this (typed) error. */
  private pipelineFailure: unknown;

  constructor(
    client: KafkaClient | undefined,
    private readonly options: StreamTaskRunnerOptions<T, S>,
    deps: StreamTaskRunnerDeps = {},
  ) {
    this.logger = options.logger;
    const needClient = (): KafkaClient => {
      if (client === undefined)
        throw new SequorError('StreamTaskRunner: no client and no producer/consumer factories');
      return client;
    };
    this.createProducer = deps.createProducer ?? ((o) => createTransactionalProducer(needClient(), o));
    const heartbeatMs = Math.max(1_000, Math.floor((options.consumer?.sessionTimeoutMs ?? 30_000) / 10));
    const consumerOptions: ConsumerRunnerOptions = {
      heartbeatIntervalMs: heartbeatMs,
      ...options.consumer,
      groupId: options.groupId,
      topics: options.topics,
      processBatch: this.processBatch,
      commit: 'transaction',
      logger: options.logger,
      onAssigned: this.onAssigned,
      onRebalancing: this.onRebalancing,
    };
    this.consumer =
      deps.createConsumer?.(consumerOptions) ?? createConsumerRunner(needClient(), consumerOptions);
    this.done = this.consumer.done;
    this.idleClock = deps.idleClock ?? systemIdleClock;
    const idle = options.idle;
    if (idle !== undefined && !(idle.afterMs > 0))
      throw new SequorError(`idle partition rule: afterMs must be > 0, got ${idle.afterMs}`);
  }

  /** Transactions committed since start (one per batch with live records). */
  get transactions(): number {
    return this.committedTransactions;
  }

  /** The tasks of the partitions owned now. */
  tasks(): T[] {
    return [...this.slots.values()].map((s) => s.task);
  }

  readinessState(): ReadinessState {
    return this.readiness.state();
  }

  /** Reads the output topics' limits, then joins the group. */
  async start(): Promise<void> {
    if (this.started)
      throw new SequorError(`stream task runner of group ${this.options.groupId} started twice`);
    this.started = true;
    this.limits = await this.readLimits();
    await this.consumer.start();
    const idle = this.options.idle;
    if (idle !== undefined)
      this.stopIdleTimer = this.idleClock.every(idle.checkEveryMs ?? Math.min(100, idle.afterMs), () =>
        this.checkIdle(idle),
      );
  }

  /** The batch in hand finishes (its transaction commits), the member leaves the group, every task closes. Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.stopIdleTimer?.();
      try {
        await this.consumer.stop();
      } finally {
        await Promise.all([...this.slots.values()].map((slot) => slot.idleRun));
        await Promise.all([...this.slots.values()].map((slot) => slot.committing));
        if (this.pipelineFailure !== undefined)
          this.logger.warn('the last transaction failed: its records are processed again by the next owner', {
            error: this.pipelineFailure,
          });
        await Promise.all([...this.slots.values()].map((slot) => this.closeSlot(slot, 'shutdown')));
        this.slots.clear();
      }
    })();
    return this.stopping;
  }

  private async readLimits(): Promise<TopicLimits> {
    const { outputTopics, deadLetterTopic, admin } = this.options;
    const limits = await TopicLimits.read(admin, [...outputTopics, deadLetterTopic]);
    checkDeadLetterLimit(deadLetterTopic, limits);
    this.logger.info('output topics max.message.bytes', limits.toJSON());
    return limits;
  }

  /** After every join: partitions no longer ours are closed (their state dropped, producers closed). */
  private readonly onAssigned = (assignment: readonly PartitionAssignment[]): void => {
    this.rebalancing = false;
    const owned = new Set<string>();
    for (const { topic, partitions } of assignment)
      for (const p of partitions) owned.add(partitionKey(topic, p));
    const revoked: { topic: string; partition: number; offset: number }[] = [];
    for (const [key, slot] of this.slots) {
      if (owned.has(key)) {
        slot.verify = true;
        continue;
      }
      this.slots.delete(key);
      slot.revoked = true;
      revoked.push({ topic: slot.task.topic, partition: slot.task.partition, offset: slot.task.nextOffset });
      // A pipelined transaction in flight completes (or fails, fenced by the new owner) before the close.
      if (slot.committing === undefined) void this.closeSlot(slot, 'revoked');
      else void slot.committing.then(() => this.closeSlot(slot, 'revoked'));
    }
    if (revoked.length > 0)
      this.logger.info('partitions revoked: state dropped', { groupId: this.options.groupId, revoked });
    this.options.onAssigned?.(assignment);
    this.readiness.assign(owned, (key) => this.slots.get(key)?.task.isLive === true);
    this.reportReadiness();
    const generation = ++this.generation;
    const waiting = assignment
      .flatMap(({ topic, partitions }) => partitions.map((partition) => ({ topic, partition })))
      .filter((p) => this.readiness.isPending(partitionKey(p.topic, p.partition)));
    void this.prepareRestores(generation, waiting);
  };

  private readonly onRebalancing = (): void => {
    this.rebalancing = true;
    this.readiness.rebalance();
    this.reportReadiness();
  };

  private reportReadiness(): void {
    const state = this.readiness.state();
    if (state.reason === this.lastReadiness) return;
    this.lastReadiness = state.reason;
    this.options.onReadinessChanged?.(state);
  }

  /**
   * Right after an assignment, for the partitions not restored yet: those with nothing to replay are
   * ready as they are; the others get a seek to their restore point, so the consumer fetches the replay
   * now rather than at the partition's next record, as Kafka Streams restores on assignment: a quiet
   * partition does not keep the member unready. `openSlot` plans from the same committed offset, so
   * whichever runs first, the replay starts at the same offset. Failing here only delays: the partition
   * then restores with its first batch.
   */
  private async prepareRestores(
    generation: number,
    partitions: readonly { topic: string; partition: number }[],
  ): Promise<void> {
    if (partitions.length === 0) return;
    const { admin, groupId } = this.options;
    try {
      const committed = await CommittedOffsets.read(
        admin,
        groupId,
        partitions.map((p) => p.topic),
      );
      const logStarts = new LogStartOffsets(admin);
      for (const { topic, partition } of partitions) {
        if (generation !== this.generation) return;
        const key = partitionKey(topic, partition);
        if (this.slots.has(key) || !this.readiness.isPending(key)) continue;
        const plan = await planRestore(committed.of(topic, partition), () => logStarts.of(topic, partition));
        if (generation !== this.generation || this.slots.has(key)) continue;
        if (plan.startOffset >= plan.liveFrom) {
          this.readiness.restored(key);
        } else {
          this.logger.info('partition assigned: replay to restore its state starts now', {
            topic,
            partition,
            restoreFromOffset: plan.startOffset,
            committedOffset: plan.liveFrom,
          });
          this.consumer.seek(topic, partition, String(plan.startOffset));
        }
      }
    } catch (error) {
      this.logger.warn(
        'could not look up restore points on assignment: partitions restore with their first batch',
        { error },
      );
    } finally {
      if (generation === this.generation) this.reportReadiness();
    }
  }

  private async closeSlot(slot: Slot<T>, why: string): Promise<void> {
    if (slot.closed) return;
    slot.closed = true;
    this.options.onClosed?.(slot.task, why);
    slot.task.close();
    await slot.producer.disconnect().catch((error: unknown) =>
      this.logger.warn('transactional producer disconnect failed', {
        why,
        transactionalId: slot.transactionalId,
        error,
      }),
    );
  }

  private readonly processBatch = async (batch: RecordBatch): Promise<void> => {
    const { topic, partition, records } = batch;
    const first = records[0];
    if (first === undefined) return;
    const key = partitionKey(topic, partition);
    this.busy.add(key);
    try {
      this.throwPipelineFailure();
      await this.slots.get(key)?.idleRun; // its failure is handled there: the slot is gone then
      await this.processOwnBatch(key, batch, Number(first.offset));
    } finally {
      this.busy.delete(key);
    }
  };

  private throwPipelineFailure(): void {
    const failure = this.pipelineFailure;
    if (failure === undefined) return;
    this.pipelineFailure = undefined;
    throw failure;
  }

  private async processOwnBatch(key: string, batch: RecordBatch, firstOffset: number): Promise<void> {
    const { topic, partition } = batch;
    let slot = this.slots.get(key);
    if (slot !== undefined && slot.verify) {
      slot.verify = false;
      await slot.committing; // our own commits first
      this.throwPipelineFailure();
      const committed = await CommittedOffsets.readOne(
        this.options.admin,
        this.options.groupId,
        topic,
        partition,
      );
      if (committed.offset > slot.task.nextOffset) {
        // Someone committed past us while we were not looking: our state is stale.
        this.logger.warn('partition was processed elsewhere since we last owned it: rebuilding its state', {
          topic,
          partition,
          committedOffset: committed.offset,
          ourOffset: slot.task.nextOffset,
        });
        this.slots.delete(key);
        await this.closeSlot(slot, 'stale');
        slot = undefined;
      }
    }
    if (slot === undefined) {
      slot = await this.openSlot(topic, partition, firstOffset);
      this.slots.set(key, slot);
      // The batch in hand starts elsewhere: the consumer skips the rest of it and the next one starts there.
      if (slot.task.startOffset !== firstOffset) {
        this.consumer.seek(topic, partition, String(slot.task.startOffset));
        return;
      }
    }
    await this.runBatch(slot, batch);
  }

  /**
   * The idle rule's check: each live partition quiet for `afterMs`, with no batch or idle transaction in
   * flight, is offered to the task; a batch it returns commits in its own transaction.
   */
  private checkIdle(rule: IdlePartitionRule<T, S>): void {
    // A partition is quiet only when its last batch reached the high watermark (not merely lagging or
    // in a rebalance, when the consumer does not fetch): records waiting unread are not idleness.
    if (this.stopping !== undefined || this.rebalancing) return;
    const now = this.idleClock.now();
    for (const [key, slot] of this.slots) {
      if (
        slot.idleRun !== undefined ||
        slot.committing !== undefined ||
        this.busy.has(key) ||
        !slot.task.isLive ||
        !slot.caughtUp
      )
        continue;
      const idleForMs = now - slot.lastBatchAt;
      if (idleForMs < rule.afterMs) continue;
      let out: TaskBatch<S> | null;
      try {
        out = rule.advance(slot.task, idleForMs);
      } catch (error) {
        this.logger.error('idle partition: the task failed; its state is rebuilt at its next records', {
          topic: slot.task.topic,
          partition: slot.task.partition,
          error,
        });
        void this.dropSlot(slot, 'failed');
        continue;
      }
      if (out === null || out.commitOffset === null) continue;
      const run = this.commitIdle(slot, out);
      slot.idleRun = run;
      void run.finally(() => {
        if (slot.idleRun === run) slot.idleRun = undefined;
      });
    }
  }

  private async commitIdle(slot: Slot<T>, out: TaskBatch<S>): Promise<void> {
    const { topic, partition } = slot.task;
    try {
      await this.commitBatch(slot, out, performance.now());
    } catch (error) {
      if (error instanceof PartitionFencedError) return; // logged; the rebalance moves the partition
      // The slot is dropped: re-read from the last committed restore point, so the state is rebuilt
      // now (with the advances committed so far) rather than at the partition's next record.
      const from = slot.committedRestore ?? slot.task.startOffset;
      this.logger.warn('idle partition: transaction failed; state dropped and rebuilt by replay', {
        topic,
        partition,
        replayFrom: from,
        error,
      });
      try {
        this.consumer.seek(topic, partition, String(from));
      } catch (seekError) {
        this.logger.warn('idle partition: could not seek; the state is rebuilt at the next records', {
          topic,
          partition,
          error: seekError,
        });
      }
    }
  }

  /**
   * Takes a partition over: `initTransactions` on the partition's transactional id fences the previous
   * owner and waits until its open transaction is aborted or its commit completed, so the committed
   * offset read next is final; the restore point comes with it, as its metadata.
   */
  private async openSlot(topic: string, partition: number, firstOffset: number): Promise<Slot<T>> {
    const openedAt = performance.now();
    const transactionalId = this.options.transactionalId(topic, partition);
    const producer = await this.createProducer({
      transactionalId,
      transactionTimeoutMs: this.options.transactionTimeoutMs ?? 60_000,
      limits: this.limits,
    });
    let task: T;
    try {
      await producer.initTransactions();
      const { admin, groupId } = this.options;
      const committed = await CommittedOffsets.readOne(admin, groupId, topic, partition);
      const plan = await planRestore(
        committed,
        () => new LogStartOffsets(admin).of(topic, partition),
        firstOffset,
      );
      const point = plan.point;
      if (plan.truncatedAt !== null)
        this.logger.warn('restore range truncated by retention: state may miss events', {
          topic,
          partition,
          restorePoint: point?.offset,
          logStart: plan.truncatedAt,
        });
      await this.options.beforeCreateTask?.(topic, partition, plan);
      task = this.options.createTask(topic, partition, plan);
      this.logger.info('partition assigned: restoring state', {
        topic,
        partition,
        transactionalId,
        committedOffset: committed.offset >= 0 ? committed.offset : null,
        restoreFromOffset: plan.startOffset,
        restoreRecords: plan.liveFrom - plan.startOffset,
        restoreFromEventTime: point === null ? null : new Date(point.eventTime).toISOString(),
        committedStreamTime:
          point === null || !Number.isFinite(point.streamTime)
            ? null
            : new Date(point.streamTime).toISOString(),
        restorePoint:
          point === null
            ? committed.offset >= 0
              ? 'none in offset metadata: state starts empty'
              : 'no committed offset: new partition for this group'
            : 'offset metadata',
      });
    } catch (error) {
      await producer.disconnect().catch(() => undefined);
      throw error;
    }
    const slot: Slot<T> = {
      transactionalId,
      producer,
      task,
      openedAt,
      verify: false,
      lastBatchAt: this.idleClock.now(),
      idleRun: undefined,
      committedRestore: undefined,
      caughtUp: false,
      committing: undefined,
      queued: [],
      revoked: false,
      closed: false,
    };
    if (task.isLive) this.restored(slot, null);
    return slot;
  }

  private restored(slot: Slot<T>, summary: S | null): void {
    this.options.onRestored?.(slot.task, summary, Math.round(performance.now() - slot.openedAt));
    this.readiness.restored(partitionKey(slot.task.topic, slot.task.partition));
    this.reportReadiness();
  }

  /** Drops a slot whose task's state is ahead of what is committed: it cannot be used again. */
  private async dropSlot(slot: Slot<T>, why: string): Promise<void> {
    const key = partitionKey(slot.task.topic, slot.task.partition);
    // A revoked slot's late failure must not drop the slot of the partition's next assignment.
    if (this.slots.get(key) === slot) this.slots.delete(key);
    await this.closeSlot(slot, why);
  }

  private async runBatch(slot: Slot<T>, batch: RecordBatch): Promise<void> {
    const started = performance.now();
    slot.lastBatchAt = this.idleClock.now();
    const { task } = slot;
    await this.options.beforeBatch?.(batch);
    let out: TaskBatch<S>;
    try {
      out = this.options.process(task, batch);
    } catch (error) {
      await this.dropSlot(slot, 'failed');
      throw error;
    }
    if (out.restored !== null) this.restored(slot, out.restored);
    slot.caughtUp = task.nextOffset >= Number(batch.highWatermark);
    if (this.options.pipelined !== true) {
      await this.commitBatch(slot, out, started);
      return;
    }
    const prepared = this.prepare(slot, out, started);
    if (prepared === null) return;
    slot.queued.push(prepared);
    if (slot.committing === undefined) this.commitQueued(slot);
    else if (slot.queued.length >= MAX_QUEUED_BATCHES) await slot.committing;
  }

  /** Commits the slot's queued batches, one transaction at a time, until none is left (pipelined). */
  private commitQueued(slot: Slot<T>): void {
    slot.committing = (async () => {
      await Promise.resolve(); // `committing` is set before the loop can end
      try {
        while (slot.queued.length > 0) await this.commitPrepared(slot, slot.queued.splice(0));
      } catch (error) {
        // The slot is dropped: what was queued behind the failed transaction is not committed either.
        for (const b of slot.queued.splice(0)) b.settled?.(outcomeOf(b, false, error));
        if (!slot.revoked) this.pipelineFailure ??= error;
      } finally {
        slot.committing = undefined;
      }
    })();
  }

  /** A processed batch's share of a transaction, or null when it has nothing to commit (then it is settled). */
  private prepare(slot: Slot<T>, out: TaskBatch<S>, started: number): PreparedBatch | null {
    // Only replayed (or redelivered) records: their output and offsets were committed by the first run.
    if (out.commitOffset === null) {
      out.settled?.({
        committed: false,
        tooLarge: new Map(),
        tooLargeTotal: 0,
        durationMs: performance.now() - started,
      });
      return null;
    }
    return {
      output: this.fit(out.records),
      commitOffset: out.commitOffset,
      point: slot.task.restorePoint(),
      settled: out.settled,
      started,
    };
  }

  /** One transaction for one batch (not pipelined, and the idle rule's). */
  private async commitBatch(slot: Slot<T>, out: TaskBatch<S>, started: number): Promise<void> {
    const prepared = this.prepare(slot, out, started);
    if (prepared !== null) await this.commitPrepared(slot, [prepared]);
  }

  /**
   * One transaction: the batches' output in order, the offset and restore point of the last; on failure
   * the slot is dropped and a typed error thrown.
   */
  private async commitPrepared(slot: Slot<T>, batches: readonly PreparedBatch[]): Promise<void> {
    const { task, producer } = slot;
    const { topic, partition } = task;
    const last = batches[batches.length - 1]!;
    const point = last.point;
    try {
      await producer.beginTransaction();
      await producer.send(
        batches.length === 1 ? last.output.records : batches.flatMap((b) => b.output.records),
      );
      await producer.sendOffsets(this.options.groupId, [
        {
          topic,
          partition,
          offset: String(last.commitOffset),
          ...(point === null ? {} : { metadata: encodeRestoreMetadata(point) }),
        },
      ]);
      await producer.commit();
    } catch (error) {
      for (const b of batches) b.settled?.(outcomeOf(b, false, error));
      if (producer.inTransaction) await producer.abort().catch(() => undefined);
      await this.dropSlot(slot, 'transaction failed');
      if (isProducerFenced(error)) {
        this.logger.warn('fenced: another member owns this partition now', {
          topic,
          partition,
          transactionalId: slot.transactionalId,
        });
        throw new PartitionFencedError(topic, partition, slot.transactionalId, error);
      }
      if (isRefusedForSize(error)) {
        // A topic's limit was lowered since we read it: read it again; the batch is replayed and cut anew.
        this.limits = await this.readLimits().catch(() => this.limits);
        throw new TaskTransactionError(topic, partition, error, true);
      }
      throw new TaskTransactionError(topic, partition, error);
    }
    this.committedTransactions++;
    if (point !== null) slot.committedRestore = point.offset;
    for (const b of batches) b.settled?.(outcomeOf(b, true));
  }

  private fit(records: ProducerRecord[]): FittedOutput {
    const limits = this.limits;
    const deadLetterTopic = this.options.deadLetterTopic;
    return fitOutput(records, limits, deadLetterTopic, (record) =>
      this.logger.error('output record too large for its topic: dead-lettered', {
        topic: record.topic,
        bytes: record.value?.length ?? 0,
        maxMessageBytes: limits.limitOf(record.topic),
        deadLetterTopic,
      }),
    );
  }
}
