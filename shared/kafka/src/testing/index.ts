// @sequor/kafka/testing: the kit every integration test uses against the real broker. Each test gets its
// own topics and groups, and waits on real conditions (records received), never on sleeps.
import { randomBytes } from 'node:crypto';
import { SequorError } from '@sequor/model';
import { ensureTopics } from '../admin.js';
import type { KafkaAdmin, KafkaClient } from '../client.js';
import { createKafkaClient } from '../client.js';
import type { KafkaConfig } from '../config.js';
import { kafkaConfigFromEnv } from '../config.js';
import type { ConsumedRecord } from '../consumer.js';
import type { Logger } from '../logger.js';
import { createLogger, logLevelFromEnv } from '../logger.js';
import type { KeyedProducer, ProducerRecord, RecordHeaders } from '../producer.js';
import { createKeyedProducer } from '../producer.js';
import { TopicLimits } from '../topic-limits.js';
// Type-only: lets the augmentation below find the module; nothing of vitest is loaded at run time.
import type {} from 'vitest';

declare module 'vitest' {
  /** Provided by test/setup/kafka-global-setup.ts (declared there too): `inject('kafkaBrokers')`. */
  export interface ProvidedContext {
    /** Bootstrap servers, comma-separated host:port. */
    kafkaBrokers: string;
  }
}

/**
 * The bootstrap servers the integration project runs against. The global setup
 * (`test/setup/kafka-global-setup.ts`) sets `KAFKA_BROKERS` and also provides it as `inject('kafkaBrokers')`.
 */
export function brokersFromEnv(env: Readonly<Record<string, string | undefined>> = process.env): string[] {
  if (env.KAFKA_BROKERS === undefined || env.KAFKA_BROKERS.trim() === '') {
    throw new SequorError(
      'KAFKA_BROKERS is not set: run integration tests with `npx vitest run --project integration` (its global ' +
        'setup starts a broker) or point KAFKA_BROKERS at one',
    );
  }
  return kafkaConfigFromEnv({ KAFKA_BROKERS: env.KAFKA_BROKERS }).brokers.slice();
}

let sequence = 0;

function uniqueName(prefix: string): string {
  sequence++;
  return `${prefix}-${Date.now().toString(36)}-${process.pid}-${sequence}-${randomBytes(3).toString('hex')}`;
}

/** A topic name no other test (or earlier run against the same broker) uses. */
export function uniqueTopic(prefix: string): string {
  return uniqueName(prefix);
}

/** A consumer group id no other test uses. */
export function uniqueGroup(prefix: string): string {
  return uniqueName(`${prefix}-group`);
}

/** A consumed record with its position. */
export interface TestRecord extends ConsumedRecord {
  readonly topic: string;
  readonly partition: number;
}

/** A record for `produceAll`: the topic comes from the call. */
export type TestProducerRecord = Omit<ProducerRecord, 'topic'>;

export interface ConsumeUntilOptions {
  /** Fail when the condition is not met by then. Default 30 s. */
  readonly timeoutMs?: number;
  /** Default false: read_committed, as every Sequor consumer. */
  readonly readUncommitted?: boolean;
  /** Default: a fresh unique group, reading from the beginning. */
  readonly groupId?: string;
}

/** `consumeUntil` gave up: the records it had are attached for the failure message. */
export class ConsumeTimeoutError extends SequorError {
  constructor(
    readonly topic: string,
    readonly timeoutMs: number,
    readonly received: readonly TestRecord[],
  ) {
    super(
      `consuming ${topic}: condition not met after ${timeoutMs} ms (${received.length} records received)`,
    );
  }
}

/** Decodes one header as UTF-8 (the first value if repeated); undefined when absent. */
export function headerString(headers: RecordHeaders | undefined, name: string): string | undefined {
  const value = headers?.[name];
  const first = Array.isArray(value) ? value[0] : value;
  return first === undefined ? undefined : Buffer.isBuffer(first) ? first.toString('utf8') : first;
}

export interface KafkaTestKitOptions {
  /** Default `brokersFromEnv()`. */
  readonly brokers?: readonly string[];
  /** Default: `LOG_LEVEL` if set, else `error`, so kafkajs's join/leave/retry chatter stays out of test output. */
  readonly logger?: Logger;
}

/**
 * A connected client plus helpers; remembers the topics it created and deletes them on `close()`.
 *
 * ```ts
 * const kit = await KafkaTestKit.connect();
 * const topic = await kit.createTopic('normalized', { partitions: 6 });
 * await kit.produceAll(topic, [{ key: 'host-1', value: Buffer.from('x') }]);
 * const records = await kit.consumeUntil(topic, 1);
 * await kit.close();
 * ```
 */
