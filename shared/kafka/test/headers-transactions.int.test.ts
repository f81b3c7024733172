import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureTopics } from '../src/admin.js';
import { createConsumerRunner } from '../src/consumer.js';
import type { ConsumedRecord } from '../src/consumer.js';
import { DEAD_LETTER_HEADERS, DeadLetterPublisher, PoisonRecordHandler } from '../src/dead-letter.js';
import { TopicPartitionCountError } from '../src/errors.js';
import { createLogger } from '../src/logger.js';
import { createKeyedProducer, createTransactionalProducer } from '../src/producer.js';
import { headerString, KafkaTestKit, uniqueGroup, uniqueTopic } from '../src/testing/index.js';
import { deferred, eventually, offsetsByPartition } from './support.js';

const logger = createLogger('tx-test', { level: 'warn' });
const quiet = createLogger('tx-test', { level: 'error', write: () => undefined });

let kit: KafkaTestKit;
beforeAll(async () => {
  kit = await KafkaTestKit.connect();
});
afterAll(async () => {
  await kit?.close();
});

describe('record headers', () => {
  it('pass through the keyed producer and the consumer runner byte for byte', async () => {
    const topic = await kit.createTopic('headers', { partitions: 2 });
    const binary = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    const producer = await createKeyedProducer(kit.client, { logger });
    await producer.sendAll([
      {
        topic,
        key: 'host-1',
        value: Buffer.from('a'),
        headers: { traceparent, binary, repeated: ['x', 'y'] },
        timestamp: 1_700_000_000_123,
      },
      { topic, key: 'host-2', value: Buffer.from('b') },
    ]);
    await producer.disconnect();

    const received: ConsumedRecord[] = [];
    const both = deferred();
    const runner = createConsumerRunner(kit.client, {
      groupId: uniqueGroup('headers'),
      topics: [topic],
      fromBeginning: true,
      logger,
      processBatch: async (batch) => {
        received.push(...batch.records);
        if (received.length >= 2) both.resolve();
      },
    });
    await runner.start();
    await Promise.race([both.promise, runner.done]);
    await runner.stop();

    const withHeaders = received.find((r) => r.key?.toString() === 'host-1')!;
    expect(headerString(withHeaders.headers, 'traceparent')).toBe(traceparent);
    expect(Buffer.compare(withHeaders.headers!.binary as Buffer, binary)).toBe(0);
    expect((withHeaders.headers!.repeated as Buffer[]).map(String)).toEqual(['x', 'y']);
    expect(Object.keys(withHeaders.headers!).sort()).toEqual(['binary', 'repeated', 'traceparent']);
    expect(withHeaders.timestamp).toBe('1700000000123');
    expect(received.find((r) => r.key?.toString() === 'host-2')!.headers).toEqual({});
  });
});

describe('dead letters', () => {
  it('carry the original record and headers plus error and origin headers', async () => {
    const source = await kit.createTopic('raw', { partitions: 1 });
    const dlq = await kit.createTopic('raw-dlq', { partitions: 1 });
    await kit.produceAll(source, [
      { key: 'WIN-DC01', value: Buffer.from('{"ok":1}') },
      { key: 'WIN-DC01', value: Buffer.from('{"broken'), headers: { traceparent: 't-1' } },
    ]);
    const producer = await createKeyedProducer(kit.client, { logger });
    const poison = new PoisonRecordHandler({
      policy: 'continue',
      deadLetters: new DeadLetterPublisher(producer, dlq),
      logger: quiet,
    });
    const parsed: unknown[] = [];
    const done = deferred();
    const runner = createConsumerRunner(kit.client, {
      groupId: uniqueGroup('dlq'),
      topics: [source],
      fromBeginning: true,
      logger,
      processBatch: async (batch) => {
        const acks: Promise<void>[] = [];
        for (const record of batch.records) {
          try {
            parsed.push(JSON.parse(record.value!.toString('utf8')));
          } catch (error) {
            acks.push(poison.handle(record, batch, error));
          }
        }
        await Promise.all(acks);
        if (parsed.length + poison.skipped >= 2) done.resolve();
      },
    });
    await runner.start();
    await Promise.race([done.promise, runner.done]);
    await runner.stop();
    await producer.disconnect();

    const [dead] = await kit.consumeUntil(dlq, 1);
    expect(dead!.key!.toString()).toBe('WIN-DC01');
    expect(dead!.value!.toString()).toBe('{"broken');
    const header = (name: string) => headerString(dead!.headers, name);
    expect(header('traceparent')).toBe('t-1');
    expect(header(DEAD_LETTER_HEADERS.errorType)).toBe('SyntaxError');
    expect(header(DEAD_LETTER_HEADERS.errorMessage)).toMatch(/JSON/);
    expect(header(DEAD_LETTER_HEADERS.originTopic)).toBe(source);
    expect(header(DEAD_LETTER_HEADERS.originPartition)).toBe('0');
    expect(header(DEAD_LETTER_HEADERS.originOffset)).toBe('1');
    expect(Number(header(DEAD_LETTER_HEADERS.originTimestamp))).toBeGreaterThan(1_600_000_000_000);
  });
});

