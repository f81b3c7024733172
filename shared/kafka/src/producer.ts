import type { RecordHeaders } from '@sequor/model';
import type { ICustomPartitioner, Message, Producer, TopicMessages, Transaction } from 'kafkajs';
import { CompressionTypes } from 'kafkajs';
import type { KafkaClient } from './client.js';
import { CoordinatorCache, producerWithCoordinatorCache } from './coordinator-cache.js';
import {
  DeliveryTimeoutError,
  isConcurrentTransaction,
  ProducerFailedError,
  TransactionStateError,
  wrapClientError,
} from './errors.js';
import type { Logger } from './logger.js';
import { partitionFor } from './partitioner.js';
import { planSends, recordSizeUpperBound, RecordTooLargeError, TopicLimits } from './topic-limits.js';

// One home for the record shape (`@sequor/model`), re-exported: kafka's users name headers from here.
export type { RecordHeaders } from '@sequor/model';

/** One record to produce. The partition is `partitionFor(key, partitionCount)`, as the Java client picks it. */
export interface ProducerRecord {
  readonly topic: string;
  /** `null` spreads records round-robin over partitions with a leader (dead letters of key-less records). */
  readonly key: Buffer | string | null;
  /** `null` is a tombstone. */
  readonly value: Buffer | null;
  readonly headers?: RecordHeaders;
  /** Event or create time in epoch milliseconds; default: the producer's clock at send. */
  readonly timestamp?: number;
}

/** Where consumed offsets go in a transaction: `offset` is the next one to read (last processed + 1). */
export interface TopicPartitionOffset {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  /**
   * Committed with the offset (Kafka's offset metadata, at most `offset.metadata.max.bytes`, 4 KiB by
   * default) and returned by `admin.fetchOffsets`: e.g. where a stateful consumer's restore starts.
   */
  readonly metadata?: string;
}

/** The producing side every publisher in Sequor needs (the keyed producer, a dead-letter publisher, fakes). */
export interface RecordSink {
  /** Resolves when the record is acknowledged by all in-sync replicas. */
  send(record: ProducerRecord): Promise<void>;
}

export type Compression = 'none' | 'gzip';

export interface KeyedProducerOptions {
  /** Send a batch once this many records wait. Default 1000. */
  readonly batchSize?: number;
  /** ... or once they add up to this many bytes (`recordSizeUpperBound`). Default 1 MiB. */
  readonly batchBytes?: number;
  /** ... or this long after the first of them arrived. Default 5 ms. */
  readonly lingerMs?: number;
  /** Fail the producer when a batch is not acknowledged this long after it was sent. Default 120 s. */
  readonly deliveryTimeoutMs?: number;
  /** kafkajs ships gzip; snappy, lz4 and zstd need codecs registered from outside. Default none. */
  readonly compression?: Compression;
  /**
   * The `max.message.bytes` of the topics written (`TopicLimits.read`); a batch is sent in as many
   * requests as keep each under them. Default: Kafka's default limit for every topic.
   */
  readonly limits?: TopicLimits;
  /** Names this producer in errors and logs. Default `keyed-producer`. */
  readonly name?: string;
  readonly logger?: Logger;
}

const DEFAULTS = { batchSize: 1000, batchBytes: 1 << 20, lingerMs: 5, deliveryTimeoutMs: 120_000 } as const;

/**
 * kafkajs partitioner that delegates keyed records to `partitionFor` (the Java client's choice) and
 * spreads key-less records round-robin over partitions that have a leader.
 */
export const javaCompatiblePartitioner: ICustomPartitioner = () => {
  let counter = 0;
  return ({ partitionMetadata, message }) => {
    if (message.partition !== undefined && message.partition !== null) return message.partition;
    const key = message.key;
    if (key !== undefined && key !== null) return partitionFor(key, partitionMetadata.length);
    const available = partitionMetadata.filter((p) => p.leader >= 0);
    const pool = available.length > 0 ? available : partitionMetadata;
    counter = (counter + 1) & 0x7fffffff;
    return pool[counter % pool.length]!.partitionId;
  };
};

function toMessage(record: ProducerRecord): Message {
  return {
    key: record.key,
    value: record.value,
    ...(record.headers === undefined ? {} : { headers: record.headers }),
    ...(record.timestamp === undefined ? {} : { timestamp: String(record.timestamp) }),
  };
}