export class KafkaTestKit {
  private readonly createdTopics = new Set<string>();
  /** One producer per topic produced to, each knowing that topic's limits (tests make topics with their own). */
  private readonly producers = new Map<string, KeyedProducer>();

  private constructor(
    readonly config: KafkaConfig,
    readonly client: KafkaClient,
    readonly admin: KafkaAdmin,
    readonly logger: Logger,
  ) {}

  static async connect(options: KafkaTestKitOptions = {}): Promise<KafkaTestKit> {
    const brokers = options.brokers ?? brokersFromEnv();
    const logger =
      options.logger ??
      createLogger('test', {
        level: process.env.LOG_LEVEL === undefined ? 'error' : logLevelFromEnv(process.env),
      });
    const config = kafkaConfigFromEnv({ KAFKA_BROKERS: brokers.join(','), KAFKA_CLIENT_ID: 'sequor-test' });
    const client = createKafkaClient(config, { logger });
    const admin = client.admin();
    await admin.connect();
    return new KafkaTestKit(config, client, admin, logger);
  }

  /** Creates a uniquely named topic, waits for its leaders, and returns its name. */
  async createTopic(
    prefix: string,
    options: { readonly partitions?: number; readonly configs?: Readonly<Record<string, string>> } = {},
  ): Promise<string> {
    const topic = uniqueTopic(prefix);
    this.createdTopics.add(topic);
    await ensureTopics(this.admin, [
      {
        topic,
        partitions: options.partitions ?? 1,
        ...(options.configs ? { configs: options.configs } : {}),
      },
    ]);
    return topic;
  }

  /** Produces the records (Java-compatible partitioning, acks=all) and resolves when all are acknowledged. */
  async produceAll(topic: string, records: readonly TestProducerRecord[]): Promise<void> {
    let producer = this.producers.get(topic);
    if (producer === undefined) {
      const limits = await TopicLimits.read(this.admin, [topic]);
      producer = await createKeyedProducer(this.client, { name: 'test-kit', logger: this.logger, limits });
      this.producers.set(topic, producer);
    }
    await producer.sendAll(records.map((record) => ({ ...record, topic })));
  }

  /**
   * Consumes `topic` from the beginning in a fresh group until `until` records arrived, or until the
   * predicate accepts the records so far; returns them in arrival order (offset order per partition).
   */
  async consumeUntil(
    topic: string,
    until: number | ((records: readonly TestRecord[]) => boolean),
    options: ConsumeUntilOptions = {},
  ): Promise<TestRecord[]> {
    const timeoutMs = options.timeoutMs ?? 30_000;
    const done =
      typeof until === 'number' ? (records: readonly TestRecord[]) => records.length >= until : until;
    const received: TestRecord[] = [];
    const consumer = this.client.consumer({
      groupId: options.groupId ?? uniqueGroup('consume-until'),
      readUncommitted: options.readUncommitted ?? false,
      allowAutoTopicCreation: false,
      maxWaitTimeInMs: 250,
    });
    let timer: NodeJS.Timeout | undefined;
    try {
      await consumer.connect();
      await consumer.subscribe({ topics: [topic], fromBeginning: true });
      await new Promise<void>((resolve, reject) => {
        timer = setTimeout(() => reject(new ConsumeTimeoutError(topic, timeoutMs, [...received])), timeoutMs);
        if (done(received)) {
          resolve();
          return;
        }
        consumer
          .run({
            autoCommit: false,
            eachBatch: async ({ batch }) => {
              for (const message of batch.messages) {
                received.push({ ...message, topic: batch.topic, partition: batch.partition });
              }
              if (done(received)) resolve();
            },
          })
          .catch(reject);
      });
    } finally {
      clearTimeout(timer);
      await consumer.disconnect();
    }
    return received;
  }

  /** Deletes the given topics (default: every topic this kit created). */
  async deleteTopics(topics: readonly string[] = [...this.createdTopics]): Promise<void> {
    if (topics.length === 0) return;
    await this.admin.deleteTopics({ topics: [...topics] });
    for (const topic of topics) this.createdTopics.delete(topic);
  }

  /** Deletes the kit's topics and disconnects. */
  async close(): Promise<void> {
    try {
      await Promise.all([...this.producers.values()].map((p) => p.disconnect()));
      await this.deleteTopics();
    } finally {
      await this.admin.disconnect();
    }
  }
}
