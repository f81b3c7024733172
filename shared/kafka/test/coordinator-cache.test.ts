import { describe, expect, it } from 'vitest';
import type { Producer } from 'kafkajs';
import { Kafka, logLevel } from 'kafkajs';
import type { CoordinatorLookup } from '../src/coordinator-cache.js';
import { CoordinatorCache, producerWithCoordinatorCache } from '../src/coordinator-cache.js';

/** A cluster whose lookups count, answering `node-<n>` (or failing while `fail` is set). */
function fakeCluster() {
  const cluster = {
    asked: 0,
    fail: false,
    findGroupCoordinator(query: { groupId: string; coordinatorType?: number }) {
      cluster.asked++;
      if (cluster.fail) return Promise.reject(new Error('coordinator not available'));
      return Promise.resolve(`node-for-${query.coordinatorType ?? 0}:${query.groupId}`);
    },
  };
  return cluster;
}

describe('CoordinatorCache', () => {
  it('asks the broker once per coordinator until forgotten, and never keeps a failed lookup', async () => {
    const cluster = fakeCluster();
    const cache = new CoordinatorCache();
    cache.install(cluster);
    const txn = { groupId: 'g:events:0', coordinatorType: 1 };
    expect(await cluster.findGroupCoordinator(txn)).toBe('node-for-1:g:events:0');
    expect(await cluster.findGroupCoordinator(txn)).toBe('node-for-1:g:events:0');
    expect(await cluster.findGroupCoordinator({ groupId: 'g' })).toBe('node-for-0:g');
    expect(cluster.asked).toBe(2);
    cache.forget();
    await cluster.findGroupCoordinator(txn);
    expect(cluster.asked).toBe(3);
    cache.forget();
    cluster.fail = true;
    await expect(cluster.findGroupCoordinator(txn)).rejects.toThrow();
    cluster.fail = false;
    expect(await cluster.findGroupCoordinator(txn)).toBe('node-for-1:g:events:0');
    expect(cluster.asked).toBe(5);
    expect(cache.lookups).toBe(5);
  });

  it('is installed on the cluster the client makes for the producer, through its cluster factory', () => {
    const factory = Symbol('private:Kafka:createCluster');
    const clusters: CoordinatorLookup[] = [];
    const client = {
      [factory]: () => fakeCluster(),
      producer(this: Record<symbol, () => CoordinatorLookup>) {
        clusters.push(this[factory]!());
        return {} as Producer;
      },
    } as unknown as Kafka;
    const original = (client as unknown as Record<symbol, unknown>)[factory];
    const { cached } = producerWithCoordinatorCache(client, {}, new CoordinatorCache());
    expect(cached).toBe(true);
    expect(clusters[0]!.findGroupCoordinator).not.toBe(fakeCluster().findGroupCoordinator);
    // The factory is the client's own again: other producers and consumers are untouched.
    expect((client as unknown as Record<symbol, unknown>)[factory]).toBe(original);
  });

  it('makes a plain producer when the client has no such factory', () => {
    const client = { producer: () => ({}) as Producer } as unknown as Kafka;
    expect(producerWithCoordinatorCache(client, {}, new CoordinatorCache()).cached).toBe(false);
  });

  it('finds the factory on the kafkajs client this repo uses (nothing connects)', () => {
    const client = new Kafka({ brokers: ['127.0.0.1:9'], logLevel: logLevel.NOTHING });
    expect(producerWithCoordinatorCache(client, {}, new CoordinatorCache()).cached).toBe(true);
  });
});
