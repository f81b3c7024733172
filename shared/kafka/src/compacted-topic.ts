/**
 * A log-compacted topic read whole by every process that uses it (a table, as Kafka Streams' global
 * stores are): the detector's rules topic. `ensureCompactedTopic` creates it, or refuses one that is
 * not compacted or has another partition count; `TopicFollower` reads it from the beginning and keeps
 * following it, with no committed offsets.
 */
import { randomUUID } from 'node:crypto';
import type { Admin, Consumer } from 'kafkajs';
import kafkajs from 'kafkajs';
import { SequorError } from '@sequor/model';
import type { Logger } from '@sequor/service';
import { ensureTopics } from './admin.js';
import type { KafkaClient } from './client.js';
import type { ConsumedRecord } from './consumer.js';
import { wrapClientError } from './errors.js';

// kafkajs is CommonJS and Node's ESM loader does not see this export by name (vitest would).
const { ConfigResourceTypes } = kafkajs;

/** An existing topic cannot serve as a compacted table: says which setting and what it needs. */
export class CompactedTopicError extends SequorError {
  constructor(
    readonly topic: string,
    readonly reason: string,
  ) {
    super(`topic ${topic} cannot be used: ${reason}`);
  }
}

export interface CompactedTopicSpec {
  readonly topic: string;
  /** Partitions to create with, and the count an existing topic must have. */
  readonly partitions: number;
  /** Extra configs at creation (e.g. `min.compaction.lag.ms`). */
  readonly configs?: Readonly<Record<string, string>>;
}

type CompactedAdmin = Pick<Admin, 'listTopics' | 'createTopics' | 'fetchTopicMetadata' | 'describeConfigs'>;

/**
 * Creates the topic compacted when missing; an existing one must have `cleanup.policy` including
 * `compact` and exactly `partitions` partitions (throws CompactedTopicError saying what is wrong: a
 * deleting topic loses rules after retention, and the detector needs one order over the records).
 */
export async function ensureCompactedTopic(
  admin: CompactedAdmin,
  spec: CompactedTopicSpec,
  options: { readonly logger?: Logger } = {},
): Promise<{ readonly created: boolean }> {
  const result = await ensureTopics(
    admin,
    [
      {
        topic: spec.topic,
        partitions: spec.partitions,
        configs: { 'cleanup.policy': 'compact', ...spec.configs },
      },
    ],
    options.logger === undefined ? {} : { logger: options.logger },
  );
  const created = result.created.includes(spec.topic);
  let policy: string | undefined;
  let partitions: number;
  try {
    const described = await admin.describeConfigs({
      includeSynonyms: false,
      resources: [{ type: ConfigResourceTypes.TOPIC, name: spec.topic, configNames: ['cleanup.policy'] }],
    });
    policy = described.resources[0]?.configEntries.find(
      (e) => e.configName === 'cleanup.policy',
    )?.configValue;
    const metadata = await admin.fetchTopicMetadata({ topics: [spec.topic] });
    partitions = metadata.topics[0]?.partitions.length ?? 0;
  } catch (error) {
    throw wrapClientError(error, `describing topic ${spec.topic}`);
  }
  if (policy === undefined || !policy.split(',').includes('compact'))
    throw new CompactedTopicError(
      spec.topic,
      `cleanup.policy is ${JSON.stringify(policy ?? '(unknown)')}, not compact: records would be deleted after retention (set cleanup.policy=compact on it, or name another topic)`,
    );
  if (partitions !== spec.partitions)
    throw new CompactedTopicError(
      spec.topic,
      `it has ${partitions} partitions; it needs ${spec.partitions} (one order over every record)`,
    );
  return { created };
}

export interface TopicFollowerOptions {
  readonly topic: string;
  /**
   * Prefix of the group id: kafkajs consumes only as a group member, so each follower joins a group of
   * its own (`<prefix>.<uuid>`) and never commits, which leaves the group empty and offset-free behind it.
   */
  readonly groupIdPrefix: string;
  /** Records of a partition, in offset order, as they arrive (synchronous; a throw stops the follower). */
  readonly onRecords: (partition: number, records: readonly ConsumedRecord[]) => void;
  readonly logger?: Logger;
  /** How long `start()` waits to have read the whole topic. Default 60 s. */
  readonly startTimeoutMs?: number;
}

