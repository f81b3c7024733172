/**
 * What a topic accepts: how big a record batch may be (and how to keep every produced batch under it),
 * and how far a record's CreateTime may stray from the broker's clock.
 *
 * A broker refuses a whole produce request (`MESSAGE_TOO_LARGE`) when one partition's record batch in it
 * exceeds the topic's `max.message.bytes` (1 MiB + 12 by default, set per topic). kafkajs puts every
 * record of one `sendBatch` call for a partition into one record batch and splits nothing, so a
 * producer that hands it more than the limit fails, and a consumer-transform-produce loop that meets the
 * same input again fails again: detection stops. Here the limits are read from the broker, each record's
 * encoded size is bounded from above, and a list of records is cut into consecutive sends that each stay
 * under every topic's limit. A record that cannot fit even alone is the caller's to dead-letter
 * (`fits` says which); handing one to `planSends` is an error.
 */
import type { Admin } from 'kafkajs';
import kafkajs from 'kafkajs';
import { SequorError } from '@sequor/model';
import { wrapClientError } from './errors.js';
import type { ProducerRecord, RecordHeaders } from './producer.js';

// kafkajs is CommonJS and Node's ESM loader does not see this export by name (vitest would).
const { ConfigResourceTypes } = kafkajs;

/** Kafka's default `max.message.bytes` (1 MiB + 12): assumed for a topic whose config was not read. */
export const DEFAULT_MAX_MESSAGE_BYTES = 1_048_588;
/**
 * Kafka 4's default `message.timestamp.after.max.ms` (1 h): a CreateTime further ahead of the broker's
 * clock is refused with INVALID_TIMESTAMP, the whole batch with it.
 */
export const DEFAULT_TIMESTAMP_AFTER_MAX_MS = 3_600_000;

const CONFIGS = [
  'max.message.bytes',
  'message.timestamp.after.max.ms',
  'message.timestamp.before.max.ms',
  'message.timestamp.type',
];

interface TopicConfig {
  readonly maxMessageBytes: number;
  /** Infinity for LogAppendTime topics (the broker stamps records itself) and for Long.MAX_VALUE. */
  readonly afterMaxMs: number;
  readonly beforeMaxMs: number;
}

/** A v2 record batch's header: base offset to records count (Kafka's `RECORD_BATCH_OVERHEAD`). */
const RECORD_BATCH_OVERHEAD = 61;
/**
 * Kept free below the limit: gzip may grow incompressible data by a few bytes per 16 KiB block, and the
 * varint bounds below are already upper bounds, so this is margin, not a correction.
 */
const SAFETY_MARGIN = 1024;
/** Per record, the most its framing takes: length (varint), attributes, timestamp delta (varlong), offset delta, key and value lengths, header count. */
const RECORD_FRAMING = 5 + 1 + 10 + 5 + 5 + 5 + 5;
/** Per header: key and value lengths (varints). */
const HEADER_FRAMING = 5 + 5;

/** A record over its topic's limit even alone. Not retriable: the same record is refused every time. */
export class RecordTooLargeError extends SequorError {
  constructor(
    readonly topic: string,
    readonly bytes: number,
    readonly limit: number,
  ) {
    super(
      `a record of ${bytes} bytes does not fit ${topic}'s max.message.bytes (${limit}): dead-letter it before sending`,
    );
  }
}

function byteLength(value: Buffer | string): number {
  return typeof value === 'string' ? Buffer.byteLength(value, 'utf8') : value.length;
}

function headersBytes(headers: RecordHeaders | undefined): number {
  if (headers === undefined) return 0;
  let bytes = 0;
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined) continue;
    const nameBytes = Buffer.byteLength(name, 'utf8') + HEADER_FRAMING;
    if (Array.isArray(value)) {
      for (const item of value) bytes += nameBytes + byteLength(item);
    } else {
      bytes += nameBytes + byteLength(value);
    }
  }
  return bytes;
}

/** The most bytes `record` takes inside a record batch (uncompressed). */
export function recordSizeUpperBound(record: ProducerRecord): number {
  return (
    RECORD_FRAMING +
    (record.key === null ? 0 : byteLength(record.key)) +
    (record.value?.length ?? 0) +
    headersBytes(record.headers)
  );
}

/** A config value in ms or bytes; Long.MAX_VALUE (no bound) as Infinity. */
function configNumber(value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) return fallback;
  return n >= Number.MAX_SAFE_INTEGER ? Number.POSITIVE_INFINITY : n;
}

/**
 * What the topics a producer writes accept: `max.message.bytes` and the CreateTime window. Topics it
 * was not told about get the broker defaults, so an unread limit errs small only for topics configured
 * above them.
 */
export class TopicLimits {
  private readonly configs: ReadonlyMap<string, TopicConfig>;
  /** The smallest budget of any topic, known or not: a send within it fits wherever its records go. */
  readonly smallestBudget: number;