function groupByTopic(records: readonly ProducerRecord[]): TopicMessages[] {
  const byTopic = new Map<string, Message[]>();
  for (const record of records) {
    let messages = byTopic.get(record.topic);
    if (messages === undefined) {
      messages = [];
      byTopic.set(record.topic, messages);
    }
    messages.push(toMessage(record));
  }
  return [...byTopic].map(([topic, messages]) => ({ topic, messages }));
}

/** Records that go out in one `sendBatch`, and the promise all of them share. */
class Batch {
  readonly records: ProducerRecord[] = [];
  bytes = 0;
  readonly promise: Promise<void>;
  resolve!: () => void;
  reject!: (error: unknown) => void;

  constructor() {
    this.promise = new Promise<void>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
    // Callers usually await only their last record; a failed earlier batch must not become an unhandled
    // rejection. The failure still reaches them: a failed producer rejects every later batch too.
    this.promise.catch(() => undefined);
  }
}

/**
 * A producer for keyed records: idempotent, acks=all, Java-compatible partitioning, and batching
 * (records accumulate into a batch that is sent with one `sendBatch` when it holds `batchSize` records or
 * `batchBytes` bytes, or `lingerMs` after its first record). One batch is in flight at a time, so the
 * records of a partition are written in `send` order; full batches queue behind it.
 *
 * `send` returns a promise shared by every record of the same batch, settled when that batch is
 * acknowledged. Batches settle in order, and after a failure (kafkajs retries retriable errors itself)
 * the producer refuses further records, so awaiting the promise of the last record sent means every
 * earlier one was written.
 *
 * ```ts
 * const producer = await createKeyedProducer(client, { lingerMs: 5 });
 * for (const alert of alerts) void producer.send({ topic: 'alerts', key: alert.host, value: encode(alert) });
 * await producer.flush();
 * ```
 */
export class KeyedProducer implements RecordSink {
  private readonly batchSize: number;
  private readonly batchBytes: number;
  private readonly lingerMs: number;
  private readonly deliveryTimeoutMs: number;
  private readonly compression: CompressionTypes;
  private readonly name: string;
  private readonly logger: Logger | undefined;
  private readonly limits: TopicLimits;
  /** The batch records are added to. */
  private open: Batch | undefined;
  /** Batches closed for additions, waiting for the one in flight. */
  private readonly sealed: Batch[] = [];
  private last: Batch | undefined;
  private inFlight = false;
  private lingerTimer: NodeJS.Timeout | undefined;
  private failure: ProducerFailedError | undefined;
  private closed = false;

  constructor(
    private readonly producer: Producer,
    options: KeyedProducerOptions = {},
  ) {
    this.name = options.name ?? 'keyed-producer';
    this.logger = options.logger;
    this.batchSize = options.batchSize ?? DEFAULTS.batchSize;
    this.batchBytes = options.batchBytes ?? DEFAULTS.batchBytes;
    this.lingerMs = options.lingerMs ?? DEFAULTS.lingerMs;
    this.deliveryTimeoutMs = options.deliveryTimeoutMs ?? DEFAULTS.deliveryTimeoutMs;
    this.compression = options.compression === 'gzip' ? CompressionTypes.GZIP : CompressionTypes.None;
    this.limits = options.limits ?? new TopicLimits();
  }

  /** True when `record` can be sent to its topic at all; one that cannot must be dead-lettered instead. */
  fits(record: ProducerRecord): boolean {
    return this.limits.fits(record);
  }

  /**
   * Queues `record`. A record that does not `fit` its topic fails the producer (check first, or use
   * `trySend`): the broker would refuse its whole batch, and nothing may be lost silently.
   */
  send(record: ProducerRecord): Promise<void> {
    const queued = this.trySend(record);
    if (queued !== null) return queued;
    const batch = new Batch();
    const bytes = recordSizeUpperBound(record);
    this.fail(new RecordTooLargeError(record.topic, bytes, this.limits.limitOf(record.topic)), batch);
    return batch.promise;
  }

