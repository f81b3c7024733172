import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import type { ProducerRecord } from '../src/producer.js';
import {
  DEFAULT_MAX_MESSAGE_BYTES,
  planSends,
  recordSizeUpperBound,
  RecordTooLargeError,
  TopicLimits,
} from '../src/topic-limits.js';

// kafkajs's own record encoder (v2 record format), to check the bound against the bytes it writes.
const require = createRequire(import.meta.url);
const encodeRecord = require('kafkajs/src/protocol/recordBatch/record/v0/index.js') as (record: {
  offsetDelta?: number;
  timestampDelta?: number;
  key: Buffer | string | null;
  value: Buffer | null;
  headers?: Record<string, unknown>;
}) => { buffer: Buffer };

const record = (topic: string, bytes: number, extra: Partial<ProducerRecord> = {}): ProducerRecord => ({
  topic,
  key: 'host-1',
  value: Buffer.alloc(bytes, 0x61),
  ...extra,
});

describe('recordSizeUpperBound', () => {
  it('is never below what kafkajs encodes, for keys, values and (repeated) headers', () => {
    const cases: ProducerRecord[] = [
      { topic: 't', key: null, value: null },
      { topic: 't', key: 'ключ', value: Buffer.alloc(300) },
      record('t', 70_000, {
        headers: {
          traceparent: '00-abc-01',
          'origin.offset': Buffer.from('12345'),
          multi: ['a', Buffer.from('bé')],
        },
      }),
    ];
    for (const r of cases) {
      // The largest deltas a batch can carry: out-of-order event times, a full batch of offsets.
      const encoded = encodeRecord({
        offsetDelta: 2 ** 31 - 1,
        timestampDelta: -(2 ** 52),
        key: r.key,
        value: r.value,
        headers: r.headers ?? {},
      });
      expect(recordSizeUpperBound(r)).toBeGreaterThanOrEqual(encoded.buffer.length);
      // ... and not wildly above it: the bound decides how many records share a request.
      expect(recordSizeUpperBound(r) - encoded.buffer.length).toBeLessThan(64);
    }
  });
});

describe('planSends', () => {
  const limits = new TopicLimits(new Map([['late', 64 * 1024]]));

  it('keeps everything in one send while every topic stays under its limit', () => {
    const records = [record('late', 1000), record('alerts', 1000), record('late', 1000)];
    const sends = planSends(records, limits);
    expect(sends).toEqual([records]);
  });

  it('cuts a late-event flood into sends that each fit the topic, in order, losing nothing', () => {
    // 1,300 late events of ~2 KB: 2.6 MB for one partition of a topic limited to 64 KiB.
    const records = Array.from({ length: 1300 }, (_, i) => record('late', 2000, { key: `k${i}` }));
    const sends = planSends(records, limits);
    expect(sends.length).toBeGreaterThan(40);
    expect(sends.flat()).toEqual(records);
    for (const send of sends) {
      const bytes = send.reduce((sum, r) => sum + recordSizeUpperBound(r), 0);
      expect(bytes + 61).toBeLessThanOrEqual(64 * 1024);
    }
  });

  it('takes a caller-kept total within every budget as one send, without looking at the records', () => {
    const records = [record('late', 1000), record('alerts', 1000)];
    expect(planSends(records, limits, 2_000)).toEqual([records]);
    // The smallest budget of any topic (64 KiB less framing): a total above it is planned record by record.
    expect(limits.smallestBudget).toBe(64 * 1024 - 61 - 1024);
    const flood = Array.from({ length: 40 }, () => record('late', 2000));
    expect(planSends(flood, limits, 40 * recordSizeUpperBound(flood[0]!)).length).toBe(2);
  });

  it('bounds each topic separately: a small topic does not cut a large one', () => {
    const records = [
      ...Array.from({ length: 40 }, () => record('late', 2000)),
      ...Array.from({ length: 40 }, () => record('alerts', 2000)),
    ];
    const sends = planSends(records, limits);
    // 40 x 2 KB of `late` needs two sends; `alerts` (1 MiB) rides in the second one.
    expect(sends).toHaveLength(2);
    expect(sends[1]!.filter((r) => r.topic === 'alerts')).toHaveLength(40);
  });

  it('refuses a record that does not fit alone, naming the topic and its limit', () => {
    expect(() => planSends([record('late', 70_000)], limits)).toThrow(RecordTooLargeError);
    expect(() => planSends([record('late', 70_000)], limits)).toThrow(/late's max.message.bytes \(65536\)/);
    expect(limits.fits(record('late', 60_000))).toBe(true);
    expect(limits.fits(record('late', 70_000))).toBe(false);
  });

  it('uses Kafka’s default limit for a topic it was not told about', () => {
    expect(limits.limitOf('other')).toBe(DEFAULT_MAX_MESSAGE_BYTES);
    expect(limits.fits(record('other', 1_000_000))).toBe(true);
    expect(limits.fits(record('other', DEFAULT_MAX_MESSAGE_BYTES))).toBe(false);
  });
});

describe('TopicLimits.acceptsTimestamp', () => {
  const now = Date.parse('2026-12-04T12:00:00Z');

  it('takes CreateTime up to message.timestamp.after.max.ms ahead (1 h by default in Kafka 4), and any past time', () => {
    const limits = new TopicLimits();
    expect(limits.acceptsTimestamp('raw', now + 3_600_000, now)).toBe(true);
    expect(limits.acceptsTimestamp('raw', now + 3_600_001, now)).toBe(false);
    expect(limits.acceptsTimestamp('raw', Date.parse('9999-12-31T00:00:00Z'), now)).toBe(false);
    expect(limits.acceptsTimestamp('raw', Date.parse('2001-01-01T00:00:00Z'), now)).toBe(true);
  });

  it('follows a topic’s own window', () => {
    const limits = new TopicLimits(
      new Map([
        ['raw', { maxMessageBytes: 1 << 20, afterMaxMs: Number.POSITIVE_INFINITY, beforeMaxMs: 86_400_000 }],
      ]),
    );
    expect(limits.acceptsTimestamp('raw', Date.parse('9999-12-31T00:00:00Z'), now)).toBe(true);
    expect(limits.acceptsTimestamp('raw', now - 86_400_001, now)).toBe(false);
  });
});