  /** `limits`: by topic, its `max.message.bytes` alone (tests) or every config read. */
  constructor(
    limits: ReadonlyMap<string, number | TopicConfig> = new Map(),
    private readonly fallback: number = DEFAULT_MAX_MESSAGE_BYTES,
  ) {
    const configs = new Map<string, TopicConfig>();
    for (const [topic, limit] of limits) {
      configs.set(
        topic,
        typeof limit === 'number'
          ? {
              maxMessageBytes: limit,
              afterMaxMs: DEFAULT_TIMESTAMP_AFTER_MAX_MS,
              beforeMaxMs: Number.POSITIVE_INFINITY,
            }
          : limit,
      );
    }
    this.configs = configs;
    let smallest = fallback;
    for (const config of configs.values()) smallest = Math.min(smallest, config.maxMessageBytes);
    this.smallestBudget = smallest - RECORD_BATCH_OVERHEAD - SAFETY_MARGIN;
  }

  /** Reads the effective configs of `topics` (topic override, else the broker's default). */
  static async read(admin: Pick<Admin, 'describeConfigs'>, topics: readonly string[]): Promise<TopicLimits> {
    if (topics.length === 0) return new TopicLimits();
    let response;
    try {
      response = await admin.describeConfigs({
        includeSynonyms: false,
        resources: [...new Set(topics)].map((name) => ({
          type: ConfigResourceTypes.TOPIC,
          name,
          configNames: CONFIGS,
        })),
      });
    } catch (error) {
      throw wrapClientError(error, `reading the configs of ${topics.join(', ')}`);
    }
    const configs = new Map<string, TopicConfig>();
    for (const resource of response.resources) {
      const value = (name: string): string | undefined =>
        resource.configEntries.find((e) => e.configName === name)?.configValue;
      // LogAppendTime topics stamp records on arrival: no CreateTime is refused.
      const appendTime = value('message.timestamp.type') === 'LogAppendTime';
      configs.set(resource.resourceName, {
        maxMessageBytes: configNumber(value('max.message.bytes'), DEFAULT_MAX_MESSAGE_BYTES),
        afterMaxMs: appendTime
          ? Number.POSITIVE_INFINITY
          : configNumber(value('message.timestamp.after.max.ms'), DEFAULT_TIMESTAMP_AFTER_MAX_MS),
        beforeMaxMs: appendTime
          ? Number.POSITIVE_INFINITY
          : configNumber(value('message.timestamp.before.max.ms'), Number.POSITIVE_INFINITY),
      });
    }
    return new TopicLimits(configs);
  }

  /** The topic's `max.message.bytes`. */
  limitOf(topic: string): number {
    return this.configs.get(topic)?.maxMessageBytes ?? this.fallback;
  }

  /**
   * True when the broker takes a record of `topic` with CreateTime `timestamp` at `now`
   * (`message.timestamp.after.max.ms` / `before.max.ms`); one outside fails its whole batch (INVALID_TIMESTAMP).
   */
  acceptsTimestamp(topic: string, timestamp: number, now: number): boolean {
    const config = this.configs.get(topic);
    const after = config?.afterMaxMs ?? DEFAULT_TIMESTAMP_AFTER_MAX_MS;
    const before = config?.beforeMaxMs ?? Number.POSITIVE_INFINITY;
    return timestamp - now <= after && now - timestamp <= before;
  }

  /** What records of one partition may add up to (`recordSizeUpperBound`) in one send. */
  budgetOf(topic: string): number {
    return this.limitOf(topic) - RECORD_BATCH_OVERHEAD - SAFETY_MARGIN;
  }

  /** True when `record` can be produced to its topic at all (alone in its batch). */
  fits(record: ProducerRecord): boolean {
    return recordSizeUpperBound(record) <= this.budgetOf(record.topic);
  }

  /** The `max.message.bytes` by topic, for a log line. */
  toJSON(): Record<string, number> {
    return Object.fromEntries([...this.configs].map(([topic, config]) => [topic, config.maxMessageBytes]));
  }
}

/**
 * Cuts `records` into consecutive sends, in order, such that in each send the records of one topic add
 * up to at most that topic's budget (which bounds every partition's batch of it). Sending them one after
 * the other keeps each partition's order. Returns `[records]` when one send holds everything. Throws
 * `RecordTooLargeError` for a record that does not fit alone.
 */
export function planSends(
  records: readonly ProducerRecord[],
  limits: TopicLimits,
  /** The records' summed `recordSizeUpperBound`, when the caller kept it: within every budget, no per-record work. */
  totalBytes?: number,
): (readonly ProducerRecord[])[] {
  if (totalBytes !== undefined && totalBytes <= limits.smallestBudget) return [records];
  const sends: ProducerRecord[][] = [];
  let current: ProducerRecord[] = [];
  let bytesByTopic = new Map<string, number>();
  for (const record of records) {
    const size = recordSizeUpperBound(record);
    const budget = limits.budgetOf(record.topic);
    if (size > budget) throw new RecordTooLargeError(record.topic, size, limits.limitOf(record.topic));
    const used = bytesByTopic.get(record.topic) ?? 0;
    if (used + size > budget) {
      sends.push(current);
      current = [];
      bytesByTopic = new Map();
      bytesByTopic.set(record.topic, size);
    } else {
      bytesByTopic.set(record.topic, used + size);
    }
    current.push(record);
  }
  if (sends.length === 0) return [records];
  sends.push(current);
  return sends;
}
