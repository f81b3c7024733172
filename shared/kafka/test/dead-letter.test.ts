import { describe, expect, it } from 'vitest';
import type { ConsumedRecord } from '../src/consumer.js';
import {
  checkDeadLetterLimit,
  DEAD_LETTER_HEADERS,
  DeadLetterPublisher,
  deadLetterRecord,
  DeadLetterTopicTooSmallError,
  fitDeadLetter,
  oversizeDeadLetter,
  PoisonRecordHandler,
} from '../src/dead-letter.js';
import { TopicLimits } from '../src/topic-limits.js';
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

describe('dead letters that always fit their topic', () => {
  const limits = new TopicLimits(
    new Map([
      ['late', 64 * 1024],
      ['dlq', 32 * 1024],
    ]),
  );
  const lateEvent: ProducerRecord = {
    topic: 'late',
    key: 'host-1',
    value: Buffer.alloc(100_000, 0x41),
    headers: { 'sequor.late.reason': 'late', 'origin.topic': 'sequor.events', 'origin.offset': '77' },
    timestamp: 1_600_000_000_000,
  };

  it('dead-letters an output record too large for its topic with reason, intended topic and its own headers, cut to fit', () => {
    expect(limits.fits(lateEvent)).toBe(false);
    const dead = oversizeDeadLetter('dlq', lateEvent, limits);
    expect(dead.topic).toBe('dlq');
    expect(dead.key).toBe('host-1');
    expect(limits.fits(dead)).toBe(true);
    expect(dead.value!.length).toBeGreaterThan(30_000);
    expect(dead.value!.equals(lateEvent.value!.subarray(0, dead.value!.length))).toBe(true);
    expect(dead.headers).toMatchObject({
      [DEAD_LETTER_HEADERS.reason]: 'record-too-large',
      [DEAD_LETTER_HEADERS.outputTopic]: 'late',
      [DEAD_LETTER_HEADERS.errorType]: 'RecordTooLargeError',
      [DEAD_LETTER_HEADERS.valueTruncated]: 'true',
      [DEAD_LETTER_HEADERS.valueBytes]: '100000',
      'origin.offset': '77',
      'sequor.late.reason': 'late',
    });
    expect(dead.timestamp).toBe(1_600_000_000_000);
  });

  it('leaves a dead letter that fits as it is, and caps the value when asked', () => {
    const small = { ...lateEvent, topic: 'dlq', value: Buffer.from('x'.repeat(100)) };
    expect(fitDeadLetter(small, limits)).toBe(small);
    const capped = fitDeadLetter(small, limits, 10);
    expect(capped.value!.toString()).toBe('x'.repeat(10));
    expect(capped.headers![DEAD_LETTER_HEADERS.valueBytes]).toBe('100');
  });

  it('refuses at start a dead-letter topic too small to hold a dead letter', () => {
    expect(() => checkDeadLetterLimit('dlq', new TopicLimits(new Map([['dlq', 4096]])))).toThrow(
      DeadLetterTopicTooSmallError,
    );
    expect(() => checkDeadLetterLimit('dlq', limits)).not.toThrow();
  });
});

describe('PoisonRecordHandler', () => {
  it('continue: dead-letters the record and counts it', async () => {
    const sink = new CapturingSink();
    const handler = new PoisonRecordHandler({
      policy: 'continue',
      deadLetters: new DeadLetterPublisher(sink, 'dlq'),
    });
    await handler.handle(record, origin, new NormalizeFailure('bad'));
    expect(sink.sent.map((r) => [r.topic, r.headers?.[DEAD_LETTER_HEADERS.originOffset]])).toEqual([
      ['dlq', '42'],
    ]);
    expect(handler.skipped).toBe(1);
  });

  it('fail: rejects with a non-retriable PoisonRecordError carrying the position and cause', async () => {
    const sink = new CapturingSink();
    const handler = new PoisonRecordHandler({
      policy: 'fail',
      deadLetters: new DeadLetterPublisher(sink, 'dlq'),
    });
    const cause = new NormalizeFailure('bad');
    const error = await handler.handle(record, origin, cause).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PoisonRecordError);
    expect(error).toMatchObject({
      topic: 'raw.winlogbeat',
      partition: 3,
      offset: '42',
      retriable: false,
      cause,
    });
    expect(sink.sent).toEqual([]);
  });

  it('respond (continue): hands back the dead letter for the caller to produce with its batch, built as configured', () => {
    const handler = new PoisonRecordHandler({
      policy: 'continue',
      deadLetter: ({ record: r, origin: o, error, reason }) => {
        const base = deadLetterRecord('dlq', r, o, error);
        return { ...base, headers: { ...base.headers, [DEAD_LETTER_HEADERS.reason]: reason ?? 'unknown' } };
      },
    });
    const dead = handler.respond({ record, origin, error: new NormalizeFailure('bad'), reason: 'malformed' });
    expect(dead.topic).toBe('dlq');
    expect(dead.headers?.[DEAD_LETTER_HEADERS.reason]).toBe('malformed');
    expect(dead.headers?.[DEAD_LETTER_HEADERS.errorType]).toBe('NormalizeFailure');
    expect(handler.skipped).toBe(1);
    // A caller that knows more (the normalizer's format) builds this record's dead letter itself.
    const own = handler.respond({ record, origin, error: new NormalizeFailure('bad') }, () => ({
      topic: 'own',
      key: null,
      value: null,
    }));
    expect(own.topic).toBe('own');
  });

  it('respond (fail): throws PoisonRecordError synchronously and builds nothing', () => {
    const handler = new PoisonRecordHandler({ policy: 'fail', deadLetterTopic: 'dlq' });
    let built = false;
    expect(() =>
      handler.respond({ record, origin, error: new NormalizeFailure('bad') }, () => {
        built = true;
        return { topic: 'dlq', key: null, value: null };
      }),
    ).toThrow(PoisonRecordError);
    expect(built).toBe(false);
    expect(handler.skipped).toBe(0);
  });
});
