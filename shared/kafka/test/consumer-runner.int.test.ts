import { EventEmitter } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installShutdownHandlers } from '@sequor/service';
import { createConsumerRunner } from '../src/consumer.js';
import type { ConsumerRunner } from '../src/consumer.js';
import { BatchProcessingError, ConsumerCrashedError } from '../src/errors.js';
import { createKafkaClient } from '../src/client.js';
import { createLogger } from '../src/logger.js';
import { KafkaTestKit, uniqueGroup } from '../src/testing/index.js';
import { deferred, offsetsByPartition } from './support.js';

const logger = createLogger('runner-test', { level: 'warn' });

let kit: KafkaTestKit;
beforeAll(async () => {
  kit = await KafkaTestKit.connect();
});
afterAll(async () => {
  await kit?.close();
});

async function topicWith(records: number, partitions: number): Promise<string> {
  const topic = await kit.createTopic('runner', { partitions });
  await kit.produceAll(
    topic,
    Array.from({ length: records }, (_, i) => ({ key: `host-${i % 37}`, value: Buffer.from(String(i)) })),
  );
  return topic;
}

describe('ConsumerRunner', () => {
  it('stopped mid-stream by SIGTERM and restarted in the same group: every record processed exactly once', async () => {
    const TOTAL = 3000;
    const PARTITIONS = 3;
    const topic = await topicWith(TOTAL, PARTITIONS);
    const groupId = uniqueGroup('restart');
    const options = {
      groupId,
      topics: [topic],
      fromBeginning: true,
      partitionsConsumedConcurrently: 3,
      maxRecordsPerCall: 50,
      logger,
    };

    // First member: a SIGTERM arrives once 1000 records were processed.
    const signals = new EventEmitter();
    const exited = deferred<number>();
    const first: string[] = [];
    const runnerA: ConsumerRunner = createConsumerRunner(kit.client, {
      ...options,
      processBatch: async (batch) => {
        for (const record of batch.records) first.push(`${batch.partition}:${record.offset}`);
        if (first.length >= 1000) signals.emit('SIGTERM', 'SIGTERM');
      },
    });
    installShutdownHandlers(runnerA, logger, {
      signalSource: signals as unknown as NodeJS.Process,
      exit: (code) => exited.resolve(code),
    });
    await runnerA.start();
    expect(await exited.promise).toBe(0);
    await runnerA.done;
    expect(first.length).toBeGreaterThanOrEqual(1000);
    expect(first.length).toBeLessThan(TOTAL);

    // What was committed is exactly what was processed: contiguous from 0, committed = last + 1.
    const committed = offsetsByPartition(await kit.admin.fetchOffsets({ groupId, topics: [topic] }), topic);
    const processedA = new Set(first);
    expect(processedA.size).toBe(first.length);
    for (let p = 0; p < PARTITIONS; p++) {
      const offsets = first.filter((id) => id.startsWith(`${p}:`)).map((id) => Number(id.split(':')[1]));
      const expected = offsets.length === 0 ? -1 : Math.max(...offsets) + 1;
      expect(committed.get(p), `partition ${p}`).toBe(expected);
      expect(offsets.length, `partition ${p} has no gaps`).toBe(Math.max(0, expected));
    }

    // Second member, same group: picks up at the commits, processes the rest, and nothing twice.
    const second: string[] = [];
    const rest = deferred();
    const runnerB = createConsumerRunner(kit.client, {
      ...options,
      processBatch: async (batch) => {
        for (const record of batch.records) second.push(`${batch.partition}:${record.offset}`);
        if (first.length + second.length >= TOTAL) rest.resolve();
      },
    });
    await runnerB.start();
    await Promise.race([rest.promise, runnerB.done]);
    await runnerB.stop();

    expect(second.filter((id) => processedA.has(id))).toEqual([]);
    expect(first.length + second.length).toBe(TOTAL);
    expect(new Set([...first, ...second]).size).toBe(TOTAL);
  });

  it('reports assignments through the hook', async () => {
    const topic = await topicWith(10, 4);
    const assigned = deferred<readonly { topic: string; partitions: readonly number[] }[]>();
    const runner = createConsumerRunner(kit.client, {
      groupId: uniqueGroup('assign'),
      topics: [topic],
      fromBeginning: true,
      logger,
      onAssigned: (assignment) => assigned.resolve(assignment),
      processBatch: async () => undefined,
    });
    await runner.start();
    expect(await assigned.promise).toEqual([{ topic, partitions: [0, 1, 2, 3] }]);
    expect(runner.assignment).toEqual([{ topic, partitions: [0, 1, 2, 3] }]);
    await runner.stop();
  });

  it('crashes on a non-retriable processing error, committing only the chunks before it', async () => {
    const topic = await topicWith(100, 1);
    const groupId = uniqueGroup('crash');
    // kafkajs logs the failure loudly before the runner reports it; keep that out of the test output.
    const silent = createLogger('runner-test', { level: 'error', write: () => undefined });
    const runner = createConsumerRunner(createKafkaClient(kit.config, { logger: silent }), {
      groupId,
      topics: [topic],
      fromBeginning: true,
      maxRecordsPerCall: 10,
      logger: silent,
      processBatch: async (batch) => {
        if (batch.records.some((record) => record.offset === '25'))
          throw new TypeError('cannot decode record 25');
      },
    });
    await runner.start();
    const error = await runner.done.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ConsumerCrashedError);
    const cause = (error as ConsumerCrashedError).cause;
    expect(cause).toBeInstanceOf(BatchProcessingError);
    expect(cause).toMatchObject({ topic, partition: 0, retriable: false });
    const failed = cause as BatchProcessingError;
    // The failing call held at most 10 records including offset 25 (10 per call, cut per fetched batch).
    expect(Number(failed.firstOffset)).toBeLessThanOrEqual(25);
    expect(Number(failed.lastOffset)).toBeGreaterThanOrEqual(25);
    expect(Number(failed.lastOffset) - Number(failed.firstOffset)).toBeLessThan(10);
    expect((cause as BatchProcessingError).cause).toBeInstanceOf(TypeError);
    await runner.stop();

    const committed = offsetsByPartition(await kit.admin.fetchOffsets({ groupId, topics: [topic] }), topic);
    expect(committed.get(0)).toBe(Number(failed.firstOffset));
  });
});