  /**
   * Queues `record` as `send` does, or returns null, queuing nothing and staying healthy, when it does
   * not fit its topic: the caller dead-letters it. Its size is computed once, here.
   */
  trySend(record: ProducerRecord): Promise<void> | null {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    if (this.closed)
      return Promise.reject(new ProducerFailedError(this.name, new Error('producer disconnected')));
    const bytes = recordSizeUpperBound(record);
    if (bytes > this.limits.budgetOf(record.topic)) return null;
    // Sealed before it would grow past batchBytes, so a batch stays within it (one record may exceed it alone).
    if (this.open !== undefined && this.open.bytes + bytes > this.batchBytes) this.sealOpen();
    let batch = this.open;
    if (batch === undefined) {
      batch = this.open = new Batch();
      this.last = batch;
      this.lingerTimer = setTimeout(this.onLinger, this.lingerMs);
    }
    batch.records.push(record);
    batch.bytes += bytes;
    if (batch.records.length >= this.batchSize || batch.bytes >= this.batchBytes) {
      this.sealOpen();
      this.pump();
    }
    return batch.promise;
  }

  /** Sends `records` and resolves when all of them are acknowledged. */
  sendAll(records: readonly ProducerRecord[]): Promise<void> {
    let last: Promise<void> = Promise.resolve();
    for (const record of records) last = this.send(record);
    return last;
  }

  /** Sends whatever waits now and resolves when everything sent so far is acknowledged. */
  flush(): Promise<void> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    this.sealOpen();
    this.pump();
    return this.last?.promise ?? Promise.resolve();
  }

  /** Flushes, then closes the connection. Records sent afterwards are refused. */
  async disconnect(): Promise<void> {
    try {
      await this.flush();
    } finally {
      this.closed = true;
      await this.producer.disconnect();
    }
  }

  private readonly onLinger = (): void => {
    this.lingerTimer = undefined;
    this.sealOpen();
    this.pump();
  };

  private sealOpen(): void {
    if (this.lingerTimer !== undefined) {
      clearTimeout(this.lingerTimer);
      this.lingerTimer = undefined;
    }
    if (this.open !== undefined) {
      this.sealed.push(this.open);
      this.open = undefined;
    }
  }

  private pump(): void {
    if (this.inFlight || this.failure !== undefined) return;
    const batch = this.sealed.shift();
    if (batch === undefined) return;
    this.inFlight = true;
    void this.sendBatch(batch);
  }

  private async sendBatch(batch: Batch): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    try {
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new DeliveryTimeoutError(this.name, this.deliveryTimeoutMs, batch.records.length)),
          this.deliveryTimeoutMs,
        );
      });
      // In order, one request at a time: each partition's records stay in send order.
      for (const records of planSends(batch.records, this.limits, batch.bytes)) {
        await Promise.race([
          this.producer.sendBatch({
            topicMessages: groupByTopic(records),
            acks: -1,
            compression: this.compression,
          }),
          timeout,
        ]);
      }
      batch.resolve();
    } catch (error) {
      this.fail(error, batch);
    } finally {
      clearTimeout(timer);
      this.inFlight = false;
    }
    this.pump();
  }

  private fail(error: unknown, batch: Batch): void {
    const failure = new ProducerFailedError(this.name, wrapClientError(error, 'producing a batch'));
    this.failure = failure;
    this.logger?.error('producer failed; refusing further records', {
      producer: this.name,
      error: failure.cause,
    });
    this.sealOpen();
    batch.reject(failure);
    for (const waiting of this.sealed.splice(0)) waiting.reject(failure);
  }
}

/** Creates and connects a `KeyedProducer` (idempotent, acks=all, no topic auto-creation). */
export async function createKeyedProducer(
  client: KafkaClient,
  options: KeyedProducerOptions = {},
): Promise<KeyedProducer> {
  const producer = client.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
    createPartitioner: javaCompatiblePartitioner,
  });
  try {
    await producer.connect();
  } catch (error) {
    throw wrapClientError(error, 'connecting the producer');
  }
  return new KeyedProducer(producer, options);
}

export interface TransactionalProducerOptions {
  /** Stable per logical writer (e.g. `detector-<input partition>`): a restarted writer fences its zombie. */
  readonly transactionalId: string;
  /** Broker aborts a transaction left open this long. Default 60 s. */
  readonly transactionTimeoutMs?: number;
  readonly compression?: Compression;
  /** As `KeyedProducerOptions.limits`: `send` splits its records into requests that each fit. */
  readonly limits?: TopicLimits;
}

