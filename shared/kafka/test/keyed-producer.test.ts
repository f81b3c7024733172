import type { Producer, ProducerBatch } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { DeliveryTimeoutError, ProducerFailedError } from '../src/errors.js';
import type { ProducerRecord } from '../src/producer.js';
import { KeyedProducer } from '../src/producer.js';
import { recordSizeUpperBound, RecordTooLargeError, TopicLimits } from '../src/topic-limits.js';

/** A kafkajs producer stand-in: records each sendBatch and lets the test decide when it completes. */
class FakeProducer {
  readonly batches: ProducerBatch[] = [];
  private readonly waiting: { resolve: () => void; reject: (e: unknown) => void }[] = [];
  autoAck = false;

  sendBatch(batch: ProducerBatch): Promise<unknown[]> {
    this.batches.push(batch);
    if (this.autoAck) return Promise.resolve([]);
    return new Promise((resolve, reject) => this.waiting.push({ resolve: () => resolve([]), reject }));
  }
  ack(): void {
    this.waiting.shift()!.resolve();
  }
  fail(error: unknown): void {
    this.waiting.shift()!.reject(error);
  }
  disconnect(): Promise<void> {
    return Promise.resolve();
  }
  get sentValues(): string[][] {
    return this.batches.map((b) => b.topicMessages!.flatMap((t) => t.messages.map((m) => String(m.value))));
  }
}

const rec = (value: string, topic = 'alerts'): ProducerRecord => ({
  topic,
  key: `k-${value}`,
  value: Buffer.from(value),
});
const settled = async (promise: Promise<unknown>) => {
  let state = 'pending';
  promise.then(
    () => (state = 'resolved'),
    () => (state = 'rejected'),
  );
  await new Promise((resolve) => setImmediate(resolve));
  return state;
};

function producerWith(fake: FakeProducer, options: ConstructorParameters<typeof KeyedProducer>[1] = {}) {
  return new KeyedProducer(fake as unknown as Producer, { lingerMs: 60_000, ...options });
}

describe('KeyedProducer batching', () => {
  it('sends a batch when batchSize records wait, one batch in flight at a time, in send order', async () => {
    const fake = new FakeProducer();
    const producer = producerWith(fake, { batchSize: 3 });
    const promises = ['1', '2', '3', '4', '5', '6', '7'].map((v) => producer.send(rec(v)));
    expect(fake.sentValues).toEqual([['1', '2', '3']]);
    expect(promises[0]).toBe(promises[2]); // one promise per batch, not per record
    expect(await settled(promises[0]!)).toBe('pending');

    fake.ack();
    expect(await settled(promises[0]!)).toBe('resolved');
    // 4-6 filled a batch meanwhile and go next; 7 waits in an open batch for lingerMs or a flush.
    expect(fake.sentValues).toEqual([
      ['1', '2', '3'],
      ['4', '5', '6'],
    ]);
    expect(promises[3]).not.toBe(promises[6]);
    fake.ack();
    expect(await settled(promises[3]!)).toBe('resolved');
    expect(fake.sentValues).toHaveLength(2);
    const flushed = producer.flush();
    expect(fake.sentValues[2]).toEqual(['7']);
    fake.ack();
    await flushed;
    expect(await settled(promises[6]!)).toBe('resolved');
  });

  it('sends what waits after lingerMs', async () => {
    const fake = new FakeProducer();
    fake.autoAck = true;
    const producer = producerWith(fake, { batchSize: 100, lingerMs: 5 });
    await producer.sendAll([rec('a'), rec('b', 'dead-letters'), rec('c')]);
    expect(fake.batches).toHaveLength(1);
    expect(fake.batches[0]!.topicMessages!.map((t) => [t.topic, t.messages.length])).toEqual([
      ['alerts', 2],
      ['dead-letters', 1],
    ]);
    expect(fake.batches[0]!.acks).toBe(-1);
  });

  it('flush sends at once and resolves when everything sent so far is acknowledged', async () => {
    const fake = new FakeProducer();
    fake.autoAck = true;
    const producer = producerWith(fake, { batchSize: 100 });
    void producer.send(rec('a'));
    void producer.send(rec('b'));
    await producer.flush();
    expect(fake.sentValues).toEqual([['a', 'b']]);
    await producer.flush(); // nothing pending: resolves
  });

  it('passes key, headers and timestamp through as kafkajs messages', async () => {
    const fake = new FakeProducer();
    fake.autoAck = true;
    const producer = producerWith(fake);
    void producer.send({
      topic: 't',
      key: null,
      value: null,
      headers: { traceparent: '00-1-2-01' },
      timestamp: 1700000000123,
    });
    await producer.flush();
    expect(fake.batches[0]!.topicMessages![0]!.messages[0]).toEqual({
      key: null,
      value: null,
      headers: { traceparent: '00-1-2-01' },
      timestamp: '1700000000123',
    });
  });
});

