/**
 * The dead letter of a raw record the normalizer cannot use: `@sequor/kafka`'s dead-letter record
 * (original key, value and headers, plus `error.type`, `error.message`, `origin.topic/partition/offset/
 * timestamp`) with the normalizer's reason code and format. Pure.
 */
import type { ConsumedRecord, ProducerRecord, RecordHeaders } from '@sequor/kafka';
import { deadLetterRecord } from '@sequor/kafka';
import type { DeadLetterVerdict } from '@sequor/pipeline';
import { NORMALIZE_DEAD_LETTER_HEADERS } from '@sequor/pipeline';

/**
 * How much of a `too-large` record its dead letter keeps. The whole record could exceed the dead-letter
 * topic's `max.message.bytes` and fail the producer (stopping the normalizer); its first 64 KiB are
 * enough to tell what it was. Every other dead letter keeps its value whole (it passed the size limit).
 */
export const TOO_LARGE_PREFIX_BYTES = 64 * 1024;

export const TRUNCATION_HEADERS = {
  /** `true` when the dead letter holds only the first TOO_LARGE_PREFIX_BYTES of the record. */
  truncated: 'error.value-truncated',
  /** The original value's length in bytes. */
  valueBytes: 'error.value-bytes',
} as const;

export function normalizerDeadLetter(
  deadLetterTopic: string,
  record: ConsumedRecord,
  origin: { readonly topic: string; readonly partition: number },
  verdict: DeadLetterVerdict,
): ProducerRecord {
  const base = deadLetterRecord(deadLetterTopic, record, origin, verdict.error);
  const headers: RecordHeaders = {
    ...base.headers,
    [NORMALIZE_DEAD_LETTER_HEADERS.reason]: verdict.reason,
    [NORMALIZE_DEAD_LETTER_HEADERS.format]: verdict.format,
  };
  const value = record.value;
  if (verdict.reason === 'too-large' && value !== null && value.length > TOO_LARGE_PREFIX_BYTES) {
    headers[TRUNCATION_HEADERS.truncated] = 'true';
    headers[TRUNCATION_HEADERS.valueBytes] = String(value.length);
    return { ...base, value: value.subarray(0, TOO_LARGE_PREFIX_BYTES), headers };
  }
  return { ...base, headers };
}
