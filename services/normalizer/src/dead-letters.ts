/**
 * The dead letter of a raw record the normalizer cannot use: `@sequor/kafka`'s dead-letter record
 * (original key, value and headers, plus `error.type`, `error.message`, `origin.topic/partition/offset/
 * timestamp`) with the normalizer's reason code and format. Pure.
 */
import type { ConsumedRecord, ProducerRecord, RecordHeaders } from '@sequor/kafka';
import { DEAD_LETTER_HEADERS, deadLetterRecord, fitDeadLetter, TopicLimits } from '@sequor/kafka';
import type { DeadLetterVerdict } from '@sequor/pipeline';
import { NORMALIZE_DEAD_LETTER_HEADERS } from '@sequor/pipeline';

/**
 * How much of a `too-large` record its dead letter keeps: its first 64 KiB are enough to tell what it
 * was. Every other dead letter keeps its value whole as far as the dead-letter topic's
 * `max.message.bytes` allows (`fitDeadLetter`), so no dead letter can fail the producer.
 */
export const TOO_LARGE_PREFIX_BYTES = 64 * 1024;

export const TRUNCATION_HEADERS = {
  /** `true` when the dead letter holds only the first bytes of the record. */
  truncated: DEAD_LETTER_HEADERS.valueTruncated,
  /** The original value's length in bytes. */
  valueBytes: DEAD_LETTER_HEADERS.valueBytes,
} as const;

export function normalizerDeadLetter(
  deadLetterTopic: string,
  record: ConsumedRecord,
  origin: { readonly topic: string; readonly partition: number },
  verdict: DeadLetterVerdict,
  /** The dead-letter topic's `max.message.bytes` (default: Kafka's default). */
  limits: TopicLimits = DEFAULT_LIMITS,
): ProducerRecord {
  const base = deadLetterRecord(deadLetterTopic, record, origin, verdict.error);
  const headers: RecordHeaders = {
    ...base.headers,
    [NORMALIZE_DEAD_LETTER_HEADERS.reason]: verdict.reason,
    [NORMALIZE_DEAD_LETTER_HEADERS.format]: verdict.format,
  };
  const maxValueBytes = verdict.reason === 'too-large' ? TOO_LARGE_PREFIX_BYTES : Number.POSITIVE_INFINITY;
  return fitDeadLetter({ ...base, headers }, limits, maxValueBytes);
}

const DEFAULT_LIMITS = new TopicLimits();