/** Backoff before asking again while the previous transaction completes: short, it takes milliseconds. */
const CONCURRENT_TRANSACTION_BACKOFF_MS = [5, 10, 20, 50, 100] as const;
/** Then every 100 ms, for at most this long (the broker's markers are long written by then, or it is down). */
const CONCURRENT_TRANSACTION_GIVE_UP_MS = 30_000;

/**
 * Runs `request` (AddPartitionsToTxn then Produce, or AddOffsetsToTxn then TxnOffsetCommit) again while
 * the coordinator answers CONCURRENT_TRANSACTIONS: the previous transaction of this id is committed but
 * its markers are still being written, which is routine when transactions follow each other closely.
 * kafkajs retries it only in InitProducerId; failing the batch instead would restart the consumer.
 */
async function whilePreviousCompletes<R>(request: () => Promise<R>): Promise<R> {
  const started = performance.now();
  for (let attempt = 0; ; attempt++) {
    try {
      return await request();
    } catch (error) {
      if (!isConcurrentTransaction(error) || performance.now() - started > CONCURRENT_TRANSACTION_GIVE_UP_MS)
        throw error;
    }
    const backoff = CONCURRENT_TRANSACTION_BACKOFF_MS[attempt] ?? 100;
    await new Promise((resolve) => setTimeout(resolve, backoff));
  }
}

/**
 * A transactional producer for consume-transform-produce: records and consumed offsets commit together
 * or not at all; read_committed consumers never see an aborted transaction's records.
 *
 * ```ts
 * await tx.beginTransaction();
 * await tx.send(alerts);
 * await tx.sendOffsets(groupId, [{ topic, partition, offset: nextOffset }]);
 * await tx.commit();
 * ```
 */
export class TransactionalProducer {
  private transaction: Transaction | undefined;
  private initialized = false;
  private readonly compression: CompressionTypes;
  private readonly limits: TopicLimits;
  private readonly coordinators: CoordinatorCache | undefined;

  constructor(
    private readonly producer: Producer,
    readonly transactionalId: string,
    options: {
      readonly compression?: Compression;
      readonly limits?: TopicLimits;
      /** The cache answering the producer's coordinator lookups: forgotten when a request fails. */
      readonly coordinators?: CoordinatorCache;
    } = {},
  ) {
    this.compression = options.compression === 'gzip' ? CompressionTypes.GZIP : CompressionTypes.None;
    this.limits = options.limits ?? new TopicLimits();
    this.coordinators = options.coordinators;
  }

  get inTransaction(): boolean {
    return this.transaction !== undefined;
  }

  /** True when `record` can be sent to its topic at all. */
  fits(record: ProducerRecord): boolean {
    return this.limits.fits(record);
  }

  /**
   * Registers the transactional id with its coordinator now, as Java's `initTransactions()`: the producer
   * epoch is bumped, which fences every older producer with this id, and the call returns only once that
   * producer's open transaction is aborted or its commit completed. kafkajs does this lazily, at the
   * first `beginTransaction` (connect only registers an idempotent producer id, which fences nothing);
   * a new owner must do it before it reads the committed offsets. Idempotent.
   */
  async initTransactions(): Promise<void> {
    if (this.transaction !== undefined)
      throw new TransactionStateError(this.transactionalId, 'initTransactions with a transaction open');
    if (this.initialized) return;
    try {
      // The first transaction() sends InitProducerId (retrying CONCURRENT_TRANSACTIONS while the older
      // producer's transaction completes); aborting it empty sends nothing.
      const transaction = await this.producer.transaction();
      await transaction.abort();
    } catch (error) {
      this.coordinators?.forget();
      throw wrapClientError(error, `initializing transactions (${this.transactionalId})`);
    }
    this.initialized = true;
  }

  async beginTransaction(): Promise<void> {
    if (this.transaction !== undefined)
      throw new TransactionStateError(this.transactionalId, 'a transaction is already open');
    try {
      this.transaction = await this.producer.transaction();
    } catch (error) {
      this.coordinators?.forget();
      throw wrapClientError(error, `beginning a transaction (${this.transactionalId})`);
    }
    this.initialized = true;
  }

