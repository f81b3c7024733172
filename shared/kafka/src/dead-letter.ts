import { PoisonRecordError } from './errors.js';
import type { ConsumedRecord } from './consumer.js';
import type { Logger } from './logger.js';
import type { ProducerRecord, RecordHeaders, RecordSink } from './producer.js';

/** Headers a dead letter carries besides the original record's own. */
export const DEAD_LETTER_HEADERS = {
  errorType: 'error.type',
  errorMessage: 'error.message',
  originTopic: 'origin.topic',
  originPartition: 'origin.partition',
  originOffset: 'origin.offset',
  originTimestamp: 'origin.timestamp',
} as const;

export interface RecordOrigin {
  readonly topic: string;
  readonly partition: number;
}

/** Longest `error.message` kept: headers travel with every copy of the record. */
const MAX_ERROR_MESSAGE = 1_000;

/**
 * The dead letter for a record: its original key, value and headers, plus headers saying what failed
 * (`error.type` = the error class name) and where the record came from. Pure.
 */
export function deadLetterRecord(
  deadLetterTopic: string,
  record: ConsumedRecord,
  origin: RecordOrigin,
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

/** Publishes records that could not be processed to a dead-letter topic, keyed as the original. */
export class DeadLetterPublisher {
  constructor(
    private readonly sink: RecordSink,
    readonly topic: string,
  ) {}

  /** Resolves when the dead letter is acknowledged. */
  publish(record: ConsumedRecord, origin: RecordOrigin, error: unknown): Promise<void> {
    return this.sink.send(deadLetterRecord(this.topic, record, origin, error));
  }
}

/**
 * What to do with a record that cannot be deserialized or normalized, as Kafka Streams'
 * `DeserializationExceptionHandler`: `continue` (dead-letter it, log, go on) or `fail` (stop processing:
 * the consumer crashes and the record's offset stays uncommitted).
 */
export type PoisonRecordPolicy = 'continue' | 'fail';

export interface PoisonRecordHandlerOptions {
  readonly policy: PoisonRecordPolicy;
  /** Where `continue` sends the record; without one it is only logged. */
  readonly deadLetters?: DeadLetterPublisher;
  readonly logger?: Logger;
}

export class PoisonRecordHandler {
  /** Records handled under `continue` since creation (for metrics). */
  skipped = 0;

  constructor(private readonly options: PoisonRecordHandlerOptions) {}

  get policy(): PoisonRecordPolicy {
    return this.options.policy;
  }

  /**
   * Applies the policy. Under `continue` the promise resolves once the dead letter is acknowledged
   * (include it in the batch's acknowledgement); under `fail` it rejects with `PoisonRecordError`.
   */
  handle(record: ConsumedRecord, origin: RecordOrigin, error: unknown): Promise<void> {
    if (this.options.policy === 'fail') {
      return Promise.reject(new PoisonRecordError(origin.topic, origin.partition, record.offset, error));
    }
    this.skipped++;
    this.options.logger?.warn('poison record skipped', {
      topic: origin.topic,
      partition: origin.partition,
      offset: record.offset,
      deadLetterTopic: this.options.deadLetters?.topic,
      error,
    });
    return this.options.deadLetters?.publish(record, origin, error) ?? Promise.resolve();
  }
}
