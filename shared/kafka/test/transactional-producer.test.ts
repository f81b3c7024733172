import { describe, expect, it } from 'vitest';
import type { Producer } from 'kafkajs';
import { isProducerFenced } from '../src/errors.js';
import { TransactionalProducer } from '../src/producer.js';

const brokerError = (type: string, retriable = false): Error =>
  Object.assign(new Error(`broker says ${type}`), { name: 'KafkaJSProtocolError', type, retriable });

/** A kafkajs producer whose transaction fails each named call with the errors queued for it, in turn. */
function fakeProducer(failures: { sendBatch?: Error[]; sendOffsets?: Error[] }) {
  const calls = { sendBatch: 0, sendOffsets: 0, commit: 0 };
  const attempt = (op: 'sendBatch' | 'sendOffsets') => {
    calls[op]++;
    const error = failures[op]?.shift();
    return error === undefined ? Promise.resolve() : Promise.reject(error);
  };
  const transaction = {
    sendBatch: () => attempt('sendBatch'),
    sendOffsets: () => attempt('sendOffsets'),
    commit: () => {
      calls.commit++;
      return Promise.resolve();
    },
    abort: () => Promise.resolve(),
  };
  const producer = {
    transaction: () => Promise.resolve(transaction),
    disconnect: () => Promise.resolve(),
  } as unknown as Producer;
  return { producer, calls };
}

const record = { topic: 'alerts', key: 'k', value: Buffer.from('v') };

describe('TransactionalProducer', () => {
  it('asks again while the previous transaction of its id completes (CONCURRENT_TRANSACTIONS), as the Java client does', async () => {
    const concurrent = () => brokerError('CONCURRENT_TRANSACTIONS', true);
    const { producer, calls } = fakeProducer({
      sendBatch: [concurrent()],
      sendOffsets: [concurrent(), concurrent()],
    });
    const tx = new TransactionalProducer(producer, 'g:events:0');
    await tx.beginTransaction();
    await tx.send([record]);
    await tx.sendOffsets('g', [{ topic: 'events', partition: 0, offset: '10' }]);
    await tx.commit();
    expect(calls).toEqual({ sendBatch: 2, sendOffsets: 3, commit: 1 });
  });

  it('does not repeat any other refusal', async () => {
    const { producer, calls } = fakeProducer({ sendOffsets: [brokerError('PRODUCER_FENCED')] });
    const tx = new TransactionalProducer(producer, 'g:events:0');
    await tx.beginTransaction();
    const error = await tx
      .sendOffsets('g', [{ topic: 'events', partition: 0, offset: '10' }])
      .catch((e: unknown) => e);
    expect(isProducerFenced(error)).toBe(true);
    expect(calls.sendOffsets).toBe(1);
  });
});
