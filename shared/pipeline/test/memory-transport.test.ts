import { describe, expect, it } from 'vitest';
import { murmur2, partitionFor } from '@sequor/model';
import { InMemoryTransport, MemoryTransportError } from '../src/index.js';

describe('InMemoryTransport', () => {
  it('places keyed records by the Java client murmur2, so a key always lands in one partition', () => {
    // A vector from Kafka's UtilsTest.testMurmur2: the partitioner is the Java client's.
    expect(murmur2(new TextEncoder().encode('21'))).toBe(-973932308);
    const topic = new InMemoryTransport().createTopic<string>('events', 6);
    const keys = ['name:ws01', 'name:dc01', 'ip:10.10.1.12', 'S-1-5-21-1-2-3-1104', ''];
    for (const key of keys) {
      const first = topic.send({ key, value: `${key}#1` });
      const second = topic.send({ key, value: `${key}#2` });
      expect(first.partition).toBe(partitionFor(key, 6));
      expect(second.partition).toBe(first.partition);
      expect(second.offset).toBe(first.offset + 1);
      expect(topic.partitionOf(key)).toBe(first.partition);
    }
  });

  it('places every key by murmur2 past the remembered keys, when a flood of keys restarts the memory', () => {
    const topic = new InMemoryTransport().createTopic<number>('events', 7);
    for (let round = 0; round < 2; round++)
      for (let i = 0; i < 70_000; i += 1) {
        const key = `name:host-${i}`;
        const placed = topic.send({ key, value: i }).partition;
        if (placed !== partitionFor(key, 7)) expect(placed).toBe(partitionFor(key, 7));
      }
    expect(topic.offsets(0).end + topic.offsets(6).end).toBeGreaterThan(0);
  });

  it('spreads key-less records round-robin and honours an explicit partition', () => {
    const topic = new InMemoryTransport().createTopic<number>('raw', 3);
    const placed = [0, 1, 2, 3, 4].map((value) => topic.send({ value }).partition);
    expect(placed).toEqual([0, 1, 2, 0, 1]);
    expect(topic.send({ key: 'anything', value: 9, partition: 2 })).toEqual({ partition: 2, offset: 1 });
    expect(() => topic.send({ value: 1, partition: 3 })).toThrow(MemoryTransportError);
  });

  it('keeps partition order, record timestamps and headers', () => {
    const topic = new InMemoryTransport().createTopic<string>('t', 1);
    topic.send({ key: 'k', value: 'a', timestamp: 1000, headers: { 'sequor.format': 'ecs' } });
    topic.send({ key: 'k', value: 'b', timestamp: 500 });
    expect(topic.read(0).map((r) => [r.offset, r.value, r.timestamp, r.headers?.['sequor.format']])).toEqual([
      [0, 'a', 1000, 'ecs'],
      [1, 'b', 500, undefined],
    ]);
  });

  it('polls per partition up to a limit, reports lag, and deletes what the group committed', () => {
    const topic = new InMemoryTransport().createTopic<number>('t', 2);
    for (let i = 0; i < 10; i++) topic.send({ value: i, partition: i % 2 });
    const group = topic.consumer();
    const first = group.poll(3);
    expect(first.map((b) => [b.partition, b.records.map((r) => r.value)])).toEqual([
      [0, [0, 2, 4]],
      [1, [1, 3, 5]],
    ]);
    expect(group.lag()).toBe(4);
    expect(topic.offsets(0)).toEqual({ start: 0, end: 5 });
    group.commit();
    expect(group.committed(0)).toBe(3);
    expect(topic.offsets(0)).toEqual({ start: 3, end: 5 });
    expect(group.poll().map((b) => b.records.map((r) => r.offset))).toEqual([
      [3, 4],
      [3, 4],
    ]);
    expect(group.poll()).toEqual([]);
    group.commit(1);
    expect(topic.offsets(1)).toEqual({ start: 5, end: 5 });
    expect(topic.offsets(0)).toEqual({ start: 3, end: 5 });
  });

  it('deletes only what every group has committed, and never with a group that keeps records', () => {
    const topic = new InMemoryTransport().createTopic<number>('t', 1);
    for (let i = 0; i < 5; i++) topic.send({ value: i });
    const fast = topic.consumer();
    const slow = topic.consumer();
    fast.poll();
    fast.commit();
    expect(topic.offsets(0).start).toBe(0);
    slow.poll(2);
    slow.commit();
    expect(topic.offsets(0).start).toBe(2);

    const kept = new InMemoryTransport().createTopic<number>('kept', 1);
    kept.send({ value: 1 });
    const reader = kept.consumer({ deleteCommitted: false });
    reader.poll();
    reader.commit();
    expect(kept.read(0).map((r) => r.value)).toEqual([1]);
  });

  it('stays correct across the bulk compaction of a long consumed prefix', () => {
    const topic = new InMemoryTransport().createTopic<number>('t', 1);
    const group = topic.consumer();
    let next = 0;
    for (let round = 0; round < 5; round++) {
      for (let i = 0; i < 5000; i++) topic.send({ value: round * 5000 + i });
      for (const batch of group.poll(3000)) {
        for (const r of batch.records) {
          expect(r.value).toBe(next);
          expect(r.offset).toBe(next);
          next++;
        }
      }
      group.commit();
    }
    for (const batch of group.poll()) for (const r of batch.records) expect(r.offset).toBe(next++);
    expect(next).toBe(25_000);
  });

  it('names topics once and lists the existing ones when asked for another', () => {
    const transport = new InMemoryTransport();
    transport.createTopic('a', 1);
    expect(() => transport.createTopic('a', 2)).toThrow(/already exists/);
    expect(() => transport.topic('b')).toThrow(/no topic b \(topics: a\)/);
    expect(() => transport.createTopic('c', 0)).toThrow(MemoryTransportError);
    expect(transport.topicNames()).toEqual(['a']);
  });
});
