import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createConsumerRunner } from '../src/consumer.js';
import { createLogger } from '../src/logger.js';
import { partitionFor } from '../src/partitioner.js';
import { createKeyedProducer } from '../src/producer.js';
import type { ProducerRecord } from '../src/producer.js';
import { KafkaTestKit, uniqueGroup } from '../src/testing/index.js';
import { JAVA_MURMUR2 } from './java-murmur2.js';
import { deferred, offsetsByPartition } from './support.js';

const RECORDS = 10_000;
const PARTITIONS = 6;
const logger = createLogger('roundtrip-test', { level: 'warn' });

let kit: KafkaTestKit;
beforeAll(async () => {
  kit = await KafkaTestKit.connect();
});
afterAll(async () => {
  await kit?.close();
});

describe('keyed produce and consume through @sequor/kafka', () => {
  it('the global setup provides the broker it started (or was given)', () => {
    expect(inject('kafkaBrokers')).toBe(process.env.KAFKA_BROKERS);
    expect(kit.config.brokers).toEqual(inject('kafkaBrokers').split(','));
  });

  it(`produces ${RECORDS} keyed records to ${PARTITIONS} partitions and consumes each exactly once, in order, on Java's partition`, async () => {
    const topic = await kit.createTopic('roundtrip', { partitions: PARTITIONS });
    const fixedKeys = JAVA_MURMUR2.flatMap((row) =>
      typeof row.key === 'string' && row.key !== '' ? [row] : [],
    );
    const keys = [
      ...fixedKeys.map((row) => row.key as string),
      ...Array.from({ length: 100 }, (_, i) => `host-${i}`),
    ];

    // Value = "<key>|<n>": the n-th record of that key, so per-key order can be checked after the fact.
    const producer = await createKeyedProducer(kit.client, { lingerMs: 5, batchSize: 1000, logger });
    const perKeySent = new Map<string, number>();
    const records: ProducerRecord[] = [];
    for (let i = 0; i < RECORDS; i++) {
      const key = keys[i % keys.length]!;
      const n = perKeySent.get(key) ?? 0;
      perKeySent.set(key, n + 1);
      records.push({ topic, key, value: Buffer.from(`${key}|${n}`) });
    }
    const produceStart = performance.now();
    await producer.sendAll(records);
    const produceMs = performance.now() - produceStart;
    await producer.disconnect();

    const received: { partition: number; offset: number; key: string; n: number }[] = [];
    const all = deferred();
    const groupId = uniqueGroup('roundtrip');
    const runner = createConsumerRunner(kit.client, {
      groupId,
      topics: [topic],
      fromBeginning: true,
      partitionsConsumedConcurrently: 3,
      logger,
      processBatch: async (batch) => {
        for (const record of batch.records) {
          const [key, n] = record.value!.toString('utf8').split('|');
          expect(record.key!.toString('utf8')).toBe(key);
          received.push({
            partition: batch.partition,
            offset: Number(record.offset),
            key: key!,
            n: Number(n),
          });
        }
        if (received.length >= RECORDS) all.resolve();
      },
    });
    const consumeStart = performance.now();
    await runner.start();
    await Promise.race([all.promise, runner.done]);
    const consumeMs = performance.now() - consumeStart;
    await runner.stop();
    console.log(
      `[roundtrip] produced ${RECORDS} in ${produceMs.toFixed(0)} ms, consumed in ${consumeMs.toFixed(0)} ms ` +
        '(consume includes the group join)',
    );

    // Exactly once: no record missing, none delivered twice.
    expect(received).toHaveLength(RECORDS);
    expect(new Set(received.map((r) => `${r.partition}:${r.offset}`)).size).toBe(RECORDS);

    // Every key on exactly one partition, the one the Java client picks.
    const partitionsOfKey = new Map<string, Set<number>>();
    for (const r of received) {
      const set = partitionsOfKey.get(r.key) ?? new Set<number>();
      set.add(r.partition);
      partitionsOfKey.set(r.key, set);
    }
    for (const [key, partitions] of partitionsOfKey) {
      expect([...partitions], key).toEqual([partitionFor(key, PARTITIONS)]);
    }
    for (const row of fixedKeys) {
      expect([...partitionsOfKey.get(row.key as string)!], String(row.key)).toEqual([row.p6]);
    }
    expect(new Set(received.map((r) => r.partition)).size).toBe(PARTITIONS);

    // Order: offsets increase within each partition as processed, and each key's records arrive as sent.
    const lastOffset = new Map<number, number>();
    const nextOfKey = new Map<string, number>();
    for (const r of received) {
      expect(r.offset).toBe((lastOffset.get(r.partition) ?? -1) + 1);
      lastOffset.set(r.partition, r.offset);
      expect(r.n, r.key).toBe(nextOfKey.get(r.key) ?? 0);
      nextOfKey.set(r.key, r.n + 1);
    }
    expect(Object.fromEntries(nextOfKey)).toEqual(Object.fromEntries(perKeySent));

    // The runner committed exactly up to the end of each partition.
    const committed = offsetsByPartition(await kit.admin.fetchOffsets({ groupId, topics: [topic] }), topic);
    for (let p = 0; p < PARTITIONS; p++) expect(committed.get(p)).toBe((lastOffset.get(p) ?? -1) + 1);
  });
});