describe('KeyedProducer and max.message.bytes', () => {
  const big = (value: string, topic = 'raw'): ProducerRecord => ({
    topic,
    key: 'file.json',
    value: Buffer.alloc(3000, value),
  });

  it('never lets a batch grow past batchBytes (it was sealed only after crossing it)', async () => {
    const fake = new FakeProducer();
    fake.autoAck = true;
    const batchBytes = 10 * recordSizeUpperBound(big('x')) + 100;
    const producer = producerWith(fake, { batchBytes });
    void producer.sendAll(Array.from({ length: 25 }, (_, i) => big(String(i % 10))));
    await producer.flush();
    expect(fake.batches.map((b) => b.topicMessages![0]!.messages.length)).toEqual([10, 10, 5]);
  });

  it('sends one batch in as many requests as keep each topic under its limit, in order', async () => {
    const fake = new FakeProducer();
    fake.autoAck = true;
    const limits = new TopicLimits(new Map([['raw', 16 * 1024]]));
    const producer = producerWith(fake, { limits });
    const records = Array.from({ length: 12 }, (_, i) => big(String.fromCharCode(97 + i)));
    void producer.sendAll(records);
    await producer.flush();
    // ~3,045 bytes a record under a 16 KiB limit (less batch header and margin): five a request.
    expect(fake.batches.map((b) => b.topicMessages![0]!.messages.length)).toEqual([5, 5, 2]);
    expect(
      fake.batches.flatMap((b) => b.topicMessages![0]!.messages.map((m) => (m.value as Buffer)[0])),
    ).toEqual(records.map((r) => r.value![0]));
  });

  it('trySend queues nothing and stays healthy for a record that cannot fit: the caller dead-letters it', async () => {
    const fake = new FakeProducer();
    fake.autoAck = true;
    const producer = producerWith(fake, { limits: new TopicLimits(new Map([['raw', 2048]])) });
    expect(producer.trySend(big('a'))).toBeNull();
    const small = { topic: 'raw', key: null, value: Buffer.from('ok') };
    const queued = producer.trySend(small);
    expect(queued).not.toBeNull();
    await producer.flush();
    await expect(queued).resolves.toBeUndefined();
    expect(fake.batches.flatMap((b) => b.topicMessages![0]!.messages.map((m) => String(m.value)))).toEqual([
      'ok',
    ]);
  });

  it('refuses a record that cannot fit its topic alone, with the topic and limit, and says fits() first', async () => {
    const fake = new FakeProducer();
    const limits = new TopicLimits(new Map([['raw', 2048]]));
    const producer = producerWith(fake, { limits });
    expect(producer.fits(big('a'))).toBe(false);
    expect(producer.fits({ topic: 'raw', key: null, value: Buffer.alloc(100) })).toBe(true);
    const error = await producer.send(big('a')).catch((e: unknown) => e);
    expect((error as Error).cause).toBeInstanceOf(RecordTooLargeError);
    expect(fake.batches).toHaveLength(0);
  });
});

describe('KeyedProducer failures', () => {
  it('fails the batch, the records waiting behind it and every later send, keeping retriable', async () => {
    const fake = new FakeProducer();
    const producer = producerWith(fake, { batchSize: 2 });
    const first = producer.send(rec('1'));
    producer.send(rec('2'));
    const waiting = producer.send(rec('3'));
    fake.fail(
      Object.assign(new Error('Not enough in-sync replicas'), {
        name: 'KafkaJSProtocolError',
        retriable: true,
      }),
    );
    const error = await first.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProducerFailedError);
    expect((error as ProducerFailedError).retriable).toBe(true);
    await expect(waiting).rejects.toBe(error);
    await expect(producer.send(rec('4'))).rejects.toBe(error);
    await expect(producer.flush()).rejects.toBe(error);
    expect(fake.batches).toHaveLength(1);
  });

  it('fails with DeliveryTimeoutError when a batch is not acknowledged in time', async () => {
    const fake = new FakeProducer();
    const producer = producerWith(fake, { batchSize: 1, deliveryTimeoutMs: 20 });
    const error = await producer.send(rec('1')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProducerFailedError);
    expect((error as Error).cause).toBeInstanceOf(DeliveryTimeoutError);
  });
});