  /**
   * Sends records inside the open transaction, in as many requests as keep each topic's batch under its
   * `max.message.bytes`; resolves when the broker has them (not yet visible). Throws `RecordTooLargeError`
   * (sending nothing) for a record that does not fit alone: dead-letter such records first (`fits`).
   */
  async send(records: readonly ProducerRecord[]): Promise<void> {
    const transaction = this.open('send');
    if (records.length === 0) return;
    const sends = planSends(records, this.limits);
    try {
      for (const part of sends)
        await whilePreviousCompletes(() =>
          transaction.sendBatch({
            topicMessages: groupByTopic(part),
            acks: -1,
            compression: this.compression,
          }),
        );
    } catch (error) {
      this.coordinators?.forget();
      throw wrapClientError(error, `sending in transaction ${this.transactionalId}`);
    }
  }

  /** Adds consumed offsets (next offset to read) for `consumerGroupId` to the open transaction. */
  async sendOffsets(consumerGroupId: string, offsets: readonly TopicPartitionOffset[]): Promise<void> {
    const transaction = this.open('sendOffsets');
    if (offsets.length === 0) return;
    const byTopic = new Map<string, { partition: number; offset: string; metadata?: string }[]>();
    for (const { topic, partition, offset, metadata } of offsets) {
      let partitions = byTopic.get(topic);
      if (partitions === undefined) {
        partitions = [];
        byTopic.set(topic, partitions);
      }
      // kafkajs encodes each partition's `metadata` into TxnOffsetCommit as is (null when absent).
      partitions.push(metadata === undefined ? { partition, offset } : { partition, offset, metadata });
    }
    try {
      const topics = [...byTopic].map(([topic, partitions]) => ({ topic, partitions }));
      await whilePreviousCompletes(() => transaction.sendOffsets({ consumerGroupId, topics }));
    } catch (error) {
      this.coordinators?.forget();
      throw wrapClientError(error, `adding offsets to transaction ${this.transactionalId}`);
    }
  }

  async commit(): Promise<void> {
    const transaction = this.open('commit');
    this.transaction = undefined;
    try {
      await transaction.commit();
    } catch (error) {
      this.coordinators?.forget();
      throw wrapClientError(error, `committing transaction ${this.transactionalId}`);
    }
  }

  async abort(): Promise<void> {
    const transaction = this.open('abort');
    this.transaction = undefined;
    try {
      await transaction.abort();
    } catch (error) {
      this.coordinators?.forget();
      throw wrapClientError(error, `aborting transaction ${this.transactionalId}`);
    }
  }

  /** Aborts an open transaction, then closes the connection. */
  async disconnect(): Promise<void> {
    try {
      if (this.transaction !== undefined) await this.abort();
    } finally {
      await this.producer.disconnect();
    }
  }

  private open(operation: string): Transaction {
    if (this.transaction === undefined) {
      throw new TransactionStateError(
        this.transactionalId,
        `${operation} needs an open transaction (call beginTransaction)`,
      );
    }
    return this.transaction;
  }
}

/** Creates and connects a `TransactionalProducer` (idempotent, one request in flight, as kafkajs requires). */
export async function createTransactionalProducer(
  client: KafkaClient,
  options: TransactionalProducerOptions,
): Promise<TransactionalProducer> {
  // Coordinators looked up once, not before every transactional request (coordinator-cache.ts).
  const coordinators = new CoordinatorCache();
  const { producer } = producerWithCoordinatorCache(
    client,
    {
      transactionalId: options.transactionalId,
      transactionTimeout: options.transactionTimeoutMs ?? 60_000,
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      createPartitioner: javaCompatiblePartitioner,
      // kafkajs retries a send refused with CONCURRENT_TRANSACTIONS (the previous transaction's markers
      // still being written: routine when transactions follow each other closely) after 300 ms by
      // default; they take milliseconds. Starting at 20 ms (Java's backoff for it) with more retries
      // gives up no sooner than the default: ~40 s in all.
      retry: { initialRetryTime: 20, retries: 10 },
    },
    coordinators,
  );
  try {
    await producer.connect();
  } catch (error) {
    throw wrapClientError(error, `connecting transactional producer ${options.transactionalId}`);
  }
  return new TransactionalProducer(producer, options.transactionalId, { ...options, coordinators });
}
