import type { TopicPartition } from '@sequor/model';
import { SequorError } from '@sequor/model';
import { PoisonRecordError } from './errors.js';
import type { ConsumedRecord } from './consumer.js';
import type { Logger } from './logger.js';
import type { ProducerRecord, RecordHeaders, RecordSink } from './producer.js';
import type { TopicLimits } from './topic-limits.js';
import { recordSizeUpperBound, RecordTooLargeError } from './topic-limits.js';

/** Headers a dead letter carries besides the original record's own. */
export const DEAD_LETTER_HEADERS = {
  errorType: 'error.type',
  errorMessage: 'error.message',
  originTopic: 'origin.topic',
  originPartition: 'origin.partition',
  originOffset: 'origin.offset',
  originTimestamp: 'origin.timestamp',
  /** The stable reason code (`malformed`, `record-too-large`, ...). */
  reason: 'error.reason',
  /** `true` when the dead letter holds only the first bytes of the value (it would not fit whole). */
  valueTruncated: 'error.value-truncated',
  /** The original value's length in bytes, when truncated. */
  valueBytes: 'error.value-bytes',
  /** Where an output record that could not be produced was going. */
  outputTopic: 'error.output-topic',
} as const;

/** The reason of a dead letter that holds an output record too large for its topic. */
export const RECORD_TOO_LARGE = 'record-too-large';

/** Longest `error.message` kept: headers travel with every copy of the record. */
const MAX_ERROR_MESSAGE = 1_000;

/**
 * The dead letter for a record: its original key, value and headers, plus headers saying what failed
 * (`error.type` = the error class name) and where the record came from. Pure.
 */
export function deadLetterRecord(
  deadLetterTopic: string,
  record: ConsumedRecord,
  origin: TopicPartition,
  error: unknown,
): ProducerRecord {
  const type = error instanceof Error ? error.name : typeof error;
  const message = error instanceof Error ? error.message : String(error);
  const headers: RecordHeaders = {
    ...record.headers,
    [DEAD_LETTER_HEADERS.errorType]: type,
    [DEAD_LETTER_HEADERS.errorMessage]:
      message.length > MAX_ERROR_MESSAGE ? `${message.slice(0, MAX_ERROR_MESSAGE)}...` : message,
    [DEAD_LETTER_HEADERS.originTopic]: origin.topic,
    [DEAD_LETTER_HEADERS.originPartition]: String(origin.partition),
    [DEAD_LETTER_HEADERS.originOffset]: record.offset,
    [DEAD_LETTER_HEADERS.originTimestamp]: record.timestamp,
  };
  return { topic: deadLetterTopic, key: record.key, value: record.value, headers };
}

/**
 * `deadLetter` cut to fit its topic's `max.message.bytes`: the value shortened to its first bytes (marked
 * `error.value-truncated`, with the original length) when the whole would not fit, so a dead letter can
 * never be refused by the broker for its size. `maxValueBytes` caps the value even when it would fit.
 * Throws `RecordTooLargeError` only when the headers alone do not fit (a dead-letter topic configured
 * below a few KiB: `checkDeadLetterLimit` refuses that at start).
 */
export function fitDeadLetter(
  deadLetter: ProducerRecord,
  limits: TopicLimits,
  maxValueBytes = Number.POSITIVE_INFINITY,
): ProducerRecord {
  const value = deadLetter.value;
  const valueBytes = value?.length ?? 0;
  if (valueBytes <= maxValueBytes && limits.fits(deadLetter)) return deadLetter;
  const headers: RecordHeaders = {
    ...deadLetter.headers,
    [DEAD_LETTER_HEADERS.valueTruncated]: 'true',
    [DEAD_LETTER_HEADERS.valueBytes]: String(valueBytes),
  };
  const room =
    limits.budgetOf(deadLetter.topic) - recordSizeUpperBound({ ...deadLetter, value: null, headers });
  const keep = Math.max(0, Math.min(valueBytes, maxValueBytes, room));
  const fitted = { ...deadLetter, value: value === null ? null : value.subarray(0, keep), headers };
  if (!limits.fits(fitted))
    throw new RecordTooLargeError(
      deadLetter.topic,
      recordSizeUpperBound(fitted),
      limits.limitOf(deadLetter.topic),
    );
  return fitted;
}

/**
 * The dead letter of an output record its topic refuses for its size (an alert with megabytes of
 * evidence, a late event above a small topic's limit): its key, its value as far as it fits, its headers
 * (which say where it came from), the reason `record-too-large` and the topic it was meant for. Pure.
 */
export function oversizeDeadLetter(
  deadLetterTopic: string,
  record: ProducerRecord,
  limits: TopicLimits,
): ProducerRecord {
  const bytes = recordSizeUpperBound(record);
  const limit = limits.limitOf(record.topic);
  return fitDeadLetter(
    {
      topic: deadLetterTopic,
      key: record.key,
      value: record.value,
      headers: {
        ...record.headers,
        [DEAD_LETTER_HEADERS.errorType]: 'RecordTooLargeError',
        [DEAD_LETTER_HEADERS.errorMessage]: `a record of ${bytes} bytes does not fit ${record.topic}'s max.message.bytes (${limit})`,
        [DEAD_LETTER_HEADERS.reason]: RECORD_TOO_LARGE,
        [DEAD_LETTER_HEADERS.outputTopic]: record.topic,
      },
      ...(record.timestamp === undefined ? {} : { timestamp: record.timestamp }),
    },
    limits,
  );
}

/** Room a dead-letter topic must have for our headers and a useful part of the value. */
export const MIN_DEAD_LETTER_TOPIC_BYTES = 16 * 1024;

