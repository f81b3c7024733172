import { describe, expect, it } from 'vitest';
import type { TopicAdmin } from '../src/admin.js';
import { ensureTopics } from '../src/admin.js';
import { InvalidTopicSpecError, TopicNotReadyError, TopicPartitionCountError } from '../src/errors.js';

interface FakeTopic {
  partitions: number;
  /** Metadata calls that still report partition 0 without a leader. */
  leaderlessFor: number;
}

/** An admin over an in-memory cluster: enough of kafkajs's Admin for ensureTopics. */
function fakeAdmin(topics: Record<string, FakeTopic>) {
  const created: string[] = [];
  const admin = {
    listTopics: async () => Object.keys(topics),
    createTopics: async ({ topics: specs }: { topics: { topic: string; numPartitions?: number }[] }) => {
      for (const spec of specs) {
        topics[spec.topic] = { partitions: spec.numPartitions ?? 1, leaderlessFor: 2 };
        created.push(spec.topic);
      }
      return true;
    },
    fetchTopicMetadata: async ({ topics: names }: { topics: string[] }) => ({
      topics: names.map((name) => {
        const topic = topics[name]!;
        const leaderless = topic.leaderlessFor > 0;
        topic.leaderlessFor--;
        return {
          name,
          partitions: Array.from({ length: topic.partitions }, (_, partitionId) => ({
            partitionId,
            leader: leaderless && partitionId === 0 ? -1 : 1,
            partitionErrorCode: 0,
            replicas: [1],
            isr: [1],
            offlineReplicas: [],
          })),
        };
      }),
    }),
  };
  return { admin: admin as unknown as TopicAdmin, created };
}

describe('ensureTopics', () => {
  it('creates what is missing and returns only once every partition has a leader', async () => {
    const { admin, created } = fakeAdmin({ existing: { partitions: 6, leaderlessFor: 0 } });
    const result = await ensureTopics(admin, [
      { topic: 'existing', partitions: 6 },
      { topic: 'alerts', partitions: 3 },
    ]);
    expect(result).toEqual({ created: ['alerts'], existing: ['existing'] });
    expect(created).toEqual(['alerts']);
  });

  it('accepts more partitions than required and refuses fewer', async () => {
    const { admin } = fakeAdmin({
      wide: { partitions: 12, leaderlessFor: 0 },
      narrow: { partitions: 2, leaderlessFor: 0 },
    });
    await expect(ensureTopics(admin, [{ topic: 'wide', partitions: 6 }])).resolves.toEqual({
      created: [],
      existing: ['wide'],
    });
    const error = await ensureTopics(admin, [{ topic: 'narrow', partitions: 6 }]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TopicPartitionCountError);
    expect(error).toMatchObject({
      topic: 'narrow',
      actualPartitions: 2,
      requiredPartitions: 6,
      retriable: false,
    });
  });

  it('gives up with a retriable TopicNotReadyError when leaders do not appear in time', async () => {
    const { admin } = fakeAdmin({ stuck: { partitions: 1, leaderlessFor: Number.MAX_SAFE_INTEGER } });
    const error = await ensureTopics(admin, [{ topic: 'stuck', partitions: 1 }], { timeoutMs: 60 }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(TopicNotReadyError);
    expect(error).toMatchObject({ topics: ['stuck'], retriable: true });
  });

  it.each([
    [{ topic: '', partitions: 1 }, /topic name/],
    [{ topic: 'has space', partitions: 1 }, /topic name/],
    [{ topic: 't', partitions: 0 }, /partitions must be a positive integer/],
    [{ topic: 't', partitions: 1, replicationFactor: 0 }, /replicationFactor/],
  ])('rejects the spec %j before calling the broker', async (spec, message) => {
    const { admin, created } = fakeAdmin({});
    const error = await ensureTopics(admin, [spec]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidTopicSpecError);
    expect((error as Error).message).toMatch(message);
    expect(created).toEqual([]);
  });

  it('rejects a topic listed twice', async () => {
    const { admin } = fakeAdmin({});
    await expect(
      ensureTopics(admin, [
        { topic: 'a', partitions: 1 },
        { topic: 'a', partitions: 2 },
      ]),
    ).rejects.toThrow(/listed twice/);
  });
});
