import { describe, expect, it } from 'vitest';
import type { ConsumedRecord } from '../src/consumer.js';
import { DEAD_LETTER_HEADERS, DeadLetterPublisher, deadLetterRecord, PoisonRecordHandler } from '../src/dead-letter.js';
import { PoisonRecordError } from '../src/errors.js';
import type { ProducerRecord, RecordSink } from '../src/producer.js';

class NormalizeFailure extends Error {
  override name = 'NormalizeFailure';
}

const record: ConsumedRecord = {
  key: Buffer.from('WIN-DC01'),
  value: Buffer.from('{"not json'),
  headers: { traceparent: Buffer.from('00-abc-def-01'), repeated: [Buffer.from('a'), Buffer.from('b')] },
  offset: '42',
  timestamp: '1700000000000',
};
const origin = { topic: 'raw.winlogbeat', partition: 3 };

class CapturingSink implements RecordSink {
  readonly sent: ProducerRecord[] = [];
  send(r: ProducerRecord): Promise<void> {
    this.sent.push(r);
    return Promise.resolve();
  }
}

describe('deadLetterRecord', () => {
  it('keeps key, value and original headers, and adds the error and origin headers', () => {
    const dead = deadLetterRecord('raw.dlq', record, origin, new NormalizeFailure('unexpected end of JSON'));
    expect(dead.topic).toBe('raw.dlq');
    expect(dead.key).toBe(record.key);
    expect(dead.value).toBe(record.value);
    expect(dead.headers).toEqual({
      traceparent: record.headers!.traceparent,
      repeated: record.headers!.repeated,
      [DEAD_LETTER_HEADERS.errorType]: 'NormalizeFailure',
      [DEAD_LETTER_HEADERS.errorMessage]: 'unexpected end of JSON',
      [DEAD_LETTER_HEADERS.originTopic]: 'raw.winlogbeat',
      [DEAD_LETTER_HEADERS.originPartition]: '3',
      [DEAD_LETTER_HEADERS.originOffset]: '42',
      [DEAD_LETTER_HEADERS.originTimestamp]: '1700000000000',
    });
  });

  it('bounds the error message and copes with thrown non-errors', () => {
    const dead = deadLetterRecord('dlq', record, origin, 'x'.repeat(5000));
    expect(dead.headers![DEAD_LETTER_HEADERS.errorType]).toBe('string');
    expect((dead.headers![DEAD_LETTER_HEADERS.errorMessage] as string).length).toBe(1003);
  });
});

describe('PoisonRecordHandler', () => {
  it('continue: dead-letters the record and counts it', async () => {
    const sink = new CapturingSink();
    const handler = new PoisonRecordHandler({ policy: 'continue', deadLetters: new DeadLetterPublisher(sink, 'dlq') });
    await handler.handle(record, origin, new NormalizeFailure('bad'));
    expect(sink.sent.map((r) => [r.topic, r.headers?.[DEAD_LETTER_HEADERS.originOffset]])).toEqual([['dlq', '42']]);
    expect(handler.skipped).toBe(1);
  });

  it('fail: rejects with a non-retriable PoisonRecordError carrying the position and cause', async () => {
    const sink = new CapturingSink();
    const handler = new PoisonRecordHandler({ policy: 'fail', deadLetters: new DeadLetterPublisher(sink, 'dlq') });
    const cause = new NormalizeFailure('bad');
    const error = await handler.handle(record, origin, cause).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PoisonRecordError);
    expect(error).toMatchObject({ topic: 'raw.winlogbeat', partition: 3, offset: '42', retriable: false, cause });
    expect(sink.sent).toEqual([]);
  });
});
