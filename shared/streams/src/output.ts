/**
 * A batch's output made producible: each record too large for its topic is replaced by its dead letter,
 * so one oversized alert or late event cannot fail the transaction (which would fail the same way on
 * every retry and stop the partition). Pure.
 */
import type { ProducerRecord, TopicLimits } from '@sequor/kafka';
import { oversizeDeadLetter } from '@sequor/kafka';

export interface FittedOutput {
  /** The records to produce, in the order given, oversized ones replaced by their dead letters. */
  readonly records: ProducerRecord[];
  /** How many records were too large, by the topic they were meant for. */
  readonly tooLarge: ReadonlyMap<string, number>;
  readonly tooLargeTotal: number;
}

/**
 * Replaces (in place) every record of `records` that does not fit its topic's `max.message.bytes` with
 * its `record-too-large` dead letter on `deadLetterTopic` (value cut to fit). `onTooLarge` hears each.
 */
export function fitOutput(
  records: ProducerRecord[],
  limits: TopicLimits,
  deadLetterTopic: string,
  onTooLarge?: (record: ProducerRecord) => void,
): FittedOutput {
  const tooLarge = new Map<string, number>();
  let total = 0;
  for (let i = 0; i < records.length; i++) {
    const record = records[i] as ProducerRecord;
    if (limits.fits(record)) continue;
    total++;
    tooLarge.set(record.topic, (tooLarge.get(record.topic) ?? 0) + 1);
    records[i] = oversizeDeadLetter(deadLetterTopic, record, limits);
    onTooLarge?.(record);
  }
  return { records, tooLarge, tooLargeTotal: total };
}
