/**
 * Broker helpers shared by the path modules (a `_` file: not a path itself): the raw-consume floor and
 * the window a service is timed over.
 *
 * Every broker figure is timed over the same window as its floor: from the first record the consumer
 * handed over (group join and topic creation excluded from both) to the last record done; for a service
 * "done" is its group's committed offsets reaching the end of the input (it commits only what it has
 * written, so that includes the output). CPU is this process's over that window.
 */
import type { KafkaAdmin, Logger } from '@sequor/kafka';
import { createLogger } from '@sequor/kafka';
import type { KafkaTestKit } from '@sequor/kafka/testing';
import { uniqueGroup } from '@sequor/kafka/testing';
import type { Pass } from './_measure.js';

export const quietLogger = (): Logger => createLogger('bench', { level: 'error' });

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const cpuNow = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/**
 * The floor of every broker path: a plain kafkajs consumer (the client's defaults, `eachBatch`, no
 * per-record work beyond counting, no commits) reading `topic` from the beginning in a fresh group
 * until `expected` records arrived.
 */
export async function rawConsumeFloor(
  kit: KafkaTestKit,
  topic: string,
  expected: number,
  timeoutMs = 600_000,
): Promise<Pass> {
  const consumer = kit.client.consumer({
    groupId: uniqueGroup('bench-floor'),
    allowAutoTopicCreation: false,
  });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  let count = 0;
  let firstWall = 0;
  let firstCpu = 0;
  let timer: NodeJS.Timeout | undefined;
  try {
    return await new Promise<Pass>((resolve, reject) => {
      timer = setTimeout(
        () => reject(new Error(`raw consume of ${topic}: ${count}/${expected} records in ${timeoutMs} ms`)),
        timeoutMs,
      );
      consumer
        .run({
          autoCommit: false,
          eachBatch: async ({ batch }) => {
            if (count === 0) {
              firstWall = performance.now();
              firstCpu = cpuNow();
            }
            for (const message of batch.messages) if (message.value !== null) count++;
            if (count >= expected)
              resolve({ wallMs: performance.now() - firstWall, cpuMs: cpuNow() - firstCpu });
          },
        })
        .catch(reject);
    });
  } finally {
    clearTimeout(timer);
    await consumer.disconnect();
  }
}

/**
 * Times a service over the broker window: starts polling `processed()` (a counter of records the
 * service took in) every few ms, runs `start()`, and ends when `group`'s committed offsets on `topic`
 * reach the topic's end.
 */
export async function timeServiceToCommittedEnd(
  admin: KafkaAdmin,
  group: string,
  topic: string,
  processed: () => number,
  start: () => Promise<void>,
  timeoutMs = 900_000,
): Promise<Pass & { startToEndMs: number }> {
  const ends = new Map<number, number>();
  for (const p of await admin.fetchTopicOffsets(topic)) ends.set(p.partition, Number(p.high));
  const startedAt = performance.now();
  let firstWall = 0;
  let firstCpu = 0;
  const probe = setInterval(() => {
    if (firstWall === 0 && processed() > 0) {
      firstWall = performance.now();
      firstCpu = cpuNow();
    }
  }, 2);
  try {
    await start();
    const deadline = startedAt + timeoutMs;
    for (;;) {
      const committed = await admin.fetchOffsets({ groupId: group, topics: [topic] });
      const at = new Map(committed[0]?.partitions.map((p) => [p.partition, Number(p.offset)]) ?? []);
      if ([...ends].every(([partition, high]) => high === 0 || (at.get(partition) ?? -1) >= high)) break;
      if (performance.now() > deadline)
        throw new Error(`group ${group} did not reach the end of ${topic} in ${timeoutMs} ms`);
      await sleep(20);
    }
    const endWall = performance.now();
    if (firstWall === 0)
      throw new Error(`group ${group} reached the end of ${topic} before a record was seen`);
    return { wallMs: endWall - firstWall, cpuMs: cpuNow() - firstCpu, startToEndMs: endWall - startedAt };
  } finally {
    clearInterval(probe);
  }
}