/**
 * Reads a topic from its first record on, `read_committed`, and keeps following it. `start()` resolves
 * once every record that was in the topic when it was called has been handed to `onRecords` (the
 * high watermarks read first): the caller has the whole table then. `done` rejects if the consumer
 * crashes after that.
 */
export class TopicFollower {
  private consumer: Consumer | undefined;
  private readonly positions = new Map<number, number>();
  private stopped = false;
  private crash: (error: unknown) => void = () => {};
  readonly done: Promise<void>;
  private resolveDone: () => void = () => {};

  constructor(
    private readonly client: KafkaClient,
    private readonly options: TopicFollowerOptions,
  ) {
    this.done = new Promise<void>((resolve, reject) => {
      this.resolveDone = resolve;
      this.crash = reject;
    });
    this.done.catch(() => {});
  }

  /** The next offset to read per partition. */
  position(partition: number): number {
    return this.positions.get(partition) ?? 0;
  }

  async start(admin: Pick<Admin, 'fetchTopicOffsets'>): Promise<void> {
    const { topic } = this.options;
    let ends: Map<number, number>;
    try {
      ends = new Map((await admin.fetchTopicOffsets(topic)).map((o) => [o.partition, Number(o.high)]));
    } catch (error) {
      throw wrapClientError(error, `reading the offsets of ${topic}`);
    }
    const caughtUp = (): boolean => [...ends].every(([p, high]) => this.position(p) >= high);
    let ready: () => void = () => {};
    let failed: (error: unknown) => void = () => {};
    const initial = new Promise<void>((resolve, reject) => {
      ready = resolve;
      failed = reject;
    });
    const consumer = this.client.consumer({
      groupId: `${this.options.groupIdPrefix}.${randomUUID()}`,
      readUncommitted: false,
      // One member, no rebalances to wait out.
      sessionTimeout: 30_000,
      rebalanceTimeout: 10_000,
      heartbeatInterval: 3_000,
      allowAutoTopicCreation: false,
    });
    this.consumer = consumer;
    consumer.on(consumer.events.CRASH, (event) => {
      const error = event.payload.error;
      failed(error);
      this.crash(error);
    });
    try {
      await consumer.connect();
      await consumer.subscribe({ topics: [topic], fromBeginning: true });
      await consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: true,
        eachBatch: async ({ batch }) => {
          const records = batch.messages as unknown as ConsumedRecord[];
          if (records.length > 0) {
            this.options.onRecords(batch.partition, records);
            const last = records[records.length - 1] as ConsumedRecord;
            this.positions.set(batch.partition, Number(last.offset) + 1);
          }
          // Transaction markers and compacted gaps: the fetch position can pass the last record.
          const high = Number(batch.highWatermark);
          if (records.length === 0 || batch.isEmpty()) {
            if (high > this.position(batch.partition) && batch.lastOffset() !== undefined) {
              const lastOffset = Number(batch.lastOffset());
              if (Number.isFinite(lastOffset) && lastOffset + 1 > this.position(batch.partition))
                this.positions.set(batch.partition, lastOffset + 1);
            }
          }
          if (caughtUp()) ready();
          await Promise.resolve();
        },
      });
    } catch (error) {
      throw wrapClientError(error, `following ${topic}`);
    }
    if (caughtUp()) ready();
    const timeoutMs = this.options.startTimeoutMs ?? 60_000;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new SequorError(
              `${topic}: not read to its end within ${timeoutMs} ms (${[...ends].map(([p, high]) => `partition ${p} at ${this.position(p)} of ${high}`).join(', ')})`,
            ),
          ),
        timeoutMs,
      );
    });
    try {
      await Promise.race([initial, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    try {
      await this.consumer?.disconnect();
    } finally {
      this.resolveDone();
    }
  }
}