/** A dead-letter topic too small to hold a dead letter's headers would make every dead letter a failure: refuse it at start. */
export class DeadLetterTopicTooSmallError extends SequorError {
  constructor(
    readonly topic: string,
    readonly limit: number,
  ) {
    super(
      `dead-letter topic ${topic} has max.message.bytes ${limit}: at least ${MIN_DEAD_LETTER_TOPIC_BYTES} is needed (raise it with kafka-configs --alter)`,
    );
  }
}

export function checkDeadLetterLimit(topic: string, limits: TopicLimits): void {
  const limit = limits.limitOf(topic);
  if (limit < MIN_DEAD_LETTER_TOPIC_BYTES) throw new DeadLetterTopicTooSmallError(topic, limit);
}

/** Publishes records that could not be processed to a dead-letter topic, keyed as the original. */
export class DeadLetterPublisher {
  constructor(
    private readonly sink: RecordSink,
    readonly topic: string,
  ) {}

  /** Resolves when the dead letter is acknowledged. */
  publish(record: ConsumedRecord, origin: TopicPartition, error: unknown): Promise<void> {
    return this.send(deadLetterRecord(this.topic, record, origin, error));
  }

  /** Sends a dead letter built elsewhere (a service's own headers); resolves when acknowledged. */
  send(deadLetter: ProducerRecord): Promise<void> {
    return this.sink.send(deadLetter);
  }
}

/**
 * What to do with a record that cannot be deserialized or normalized (a poison record), as Kafka Streams'
 * `DeserializationExceptionHandler`: `continue` (dead-letter it and go on) or `fail` (stop processing:
 * the consumer crashes and the record's offset stays uncommitted).
 */
export type PoisonRecordPolicy = 'continue' | 'fail';

/** A record that could not be used, and why. */
export interface PoisonRecord {
  readonly record: ConsumedRecord;
  readonly origin: TopicPartition;
  /** The cause of `PoisonRecordError` under `fail`; the dead letter's `error.*` headers under `continue`. */
  readonly error: unknown;
  /** A stable reason code for logs (`bad-magic`, `malformed`, ...). */
  readonly reason?: string;
}

export interface PoisonRecordHandlerOptions {
  readonly policy: PoisonRecordPolicy;
  /** How a poison record's dead letter is built. Default: `deadLetterRecord` to `deadLetterTopic` (or `deadLetters.topic`). */
  readonly deadLetter?: (poison: PoisonRecord) => ProducerRecord;
  readonly deadLetterTopic?: string;
  /** Where `handle` publishes under `continue` (its topic is the default dead-letter topic). */
  readonly deadLetters?: DeadLetterPublisher;
  /** Logs each record handled (warn under `continue`, error under `fail`); services that log per batch leave it out. */
  readonly logger?: Logger;
}

/**
 * The one poison-record policy of the services. `respond` is Kafka Streams' `handle`, pure but for a
 * counter: `fail` throws, `continue` hands back the dead letter for the caller to produce with the
 * batch's output (inside its transaction, or acknowledged before its offsets commit). `handle` also
 * publishes it, for consumers that produce outside a batch.
 *
 * ```ts
 * const poison = new PoisonRecordHandler({ policy: 'continue', deadLetterTopic: 'sequor.dead-letters' });
 * try { decode(record.value) } catch (error) { out.push(poison.respond({ record, origin, error })) }
 * ```
 */
export class PoisonRecordHandler {
  /** Records handled under `continue` since creation (for metrics). */
  skipped = 0;

  constructor(private readonly options: PoisonRecordHandlerOptions) {}

  get policy(): PoisonRecordPolicy {
    return this.options.policy;
  }

  /**
   * Applies the policy: under `fail` throws `PoisonRecordError` (not retriable: it is the data); under
   * `continue` returns the record's dead letter (`deadLetter` overrides the configured builder for this
   * record, e.g. to add what only the caller knows).
   */
  respond(poison: PoisonRecord, deadLetter?: () => ProducerRecord): ProducerRecord {
    const { record, origin, error } = poison;
    const { policy, logger } = this.options;
    if (policy === 'fail') {
      logger?.error('poison record: stopping', {
        topic: origin.topic,
        partition: origin.partition,
        offset: record.offset,
        reason: poison.reason,
        error,
      });
      throw new PoisonRecordError(origin.topic, origin.partition, record.offset, error);
    }
    this.skipped++;
    const built = deadLetter?.() ?? this.build(poison);
    logger?.warn('poison record skipped', {
      topic: origin.topic,
      partition: origin.partition,
      offset: record.offset,
      reason: poison.reason,
      deadLetterTopic: built.topic,
      error,
    });
    return built;
  }

  /**
   * `respond`, publishing the dead letter through `deadLetters`. Under `continue` the promise resolves
   * once the dead letter is acknowledged (include it in the batch's acknowledgement); under `fail` it
   * rejects with `PoisonRecordError`.
   */
  handle(record: ConsumedRecord, origin: TopicPartition, error: unknown): Promise<void> {
    try {
      const deadLetter = this.respond({ record, origin, error });
      return this.options.deadLetters?.send(deadLetter) ?? Promise.resolve();
    } catch (failure) {
      return Promise.reject(failure);
    }
  }

  private build(poison: PoisonRecord): ProducerRecord {
    const { deadLetter, deadLetterTopic, deadLetters } = this.options;
    if (deadLetter !== undefined) return deadLetter(poison);
    const topic = deadLetterTopic ?? deadLetters?.topic;
    if (topic === undefined)
      throw new SequorError('PoisonRecordHandler: no dead-letter topic configured for policy continue');
    return deadLetterRecord(topic, poison.record, poison.origin, poison.error);
  }
}