describe('transactions (exactly-once consume-transform-produce)', () => {
  it('commits output records and consumed offsets together', async () => {
    const input = await kit.createTopic('tx-in', { partitions: 1 });
    const output = await kit.createTopic('tx-out', { partitions: 2 });
    await kit.produceAll(
      input,
      Array.from({ length: 20 }, (_, i) => ({ key: `host-${i % 4}`, value: Buffer.from(String(i)) })),
    );

    const groupId = uniqueGroup('tx');
    const tx = await createTransactionalProducer(kit.client, { transactionalId: uniqueTopic('tx-id') });
    let processed = 0;
    const all = deferred();
    const runner = createConsumerRunner(kit.client, {
      groupId,
      topics: [input],
      fromBeginning: true,
      commit: 'transaction',
      logger,
      processBatch: async (batch) => {
        const last = batch.records[batch.records.length - 1]!;
        await tx.beginTransaction();
        await tx.send(
          batch.records.map((r) => ({ topic: output, key: r.key, value: Buffer.from(`out-${r.value}`) })),
        );
        await tx.sendOffsets(groupId, [
          { topic: batch.topic, partition: batch.partition, offset: String(Number(last.offset) + 1) },
        ]);
        await tx.commit();
        processed += batch.records.length;
        if (processed >= 20) all.resolve();
      },
    });
    await runner.start();
    await Promise.race([all.promise, runner.done]);
    await runner.stop();
    await tx.disconnect();

    // kafkajs's OffsetFetch (v4) has no require_stable: right after EndTxn the offsets may still be pending.
    const committed = await eventually(
      async () =>
        offsetsByPartition(await kit.admin.fetchOffsets({ groupId, topics: [input] }), input).get(0),
      (offset) => offset === 20,
    );
    expect(committed).toBe(20);
    const out = await kit.consumeUntil(output, 20);
    expect(out.map((r) => r.value!.toString()).sort()).toEqual(
      Array.from({ length: 20 }, (_, i) => `out-${i}`).sort(),
    );
  });

  it('hides an aborted transaction from read_committed consumers and does not commit its offsets', async () => {
    const input = await kit.createTopic('tx-in', { partitions: 1 });
    const output = await kit.createTopic('tx-out', { partitions: 1 });
    const groupId = uniqueGroup('tx-abort');
    const tx = await createTransactionalProducer(kit.client, { transactionalId: uniqueTopic('tx-id') });

    await tx.beginTransaction();
    await tx.send([1, 2, 3].map((i) => ({ topic: output, key: 'h', value: Buffer.from(`aborted-${i}`) })));
    await tx.sendOffsets(groupId, [{ topic: input, partition: 0, offset: '5' }]);
    await tx.abort();

    await tx.beginTransaction();
    await tx.send([{ topic: output, key: 'h', value: Buffer.from('committed') }]);
    await tx.commit();
    await tx.disconnect();

    const committedView = await kit.consumeUntil(output, (records) =>
      records.some((r) => r.value?.toString() === 'committed'),
    );
    expect(committedView.map((r) => r.value!.toString())).toEqual(['committed']);

    // The aborted records were written (a read_uncommitted consumer sees them); only visibility differs.
    const everything = await kit.consumeUntil(output, 4, { readUncommitted: true });
    expect(everything.map((r) => r.value!.toString())).toEqual([
      'aborted-1',
      'aborted-2',
      'aborted-3',
      'committed',
    ]);

    expect(offsetsByPartition(await kit.admin.fetchOffsets({ groupId, topics: [input] }), input).get(0)).toBe(
      -1,
    );
  });
});

describe('ensureTopics', () => {
  it('creates missing topics with configs, accepts existing ones, and refuses too few partitions', async () => {
    const compacted = uniqueTopic('ensure-compacted');
    const plain = await kit.createTopic('ensure', { partitions: 3 });
    const result = await ensureTopics(
      kit.admin,
      [
        { topic: plain, partitions: 3 },
        { topic: compacted, partitions: 2, configs: { 'cleanup.policy': 'compact' } },
      ],
      { logger },
    );
    try {
      expect(result).toEqual({ created: [compacted], existing: [plain] });
      const metadata = await kit.admin.fetchTopicMetadata({ topics: [compacted] });
      expect(metadata.topics[0]!.partitions.every((p) => p.leader >= 0)).toBe(true);
      expect(metadata.topics[0]!.partitions).toHaveLength(2);
      const configs = await kit.admin.describeConfigs({
        includeSynonyms: false,
        resources: [{ type: 2 /* TOPIC */, name: compacted, configNames: ['cleanup.policy'] }],
      });
      expect(configs.resources[0]!.configEntries[0]).toMatchObject({
        configName: 'cleanup.policy',
        configValue: 'compact',
      });

      const again = await ensureTopics(kit.admin, [{ topic: compacted, partitions: 2 }]);
      expect(again).toEqual({ created: [], existing: [compacted] });

      const error = await ensureTopics(kit.admin, [{ topic: plain, partitions: 6 }]).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TopicPartitionCountError);
      expect(error).toMatchObject({ topic: plain, actualPartitions: 3, requiredPartitions: 6 });
    } finally {
      await kit.deleteTopics([compacted]);
    }
  });
});
