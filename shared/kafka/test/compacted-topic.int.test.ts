import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CompactedTopicError, ensureCompactedTopic, TopicFollower } from '../src/compacted-topic.js';
import type { ConsumedRecord } from '../src/consumer.js';
import { KafkaTestKit, uniqueTopic } from '../src/testing/index.js';
import { eventually } from './support.js';

let kit: KafkaTestKit;
beforeAll(async () => {
  kit = await KafkaTestKit.connect();
});
afterAll(async () => {
  await kit?.close();
});

describe('a compacted table topic', () => {
  it('is created compacted; a deleting topic or another partition count is refused, saying why', async () => {
    const topic = uniqueTopic('table');
    expect(await ensureCompactedTopic(kit.admin, { topic, partitions: 1 })).toEqual({ created: true });
    expect(await ensureCompactedTopic(kit.admin, { topic, partitions: 1 })).toEqual({ created: false });
    const deleting = await kit.createTopic('deleting', { partitions: 1 });
    await expect(ensureCompactedTopic(kit.admin, { topic: deleting, partitions: 1 })).rejects.toThrow(
      /cleanup.policy is "delete", not compact/,
    );
    const wide = uniqueTopic('wide');
    await kit.admin.createTopics({
      topics: [
        { topic: wide, numPartitions: 3, configEntries: [{ name: 'cleanup.policy', value: 'compact' }] },
      ],
    });
    await expect(ensureCompactedTopic(kit.admin, { topic: wide, partitions: 1 })).rejects.toBeInstanceOf(
      CompactedTopicError,
    );
    await kit.admin.deleteTopics({ topics: [topic, wide] });
  });

  it('a follower has every record on start and sees later ones as they come', async () => {
    const topic = uniqueTopic('follow');
    await ensureCompactedTopic(kit.admin, { topic, partitions: 1 });
    const producer = kit.client.producer();
    await producer.connect();
    await producer.send({
      topic,
      messages: Array.from({ length: 50 }, (_, i) => ({ key: `k${i % 7}`, value: `v${i}` })),
    });
    const seen: ConsumedRecord[] = [];
    const follower = new TopicFollower(kit.client, {
      topic,
      groupIdPrefix: 'follower-test',
      onRecords: (_partition, records) => seen.push(...records),
    });
    try {
      await follower.start(kit.admin);
      expect(seen.length).toBe(50);
      expect(follower.position(0)).toBe(50);
      await producer.send({ topic, messages: [{ key: 'k1', value: null }] });
      await eventually(
        async () => seen.length,
        (n) => n === 51,
      );
      expect(seen[50]?.value).toBeNull();
    } finally {
      await follower.stop();
      await producer.disconnect();
      await kit.admin.deleteTopics({ topics: [topic] });
    }
  });
});
